// One test file's world, set up before its tests and closed after them: a real SMTP sink, a test
// context (own database and queue prefix) sending through it, this process's workers and, if asked,
// a shared sink reset. The handles are bound late: `ctx` and `sink` may be named at the top of a file and
// used inside its tests and hooks, once this file's beforeAll has run.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createTestContext, type TestContext } from './context.js';
import {
  createCampaign,
  createList,
  createTemplate,
  seedSubscribers,
  subscribe,
  waitForCampaign,
} from './campaigns.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

/** A stand-in for an object that exists only once a hook has made it. */
export function lateBound<T extends object>(name: string, get: () => T | undefined): T {
  const target = () => {
    const value = get();
    if (!value) throw new Error(`${name} is used before the suite's beforeAll set it up`);
    return value;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(target(), key),
    set: (_, key, value) => Reflect.set(target(), key, value),
    has: (_, key) => Reflect.has(target(), key),
  });
}

/** Small pools and quick retries: a file's failure scenarios run in seconds. */
export const QUICK_SENDS = {
  SMTP_POOL_SIZE: '2',
  WORKER_CONCURRENCY: '2',
  RETRY_BASE_DELAY_MS: '100',
};

export interface MailSuiteOptions {
  /** Settings besides SMTP_URL (the sink's). */
  env?: Record<string, string>;
  /** Start this process's workers (default true). */
  workers?: boolean;
  /** Empty the sink and restore its default behaviour before each test (default false). */
  resetSink?: boolean;
}

export interface MailSuite {
  ctx: TestContext;
  sink: SmtpSink;
  /** A template (the minimal MJML layout) made for the suite before its tests. */
  readonly templateId: number;
  /** Waits until the campaign is finished (as the API reports it). */
  finished(campaignId: number, timeoutMs?: number): Promise<boolean>;
  /** Creates a draft campaign for these lists with the suite's template. */
  draft(listIds: number[], body?: Record<string, unknown>): Promise<{ id: number; uuid: string }>;
  /** Creates a campaign for these lists with the suite's template, and starts its send. */
  send(listIds: number[], body?: Record<string, unknown>): Promise<{ id: number; uuid: string }>;
  /** A new list with `count` new confirmed subscribers, named after `name` and a counter. */
  audience(count: number, name?: string): Promise<{ list: number; ids: number[]; prefix: string }>;
}

export function mailSuite(options: MailSuiteOptions = {}): MailSuite {
  let ctx: TestContext | undefined;
  let sink: SmtpSink | undefined;
  let templateId: number | undefined;
  let seq = 0;
  beforeAll(async () => {
    sink = await startSmtpSink();
    ctx = await createTestContext({ SMTP_URL: sink.url, ...options.env });
    if (options.workers !== false) ctx.startWorkers();
    templateId = await createTemplate(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    await sink?.close();
  });
  if (options.resetSink) beforeEach(() => sink?.reset());
  const suite: MailSuite = {
    ctx: lateBound('ctx', () => ctx),
    sink: lateBound('sink', () => sink),
    get templateId() {
      if (templateId === undefined) throw new Error('templateId is used before beforeAll');
      return templateId;
    },
    finished: (campaignId, timeoutMs = 60_000) =>
      waitForCampaign(suite.ctx, campaignId, 'finished', timeoutMs),
    draft: (listIds, body = {}) =>
      createCampaign(suite.ctx, { templateId: suite.templateId, listIds, ...body }),
    async send(listIds, body = {}) {
      const campaign = await suite.draft(listIds, body);
      await suite.ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
      return campaign;
    },
    async audience(count, name = 'List') {
      seq++;
      const prefix = `${name.toLowerCase().replace(/[^a-z]/g, '')}${seq}r`;
      const list = await createList(suite.ctx, `${name} ${seq}`);
      const ids = await seedSubscribers(suite.ctx, prefix, count);
      await subscribe(suite.ctx, list, ids);
      return { list, ids, prefix };
    },
  };
  return suite;
}

/** A test file's context (own database and queue prefix) without an SMTP sink; late-bound. */
export function contextSuite(
  env: Record<string, string> = {},
  options: { workers?: boolean } = {},
): TestContext {
  let ctx: TestContext | undefined;
  beforeAll(async () => {
    ctx = await createTestContext(env);
    if (options.workers) ctx.startWorkers();
  });
  afterAll(async () => {
    await ctx?.close();
  });
  return lateBound('ctx', () => ctx);
}
