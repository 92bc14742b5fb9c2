// The fault-injection suite's common ground: a world (a test context, a programmable SMTP sink,
// a template), campaigns seeded by SQL, and the one check every scenario ends with
// (docs/contract.md §5): the sink's messages, counted by Message-ID, are exactly the ledger's `sent`
// rows; nobody got two copies (rows marked `unknown` may have arrived once, never twice);
// nobody outside the audience got anything; the campaign's status and stats say the same.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { zeroDeliveryCounts, type DeliveryStatus } from '../../src/domain/campaign.js';
import { createTestContext, waitFor, type TestContext } from './context.js';
import {
  campaignStatus,
  createCampaign,
  createList,
  createTemplate,
  ledger,
  seedSubscribers,
  subscribe,
} from './campaigns.js';
import { byRecipient, messagesOf, sinkUrlAs, startWorkerProcess } from './fleet.js';
import { killAll, type ServiceProcess } from './process.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { lateBound } from './suite.js';

export interface FaultWorld {
  ctx: TestContext;
  sink: SmtpSink;
  templateId: number;
  /** Settings every worker process of this world gets too (a private Redis or PostgreSQL). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Quick retries and short SMTP timeouts, so each scenario proves its point in seconds. */
export const FAST_RETRIES = {
  RETRY_BASE_DELAY_MS: '200',
  MAX_ATTEMPTS: '5',
  SMTP_TIMEOUT_MS: '2000',
};

export async function createFaultWorld(env: Record<string, string> = {}): Promise<FaultWorld> {
  const sink = await startSmtpSink();
  const ctx = await createTestContext({ SMTP_URL: sink.url, ...FAST_RETRIES, ...env });
  const templateId = await createTemplate(ctx);
  return {
    ctx,
    sink,
    templateId,
    env,
    async close() {
      await killAll();
      await ctx.close();
      await sink.close();
    },
  };
}

/** A worker process logging in to the sink as `user`, with the world's settings. */
export function startFaultWorker(
  world: FaultWorld,
  user: string,
  extra: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startWorkerProcess(world.ctx, {
    SMTP_URL: sinkUrlAs(world.sink, user),
    SMTP_POOL_SIZE: '3',
    WORKER_CONCURRENCY: '2',
    ...FAST_RETRIES,
    ...world.env,
    ...extra,
  });
}

export interface FaultSuiteOptions {
  /** Settings of the world and its worker (a private Redis, say), made before either. */
  env?: () => Promise<Record<string, string>>;
  /** Settings of the worker process only. */
  workerEnv?: Record<string, string>;
  /** Restore the sink's default behaviour before each test. */
  resetSink?: boolean;
  /** After the world is closed: stops what `env` started. */
  after?: () => Promise<void>;
  timeoutMs?: number;
}

/**
 * A fault file's world and one worker process (named `user` at the sink), made before its
 * tests and closed after them; `world` is bound late, like the suite helper's handles.
 */
export function faultSuite(
  user: string,
  options: FaultSuiteOptions = {},
): { world: FaultWorld; worker: () => ServiceProcess } {
  let world: FaultWorld | undefined;
  let worker: ServiceProcess | undefined;
  beforeAll(async () => {
    world = await createFaultWorld((await options.env?.()) ?? {});
    worker = await startFaultWorker(world, user, options.workerEnv);
  }, options.timeoutMs ?? 90_000);
  afterAll(async () => {
    await world?.close();
    await options.after?.();
  });
  if (options.resetSink) {
    beforeEach(() => {
      // The sink's messages stay: each scenario tells its own apart by campaign.
      const behaviour = world?.sink.behaviour ?? {};
      for (const key of Object.keys(behaviour)) delete behaviour[key as keyof typeof behaviour];
    });
  }
  return { world: lateBound('world', () => world), worker: () => worker! };
}

let seq = 0;
export interface SeededCampaign {
  id: number;
  uuid: string;
  emails: string[];
}

/** A single-opt-in list of `count` confirmed subscribers and a draft campaign to it. */
export async function seedCampaign(world: FaultWorld, count: number): Promise<SeededCampaign> {
  seq++;
  const tag = `f${seq}${Math.random().toString(36).slice(2, 6)}`;
  const list = await createList(world.ctx, `Faults ${tag}`);
  const ids = await seedSubscribers(world.ctx, `${tag}r`, count);
  await subscribe(world.ctx, list, ids);
  const campaign = await createCampaign(world.ctx, {
    templateId: world.templateId,
    listIds: [list],
  });
  const emails = Array.from({ length: count }, (_, i) => `${tag}r${i + 1}@example.test`);
  return { ...campaign, emails };
}

export async function send(world: FaultWorld, campaign: SeededCampaign): Promise<void> {
  await world.ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
}

export async function waitForStatus(
  world: FaultWorld,
  campaign: SeededCampaign,
  status: string,
  timeoutMs = 60_000,
): Promise<void> {
  // Tolerant of a database that is briefly away (the restart scenarios).
  await waitFor(
    async () => (await campaignStatus(world.ctx, campaign.id).catch(() => '')) === status,
    { timeoutMs, intervalMs: 100 },
  );
}

export type LedgerStatus = DeliveryStatus;

export interface Verified {
  rows: Awaited<ReturnType<typeof ledger>>;
  counts: Record<LedgerStatus, number>;
}

/**
 * The end-of-scenario check. `expected` pins the campaign's final status and, where the
 * scenario knows them, exact counts per ledger status.
 */
export async function verifyCampaign(
  world: Pick<FaultWorld, 'ctx' | 'sink'>,
  campaign: SeededCampaign,
  expected: { status: string; counts?: Partial<Record<LedgerStatus, number>> },
): Promise<Verified> {
  // A paused campaign's windows already in flight still finish: wait until they are recorded.
  await waitFor(async () => {
    const { rows } = await world.ctx.db.query(
      "SELECT 1 FROM deliveries WHERE campaign_id = $1 AND status = 'sending' LIMIT 1",
      [campaign.id],
    );
    return rows.length === 0;
  });
  const rows = await ledger(world.ctx, campaign.id);
  expect(rows).toHaveLength(campaign.emails.length);
  const counts: Record<LedgerStatus, number> = zeroDeliveryCounts();
  for (const r of rows) counts[r.status as LedgerStatus]++;

  const messages = messagesOf(world.sink, campaign.uuid);
  const unknownEmails = new Set(rows.filter((r) => r.status === 'unknown').map((r) => r.email));
  // No Message-ID arrived twice (a re-sent message would carry a new one: checked below).
  const ids = messages.map((m) => m.messageId);
  expect(ids.length - new Set(ids).size, 'a Message-ID arrived twice').toBe(0);
  // The sink's messages, outside the ambiguous rows, are exactly the ledger's sent rows.
  const sinkIds = messages
    .filter((m) => !unknownEmails.has(m.to))
    .map((m) => m.messageId)
    .sort();
  const sentIds = rows
    .filter((r) => r.status === 'sent')
    .map((r) => r.message_id ?? '')
    .sort();
  expect(sinkIds).toEqual(sentIds);
  // Nobody got two copies; an `unknown` row's message may have arrived, but only once.
  const received = byRecipient(messages);
  const twice = [...received].filter(([, m]) => m.length > 1).map(([to]) => to);
  expect(twice, 'recipients with two copies').toEqual([]);
  // Nobody outside the audience.
  const audience = new Set(campaign.emails);
  expect([...received.keys()].filter((to) => !audience.has(to))).toEqual([]);

  const shown = (await world.ctx.api().get(`/api/v1/campaigns/${campaign.id}`).expect(200)).body;
  expect(shown.status).toBe(expected.status);
  expect(shown.stats).toMatchObject({ recipients: rows.length, ...counts });
  if (expected.status === 'finished') {
    expect(counts.queued + counts.sending).toBe(0);
    expect(shown.progress).toBe(1);
  }
  if (expected.counts) expect(counts).toMatchObject(expected.counts);
  return { rows, counts };
}

/**
 * Seeds and sends a campaign of `count`, does `fault` once 80 of its messages have arrived,
 * waits until it is finished and runs the common check on it.
 */
export async function faultMidCampaign(
  world: FaultWorld,
  count: number,
  fault: () => Promise<void>,
): Promise<Verified> {
  const campaign = await seedCampaign(world, count);
  await send(world, campaign);
  await waitFor(() => Promise.resolve(messagesOf(world.sink, campaign.uuid).length >= 80), {
    timeoutMs: 60_000,
    intervalMs: 5,
  });
  await fault();
  await waitForStatus(world, campaign, 'finished', 120_000);
  return verifyCampaign(world, campaign, { status: 'finished' });
}

/** Seeds and sends a campaign of `count`, waits until it is finished and checks its ledger. */
export async function finishCampaign(
  world: FaultWorld,
  count: number,
  counts: Partial<Record<LedgerStatus, number>>,
): Promise<Verified & { campaign: SeededCampaign }> {
  const campaign = await seedCampaign(world, count);
  await send(world, campaign);
  await waitForStatus(world, campaign, 'finished');
  return { campaign, ...(await verifyCampaign(world, campaign, { status: 'finished', counts })) };
}
