// `npm run bench -- --clicks`: the click storm (docs/performance.md, "Click storms").
//
//   sends      the newsletter to the round's audience without tracking and with opens and
//              clicks tracked, alternately, `runs` times each: the send rate with tracking on
//   storm      `clicks` clicks (default 20,000) from `clients` concurrent clients (default 200)
//              on the links of the last tracked send, right after it: the redirect's p50/p99,
//              and every click recorded exactly once (the events, per delivery and link)
//   sigterm    another storm, and SIGTERM to the API while it runs: every click that was
//              answered with a redirect is in the events (none lost in the shutdown)
import { randomBytes } from 'node:crypto';
import { storm, type StormResult } from './click-storm.js';
import type { Sink } from './processes.js';
import { admin, median, percentile, round } from './support.js';
import { endRound, roundEnv, seedCampaign, startRound, timedSend, type Call } from './world.js';
import type { Service } from './processes.js';

export interface ClickParams {
  recipients: number;
  clicks: number;
  clients: number;
  runs: number;
  smtpPoolSize: number;
  workerConcurrency: number;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Delivery and link index of a click URL, read from its token's signed bytes (not checked). */
function clickKey(url: string): string {
  const token = new URL(url).pathname.split('/').pop()!;
  const bytes = Buffer.from(token.slice(token.indexOf('.') + 1), 'base64url');
  return `${bytes.readUIntBE(1, 6)}:${bytes.readUInt16BE(7)}`;
}

/** The recorded clicks of a campaign per delivery and link ("delivery:link" → count). */
async function recordedClicks(databaseUrl: string, campaignId: number) {
  return admin(async (db) => {
    const { rows } = await db.query<{ key: string; n: number }>(
      `SELECT delivery_id || ':' || link_index AS key, count(*)::int AS n FROM events
        WHERE campaign_id = $1 AND type = 'clicked' GROUP BY delivery_id, link_index`,
      [campaignId],
    );
    return new Map(rows.map((r) => [r.key, r.n]));
  }, databaseUrl);
}

/** The answered clicks per delivery and link. */
function answeredByKey(result: StormResult): Map<string, number> {
  const byKey = new Map<string, number>();
  for (const [url, n] of result.answered) {
    const key = clickKey(url);
    byKey.set(key, (byKey.get(key) ?? 0) + n);
  }
  return byKey;
}

/** `count` clicks drawn (with repeats, as real readers click) from the messages' links. */
function drawClicks(links: string[][], count: number): string[] {
  const all = links.flat();
  if (all.length === 0) throw new Error('the tracked messages carry no click links');
  const bytes = randomBytes(count * 4);
  return Array.from({ length: count }, (_, i) => all[bytes.readUInt32BE(i * 4) % all.length]!);
}

function latencySummary(latencies: number[]) {
  const p = (x: number) => round(x, 1);
  return {
    p50: p(percentile(latencies, 50)),
    p99: p(percentile(latencies, 99)),
    max: p(Math.max(...latencies)),
  };
}

/** The storm: every click answered, and recorded exactly once per delivery and link. */
async function measureStorm(base: string, clicks: string[], clients: number) {
  log(`storm: ${clicks.length} clicks from ${clients} concurrent clients`);
  const result = await storm(clicks, { base, clients });
  for (const target of result.targets.values()) {
    if (target.includes('/l/') || !/^https?:\/\//.test(target)) {
      throw new Error(`a click redirected to ${target}, not to an original link`);
    }
  }
  const latency = latencySummary(result.latencies);
  log(
    `storm: ${round(clicks.length / result.seconds)} clicks/s, p50 ${latency.p50} ms, p99 ${latency.p99} ms`,
  );
  return { result, latency };
}

function compareRecorded(expected: Map<string, number>, recorded: Map<string, number>) {
  let missing = 0;
  let extra = 0;
  for (const key of new Set([...expected.keys(), ...recorded.keys()])) {
    const diff = (recorded.get(key) ?? 0) - (expected.get(key) ?? 0);
    if (diff < 0) missing -= diff;
    else extra += diff;
  }
  return { missing, extra };
}

/**
 * A second storm, and SIGTERM to the API once a third of it is answered: each answered click
 * must be recorded (the rest may or may not be, as their requests were cut off).
 */
async function measureSigterm(
  api: Service,
  base: string,
  clicks: string[],
  clients: number,
  before: () => Promise<Map<string, number>>,
) {
  const recordedBefore = await before();
  let signalled = false;
  log(`sigterm: ${clicks.length} clicks, SIGTERM to the API a third of the way`);
  const result = await storm(clicks, {
    base,
    clients,
    stopOnFailure: true,
    onAnswer: (n) => {
      if (!signalled && n >= clicks.length / 3) {
        signalled = true;
        api.child.kill('SIGTERM');
      }
    },
  });
  await api.stop();
  const recordedAfter = await before();
  const answered = answeredByKey(result);
  let lost = 0;
  let recorded = 0;
  for (const [key, n] of recordedAfter) recorded += n - (recordedBefore.get(key) ?? 0);
  for (const [key, n] of answered) {
    const gained = (recordedAfter.get(key) ?? 0) - (recordedBefore.get(key) ?? 0);
    if (gained < n) lost += n - gained;
  }
  const figures = { sent: clicks.length, answered: result.latencies.length, recorded, lost };
  log(`sigterm: ${JSON.stringify(figures)}`);
  if (lost > 0) throw new Error(`${lost} answered clicks were lost on SIGTERM`);
  return figures;
}

/** The sends, with and without tracking, alternating; the last tracked one's links kept. */
async function measureSends(
  call: Call,
  sink: Sink,
  p: ClickParams,
  body: (name: string, extra: Record<string, unknown>) => Record<string, unknown>,
) {
  const untracked: number[] = [];
  const tracked: number[] = [];
  let last = { id: 0, links: [] as string[][] };
  for (let i = 1; i <= p.runs; i++) {
    const off = { tracking: { opens: false, clicks: false } };
    const on = { tracking: { opens: true, clicks: true } };
    const a = await timedSend(call, sink, body(`Untracked ${i}`, off), p.recipients);
    untracked.push(a.msgsPerSec);
    const b = await timedSend(call, sink, body(`Tracked ${i}`, on), p.recipients, {
      collect: i === p.runs,
    });
    tracked.push(b.msgsPerSec);
    log(`send ${i}: ${a.msgsPerSec} msg/s untracked, ${b.msgsPerSec} msg/s tracked`);
    if (i === p.runs) last = { id: b.id, links: await sink.links() };
  }
  return { untracked, tracked, last };
}

export async function clickBench(p: ClickParams, sink: Sink, nodeArgs: string[]) {
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `bulletin_bench_${tag}`;
  const prefix = `bench_${tag}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const services: Service[] = [];
  try {
    const env = roundEnv(databaseUrl, prefix, sink.port, p);
    const { base, call, apiProcess } = await startRound(services, env, 1, nodeArgs);
    const { campaignBody, list } = await seedCampaign(call, databaseUrl, p.recipients);
    const sends = await measureSends(call, sink, p, (name, extra) =>
      campaignBody(name, list.id, extra),
    );
    const clicks = drawClicks(sends.last.links, p.clicks);
    const recorded = () => recordedClicks(databaseUrl, sends.last.id);
    const { result, latency } = await measureStorm(base, clicks, p.clients);
    const counted = compareRecorded(answeredByKey(result), await recorded());
    if (counted.missing || counted.extra) {
      throw new Error(`clicks recorded other than once: ${JSON.stringify(counted)}`);
    }
    const report = await call<{ clicked: { unique: number; machine: number } }>(
      'GET',
      `/api/v1/campaigns/${sends.last.id}/report`,
    );
    const sigtermClicks = drawClicks(sends.last.links, Math.max(300, Math.round(p.clicks / 4)));
    const sigterm = await measureSigterm(apiProcess, base, sigtermClicks, p.clients, recorded);
    return {
      recipients: p.recipients,
      sendMsgsPerSec: {
        untracked: round(median(sends.untracked)),
        tracked: round(median(sends.tracked)),
        runs: { untracked: sends.untracked, tracked: sends.tracked },
      },
      clicks: p.clicks,
      clients: p.clients,
      linksPerMessage: round(sends.last.links.flat().length / sends.last.links.length, 1),
      clicksPerSec: round(p.clicks / result.seconds),
      redirectMs: latency,
      recordedOnce: true,
      report: report.clicked,
      sigterm,
    };
  } finally {
    await endRound(services, dbName, prefix);
  }
}
