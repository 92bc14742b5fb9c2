// What every benchmark round starts from: the settings of its API and worker processes, and
// its audience, template and draft campaign (seeded with SQL, not measured).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/lib/paths.js';
import pg from 'pg';
import { ADMIN_TOKEN, admin, api, deletePrefix, REDIS_URL, round, sleep } from './support.js';
import { startService, type Service, type Sink } from './processes.js';
import { CAMPAIGN_DATA, newsletterSource, SUBJECT } from './newsletter.js';

export type Call = ReturnType<typeof api>;

export interface ProcessSettings {
  smtpPoolSize: number;
  workerConcurrency: number;
}

/** The process settings an operator gets without setting anything (config/default.json). */
export function processDefaults(): ProcessSettings {
  const d = JSON.parse(
    readFileSync(path.join(packageRoot(), 'config', 'default.json'), 'utf8'),
  ) as { SMTP_POOL_SIZE: number; WORKER_CONCURRENCY: number };
  return { smtpPoolSize: d.SMTP_POOL_SIZE, workerConcurrency: d.WORKER_CONCURRENCY };
}

/** The settings of a round's API and worker processes, in production mode. */
export function roundEnv(
  databaseUrl: string,
  prefix: string,
  sinkPort: number,
  settings: ProcessSettings,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    SMTP_URL: `smtp://bench:bench@127.0.0.1:${sinkPort}`,
    SMTP_POOL_SIZE: String(settings.smtpPoolSize),
    WORKER_CONCURRENCY: String(settings.workerConcurrency),
    PUBLIC_URL: 'https://news.example.org',
    MAIL_FROM: 'The Secretariat <newsletter@example.org>',
    ADMIN_TOKEN,
    SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    PORT: '0',
    // Each process's /metrics on a free port: the heap figures behind the RSS.
    METRICS_PORT: '0',
  };
}

/**
 * The round's audience of `recipients` confirmed subscribers, the newsletter template, and a
 * draft campaign to them; `campaignBody` makes more campaigns from the same template.
 */
export async function seedCampaign(call: Call, databaseUrl: string, recipients: number) {
  const list = await call<{ id: number }>('POST', '/api/v1/lists', { name: 'Bench readers' });
  await admin(async (db) => {
    await db.query(
      `INSERT INTO subscribers (email, name, attributes)
       SELECT 'reader' || g || '@example.org', 'Reader ' || g, jsonb_build_object('city', 'City ' || (g % 50))
         FROM generate_series(1, $1::int) AS g`,
      [recipients],
    );
    await db.query(
      `INSERT INTO subscriptions (list_id, subscriber_id, status)
       SELECT $1, id, 'confirmed' FROM subscribers`,
      [list.id],
    );
    await db.query('ANALYZE');
  }, databaseUrl);
  const { mjml, content } = await newsletterSource();
  const template = await call<{ id: number }>('POST', '/api/v1/templates', {
    name: 'Quarterly newsletter',
    mjml,
  });
  const campaignBody = (name: string, listId: number, extra: Record<string, unknown> = {}) => ({
    name,
    subject: SUBJECT,
    templateId: template.id,
    listIds: [listId],
    content,
    contentType: 'markdown',
    fromName: 'The Secretariat',
    fromEmail: 'newsletter@example.org',
    data: CAMPAIGN_DATA,
    ...extra,
  });
  const campaign = await call<{ id: number }>(
    'POST',
    '/api/v1/campaigns',
    campaignBody('Bench', list.id),
  );
  return { campaignBody, campaign, list };
}

/**
 * Starts a round's API process (which migrates) and then `workers` worker processes, each
 * pushed onto `services` as it starts, so the caller's cleanup stops whatever did start.
 */
export async function startRound(
  services: Service[],
  env: Record<string, string>,
  workers: number,
  nodeArgs: string[],
): Promise<{ base: string; call: Call; apiProcess: Service; workers: Service[] }> {
  const apiProcess = startService('api', 'api', env, nodeArgs);
  services.push(apiProcess);
  const listening = await apiProcess.waitFor((l) => l.event === 'listening');
  const base = `http://127.0.0.1:${String(listening.port)}`;
  const started: Service[] = [];
  for (let i = 1; i <= workers; i++) {
    const worker = startService(`worker-${i}`, 'worker', env, nodeArgs);
    services.push(worker);
    started.push(worker);
    await worker.waitFor((l) => l.event === 'workers_started');
  }
  return { base, call: api(base), apiProcess, workers: started };
}

/** Stops a round's processes and removes its database and Redis keys. */
export async function endRound(services: Service[], dbName: string, prefix: string) {
  await Promise.all(services.map((s) => s.stop()));
  await admin((db) =>
    db.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`),
  );
  await deletePrefix(REDIS_URL, prefix);
}

/**
 * Sends a new campaign and waits for it to finish and for the sink to hold every message;
 * the sink is reset first with `sinkOptions`. msg/s from the send to the last arrival.
 */
export async function timedSend(
  call: Call,
  sink: Sink,
  body: Record<string, unknown>,
  recipients: number,
  sinkOptions: Parameters<Sink['reset']>[0] = {},
) {
  await sink.reset(sinkOptions);
  const campaign = await call<{ id: number }>('POST', '/api/v1/campaigns', body);
  const sentAt = Date.now();
  await call('POST', `/api/v1/campaigns/${campaign.id}/send`);
  for (;;) {
    const shown = await call<{ status: string }>('GET', `/api/v1/campaigns/${campaign.id}`);
    if (shown.status === 'finished') break;
    if (shown.status === 'cancelled') throw new Error('the campaign was cancelled');
    await sleep(100);
  }
  const stats = await sink.stats();
  if (stats.count !== recipients) {
    throw new Error(`the sink received ${stats.count} of ${recipients} messages`);
  }
  const seconds = ((stats.lastAt ?? Date.now()) - sentAt) / 1000;
  return { id: campaign.id, seconds: round(seconds, 2), msgsPerSec: round(recipients / seconds) };
}
