// Pages of "download my data" and "erase me": the link was mailed, and the erasure's own
// confirmation. Every value goes through html`` and is escaped.
import { maskEmail } from '../../domain/email.js';
import { DATA_LINK_TTL_SECONDS } from '../../services/public-links.service.js';
import type { DataAction } from '../../services/data-requests.service.js';
import { html } from './html.js';
import type { Page } from './pages.js';

const minutes = Math.round(DATA_LINK_TTL_SECONDS / 60);

export function dataLinkSentPage(email: string, action: DataAction, preferencesPath: string): Page {
  const what =
    action === 'my-data' ? 'to download your data' : 'to confirm that we should erase your data';
  return {
    title: 'Check your inbox',
    body: html`<h1>Check your inbox</h1>
      <p role="status">
        We sent a link to <strong>${maskEmail(email)}</strong>. Open it within ${minutes} minutes
        ${what}.
      </p>
      <p class="muted">
        Only the owner of the address receives the link, so a forwarded newsletter cannot be used to
        see or delete your data. If nothing arrives, check your spam folder or ask again in ten
        minutes.
      </p>
      <p><a href="${preferencesPath}">Back to your preferences</a></p>`,
  };
}

export function eraseConfirmPage(email: string, token: string): Page {
  return {
    title: 'Erase your data',
    body: html`<h1>Erase your data</h1>
      <p>
        This deletes <strong>${email}</strong>, your name, your subscriptions and your history for
        good. We keep only a one-way fingerprint of the address, so that nobody can add you back
        without your confirmation.
      </p>
      <form method="post" action="/erase/${token}">
        <input type="hidden" name="confirm" value="erase" />
        <button type="submit" class="danger">Erase my data</button>
      </form>`,
  };
}
