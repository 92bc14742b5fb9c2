// GET /metrics: what Prometheus sees of a process matches what it did, read from the real
// registry of one container (campaign through a real SMTP server, BullMQ, webhooks, HTTP).
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN, waitFor, type RunningWorkers } from '../helpers/context.js';
import { QUICK_SENDS, mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { parseMetrics, samples, sum, value, type Sample } from '../helpers/metrics.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const WEBHOOK_SECRET = 'metrics-webhook-secret-0123456789';

const { ctx, sink } = mailSuite({
  env: {
    ...QUICK_SENDS,
    WEBHOOK_SECRET,
    METRICS_TOKEN,
  },
  workers: false,
});
let running: RunningWorkers | undefined;
/** Workers start on first need: the queue test looks at jobs nobody has taken yet. */
const workers = () => (running ??= ctx.startWorkers());

async function scrape(): Promise<Sample[]> {
  const res = await ctx.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(res.status).toBe(200);
  return parseMetrics(res.text);
}

const queueJobs = (all: Sample[], queue: string, state: string) =>
  value(all, 'bulletin_queue_jobs', { queue, state });

/** Ledger rows of the whole (private) database by status: every send of this process. */
async function ledgerCounts(): Promise<Record<string, number>> {
  const { rows } = await ctx.db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM deliveries GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe('GET /metrics', () => {
  it('answers 401 problem+json without the METRICS_TOKEN or with a wrong one, 200 with it', async () => {
    const none = await ctx.http.get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.body).toMatchObject({ status: 401, code: 'unauthorized' });
    const wrong = await ctx.http.get('/metrics').set('Authorization', 'Bearer not-the-token');
    expect(wrong.status).toBe(401);
    // The admin token opens the API, not the metrics.
    const admin = await ctx.api().get('/metrics');
    expect(admin.status).toBe(401);

    const ok = await ctx.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const all = parseMetrics(ok.text);
    // Process defaults, and every message result from the first scrape on.
    expect(value(all, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples(all, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    for (const result of ['sent', 'failed', 'bounced', 'unknown', 'suppressed', 'retried']) {
      expect(value(all, 'bulletin_messages_total', { result })).toBe(0);
    }
  });
});

describe('queue gauges', () => {
  it('count jobs per queue and state at scrape time: waiting until a worker takes them', async () => {
    const before = await scrape();
    for (const queue of ['imports', 'campaigns', 'deliveries', 'events']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused']) {
        expect(queueJobs(before, queue, state), `${queue} ${state}`).toBe(0);
      }
    }
    await ctx.container.queues.events.add('apply', { eventIds: [] });
    await ctx.container.queues.events.add('apply', { eventIds: [] });
    expect(queueJobs(await scrape(), 'events', 'waiting')).toBe(2);

    workers();
    const after = await waitFor(async () => {
      const all = await scrape();
      return queueJobs(all, 'events', 'waiting') === 0 &&
        queueJobs(all, 'events', 'active') === 0 &&
        queueJobs(all, 'events', 'completed')! >= 2
        ? all
        : undefined;
    });
    expect(queueJobs(after, 'events', 'failed')).toBe(0);
  });
});

describe('message counters', () => {
  it('equal the ledger per result after a campaign with sends, bounces, a retry and a leaver', async () => {
    workers();
    const list = await fixtures.createList(ctx, 'Metrics');
    const ids = await fixtures.seedSubscribers(ctx, 'm', 30, 'metrics.test');
    await fixtures.subscribe(ctx, list, ids);
    const bouncing = /^m[234]@/;
    const retrying = /^m[56]@/;
    const leaver = ids[29]!;
    sink.behaviour.onRcpt = (to, attempt) => {
      if (to === 'm1@metrics.test' && attempt === 1) {
        // The last recipient leaves while the first window is held (below): the re-check just
        // before its SMTP transaction finds it no longer deliverable.
        void ctx.db.query(
          "UPDATE subscriptions SET status = 'unsubscribed' WHERE subscriber_id = $1",
          [leaver],
        );
      }
      if (bouncing.test(to)) return { code: 550, message: '5.1.1 User unknown' };
      if (retrying.test(to) && attempt === 1) return { code: 451, message: '4.3.0 Try later' };
      return undefined;
    };
    sink.behaviour.dataDelayMs = (to) => (to === 'm1@metrics.test' ? 400 : 0);
    let campaignId: number;
    try {
      const templateId = await fixtures.createTemplate(ctx);
      campaignId = (await fixtures.createCampaign(ctx, { templateId, listIds: [list] })).id;
      await ctx.api().post(`/api/v1/campaigns/${campaignId}/send`).expect(200);
      await waitFor(async () => (await fixtures.campaignStatus(ctx, campaignId)) === 'finished', {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
    } finally {
      sink.behaviour.onRcpt = undefined;
      sink.behaviour.dataDelayMs = undefined;
    }

    const counts = await ledgerCounts();
    expect(counts).toEqual({ sent: 26, bounced: 3, suppressed: 1 });
    const all = await scrape();
    for (const result of ['sent', 'failed', 'bounced', 'unknown', 'suppressed']) {
      expect(value(all, 'bulletin_messages_total', { result }), result).toBe(counts[result] ?? 0);
    }
    // Every extra attempt in the ledger was one re-queue.
    const rows = await fixtures.ledger(ctx, campaignId);
    const retries = rows.reduce((n, r) => n + r.attempts - 1, 0);
    expect(retries).toBe(2);
    expect(value(all, 'bulletin_messages_total', { result: 'retried' })).toBe(retries);

    // One SMTP transaction per RCPT the server saw (the leaver got none).
    const transactions = [...sink.attempts.values()].reduce((a, b) => a + b, 0);
    expect(transactions).toBe(31);
    const timed =
      sum(all, 'bulletin_smtp_send_seconds_count', { outcome: 'ok' }) +
      sum(all, 'bulletin_smtp_send_seconds_count', { outcome: 'error' });
    expect(timed).toBeGreaterThanOrEqual(transactions);
    expect(value(all, 'bulletin_smtp_send_seconds_count', { outcome: 'error' })).toBe(5);
    expect(value(all, 'bulletin_smtp_send_seconds_bucket', { outcome: 'ok', le: '+Inf' })).toBe(
      value(all, 'bulletin_smtp_send_seconds_count', { outcome: 'ok' }),
    );
  });
});

describe('campaign progress gauge', () => {
  it('shows a paused campaign with the progress its GET reports, and no finished one', async () => {
    workers();
    const list = await fixtures.createList(ctx, 'Slow readers');
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'p', 40, 'slow.test'));
    sink.behaviour.dataDelayMs = (to) => (to.endsWith('@slow.test') ? 150 : 0);
    try {
      const templateId = await fixtures.createTemplate(ctx);
      const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [list] });
      await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
      const ledgerCount = async (status: string) => {
        const { rows } = await ctx.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND status = $2',
          [campaign.id, status],
        );
        return rows[0]!.n;
      };
      await waitFor(async () => (await ledgerCount('sent')) > 0);
      const running = await scrape();
      const live = value(running, 'bulletin_campaign_progress', { campaign: String(campaign.id) });
      expect(live).toBeGreaterThan(0);
      expect(live).toBeLessThan(1);

      await ctx.api().post(`/api/v1/campaigns/${campaign.id}/pause`).expect(200);
      // Once the delivery job has seen the pause and ended, the ledger holds still.
      await waitFor(
        async () =>
          (await ctx.container.queues.deliveries.getActiveCount()) === 0 &&
          (await ledgerCount('sending')) === 0,
      );
      const all = await scrape();
      const gauge = value(all, 'bulletin_campaign_progress', { campaign: String(campaign.id) });
      const shown = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body as {
        status: string;
        progress: number;
      };
      expect(shown.status).toBe('paused');
      expect(gauge).toBeCloseTo(shown.progress, 3);
      expect(gauge).toBeLessThan(1);
      // Finished campaigns (the one above) are not reported.
      expect(samples(all, 'bulletin_campaign_progress')).toHaveLength(1);
    } finally {
      sink.behaviour.dataDelayMs = undefined;
    }
  });
});

describe('HTTP request metrics', () => {
  it('label requests with the route pattern, never with ids or public tokens', async () => {
    const created = await ctx.api().post('/api/v1/lists').send({ name: 'Counted' }).expect(201);
    const id = String(created.body.id);
    await ctx.api().get(`/api/v1/lists/${id}`).expect(200);
    await ctx.api().get('/api/v1/lists/987654321').expect(404);
    const token = 'not-a-real-token-4f9c2e';
    await ctx.http.get(`/unsubscribe/${token}`);
    await ctx.http.get('/no/such/path-7d1e').expect(404);

    const all = await scrape();
    expect(
      value(all, 'bulletin_http_requests_total', {
        method: 'GET',
        route: '/api/v1/lists/:id',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(all, 'bulletin_http_requests_total', {
        method: 'GET',
        route: '/api/v1/lists/:id',
        status: '404',
      }),
    ).toBe(1);
    expect(
      value(all, 'bulletin_http_requests_total', {
        method: 'POST',
        route: '/api/v1/lists',
        status: '201',
      }),
    ).toBe(1);
    expect(
      value(all, 'bulletin_http_requests_total', { method: 'GET', route: '/unsubscribe/:token' }),
    ).toBe(1);
    expect(
      value(all, 'bulletin_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(all, 'bulletin_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/v1/lists/:id',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);

    // The queue board's files have no express route: they share one label.
    await ctx.http
      .get('/admin/queues/fonts/sans/400.css')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .expect(200);
    const after = await scrape();
    expect(
      value(after, 'bulletin_http_requests_total', {
        method: 'GET',
        route: '/admin/queues/*',
        status: '200',
      }),
    ).toBe(1);

    const routes = new Set(
      samples(after, 'bulletin_http_requests_total').map((s) => s.labels.route!),
    );
    for (const route of routes) {
      expect(route === 'unmatched' || route.startsWith('/'), route).toBe(true);
      expect(route).not.toMatch(/\/\d+(\/|$)/);
      expect(route).not.toContain(token);
      expect(route).not.toContain('path-7d1e');
    }
    // The scrape itself is not counted.
    expect(routes.has('/metrics')).toBe(false);
  });
});

describe('webhook metrics', () => {
  const sign = (body: string, secret = WEBHOOK_SECRET) => {
    const t = Math.floor(Date.now() / 1000);
    return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  };
  const post = (body: string, signature: string) =>
    ctx.http
      .post('/webhooks/generic')
      .set('Content-Type', 'application/json')
      .set('Bulletin-Signature', signature)
      .send(body);

  it('count stored events by source and type (not replays) and refused requests', async () => {
    await ctx.db.query("INSERT INTO subscribers (email) VALUES ('complainer@metrics-hooks.test')");
    const events = (all: Sample[]) =>
      value(all, 'bulletin_webhook_events_total', { source: 'generic', type: 'complaint' }) ?? 0;
    const rejected = (all: Sample[]) =>
      value(all, 'bulletin_webhook_rejected_total', { source: 'generic' }) ?? 0;
    const before = await scrape();

    const body = JSON.stringify({
      events: [{ id: 'evt-metrics-1', type: 'complaint', email: 'complainer@metrics-hooks.test' }],
    });
    const first = await post(body, sign(body));
    expect(first.body).toMatchObject({ stored: 1 });
    const replay = await post(body, sign(body));
    expect(replay.body).toMatchObject({ stored: 0, duplicates: 1 });
    const afterStore = await scrape();
    expect(events(afterStore)).toBe(events(before) + 1);
    expect(rejected(afterStore)).toBe(rejected(before));

    await post(body, sign(body, 'not-the-secret')).expect(401);
    await post(body, '').expect(401);
    const afterRefusal = await scrape();
    expect(rejected(afterRefusal)).toBe(rejected(before) + 2);
    expect(events(afterRefusal)).toBe(events(before) + 1);
  });
});
