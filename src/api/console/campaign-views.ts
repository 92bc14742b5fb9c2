// The campaign pages' markup: the editor form, the page of one campaign with its live panel
// (status, progress bar, account, the actions its status allows) and the send confirmation.
import type { Response } from 'express';
import type { FieldError } from '../../domain/errors.js';
import type { CampaignRow } from '../../db/repositories/campaigns.repository.js';
import type { ListWithCounts } from '../../services/lists.service.js';
import type { CampaignReport } from '../../services/campaign-report.service.js';
import type { ApprovalView } from '../../services/approvals.service.js';
import { html, type SafeHtml } from '../public/html.js';
import { can, csrfField, describedBy, errorFor, fieldMessage, who } from './kit.js';
import { actionButton, moment, statusBadge } from './widgets.js';

export interface CampaignFormValues {
  name: string;
  subject: string;
  templateId: number | null;
  listIds: number[];
  content: string;
  contentType: 'markdown' | 'mjml';
  fromName: string;
  fromEmail: string;
  replyTo: string;
  trackOpens: boolean;
  trackClicks: boolean;
  archive: boolean;
  archiveSlug: string;
}

/** The editor's values: the campaign's, or a new one's (tracking as TRACK_OPENS/TRACK_CLICKS). */
export function formValues(
  c?: CampaignRow,
  tracking = { opens: false, clicks: false },
): CampaignFormValues {
  return {
    trackOpens: c ? c.track_opens : tracking.opens,
    trackClicks: c ? c.track_clicks : tracking.clicks,
    archive: c?.archive ?? false,
    archiveSlug: c?.archive_slug ?? '',
    name: c?.name ?? '',
    subject: c?.subject ?? '',
    templateId: c?.template_id ?? null,
    listIds: c?.list_ids ?? [],
    content: c?.content ?? '',
    contentType: c?.content_type ?? 'markdown',
    fromName: c?.from_name ?? '',
    fromEmail: c?.from_email ?? '',
    replyTo: c?.reply_to ?? '',
  };
}

function textField(id: string, label: string, value: string, errors: FieldError[], hint = '') {
  const error = errorFor(errors, id);
  return html`<div class="field">
    <label for="${id}">${label}</label>
    ${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''} ${fieldMessage(id, error)}
    <input
      id="${id}"
      name="${id}"
      type="text"
      value="${value}"
      ${describedBy(id, error, Boolean(hint))}
    />
  </div>`;
}

const checkbox = (id: string, label: string, checked: boolean, hint: string) =>
  html`<div class="choice">
    <input
      type="checkbox"
      id="${id}"
      name="${id}"
      ${checked ? html`checked` : ''}
      aria-describedby="${id}-hint"
    />
    <label for="${id}">${label}</label>
    <span class="hint" id="${id}-hint">${hint}</span>
  </div>`;

/** Tracking (off unless chosen: docs/engagement.md) and the public archive. */
function engagementFields(values: CampaignFormValues, errors: FieldError[]): SafeHtml {
  return html`<fieldset>
    <legend>Tracking and archive</legend>
    ${checkbox('trackOpens', 'Track opens', values.trackOpens, 'an invisible image; mail proxies are counted apart')}
    ${checkbox('trackClicks', 'Track clicks', values.trackClicks, 'links go through this site first')}
    ${checkbox('archive', 'Show in the public archive', values.archive, 'at /archive once sent, with no reader’s data')}
    ${textField('archiveSlug', 'Archive address', values.archiveSlug, errors, 'The page is /archive/<this>; empty: made from the name')}
  </fieldset>`;
}

function senderFields(values: CampaignFormValues, errors: FieldError[]): SafeHtml {
  return html`<details${values.fromName || values.fromEmail || values.replyTo ? html` open` : ''}>
    <summary>Sender</summary>
    ${textField('fromName', 'From name', values.fromName, errors)}
    ${textField('fromEmail', 'From address', values.fromEmail, errors, 'Empty: the default sender')}
    ${textField('replyTo', 'Reply-to address', values.replyTo, errors)}
      </details>`;
}

/** The lists as checkboxes in a group named Lists. */
function listChoices(
  lists: ListWithCounts[],
  values: CampaignFormValues,
  listsError: string | undefined,
): SafeHtml {
  return html`<fieldset ${listsError ? html`aria-describedby="listIds-error"` : ''}>
    <legend>Lists</legend>
    ${fieldMessage('listIds', listsError)}
    ${lists.length === 0 ? html`<p>No lists yet: <a href="/admin/lists">create one</a>.</p>` : ''}
    ${lists.map(
      (l) =>
        html`<div class="choice">
          <input
            type="checkbox"
            id="list-${l.id}"
            name="listIds"
            value="${l.id}"
            ${values.listIds.includes(l.id) ? html` checked` : ''}
          />
          <label for="list-${l.id}">${l.name}</label>
          <span class="hint">${l.counts.confirmed} confirmed</span>
        </div>`,
    )}
  </fieldset>`;
}

// Out of the tab order: a sandboxed frame's focus cannot be shown from the page (it sits in
// the frame's own document); the campaign page links to the message on a page of its own.
const previewFrame = () =>
  html`<div class="preview">
    <p class="hint" id="preview-label">Preview in the chosen template (updates as you type)</p>
    <iframe
      name="campaign-preview"
      title="Preview of the message"
      sandbox
      tabindex="-1"
      aria-describedby="preview-label"
      data-preview-frame
    ></iframe>
  </div>`;

export function campaignForm(
  res: Response,
  options: {
    action: string;
    values: CampaignFormValues;
    lists: ListWithCounts[];
    templates: { id: number; name: string }[];
    errors: FieldError[];
  },
): SafeHtml {
  const { values, errors } = options;
  const templateError = errorFor(errors, 'templateId');
  const listsError = errorFor(errors, 'listIds');
  const contentError = errorFor(errors, 'content');
  const summary = errors.length
    ? html`<div class="alert" role="alert">
        <p>The campaign was not saved. Please correct the fields marked below.</p>
      </div>`
    : '';
  return html`${summary}
    <form method="post" action="${options.action}" class="editor" data-campaign-form>
      ${csrfField(res)}
      ${textField('name', 'Name', values.name, errors, 'Only you and your colleagues see it')}
      ${textField('subject', 'Subject', values.subject, errors, 'Merge tags allowed: {{ subscriber.name }}')}
      <div class="field">
        <label for="templateId">Template</label>
        ${fieldMessage('templateId', templateError)}
        <select id="templateId" name="templateId" ${describedBy('templateId', templateError)}>
          <option value="">Choose a template</option>
          ${options.templates.map(
            (t) =>
              html`<option value="${t.id}" ${t.id === values.templateId ? html` selected` : ''}>
                ${t.name}
              </option>`,
          )}
        </select>
      </div>
      ${listChoices(options.lists, values, listsError)}
      <div class="split">
        <div class="field">
          <label for="content">Content</label>
          <p class="hint" id="content-hint">Markdown: **bold**, [link](https://…), # heading</p>
          ${fieldMessage('content', contentError)}
          <textarea
            id="content"
            name="content"
            rows="18"
            ${describedBy('content', contentError, true)}
          >
${values.content}</textarea>
          <input type="hidden" name="contentType" value="${values.contentType}" />
        </div>
        ${previewFrame()}
      </div>
      ${senderFields(values, errors)} ${engagementFields(values, errors)}
      <div class="actions">
        <button type="submit">Save</button>
        <button
          type="submit"
          class="secondary"
          formaction="/admin/campaigns/preview"
          formtarget="campaign-preview"
          data-preview-button
        >
          Preview
        </button>
      </div>
    </form>`;
}

/** The part of a campaign's page that updates itself while it sends. */
export function livePanel(
  res: Response,
  c: CampaignRow,
  report: CampaignReport,
  approval: ApprovalView,
): SafeHtml {
  const { stats } = report;
  const percent = Math.round(report.progress * 100);
  // A campaign that just finished is followed a little longer, so the last counts arrive too.
  const justFinished =
    c.status === 'finished' &&
    c.finished_at !== null &&
    Date.now() - c.finished_at.getTime() < 10_000;
  const active = ['running', 'scheduled', 'paused'].includes(c.status) || justFinished;
  return html`<section
    id="live"
    aria-labelledby="status-heading"
    ${active ? html`data-live="/admin/campaigns/${c.id}/live"` : ''}
  >
    <h2 id="status-heading">Status</h2>
    <p class="status-line">
      Status:
      <strong data-status>${statusBadge(c.status)}</strong>
      ${c.status_reason ? html`<span class="hint">${c.status_reason}</span>` : ''}
    </p>
    ${c.status === 'scheduled' && c.send_at ? html`<p>Scheduled for ${moment(c.send_at, c.timezone)}</p>` : ''}
    <div class="progress-row">
      <div
        role="progressbar"
        aria-label="Sent"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow="${percent}"
        aria-valuetext="${percent}% (${stats.sent} of ${stats.recipients})"
      >
        <progress max="100" value="${percent}" aria-hidden="true"></progress>
      </div>
      <p>
        <span data-sent>${stats.sent}</span> sent of ${stats.recipients} · ${percent}%
        ${c.status === 'running' ? html` · ${report.rate.toFixed(1)} messages/s${report.eta ? html` · about ${moment(new Date(report.eta), null, true)} to go` : ''}` : ''}
      </p>
    </div>
    <table class="account">
      <caption>
        The account
      </caption>
      <tbody>
        ${(
          [
            'sent',
            'queued',
            'sending',
            'failed',
            'bounced',
            'suppressed',
            'unknown',
            'complained',
            'unsubscribed',
          ] as const
        ).map(
          (k) =>
            html`<tr>
              <th scope="row">${k}</th>
              <td data-stat="${k}">${stats[k]}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${approvalBlock(approval)}
    <div class="actions">${lifecycleActions(res, c, stats)}</div>
  </section>`;
}

function approvalBlock(approval: ApprovalView): SafeHtml {
  if (approval.status === 'not-required') return html``;
  const by = (a: ApprovalView['requestedBy']) => (a ? a.name : 'someone');
  const text = {
    none: 'Not approved yet.',
    pending: `Approval requested by ${by(approval.requestedBy)}.`,
    approved: `Approved by ${by(approval.decidedBy)}.`,
    rejected: `Rejected by ${by(approval.decidedBy)}.`,
  }[approval.status];
  return html`<p class="approval">
    Approval: ${text}${approval.note ? html` <q>${approval.note}</q>` : ''}
  </p>`;
}

/** The lifecycle buttons the campaign's status and the person's scopes allow. */
function lifecycleActions(res: Response, c: CampaignRow, stats: CampaignReport['stats']): SafeHtml {
  if (!can(res, 'campaigns:send')) return html``;
  const id = c.id;
  return html`${
    c.status === 'draft' || c.status === 'scheduled'
      ? html`<form method="get" action="/admin/campaigns/${id}/confirm-send">
          <button type="submit">Send now</button>
        </form>`
      : ''
  }
  ${c.status === 'running' ? actionButton(res, `/admin/campaigns/${id}/pause`, 'Pause') : ''}
  ${c.status === 'paused' ? actionButton(res, `/admin/campaigns/${id}/resume`, 'Resume') : ''}
  ${['scheduled', 'running', 'paused'].includes(c.status) ? actionButton(res, `/admin/campaigns/${id}/cancel`, 'Cancel', 'danger') : ''}
  ${c.status === 'finished' && c.recipients > 0 && stats.failed + stats.unknown > 0 ? actionButton(res, `/admin/campaigns/${id}/retry`, 'Retry failed') : ''}`;
}

export function confirmSendPage(res: Response, c: CampaignRow, audience: number): SafeHtml {
  return html`<h1>Send “${c.name}” now?</h1>
    <p class="confirm">
      <strong
        >This sends the campaign now to ${audience}
        ${audience === 1 ? 'subscriber' : 'subscribers'}.</strong
      >
      They are the confirmed, active subscribers of its lists today. It cannot be undone, only
      paused or cancelled.
    </p>
    <form method="post" action="/admin/campaigns/${c.id}/send">
      ${csrfField(res)}
      <button type="submit">Confirm send</button>
      <a class="button secondary" href="/admin/campaigns/${c.id}">Back</a>
    </form>`;
}

export const userCanEdit = (res: Response) =>
  can(res, 'campaigns:write') && who(res).user !== undefined;
