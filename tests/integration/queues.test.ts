// Operators' view of the queues: counts per state, failed jobs, retry and discard, and the
// scopes that guard them.
import { Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let readToken: string;
let opsToken: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const make = async (scopes: string[]) =>
    (
      await ctx
        .api()
        .post('/api/v1/tokens')
        .send({ name: scopes.join('+'), scopes })
        .expect(201)
    ).body.token as string;
  readToken = await make(['read']);
  opsToken = await make(['ops']);
});
afterAll(async () => {
  await ctx?.close();
});

type Counts = Record<string, number | string | boolean>;
async function counts(): Promise<Record<string, Counts>> {
  const res = await ctx.api().get('/api/v1/queues').expect(200);
  return Object.fromEntries((res.body.data as Counts[]).map((q) => [q.name, q]));
}

/** Runs the events queue once with a processor that fails, leaving `count` failed jobs. */
async function failJobs(count: number): Promise<string[]> {
  const { queues, config, redis } = ctx.container;
  const jobs: Job[] = [];
  for (let i = 0; i < count; i++) {
    jobs.push(await queues.events.add('apply', { eventIds: [] }, { attempts: 1 }));
  }
  const worker = new Worker(
    queues.events.name,
    () => Promise.reject(new Error('PostgreSQL went away (test)')),
    { connection: redis, prefix: config.queuePrefix },
  );
  await waitFor(async () => (await queues.events.getFailedCount()) >= count);
  await worker.close();
  return jobs.map((j) => j.id!);
}

describe('GET /api/v1/queues', () => {
  it('lists every queue with its job counts per state', async () => {
    const all = await counts();
    expect(Object.keys(all).sort()).toEqual(['campaigns', 'deliveries', 'events', 'imports']);
    for (const q of Object.values(all)) {
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'])
        expect(q[state]).toBeTypeOf('number');
      expect(q.isPaused).toBe(false);
    }
  });

  it('counts move as jobs are added, delayed and paused', async () => {
    const { imports } = ctx.container.queues;
    const before = (await counts()).imports!;
    await imports.add('x', { importId: 999_001 });
    await imports.add('x', { importId: 999_002 }, { delay: 60_000 });
    let now = (await counts()).imports!;
    expect(now.waiting).toBe((before.waiting as number) + 1);
    expect(now.delayed).toBe((before.delayed as number) + 1);

    // A paused queue keeps its jobs in the wait list: they are reported as paused.
    await imports.pause();
    now = (await counts()).imports!;
    expect(now).toMatchObject({ isPaused: true, waiting: 0, paused: 1 });
    await imports.resume();
    await imports.obliterate({ force: true });
  });

  it('needs a token with read or ops', async () => {
    await ctx.http.get('/api/v1/queues').expect(401);
    await ctx.http.get('/api/v1/queues').set('Authorization', `Bearer ${readToken}`).expect(200);
    await ctx.http.get('/api/v1/queues').set('Authorization', `Bearer ${opsToken}`).expect(200);
  });
});

describe('failed jobs', () => {
  let ids: string[];
  beforeAll(async () => {
    ids = await failJobs(3);
  });

  it('are listed newest first with their reason and pages', async () => {
    const first = await ctx.api().get('/api/v1/queues/events/failed?limit=2').expect(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.data[0]).toMatchObject({
      name: 'apply',
      data: { eventIds: [] },
      failedReason: 'PostgreSQL went away (test)',
      attemptsMade: 1,
    });
    expect(first.body.next).toEqual(expect.any(String));
    const second = await ctx
      .api()
      .get(`/api/v1/queues/events/failed?limit=2&after=${first.body.next}`)
      .expect(200);
    expect(second.body.next).toBeNull();
    const seen = [...first.body.data, ...second.body.data].map((j: { id: string }) => j.id);
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await counts()).events!.failed).toBe(3);
  });

  it('a retried job runs again and completes', async () => {
    const id = ids[0]!;
    await ctx.http
      .post(`/api/v1/queues/events/jobs/${id}/retry`)
      .set('Authorization', `Bearer ${readToken}`)
      .expect(403);
    const res = await ctx.http
      .post(`/api/v1/queues/events/jobs/${id}/retry`)
      .set('Authorization', `Bearer ${opsToken}`)
      .expect(200);
    expect(res.body).toEqual({ id, queue: 'events', state: 'waiting' });
    expect(await (await ctx.container.queues.events.getJob(id))!.getState()).toBe('waiting');
    // Retrying it again is a conflict: it is no longer failed.
    const again = await ctx.api().post(`/api/v1/queues/events/jobs/${id}/retry`).expect(409);
    expect(again.body.detail).toBe(`Job ${id} is waiting, not failed`);

    // The real events worker applies the (empty) job this time.
    const workers = ctx.startWorkers();
    try {
      await waitFor(async () => {
        const job = await ctx.container.queues.events.getJob(id);
        return (await job?.getState()) === 'completed';
      });
    } finally {
      await workers.close();
    }
  });

  it('a discarded job is gone', async () => {
    const id = ids[1]!;
    await ctx.api().delete(`/api/v1/queues/events/jobs/${id}`).expect(204);
    expect(await ctx.container.queues.events.getJob(id)).toBeUndefined();
    await ctx.api().delete(`/api/v1/queues/events/jobs/${id}`).expect(404);
    expect((await counts()).events!.failed).toBe(1);
  });

  it('refuses unknown queues, bad ids and path tricks without touching anything', async () => {
    const before = await counts();
    await ctx.api().get('/api/v1/queues/nope/failed').expect(404);
    const bad = await ctx.api().post('/api/v1/queues/events/jobs/..%2F..%2Fx/retry').expect(400);
    expect(bad.body.errors).toEqual([{ path: 'id', message: 'is not a job id' }]);
    await ctx.api().post('/api/v1/queues/EVENTS/jobs/1/retry').expect(400);
    await ctx.api().get('/api/v1/queues/events/failed?after=garbage').expect(400);
    await ctx.api().get('/api/v1/queues/events/failed?limit=5000').expect(400);
    expect(await counts()).toEqual(before);
  });
});
