// The parts of the API's answers the CLI relies on. Loose objects: fields the CLI does not use
// may come and go; a missing or mistyped one it does use is reported instead of printed as NaN.
import { CAMPAIGN_COUNTS } from '../domain/campaign.js';
import { z } from 'zod';

// `status` is left out on purpose: the HTTP status is known anyway, and some problems carry a
// campaign's status under that name.
export const problem = z.looseObject({
  title: z.string().optional(),
  detail: z.string().optional(),
  errors: z.array(z.looseObject({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problem>;

export const page = <T extends z.ZodType>(item: T) =>
  z.looseObject({ data: z.array(item), next: z.string().nullable().optional() });

export const token = z.looseObject({
  id: z.number(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type Token = z.infer<typeof token>;

export const createdToken = token.extend({ token: z.string() });

export const importStatus = z.enum(['queued', 'running', 'done', 'failed']);

export const importRecord = z.looseObject({
  id: z.number(),
  status: importStatus,
  total: z.number(),
  processed: z.number(),
  inserted: z.number(),
  updated: z.number(),
  skipped: z.number(),
  errorCount: z.number(),
  errors: z.array(z.object({ line: z.number(), reason: z.string() })),
  failure: z.string().nullable(),
});
export type ImportRecord = z.infer<typeof importRecord>;

const count = z.number().int();

/** A campaign's counts as the API lists them. */
export const STAT_FIELDS = CAMPAIGN_COUNTS;
type StatField = (typeof STAT_FIELDS)[number];

export const campaign = z.looseObject({
  id: z.number(),
  name: z.string(),
  subject: z.string().optional(),
  templateId: z.number().nullable().optional(),
  listIds: z.array(z.number()).optional(),
  fromName: z.string().nullable().optional(),
  fromEmail: z.string().nullable().optional(),
  sendAt: z.string().nullable().optional(),
  timezone: z.string().nullable().optional(),
  status: z.string(),
  statusReason: z.string().nullable().optional(),
  startedAt: z.string().nullable().optional(),
  finishedAt: z.string().nullable().optional(),
  stats: z.looseObject(
    Object.fromEntries(STAT_FIELDS.map((k) => [k, count])) as Record<StatField, typeof count>,
  ),
  progress: z.number(),
  rate: z.number(),
  eta: z.string().nullable(),
});
export type Campaign = z.infer<typeof campaign>;

export const queue = z.looseObject({
  name: z.string(),
  waiting: count,
  active: count,
  delayed: count,
  failed: count,
  completed: count,
  // A count of jobs in the paused state, or whether the queue is paused.
  paused: z.union([count, z.boolean()]),
});
export const queues = z.looseObject({ data: z.array(queue) });
