import { approvalSchema } from './accounts.schemas.js';
import { CAMPAIGN_COUNTS, CAMPAIGN_STATUSES, DELIVERY_STATUSES } from '../../domain/campaign.js';
import { ARCHIVE_SLUG } from '../../domain/campaign-input.js';
import {
  counts,
  identity,
  multilineText,
  pageQuery,
  plainText,
  withoutNul,
  withoutProtoKey,
  z,
} from './common.js';

const listIds = z
  .array(z.number().int().positive())
  .min(1, { error: 'name at least one list' })
  .max(100);
const data = withoutProtoKey
  .pipe(z.record(z.string().min(1).max(100), z.unknown()))
  .refine((v) => JSON.stringify(v).length <= 65_536, { error: 'must be at most 64 KB as JSON' })
  .refine(withoutNul, { error: 'must not contain NUL characters' });

const fields = {
  name: plainText(200).pipe(z.string().trim().min(1, { error: 'is required' })),
  subject: plainText(500).pipe(z.string().trim().min(1, { error: 'is required' })),
  templateId: z.number().int().positive(),
  listIds,
  content: multilineText(1_000_000).nullable(),
  contentType: z.enum(['markdown', 'mjml']),
  fromName: plainText(200).nullable(),
  fromEmail: z.string().max(254).nullable(),
  replyTo: z.string().max(254).nullable(),
  data,
  tracking: z.strictObject({ opens: z.boolean(), clicks: z.boolean() }).partial().meta({
    description: 'open and click tracking (docs/engagement.md); defaults TRACK_OPENS, TRACK_CLICKS',
  }),
  archive: z.boolean().meta({ description: 'shown in the public archive at /archive' }),
  archiveSlug: z
    .string()
    .max(80)
    .regex(ARCHIVE_SLUG, { error: 'use lower-case letters, digits and single hyphens' })
    .nullable()
    .meta({
      example: 'spring-2027',
      description: 'the archive page is /archive/<slug>; made from the name when empty',
    }),
};

export const campaignCreate = z
  .strictObject({
    ...fields,
    content: fields.content.optional(),
    contentType: fields.contentType.optional(),
    fromName: fields.fromName.optional(),
    fromEmail: fields.fromEmail.optional(),
    replyTo: fields.replyTo.optional(),
    data: fields.data.optional(),
    tracking: fields.tracking.optional(),
    archive: fields.archive.optional(),
    archiveSlug: fields.archiveSlug.optional(),
  })
  .meta({ id: 'CampaignCreate' });

export const campaignPatch = z.strictObject(fields).partial().meta({ id: 'CampaignPatch' });

export const campaignQuery = pageQuery.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() });

export const scheduleBody = z
  .strictObject({
    sendAt: z.string().min(1).max(64).meta({ example: '2027-03-29T09:00' }),
    timezone: z.string().min(1).max(64).optional().meta({ example: 'Europe/Zurich' }),
  })
  .meta({ id: 'Schedule' });

export const testBody = z
  .strictObject({
    emails: z
      .array(z.string().max(254))
      .min(1, { error: 'name at least one address' })
      .max(10, { error: 'at most 10 addresses' }),
  })
  .meta({ id: 'TestSend' });

export const deliveriesQuery = pageQuery.extend({ status: z.enum(DELIVERY_STATUSES).optional() });

const stats = z.object(counts(CAMPAIGN_COUNTS));

export const campaignSchema = z
  .object({
    ...identity,
    name: z.string(),
    subject: z.string(),
    templateId: z.number().int().nullable(),
    listIds: z.array(z.number().int()),
    content: z.string().nullable(),
    contentType: z.enum(['markdown', 'mjml']),
    fromName: z.string().nullable(),
    fromEmail: z.string().nullable(),
    replyTo: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    tracking: z.object({ opens: z.boolean(), clicks: z.boolean() }),
    archive: z.boolean(),
    archiveSlug: z.string().nullable(),
    archiveUrl: z
      .string()
      .nullable()
      .meta({ description: 'the public archive page, when archived' }),
    status: z.enum(CAMPAIGN_STATUSES),
    statusReason: z.string().nullable(),
    sendAt: z.string().nullable().meta({ description: 'in the campaign’s time zone' }),
    timezone: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    stats,
    progress: z.number(),
    rate: z.number().meta({ description: 'messages per second over the last minute' }),
    eta: z.string().nullable(),
    approval: approvalSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Campaign' });

export const deliverySchema = z
  .object({
    id: z.number().int(),
    subscriberId: z.number().int().nullable(),
    email: z.string().nullable(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    messageId: z.string().nullable(),
    lastError: z.string().nullable(),
    sentAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Delivery' });

export const preflightSchema = z
  .object({
    ok: z.boolean(),
    audience: z.number().int(),
    warnings: z.array(z.string()).meta({
      description: 'what does not stop the send but should be fixed (e.g. PUBLIC_URL not https)',
    }),
    renderError: z.string().nullable().meta({
      description: 'why a sample recipient cannot be rendered (every message would fail), or null',
    }),
    unknownMergeTags: z.array(z.string()),
    missingUnsubscribeLink: z.boolean(),
    mjmlWarnings: z.array(z.string()),
    htmlBytes: z.number().int(),
    problems: z.array(z.string()),
  })
  .meta({ id: 'Preflight' });
