import { counts, z } from './common.js';

export const importQuery = z.strictObject({
  mode: z.enum(['upsert', 'skip-existing']).optional(),
});

export const importSchema = z
  .object({
    id: z.number().int(),
    listId: z.number().int().nullable(),
    mode: z.enum(['upsert', 'skip-existing']),
    status: z.enum(['queued', 'running', 'done', 'failed']),
    ...counts(['total', 'processed', 'inserted', 'updated', 'skipped', 'errorCount'] as const),
    errors: z.array(z.object({ line: z.number().int(), reason: z.string() })),
    failure: z.string().nullable(),
    createdAt: z.string().datetime(),
    startedAt: z.string().datetime().nullable(),
    finishedAt: z.string().datetime().nullable(),
  })
  .meta({ id: 'Import' });
