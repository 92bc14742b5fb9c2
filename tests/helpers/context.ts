// A private world for one test file: its own PostgreSQL database, its own BullMQ prefix, the
// real Redis, the real Express app. Call `await ctx.close()` in afterAll.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';
import { createContainer, type Container, type ContainerOptions } from '../../src/container.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/lib/logger.js';
import { createApp } from '../../src/api/app.js';
import { startWorkers } from '../../workers/index.js';
import { startScheduler } from '../../workers/scheduler.js';
import { startConfiguredBounceReceiver } from '../../workers/bounce.js';
import type { BounceReceiver } from '../../src/mail/inbound/bounce-receiver.js';

/** What a worker process runs, composed as main.ts does: workers, scheduler, bounce receiver. */
export interface RunningWorkers {
  workers: ReturnType<typeof startWorkers>['workers'];
  bounceReceiver: BounceReceiver | undefined;
  close(): Promise<void>;
}
import { testLogDestination } from './test-logs.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export function testDatabaseUrl(name: string): string {
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Deletes every key of one queue prefix; returns how many there were. */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export function testEnv(dbName: string, prefix: string, extra: Record<string, string> = {}) {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(dbName),
    QUEUE_PREFIX: prefix,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    OUTBOX_DIR: mkdtempSync(path.join(tmpdir(), 'bulletin-outbox-')),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...extra,
  };
}

export interface TestContext {
  config: Config;
  container: Container;
  dbName: string;
  app: ReturnType<typeof createApp>;
  /** supertest agent with the admin token already set. */
  api: () => ReturnType<typeof authed>;
  http: ReturnType<typeof request>;
  db: pg.Pool;
  startWorkers(): RunningWorkers;
  close(): Promise<void>;
}

function authed(app: ReturnType<typeof createApp>, token: string) {
  const agent = request(app);
  const withAuth = <T extends { set(name: string, value: string): T }>(req: T) =>
    req.set('Authorization', `Bearer ${token}`);
  return {
    get: (url: string) => withAuth(agent.get(url)),
    post: (url: string) => withAuth(agent.post(url)),
    put: (url: string) => withAuth(agent.put(url)),
    patch: (url: string) => withAuth(agent.patch(url)),
    delete: (url: string) => withAuth(agent.delete(url)),
  };
}

export async function createTestContext(
  extraEnv: Record<string, string> = {},
  options: ContainerOptions = {},
): Promise<TestContext> {
  const dbName = uniqueName('bulletin_test');
  const prefix = uniqueName('bt');
  const config = loadConfig({ env: testEnv(dbName, prefix, extraEnv) });
  // Audited runs log at `info`, as production does, into TEST_LOG_DIR (see test-logs.ts).
  const auditLog = testLogDestination(`context-${prefix}`);
  const log = auditLog ? createLogger('info', {}, auditLog) : createLogger(config.logLevel);
  await migrate(config.databaseUrl);
  const container = await createContainer(config, log, options);
  const app = createApp(container);
  const running: RunningWorkers[] = [];
  return {
    config,
    container,
    dbName,
    app,
    api: () => authed(app, TEST_ADMIN_TOKEN),
    http: request(app),
    db: container.pool,
    startWorkers() {
      const bullmq = startWorkers(container);
      const scheduler = startScheduler(container);
      const bounceReceiver = startConfiguredBounceReceiver(container);
      const workers: RunningWorkers = {
        workers: bullmq.workers,
        bounceReceiver,
        close: async () => {
          scheduler.close();
          await Promise.all([bullmq.close(), bounceReceiver?.close()]);
        },
      };
      running.push(workers);
      return workers;
    },
    async close() {
      for (const w of running) await w.close();
      await container.close();
      await deleteQueueKeys(REDIS_URL, prefix);
      await dropDatabase(dbName);
    },
  };
}

/** Polls fn until it returns a truthy value or the time runs out. */
export async function waitFor<T>(
  fn: () => Promise<T>,
  { timeoutMs = 20_000, intervalMs = 50 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`waitFor timed out; last value: ${JSON.stringify(last)}`);
}

/** An admin POST whose body is exactly `text`, sent as application/json (malformed on purpose). */
export function postJsonText(ctx: TestContext, url: string, text: string) {
  return ctx.api().post(url).set('Content-Type', 'application/json').send(text);
}
