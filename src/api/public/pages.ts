// The public pages' content. Plain forms, labels on every control, errors tied to their fields,
// no script. Every value goes through html`` and is escaped.
import type { FieldError } from '../../domain/errors.js';
import type { ShownList } from '../../services/public-preferences.service.js';
import type { PublicList } from '../../services/public-subscriptions.service.js';
import { NAME_MAX_LENGTH } from '../../services/public-subscriptions.service.js';
import { html, type SafeHtml } from './html.js';
import { errorOf, errorSummary, fieldError, invalid } from './form-kit.js';

export interface Page {
  title: string;
  body: SafeHtml;
}

/** The honeypot: hidden by the stylesheet, skipped by the keyboard; people leave it empty. */
export const HONEYPOT_FIELD = 'website';

function listNames(names: string[]): SafeHtml {
  return html`<ul>
    ${names.map((n) => html`<li>${n}</li>`)}
  </ul>`;
}

function nameField(value: string, error: string | undefined): SafeHtml {
  return html`<div class="field">
    <label for="name">Name <span class="hint">Optional</span></label>
    ${fieldError('name', error)}
    <input
      type="text"
      id="name"
      name="name"
      autocomplete="name"
      maxlength="${NAME_MAX_LENGTH}"
      value="${value}"
      ${invalid('name', error)}
    />
  </div>`;
}

function listChoices(
  lists: PublicList[],
  chosen: Set<string>,
  error: string | undefined,
): SafeHtml {
  return html`<fieldset id="lists" ${error ? html` aria-describedby="lists-error"` : ''}>
    <legend>Lists</legend>
    ${fieldError('lists', error)}
    ${lists.map(
      (list) =>
        html`<div class="choice">
          <input
            type="checkbox"
            id="list-${list.uuid}"
            name="lists"
            value="${list.uuid}"
            ${chosen.has(list.uuid) ? html` checked` : ''}
          />
          <label for="list-${list.uuid}"
            >${list.name}${list.description ? html` <span class="hint">${list.description}</span>` : ''}</label
          >
        </div>`,
    )}
  </fieldset>`;
}

function honeypot(): SafeHtml {
  return html`<div class="hp" aria-hidden="true">
    <label for="${HONEYPOT_FIELD}">Leave this field empty</label>
    <input
      type="text"
      id="${HONEYPOT_FIELD}"
      name="${HONEYPOT_FIELD}"
      tabindex="-1"
      autocomplete="off"
    />
  </div>`;
}

function preferenceLists(lists: ShownList[]): SafeHtml {
  if (lists.length === 0) return html`<p>There are no lists to choose from.</p>`;
  return html`<fieldset>
    <legend>Lists you receive</legend>
    ${lists.map((list) => {
      const on = list.status === 'confirmed' || list.status === 'unconfirmed';
      const hint = [
        list.description,
        list.status === 'unconfirmed' ? 'Waiting for your confirmation' : '',
      ]
        .filter(Boolean)
        .join(' · ');
      return html`<div class="choice">
        <input
          type="checkbox"
          id="list-${list.uuid}"
          name="lists"
          value="${list.uuid}"
          ${on ? html` checked` : ''}
        />
        <label for="list-${list.uuid}"
          >${list.name}${hint ? html` <span class="hint">${hint}</span>` : ''}</label
        >
      </div>`;
    })}
  </fieldset>`;
}

/** "Download my data" and "Erase me": each mails a one-hour link first. */
function dataSections(action: string, eraseError: string | undefined): SafeHtml {
  return html`<section class="actions" aria-labelledby="data-heading">
      <h2 id="data-heading">Your data</h2>
      <p>
        Download everything we keep about you: your profile, your subscriptions, the record of your
        consent and the messages we sent you (a JSON file). We first email a download link to your
        address; it works for one hour.
      </p>
      <form method="post" action="${action}">
        <input type="hidden" name="action" value="export" />
        <button type="submit" class="secondary">Download my data</button>
      </form>
    </section>

    <section class="actions" aria-labelledby="erase-heading">
      <h2 id="erase-heading">Erase me</h2>
      <p>
        Deletes your address, your name and your history for good. We keep only a one-way
        fingerprint of your address, so that nobody can add you back without your confirmation. We
        first email a confirmation link to your address; it works for one hour.
      </p>
      <form method="post" action="${action}">
        <input type="hidden" name="action" value="erase" />
        ${fieldError('confirm', eraseError)}
        <div class="choice">
          <input
            type="checkbox"
            id="confirm"
            name="confirm"
            value="erase"
            required${invalid('confirm', eraseError)}
          />
          <label for="confirm">I understand that this cannot be undone</label>
        </div>
        <button type="submit" class="danger">Erase my data</button>
      </form>
    </section>`;
}

export function subscribePage(
  lists: PublicList[],
  values: { email?: string; name?: string; lists?: string[] } = {},
  errors: FieldError[] = [],
): Page {
  if (lists.length === 0) {
    return {
      title: 'Subscribe',
      body: html`<h1>Subscribe</h1>
        <p>There is nothing to subscribe to at the moment.</p>`,
    };
  }
  const chosen = new Set(values.lists ?? (lists.length === 1 ? [lists[0]!.uuid] : []));
  const emailError = errorOf(errors, 'email');
  const nameError = errorOf(errors, 'name');
  const listsError = errorOf(errors, 'lists');
  return {
    title: errors.length > 0 ? 'Error: Subscribe' : 'Subscribe',
    body: html`<h1>Subscribe</h1>
      <p>Choose what you would like to receive and enter your email address.</p>
      ${errorSummary(errors)}
      <form method="post" action="/subscribe">
        <div class="field">
          <label for="email">Email address</label>
          ${fieldError('email', emailError)}
          <input
            type="email"
            id="email"
            name="email"
            required
            autocomplete="email"
            spellcheck="false"
            maxlength="254"
            value="${values.email ?? ''}"
            ${invalid('email', emailError)}
          />
        </div>
        ${nameField(values.name ?? '', nameError)} ${listChoices(lists, chosen, listsError)}
        ${honeypot()}
        <button type="submit">Subscribe</button>
      </form>
      <p class="muted">
        Some lists ask you to confirm by email before your subscription starts. Every message has a
        link to unsubscribe.
      </p>`,
  };
}

/** The one answer to a valid form post, whoever the address belongs to. */
export function subscribeReceivedPage(email: string): Page {
  return {
    title: 'Thank you',
    body: html`<h1>Thank you</h1>
      <p role="status">We have received your request for <strong>${email}</strong>.</p>
      <p>
        If a confirmation is needed, a message with a link is on its way to that address: your
        subscription starts when you press it. It can take a few minutes; if nothing arrives, look
        in your spam folder.
      </p>`,
  };
}

export function confirmedPage(
  result: { confirmed: string[]; already: string[] },
  preferencesPath: string,
): Page {
  const { confirmed, already } = result;
  const body =
    confirmed.length > 0
      ? html`<h1>Subscription confirmed</h1>
          <p role="status">Thank you. You are now subscribed to:</p>
          ${listNames(confirmed)}`
      : already.length > 0
        ? html`<h1>Already confirmed</h1>
            <p role="status">There was nothing left to confirm. You are subscribed to:</p>
            ${listNames(already)}`
        : html`<h1>Nothing to confirm</h1>
            <p role="status">There is no subscription waiting for confirmation.</p>`;
  return {
    title: 'Confirm your subscription',
    body: html`${body}
      <p><a href="${preferencesPath}">Manage your preferences</a></p>`,
  };
}

export function unsubscribePage(
  email: string,
  token: string,
  targets: ShownList[],
  preferencesPath: string,
): Page {
  const question =
    targets.length > 0
      ? html`<p>Stop sending <strong>${email}</strong> messages from:</p>
          ${listNames(targets.map((t) => t.name))}
          <form method="post" action="/unsubscribe/${token}">
            <input type="hidden" name="confirm" value="unsubscribe" />
            <button type="submit">Unsubscribe</button>
          </form>`
      : html`<p role="status">
          <strong>${email}</strong> is not subscribed to these messages any more.
        </p>`;
  return {
    title: 'Unsubscribe',
    body: html`<h1>Unsubscribe</h1>
      ${question}
      <p class="muted">
        Rather choose what you receive? <a href="${preferencesPath}">Manage your preferences</a>
      </p>`,
  };
}

export function unsubscribedPage(email: string, lists: string[], preferencesPath: string): Page {
  return {
    title: 'Unsubscribed',
    body: html`<h1>You are unsubscribed</h1>
      ${
        lists.length > 0
          ? html`<p role="status">
                <strong>${email}</strong> will receive no more messages from these lists:
              </p>
              ${listNames(lists)}`
          : html`<p role="status"><strong>${email}</strong> is unsubscribed.</p>`
      }
      <p class="muted">
        Unsubscribed by mistake? <a href="${preferencesPath}">Manage your preferences</a>
      </p>`,
  };
}

export interface PreferencesState {
  email: string;
  name: string;
  token: string;
  lists: ShownList[];
  notice?: SafeHtml;
  errors?: FieldError[];
}

export function preferencesPage(state: PreferencesState): Page {
  const errors = state.errors ?? [];
  const nameError = errorOf(errors, 'name');
  const eraseError = errorOf(errors, 'confirm');
  const action = `/preferences/${state.token}`;
  return {
    title: errors.length > 0 ? 'Error: Your preferences' : 'Your preferences',
    body: html`<h1>Your preferences</h1>
      ${state.notice ? html`<div class="notice" role="status">${state.notice}</div>` : ''}
      ${errorSummary(errors)}
      <p>
        ${state.name ? html`Hello <span class="subscriber-name">${state.name}</span>. ` : ''}These
        are the settings for <strong>${state.email}</strong>.
      </p>
      <form method="post" action="${action}">
        <input type="hidden" name="action" value="save" />
        ${nameField(state.name, nameError)} ${preferenceLists(state.lists)}
        <button type="submit">Save preferences</button>
      </form>

      <section class="actions" aria-labelledby="all-heading">
        <h2 id="all-heading">Unsubscribe from everything</h2>
        <form method="post" action="${action}">
          <input type="hidden" name="action" value="unsubscribe-all" />
          <button type="submit" class="secondary">Unsubscribe from all lists</button>
        </form>
      </section>

      ${dataSections(action, eraseError)}`,
  };
}

export function savedNotice(result: {
  subscribed: string[];
  unsubscribed: string[];
  renamed: boolean;
}): SafeHtml {
  const parts: SafeHtml[] = [html`<p>Your preferences are saved.</p>`];
  if (result.subscribed.length > 0) {
    parts.push(html`<p>Subscribed to: ${result.subscribed.join(', ')}.</p>`);
  }
  if (result.unsubscribed.length > 0) {
    parts.push(html`<p>Unsubscribed from: ${result.unsubscribed.join(', ')}.</p>`);
  }
  return html`${parts}`;
}

export function erasedPage(): Page {
  return {
    title: 'Your data is erased',
    body: html`<h1>Your data is erased</h1>
      <p role="status">
        We have deleted your address and everything we kept about you. You will receive nothing more
        from us.
      </p>`,
  };
}
