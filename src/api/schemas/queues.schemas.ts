import { z } from './common.js';

export const queueNameParam = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,49}$/, { error: 'must be a queue name such as "deliveries"' }),
});

export const jobParams = queueNameParam.extend({
  // BullMQ ids here are deterministic names (batch-3-g1-100) or numbers: nothing else passes.
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, { error: 'is not a job id' }),
});

const count = z.number().int().min(0);
export const queueCountsSchema = z
  .object({
    name: z.string().meta({ example: 'deliveries' }),
    isPaused: z.boolean(),
    waiting: count,
    active: count,
    delayed: count,
    failed: count,
    completed: count,
    paused: count,
  })
  .meta({ id: 'QueueCounts' });

export const failedJobSchema = z
  .object({
    id: z.string().meta({ example: 'batch-3-g1-2001' }),
    name: z.string(),
    data: z.unknown().meta({ description: 'the job payload (ids only)' }),
    failedReason: z.string(),
    attemptsMade: z.number().int(),
    createdAt: z.string().datetime(),
    failedAt: z.string().datetime().nullable(),
  })
  .meta({ id: 'FailedJob' });
