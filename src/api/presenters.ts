// Database rows → the JSON the API promises (camelCase, ISO dates). One place per resource.
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import type { DeliveryRow } from '../db/repositories/deliveries.repository.js';
import type { ImportRecord } from '../db/repositories/imports.repository.js';
import { inZone } from '../domain/schedule.js';
import type { CampaignReport } from '../services/campaign-report.service.js';
import type { TokenRow } from '../db/repositories/tokens.repository.js';
import type { TemplateRow, TemplateSummaryRow } from '../db/repositories/templates.repository.js';
import type { ListWithCounts } from '../services/lists.service.js';
import type { SubscriberWithLists } from '../services/subscribers.service.js';

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const presentList = (l: ListWithCounts) => ({
  id: l.id,
  uuid: l.uuid,
  name: l.name,
  description: l.description,
  optin: l.optin,
  visibility: l.visibility,
  subscriberCounts: l.counts,
  createdAt: l.created_at.toISOString(),
  updatedAt: l.updated_at.toISOString(),
});

export const presentSubscriber = (s: SubscriberWithLists) => ({
  id: s.id,
  uuid: s.uuid,
  email: s.email,
  name: s.name,
  attributes: s.attributes,
  status: s.status,
  lists: s.memberships.map((m) => ({
    id: m.list_id,
    uuid: m.list_uuid,
    name: m.list_name,
    subscriptionStatus: m.status,
    createdAt: m.created_at.toISOString(),
    updatedAt: m.updated_at.toISOString(),
  })),
  createdAt: s.created_at.toISOString(),
  updatedAt: s.updated_at.toISOString(),
});

export const presentToken = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  createdAt: t.created_at.toISOString(),
  lastUsedAt: iso(t.last_used_at),
  revokedAt: iso(t.revoked_at),
});

export const presentImport = (i: ImportRecord) => ({
  id: i.id,
  listId: i.list_id,
  mode: i.mode,
  status: i.status === 'receiving' ? 'queued' : i.status,
  total: i.total,
  processed: i.processed,
  inserted: i.inserted,
  updated: i.updated,
  skipped: i.skipped,
  errorCount: i.error_count,
  errors: i.errors,
  failure: i.failure,
  createdAt: i.created_at.toISOString(),
  startedAt: iso(i.started_at),
  finishedAt: iso(i.finished_at),
});

export const presentTemplate = (t: TemplateRow & { warnings?: string[] }) => ({
  id: t.id,
  name: t.name,
  mjml: t.mjml,
  createdAt: t.created_at.toISOString(),
  updatedAt: t.updated_at.toISOString(),
  ...(t.warnings ? { warnings: t.warnings } : {}),
});

export const presentTemplateSummary = (t: TemplateSummaryRow) => ({
  id: t.id,
  name: t.name,
  mjmlBytes: t.mjml_bytes,
  createdAt: t.created_at.toISOString(),
  updatedAt: t.updated_at.toISOString(),
});

export const presentCampaign = (c: CampaignRow, r: CampaignReport) => ({
  id: c.id,
  uuid: c.uuid,
  name: c.name,
  subject: c.subject,
  templateId: c.template_id,
  listIds: c.list_ids,
  content: c.content,
  contentType: c.content_type,
  fromName: c.from_name,
  fromEmail: c.from_email,
  replyTo: c.reply_to,
  data: c.data,
  tracking: { opens: c.track_opens, clicks: c.track_clicks },
  archive: c.archive,
  archiveSlug: c.archive_slug,
  status: c.status,
  statusReason: c.status_reason,
  sendAt: c.send_at ? inZone(c.send_at, c.timezone) : null,
  timezone: c.timezone,
  startedAt: iso(c.started_at),
  finishedAt: iso(c.finished_at),
  ...r,
  createdAt: c.created_at.toISOString(),
  updatedAt: c.updated_at.toISOString(),
});

export const presentDelivery = (d: DeliveryRow) => ({
  id: d.id,
  subscriberId: d.subscriber_id,
  email: d.email,
  status: d.status,
  attempts: d.attempts,
  messageId: d.message_id,
  lastError: d.last_error,
  sentAt: iso(d.sent_at),
  updatedAt: d.updated_at.toISOString(),
});
