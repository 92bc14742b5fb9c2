// `npm run bench:console -- [--subscribers N] [--campaigns N] [--requests K] [--json FILE]`
//
// How fast the console's pages answer with a realistic amount of data: by default 100,000
// subscribers on three lists, 50 campaigns (finished ones with their whole delivery ledger and
// some engagement events), imports and an audit log. The API runs as production runs it (the
// compiled code, `main.ts api`); the data is seeded with SQL (seeding is not what is measured).
// Each page is fetched K times by a signed-in admin, one request at a time; it prints p50, p95
// and the slowest of each, against the target of 200 ms (docs/performance.md).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { hashPassword } from '../src/domain/passwords.js';
import { CAMPAIGN_DATA, newsletterSource, SUBJECT } from './newsletter.js';
import { startService, type Service } from './processes.js';
import { ADMIN_TOKEN, admin, api, deletePrefix, percentile, REDIS_URL, round } from './support.js';

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string' },
    campaigns: { type: 'string' },
    requests: { type: 'string' },
    json: { type: 'string' },
    'skip-build': { type: 'boolean', default: false },
  },
});
const num = (value: string | undefined, fallback: number) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive whole number: ${value}`);
  return n;
};
const params = {
  subscribers: num(args.subscribers, 100_000),
  campaigns: num(args.campaigns, 50),
  requests: num(args.requests, 30),
};
const TARGET_MS = 200;
const PASSWORD = 'bench console password';
const EMAIL = 'officer@example.org';
const log = (line: string) => process.stderr.write(`[bench:console] ${line}\n`);

/** Lists, subscribers spread over them, and 50 campaigns in every status. */
async function seed(databaseUrl: string, call: ReturnType<typeof api>) {
  const lists: number[] = [];
  for (const name of ['Members', 'Partners', 'Press'])
    lists.push((await call<{ id: number }>('POST', '/api/v1/lists', { name })).id);
  const { mjml, content } = await newsletterSource();
  const template = await call<{ id: number }>('POST', '/api/v1/templates', {
    name: 'Quarterly newsletter',
    mjml,
  });
  await admin(async (db) => {
    await db.query(
      `INSERT INTO users (email, name, roles, password_hash) VALUES ($1, 'Officer', '{admin}', $2)`,
      [EMAIL, await hashPassword(PASSWORD)],
    );
    await seedAudience(db, lists);
    await seedCampaigns(db, lists, template.id, content);
    await db.query('ANALYZE');
  }, databaseUrl);
  return { lists, templateId: template.id };
}

async function seedAudience(db: pg.Client, lists: number[]) {
  const n = params.subscribers;
  log(`seeding ${n} subscribers`);
  await db.query(
    `INSERT INTO subscribers (email, name, status, attributes)
     SELECT 'reader' || g || '@example.org', 'Reader ' || g,
            CASE WHEN g % 97 = 0 THEN 'bounced' WHEN g % 211 = 0 THEN 'blocklisted' ELSE 'active' END,
            jsonb_build_object('city', 'City ' || (g % 50))
       FROM generate_series(1, $1::int) AS g`,
    [n],
  );
  // Everyone on the first list; every third reader on the second, every tenth on the third.
  await db.query(
    `INSERT INTO subscriptions (list_id, subscriber_id, status)
     SELECT $1::bigint, id, CASE WHEN id % 50 = 0 THEN 'unsubscribed' WHEN id % 41 = 0 THEN 'unconfirmed'
                         ELSE 'confirmed' END FROM subscribers
     UNION ALL SELECT $2::bigint, id, 'confirmed' FROM subscribers WHERE id % 3 = 0
     UNION ALL SELECT $3::bigint, id, 'confirmed' FROM subscribers WHERE id % 10 = 0`,
    lists,
  );
  await db.query(
    `INSERT INTO consent_records (subscriber_id, list_id, action, status, source)
     SELECT subscriber_id, list_id, 'subscribe', status, 'import' FROM subscriptions`,
  );
}

/**
 * Campaigns oldest first: most finished (with one delivery per subscriber of the first list, a
 * few bounced, and open/click events), then one running, one paused, scheduled ones and drafts.
 */
async function seedCampaigns(db: pg.Client, lists: number[], templateId: number, content: string) {
  const total = params.campaigns;
  const statuses = Array.from({ length: total }, (_, i) =>
    i < total - 8
      ? 'finished'
      : (['running', 'paused', 'scheduled', 'scheduled'][i - (total - 8)] ?? 'draft'),
  );
  log(`seeding ${total} campaigns and their delivery ledgers`);
  for (const [i, status] of statuses.entries()) {
    const started = new Date(Date.UTC(2024, 0, 1) + i * 14 * 86_400_000);
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO campaigns (name, subject, template_id, content, data, status, send_at,
         timezone, started_at, finished_at, audience_drawn_at, recipients, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'Europe/Zurich', $8, $9, $8, 0, $7) RETURNING id`,
      [
        `Quarterly ${i + 1}`,
        SUBJECT,
        templateId,
        content,
        JSON.stringify(CAMPAIGN_DATA),
        status,
        status === 'scheduled' ? new Date(Date.now() + (i + 1) * 86_400_000) : started,
        ['finished', 'running', 'paused'].includes(status) ? started : null,
        status === 'finished' ? new Date(started.getTime() + 3_600_000) : null,
      ],
    );
    const id = rows[0]!.id;
    await db.query(
      'INSERT INTO campaign_lists (campaign_id, list_id, position) VALUES ($1, $2, 1)',
      [id, lists[i % lists.length]],
    );
    if (['finished', 'running', 'paused'].includes(status)) await seedLedger(db, id, status);
  }
}

async function seedLedger(db: pg.Client, campaignId: number, status: string) {
  await db.query(
    `INSERT INTO deliveries (campaign_id, subscriber_id, status, attempts, message_id, sent_at)
     SELECT $1::bigint, s.subscriber_id,
            CASE WHEN $2::text <> 'finished' AND s.subscriber_id % 3 = 0 THEN 'queued'
                 WHEN s.subscriber_id % 97 = 0 THEN 'bounced' ELSE 'sent' END,
            1, '<' || $1::bigint || '.' || s.subscriber_id || '@bench>', now()
       FROM campaign_lists cl JOIN subscriptions s ON s.list_id = cl.list_id
      WHERE cl.campaign_id = $1::bigint AND s.status = 'confirmed'`,
    [campaignId, status],
  );
  await db.query(
    `UPDATE campaigns SET recipients = (SELECT count(*) FROM deliveries WHERE campaign_id = $1)
      WHERE id = $1`,
    [campaignId],
  );
  await db.query(
    `INSERT INTO events (type, source, campaign_id, subscriber_id, occurred_at)
     SELECT CASE WHEN subscriber_id % 5 = 0 THEN 'clicked' ELSE 'opened' END, 'api', $1,
            subscriber_id, now()
       FROM deliveries WHERE campaign_id = $1 AND status = 'sent' AND subscriber_id % 4 = 0`,
    [campaignId],
  );
}

/** Signs in through the API; the cookie it returns is what the pages are fetched with. */
async function signIn(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('bulletin_session='));
  if (!cookie) throw new Error('sign-in set no session cookie');
  return cookie.split(';')[0]!;
}

async function timePage(base: string, cookie: string, url: string) {
  const times: number[] = [];
  for (let i = 0; i < params.requests; i++) {
    const started = performance.now();
    const res = await fetch(base + url, { headers: { Cookie: cookie }, redirect: 'manual' });
    const body = await res.text();
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 300)}`);
  }
  const p = (q: number) => round(percentile(times, q), 1);
  return { url, p50: p(50), p95: p(95), max: round(Math.max(...times), 1) };
}

async function pagesOf(databaseUrl: string, lists: number[], templateId: number) {
  return admin(async (db) => {
    const one = async (sql: string) => (await db.query<{ id: number }>(sql)).rows[0]!.id;
    const finished = await one(`SELECT max(id) AS id FROM campaigns WHERE status = 'finished'`);
    const running = await one(`SELECT id FROM campaigns WHERE status = 'running' LIMIT 1`);
    const subscriber = await one(`SELECT id FROM subscribers ORDER BY id DESC LIMIT 1`);
    return [
      '/admin',
      '/admin/campaigns',
      '/admin/campaigns/new',
      `/admin/campaigns/${finished}`,
      `/admin/campaigns/${running}`,
      `/admin/campaigns/${running}/live`,
      `/admin/campaigns/${finished}/edit`,
      '/admin/lists',
      `/admin/lists/${lists[0]}`,
      '/admin/subscribers',
      '/admin/subscribers?q=reader4242',
      `/admin/subscribers?list=${lists[1]}&status=active`,
      '/admin/subscribers?q=nobody-at-all',
      `/admin/subscribers/${subscriber}`,
      '/admin/templates',
      `/admin/templates/${templateId}`,
      '/admin/operations',
      '/admin/users',
      '/admin/account',
    ];
  }, databaseUrl);
}

async function main() {
  if (!args['skip-build']) {
    log('building (npm run build): the API runs the compiled code, as in production');
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `bulletin_bench_console_${tag}`;
  const prefix = `bench_console_${tag}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  let service: Service | undefined;
  try {
    service = startService('api', 'api', {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SMTP_URL: 'smtp://127.0.0.1:1',
      PUBLIC_URL: 'https://news.example.org',
      MAIL_FROM: 'The Secretariat <newsletter@example.org>',
      ADMIN_TOKEN,
      SECRET_KEY: randomBytes(32).toString('hex'),
      PORT: '0',
      HOST: '127.0.0.1',
    });
    const listening = await service.waitFor((l) => l.event === 'listening');
    const base = `http://127.0.0.1:${String(listening.port)}`;
    const { lists, templateId } = await seed(databaseUrl, api(base));
    const cookie = await signIn(base);
    const results = [];
    for (const url of await pagesOf(databaseUrl, lists, templateId)) {
      await timePage(base, cookie, url); // warm-up: the first request compiles and caches
      results.push(await timePage(base, cookie, url));
      log(`${url}: p50 ${results.at(-1)!.p50} ms`);
    }
    report(results);
    const file = args.json ?? path.join('var', 'bench', `console-${Date.now()}.json`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ date: new Date().toISOString(), params, results }, null, 2),
    );
    log(`wrote ${file}`);
  } finally {
    await service?.stop();
    await admin((db) =>
      db.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`),
    );
    await deletePrefix(REDIS_URL, prefix);
  }
}

function report(results: { url: string; p50: number; p95: number; max: number }[]) {
  const width = Math.max(...results.map((r) => r.url.length));
  const lines = results.map(
    (r) =>
      `${r.url.padEnd(width)}  p50 ${String(r.p50).padStart(6)} ms  p95 ${String(r.p95).padStart(6)} ms  max ${String(r.max).padStart(6)} ms${r.p95 > TARGET_MS ? '  over target' : ''}`,
  );
  const slowest = Math.max(...results.map((r) => r.p95));
  process.stdout.write(
    `console pages: ${params.subscribers} subscribers, ${params.campaigns} campaigns, ${params.requests} requests a page\n${lines.join('\n')}\nslowest p95: ${slowest} ms (target < ${TARGET_MS} ms)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
