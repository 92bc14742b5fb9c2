// The page of one campaign: what it is, the live panel, and the forms of the steps before the
// send (preflight, test, approval, schedule), each shown where the status and the person's
// scopes allow it.
import type { Response } from 'express';
import type { EngagementReport } from '../../services/engagement-report.service.js';
import { reportSection } from './report-view.js';
import type { FieldError } from '../../domain/errors.js';
import type { CampaignRow } from '../../db/repositories/campaigns.repository.js';
import type { CampaignReport } from '../../services/campaign-report.service.js';
import type { ApprovalView } from '../../services/approvals.service.js';
import { html, type SafeHtml } from '../public/html.js';
import { livePanel } from './campaign-views.js';
import { can, csrfField, describedBy, errorFor, fieldMessage, who } from './kit.js';

export interface CampaignPageData {
  campaign: CampaignRow;
  report: CampaignReport;
  /** Once it went out: the report with its charts. */
  engagement: EngagementReport | undefined;
  approval: ApprovalView;
  preflight: { ok: boolean; audience: number; problems: string[]; warnings: string[] };
  listNames: string[];
  templateName: string | null;
  testAddresses: string;
  errors: FieldError[];
  notice?: string | undefined;
  requireApproval: boolean;
}

const EDITABLE = ['draft', 'scheduled', 'paused'];

function summary(d: CampaignPageData): SafeHtml {
  const c = d.campaign;
  return html`<dl class="facts">
    <dt>Subject</dt>
    <dd>${c.subject}</dd>
    <dt>Template</dt>
    <dd>${d.templateName ?? 'none'}</dd>
    <dt>Lists</dt>
    <dd>${d.listNames.join(', ') || 'none'}</dd>
    <dt>From</dt>
    <dd>
      ${c.from_name || c.from_email ? `${c.from_name ?? ''} <${c.from_email ?? 'default'}>` : 'the default sender'}
    </dd>
  </dl>`;
}

function preflight(d: CampaignPageData): SafeHtml {
  const p = d.preflight;
  return html`<section aria-labelledby="preflight-heading">
    <h2 id="preflight-heading">Preflight</h2>
    <p>
      ${p.ok ? 'Ready to send' : 'Not ready to send'}: ${p.audience}
      ${p.audience === 1 ? 'recipient' : 'recipients'} after suppressions.
    </p>
    ${
      p.problems.length
        ? html`<ul class="problems">
            ${p.problems.map((x) => html`<li>${x}</li>`)}
          </ul>`
        : ''
    }
    ${
      p.warnings.length
        ? html`<ul class="warnings">
            ${p.warnings.map((x) => html`<li>${x}</li>`)}
          </ul>`
        : ''
    }
  </section>`;
}

function testForm(res: Response, d: CampaignPageData): SafeHtml {
  if (!can(res, 'campaigns:send')) return html``;
  const error = errorFor(d.errors, 'emails');
  return html`<section aria-labelledby="test-heading">
    <h2 id="test-heading">Test</h2>
    <form method="post" action="/admin/campaigns/${d.campaign.id}/test" class="row">
      ${csrfField(res)}
      <div class="field grow">
        <label for="test-emails">Test addresses</label>
        <p class="hint" id="test-emails-hint">
          Up to 10, separated by commas; the subject starts with [Test]
        </p>
        ${fieldMessage('test-emails', error)}
        <input
          id="test-emails"
          name="emails"
          type="text"
          value="${d.testAddresses}"
          autocomplete="email"
          ${describedBy('test-emails', error, true)}
        />
      </div>
      <button type="submit">Send test</button>
    </form>
  </section>`;
}

function approvalForms(res: Response, d: CampaignPageData): SafeHtml {
  const c = d.campaign;
  if (!['draft', 'scheduled'].includes(c.status)) return html``;
  const status = d.approval.status;
  const mayRequest =
    can(res, 'campaigns:write') &&
    (status === 'none' || status === 'rejected' || status === 'not-required');
  const mayDecide = can(res, 'campaigns:approve') && status === 'pending';
  if (!mayRequest && !mayDecide) return html``;
  const noteError = errorFor(d.errors, 'note') ?? errorFor(d.errors, 'reason');
  return html`<section aria-labelledby="approval-heading">
    <h2 id="approval-heading">Approval</h2>
    ${
      mayRequest
        ? html`<form method="post" action="/admin/campaigns/${c.id}/approval-request">
            ${csrfField(res)}
            <p class="hint">
              ${d.requireApproval ? 'A second person must approve this campaign before it is scheduled or sent.' : 'Ask a colleague to read it first (optional here).'}
            </p>
            <button type="submit">Request approval</button>
          </form>`
        : ''
    }
    ${
      mayDecide
        ? html`<form method="post" action="/admin/campaigns/${c.id}/approve">
            ${csrfField(res)}
            <div class="field">
              <label for="approval-note">Note</label>
              <p class="hint" id="approval-note-hint">Required to reject: say what to change</p>
              ${fieldMessage('approval-note', noteError)}
              <textarea
                id="approval-note"
                name="note"
                rows="2"
                ${describedBy('approval-note', noteError, true)}
              ></textarea>
            </div>
            <button type="submit">Approve</button>
            <button type="submit" class="danger" formaction="/admin/campaigns/${c.id}/reject">
              Reject
            </button>
          </form>`
        : ''
    }
  </section>`;
}

function scheduleForm(res: Response, d: CampaignPageData): SafeHtml {
  const c = d.campaign;
  if (!can(res, 'campaigns:send') || c.status !== 'draft') return html``;
  const error = errorFor(d.errors, 'sendAt');
  const zoneError = errorFor(d.errors, 'timezone');
  return html`<section aria-labelledby="schedule-heading">
    <h2 id="schedule-heading">Schedule</h2>
    <form method="post" action="/admin/campaigns/${c.id}/schedule" class="row" data-schedule-form>
      ${csrfField(res)}
      <div class="field">
        <label for="send-date">Date</label>
        ${fieldMessage('send-date', error)}
        <input id="send-date" name="date" type="date" required ${describedBy('send-date', error)} />
      </div>
      <div class="field">
        <label for="send-time">Time</label>
        <input id="send-time" name="time" type="time" required value="09:00" />
      </div>
      <div class="field">
        <label for="send-zone">Time zone</label>
        ${fieldMessage('send-zone', zoneError)}
        <input
          id="send-zone"
          name="timezone"
          type="text"
          list="zones"
          value="UTC"
          required
          ${describedBy('send-zone', zoneError)}
        />
        <datalist id="zones">
          ${Intl.supportedValuesOf('timeZone').map((z) => html`<option value="${z}"></option>`)}
        </datalist>
      </div>
      <button type="submit">Schedule</button>
      <p class="hint grow" data-schedule-hint aria-live="polite"></p>
    </form>
  </section>`;
}

export function campaignPage(res: Response, d: CampaignPageData): SafeHtml {
  const c = d.campaign;
  const editable = EDITABLE.includes(c.status) && can(res, 'campaigns:write');
  return html`<p class="crumbs"><a href="/admin/campaigns">Campaigns</a></p>
    <h1>${c.name}</h1>
    ${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
    ${
      d.errors.length &&
      !d.errors.some((e) => ['emails', 'sendAt', 'timezone', 'note', 'reason'].includes(e.path))
        ? html`<div class="alert" role="alert">
            ${d.errors.map((e) => html`<p>${e.message}</p>`)}
          </div>`
        : ''
    }
    ${summary(d)}
    ${editable ? html`<p><a class="button secondary" href="/admin/campaigns/${c.id}/edit">Edit</a></p>` : ''}
    ${livePanel(res, c, d.report, d.approval)}
    ${d.engagement ? reportSection(c.id, d.engagement, { opens: c.track_opens, clicks: c.track_clicks }) : ''}
    ${['draft', 'scheduled'].includes(c.status) ? preflight(d) : ''} ${testForm(res, d)}
    ${approvalForms(res, d)} ${scheduleForm(res, d)}
    <section aria-labelledby="message-heading">
      <h2 id="message-heading">The message</h2>
      <p>
        <a href="/admin/campaigns/${c.id}/message" target="_blank"
          >Open the message on its own page</a
        >
      </p>
      <iframe
        class="message"
        title="The message as a subscriber sees it"
        sandbox
        tabindex="-1"
        src="/admin/campaigns/${c.id}/message"
      ></iframe>
    </section>
    <p class="hint">Signed in as ${who(res).user.name}.</p>`;
}
