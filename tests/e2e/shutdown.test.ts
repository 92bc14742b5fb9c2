// Graceful shutdown of real processes (issue "Operations", item 6): SIGTERM lets in-flight work
// finish, the wait is bounded by SHUTDOWN_TIMEOUT_MS, and a second signal exits at once.
// (SIGTERM in the middle of a campaign, with zero duplicates: campaign-crash.test.ts.)
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestContext,
  TEST_ADMIN_TOKEN,
  waitFor,
  type TestContext,
} from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { processEnv, startWorkerProcess } from '../helpers/fleet.js';
import { killAll, startService } from '../helpers/process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let ctx: TestContext;
let sink: SmtpSink;
let templateId: number;
beforeAll(async () => {
  // A relay that takes 20 s to answer the end of DATA: every transaction is still in flight
  // when the signal comes.
  sink = await startSmtpSink({ dataDelayMs: () => 20_000 });
  ctx = await createTestContext({ SMTP_URL: sink.url });
  templateId = await fixtures.createTemplate(ctx);
});
afterAll(async () => {
  await killAll();
  await ctx?.close();
  sink?.dropConnections();
  await sink?.close();
});

let seq = 0;
async function stuckCampaign() {
  seq++;
  const list = await fixtures.createList(ctx, `Shutdown ${seq}`);
  await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, `s${seq}r`, 5));
  const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [list] });
  await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
  // Wait until SMTP transactions are under way.
  await waitFor(async () => {
    const { rows } = await ctx.db.query(
      "SELECT 1 FROM deliveries WHERE campaign_id = $1 AND status = 'sending'",
      [campaign.id],
    );
    return rows.length > 0;
  });
  return campaign;
}

describe('a worker whose SMTP transactions do not end', () => {
  it('exits with status 1 once SHUTDOWN_TIMEOUT_MS has passed, saying so', async () => {
    const worker = await startWorkerProcess(ctx, {
      SMTP_URL: sink.url,
      SHUTDOWN_TIMEOUT_MS: '1500',
    });
    await stuckCampaign();
    // The bound is the point: well before the relay's 20 s answer.
    expect(await worker.stop('SIGTERM', 10_000)).toEqual({ code: 1, signal: null });
    const events = worker.logs().map((l) => l.event);
    expect(events).toContain('shutdown');
    expect(events).toContain('shutdown_timeout');
    expect(events).not.toContain('stopped');
  });

  it('a second signal exits at once', async () => {
    const worker = await startWorkerProcess(ctx, {
      SMTP_URL: sink.url,
      SHUTDOWN_TIMEOUT_MS: '60000',
    });
    await stuckCampaign();
    worker.child.kill('SIGTERM');
    await worker.waitForEvent('shutdown');
    // Still draining (the relay has not answered): the operator insists.
    expect(worker.logs().some((l) => l.event === 'stopped')).toBe(false);
    expect(await worker.stop('SIGINT', 5_000)).toEqual({ code: 1, signal: null });
    expect(worker.logs().some((l) => l.event === 'shutdown_forced')).toBe(true);
  });
});

describe('an api process stopped while a request is in flight', () => {
  it('finishes that request, refuses new connections, and exits 0', async () => {
    const api = startService('api', processEnv(ctx));
    const base = new URL(await api.listening());
    const list = await fixtures.createList(ctx, 'Upload during shutdown');

    const answers: http.ClientRequest[] = [];
    // A CSV upload that is half sent when the signal arrives.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method: 'POST',
          path: `/api/v1/lists/${list}/imports`,
          headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'Content-Type': 'text/csv' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('email,name\nada@example.org,Ada\n');
      answers.push(req);
    });
    // Give the server the headers and the first chunk before the signal.
    await new Promise((r) => setTimeout(r, 300));
    api.child.kill('SIGTERM');
    await api.waitForEvent('shutdown');
    const late = await fetch(new URL('/health', base)).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(late).toBe('refused');
    answers[0]!.end('grace@example.org,Grace\n');

    const { status, body } = await answer;
    expect(status).toBe(202);
    expect(JSON.parse(body)).toMatchObject({ status: 'queued', total: 2 });
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(api.logs().some((l) => l.event === 'stopped')).toBe(true);
  });
});
