// Two real worker processes (`npm run start:worker` twice) share one campaign through Redis:
// every eligible subscriber gets exactly one message, both processes deliver part of it, and
// SEND_RATE holds across them. The API and the database seeding run in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { byRecipient, perSecond, sinkUrlAs, startWorkerProcess } from '../helpers/fleet.js';
import { killAll } from '../helpers/process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const SEND_RATE = 200;

let ctx: TestContext;
let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
  // No in-process workers: only the two spawned processes send.
  ctx = await createTestContext({ SMTP_URL: sink.url });
});
afterAll(async () => {
  await killAll();
  await ctx?.close();
  await sink?.close();
});

describe('two worker processes', () => {
  it('deliver a 2,000-subscriber campaign once per recipient, both sending, within SEND_RATE', async () => {
    const { lists, excluded, eligible } = await fixtures.overlappingAudience(ctx);
    const [a, b] = lists as [number, number];
    const templateId = await fixtures.createTemplate(ctx);
    const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [a, b] });

    const settings = {
      SEND_RATE: String(SEND_RATE),
      SMTP_POOL_SIZE: '5',
      WORKER_CONCURRENCY: '2',
    };
    const workers = await Promise.all(
      ['worker-1', 'worker-2'].map((user) =>
        startWorkerProcess(ctx, { ...settings, SMTP_URL: sinkUrlAs(sink, user) }),
      ),
    );

    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
    await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'finished', {
      timeoutMs: 90_000,
      intervalMs: 200,
    });

    // Exactly once per eligible subscriber, and the ledger says which message each got.
    const rows = await fixtures.ledger(ctx, campaign.id);
    expect(rows).toHaveLength(eligible);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    const excludedIds = new Set(Object.values(excluded).flat());
    expect(rows.filter((r) => excludedIds.has(r.subscriber_id))).toEqual([]);
    const received = byRecipient(sink.messages);
    expect(received.size).toBe(eligible);
    const duplicates = [...received].filter(([, m]) => m.length !== 1).map(([to]) => to);
    expect(duplicates).toEqual([]);
    for (const r of rows) expect(received.get(r.email)?.[0]?.messageId).toBe(r.message_id);
    expect(new Set(rows.map((r) => r.message_id))).toEqual(
      new Set(sink.messages.map((m) => m.messageId)),
    );

    // Both processes delivered a real share: each logs in to the sink under its own user.
    const byUser = new Map<string, number>();
    for (const m of sink.messages) byUser.set(m.user ?? '?', (byUser.get(m.user ?? '?') ?? 0) + 1);
    console.info('messages per worker process:', Object.fromEntries(byUser));
    expect([...byUser.keys()].sort()).toEqual(['worker-1', 'worker-2']);
    for (const count of byUser.values()) expect(count).toBeGreaterThan(eligible / 10);

    // SEND_RATE across both: a per-second window in Redis lets at most SEND_RATE through per
    // wall-clock second, so N messages need ceil(N/rate) distinct seconds and at least
    // ceil(N/rate) - 2 whole seconds between the first and the last (a send can start at the
    // very end of its first second). No second of receipts may go much above the rate; the 20%
    // slack covers messages taken at the end of one second and received in the next.
    const times = sink.messages.map((m) => m.receivedAt).sort((x, y) => x - y);
    const elapsedS = (times.at(-1)! - times[0]!) / 1000;
    const buckets = perSecond(times);
    const busiest = Math.max(...buckets.values());
    console.info(
      `send took ${elapsedS.toFixed(2)} s for ${eligible} messages (${(eligible / elapsedS).toFixed(1)}/s); ` +
        `per second: ${[...buckets.values()].join(' ')}`,
    );
    expect(elapsedS).toBeGreaterThanOrEqual(Math.ceil(eligible / SEND_RATE) - 2);
    expect(busiest).toBeLessThanOrEqual(SEND_RATE * 1.2);

    // Both drain and exit cleanly.
    for (const w of workers) expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 180_000);
});
