// CSV imports: progress while they run, and resuming after a crash.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { importTools } from '../helpers/imports.js';
import { ImportRunner } from '../../src/services/import-runner.service.js';
import type { Pool } from '../../src/db/pool.js';

const ctx = contextSuite({}, { workers: true });

const tools = importTools(ctx);

describe('progress', () => {
  it('shows a running import with processed between 0 and total while it runs', async () => {
    const listId = await tools.createList();
    const rows = Array.from({ length: 6000 }, (_, i) => `p${i}@progress.test,P ${i}`);
    // Hold a row lock on a subscriber of the second batch: the import stops there, visibly.
    await tools.createSubscriber({ email: 'p3000@progress.test', name: 'Before' });
    const blocker = await ctx.db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `SELECT 1 FROM subscribers WHERE email_key = lower('p3000@progress.test') FOR UPDATE`,
      );
      const res = await tools.upload(listId, ['email,name', ...rows].join('\r\n'), 'upsert');
      expect(res.status).toBe(202);
      expect(res.body.total).toBe(6000);
      const running = await waitFor(async () => {
        const body = await tools.getImport(res.body.id);
        return body.status === 'running' && body.processed > 0 ? body : undefined;
      });
      expect(running.processed).toBeGreaterThan(0);
      expect(running.processed).toBeLessThan(running.total);
      expect(running.total).toBe(6000);
      await blocker.query('ROLLBACK');
      const done = await tools.finished(res.body.id);
      expect(done).toMatchObject({ status: 'done', processed: 6000, inserted: 5999, updated: 1 });
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });
});

/** A pool whose connect() (used for each batch's transaction) fails after `allowed` calls. */
function crashingPool(pool: Pool, allowed: number): Pool {
  let calls = 0;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property === 'connect') {
        return async () => {
          if (++calls > allowed) throw new Error('simulated crash');
          return target.connect();
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

function resumeFile(tag: string, rows: number) {
  const lines = ['email,name,note'];
  const expectedErrors: number[] = [];
  const emails = new Set<string>();
  let line = 1; // the header
  for (let i = 0; i < rows; i++) {
    line++;
    if (i % 97 === 5) {
      lines.push(`bad-${i},Bad,x`);
      expectedErrors.push(line);
    } else if (i % 113 === 7) {
      // A quoted line break: the record takes two lines of the file.
      lines.push(`${tag}${i}@resume.test,Multi,"one\ntwo"`);
      line++;
      emails.add(`${tag}${i}@resume.test`);
    } else {
      lines.push(`${tag}${i}@resume.test,R ${i},n${i}`);
      emails.add(`${tag}${i}@resume.test`);
    }
  }
  return { file: Buffer.from(lines.join('\n') + '\n'), expectedErrors, emails };
}

describe('resuming', () => {
  // Two lanes: each resumes from its own count; one lane: an import queued before lanes
  // existed, whose progress is a prefix of the file.
  it.each([2, 1])(
    'continues an interrupted run after the last committed batch of each of %i lane(s), without duplicates or gaps',
    async (lanes) => {
      const listId = await tools.createList();
      const { file, expectedErrors, emails } = resumeFile(`a${lanes}`, 2600);
      const id = await tools.storeUpload(listId, file, [1000, 30_000], 'upsert', lanes);
      // One lane as an earlier version queued it: no lane counts at all.
      if (lanes === 1)
        await ctx.db.query(`UPDATE imports SET lane_processed = '{}' WHERE id = $1`, [id]);

      const crashing = new ImportRunner(crashingPool(ctx.db, 3), ctx.container.log, 500);
      await expect(crashing.run(id)).rejects.toThrow('simulated crash');
      const interrupted = await tools.getImport(id);
      expect(interrupted).toMatchObject({ status: 'running', processed: 1500 });
      expect((await tools.listEmails(listId)).length).toBe(interrupted.inserted);

      // The queue retries the job: a worker claims the running import and carries on.
      await ctx.container.services.imports.enqueue(id);
      const done = await tools.finished(id);
      expect(done).toMatchObject({
        status: 'done',
        processed: 2600,
        total: 2600,
        inserted: emails.size,
        updated: 0,
        skipped: 0,
        errorCount: expectedErrors.length,
      });
      expect(done.errors.map((e) => e.line)).toEqual(expectedErrors);
      expect(await tools.listEmails(listId)).toEqual([...emails].sort());
      const consents = await ctx.db.query<{ n: number; distinct: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT subscriber_id)::int AS distinct
       FROM consent_records WHERE source = 'import' AND list_id = $1`,
        [listId],
      );
      expect(consents.rows[0]).toEqual({ n: emails.size, distinct: emails.size });
      const chunks = await ctx.db.query('SELECT 1 FROM import_chunks WHERE import_id = $1', [id]);
      expect(chunks.rowCount).toBe(0);
    },
  );

  it('lets only one of two runners that claimed the same import write each batch', async () => {
    const listId = await tools.createList();
    const { file, expectedErrors, emails } = resumeFile('b', 2600);
    const id = await tools.storeUpload(listId, file, [4096]);
    const one = new ImportRunner(ctx.db, ctx.container.log, 500);
    const two = new ImportRunner(ctx.db, ctx.container.log, 500);
    const outcomes = await Promise.all([one.run(id), two.run(id)]);
    expect(outcomes.sort()).toEqual(['done', 'skipped']);
    const done = await tools.getImport(id);
    expect(done).toMatchObject({
      status: 'done',
      processed: 2600,
      inserted: emails.size,
      updated: 0,
      errorCount: expectedErrors.length,
    });
    expect(done.errors.map((e) => e.line)).toEqual(expectedErrors);
    expect(await tools.listEmails(listId)).toEqual([...emails].sort());
  });

  it('does nothing for an import that already finished', async () => {
    const listId = await tools.createList();
    const done = await tools.importCsv(listId, 'email\nonce@resume.test\n');
    expect(await ctx.container.services.importRunner.run(done.id)).toBe('skipped');
    expect(await tools.getImport(done.id)).toMatchObject({
      status: 'done',
      processed: 1,
      inserted: 1,
    });
  });
});
