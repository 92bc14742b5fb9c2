import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let listId: number;
beforeAll(async () => {
  ctx = await createTestContext();
  listId = (await ctx.api().post('/api/v1/lists').send({ name: 'Recovery' })).body.id;
});
afterAll(async () => {
  await ctx?.close();
});

const upload = (csv: string) =>
  ctx.api().post(`/api/v1/lists/${listId}/imports`).set('Content-Type', 'text/csv').send(csv);
const importDone = (id: number) =>
  waitFor(async () => {
    const r = await ctx.api().get(`/api/v1/imports/${id}`);
    return r.body.status === 'done' ? r.body : undefined;
  });

// No worker runs until the last test: the first two set up what a crash would leave behind.
describe('import recovery', () => {
  it('retries, when reconciled, a job that BullMQ had given up on', async () => {
    const res = await upload('email\nretry@example.org\n');
    const id = res.body.id as number;
    // Take the job as a worker would and fail it for good, as after its last attempt.
    const worker = new Worker(ctx.container.queues.imports.name, null, {
      connection: ctx.container.redis,
      prefix: ctx.config.queuePrefix,
    });
    try {
      const job = await worker.getNextJob('test-token');
      expect(job?.id).toBe(`import-${id}`);
      await job.moveToFailed(new UnrecoverableError('simulated'), 'test-token');
      expect(await ctx.container.queues.imports.getJobState(`import-${id}`)).toBe('failed');
    } finally {
      await worker.close();
    }
    await ctx.container.reconcile();
    expect(await ctx.container.queues.imports.getJobState(`import-${id}`)).toBe('waiting');
  });

  it('re-queues pending imports from PostgreSQL after Redis lost the jobs', async () => {
    const res = await upload('email\nlost1@example.org\nlost2@example.org\n');
    expect(res.status).toBe(202);
    await ctx.container.queues.imports.obliterate({ force: true });
    expect(await ctx.container.queues.imports.getJobCounts('waiting')).toEqual({ waiting: 0 });
    await ctx.container.reconcile();
    ctx.startWorkers();
    expect((await importDone(res.body.id)).inserted).toBe(2);
    // The import retried in the first test was re-queued by the same reconcile and ran too.
    const { rows } = await ctx.db.query('SELECT status FROM imports ORDER BY id');
    expect(rows.map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('drops uploads that were cut off long ago and keeps fresh ones', async () => {
    const { rows } = await ctx.db.query(
      `INSERT INTO imports (list_id, mode, status, created_at) VALUES
         ($1, 'upsert', 'receiving', now() - interval '2 hours'),
         ($1, 'upsert', 'receiving', now()) RETURNING id`,
      [listId],
    );
    await ctx.container.reconcile();
    const left = await ctx.db.query('SELECT id FROM imports WHERE id = ANY($1::bigint[])', [
      rows.map((r) => r.id),
    ]);
    expect(left.rows.map((r) => r.id)).toEqual([rows[1].id]);
  });
});
