// `npm run bench:relay -- --smtp-url smtp://127.0.0.1:25 [--recipients N] [--pool P]
//                         [--concurrency C] [--workers W] [--runs K]`
//
// A real campaign through a real relay (docs/operations.md, "Tuning for your relay"): the
// round's API and workers as in `npm run bench`, SMTP_URL pointing at the relay. The speed is
// the relay's acceptance rate as the ledger sees it: from the send to the last `sent` row.
// Nothing arrives at a sink here, so the check is the ledger: every row `sent`, once.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Service } from './processes.js';
import { admin, median, round, sleep } from './support.js';
import { endRound, roundEnv, seedCampaign, startRound, type Call } from './world.js';

const { values: args } = parseArgs({
  options: {
    'smtp-url': { type: 'string' },
    recipients: { type: 'string', default: '2000' },
    pool: { type: 'string' },
    concurrency: { type: 'string' },
    workers: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    'skip-build': { type: 'boolean', default: false },
  },
});
const log = (line: string) => process.stderr.write(`[relay] ${line}\n`);

async function sendOnce(call: Call, databaseUrl: string, body: Record<string, unknown>) {
  const campaign = await call<{ id: number }>('POST', '/api/v1/campaigns', body);
  const started = Date.now();
  await call('POST', `/api/v1/campaigns/${campaign.id}/send`);
  for (;;) {
    const shown = await call<{ status: string; stats: Record<string, number> }>(
      'GET',
      `/api/v1/campaigns/${campaign.id}`,
    );
    if (shown.status === 'finished') break;
    if (shown.status !== 'running') throw new Error(`the campaign is ${shown.status}`);
    await sleep(200);
  }
  return admin(async (db) => {
    const { rows } = await db.query<{ sent: number; other: string; last: Date }>(
      `SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, max(sent_at) AS last,
              (SELECT string_agg(status || ' ' || n, ', ') FROM (
                 SELECT status, count(*) AS n FROM deliveries
                  WHERE campaign_id = $1 AND status <> 'sent' GROUP BY status) o) AS other
         FROM deliveries WHERE campaign_id = $1`,
      [campaign.id],
    );
    const r = rows[0]!;
    return { ...r, seconds: (r.last.getTime() - started) / 1000 };
  }, databaseUrl);
}

async function main(): Promise<void> {
  const smtpUrl = args['smtp-url'];
  if (!smtpUrl) throw new Error('--smtp-url is required (the relay to measure)');
  const recipients = Number(args.recipients);
  if (!args['skip-build']) execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `bulletin_relay_${tag}`;
  const prefix = `relay_${tag}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const env = roundEnv(databaseUrl, prefix, 0, { smtpPoolSize: 1, workerConcurrency: 1 });
  env.SMTP_URL = smtpUrl;
  // Unset: the defaults an operator gets (config/default.json).
  if (args.pool) env.SMTP_POOL_SIZE = args.pool;
  else delete env.SMTP_POOL_SIZE;
  if (args.concurrency) env.WORKER_CONCURRENCY = args.concurrency;
  else delete env.WORKER_CONCURRENCY;
  const services: Service[] = [];
  try {
    const { call } = await startRound(services, env, Number(args.workers), []);
    const { campaignBody, list } = await seedCampaign(call, databaseUrl, recipients);
    const rates: number[] = [];
    for (let i = 1; i <= Number(args.runs); i++) {
      const r = await sendOnce(call, databaseUrl, campaignBody(`Relay ${i}`, list.id));
      if (r.sent !== recipients || r.other) {
        throw new Error(`${r.sent} of ${recipients} sent; the others: ${r.other}`);
      }
      rates.push(recipients / r.seconds);
      log(`run ${i}: ${recipients} in ${round(r.seconds, 2)} s: ${round(rates.at(-1)!)} msg/s`);
    }
    const result = {
      smtpUrl: smtpUrl.replace(/\/\/[^@/]*@/, '//'),
      recipients,
      workers: Number(args.workers),
      smtpPoolSize: args.pool ? Number(args.pool) : 'default',
      workerConcurrency: args.concurrency ? Number(args.concurrency) : 'default',
      msgsPerSec: round(median(rates)),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await endRound(services, dbName, prefix);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`relay bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
