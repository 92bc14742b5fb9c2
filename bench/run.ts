// `npm run bench -- [--recipients N] [--runs K] [--quick] [--json FILE] [--workers W]`
//
// One command, one machine, one run of each measurement per round, medians over the rounds:
//   raw         a nodemailer pool sending a pre-built MIME message of the newsletter's size
//               straight to the sink: the machine's SMTP limit, the yardstick
//   end to end  a real campaign: HTTP API → ledger → BullMQ → worker processes → SMTP → sink
//   import      a CSV of IMPORT_ROWS rows posted to the API and imported by the workers
//   draw        the audience draw of a campaign to those imported subscribers
// It prints a table, writes JSON, and removes its databases and Redis keys.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { checkMime, type MimeCheck } from './mime-check.js';
import { CAMPAIGN_DATA, newsletterSource, SUBJECT } from './newsletter.js';
import { runRaw, startService, startSink, type Service, type Sink } from './processes.js';

const PG_ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = `bench-${randomBytes(12).toString('hex')}`;

const { values: args } = parseArgs({
  options: {
    recipients: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    workers: { type: 'string' },
    'import-rows': { type: 'string' },
    'raw-messages': { type: 'string' },
    concurrency: { type: 'string' },
    pool: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    'node-args': { type: 'string' },
  },
});

const quick = args.quick ?? false;
const num = (value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`expected a positive whole number, got ${value}`);
  return n;
};
const params = {
  recipients: num(args.recipients, quick ? 2000 : 100_000),
  runs: num(args.runs, quick ? 1 : 3),
  workers: num(args.workers, 1),
  importRows: num(args['import-rows'], quick ? 20_000 : 1_000_000),
  rawMessages: num(args['raw-messages'], quick ? 5000 : 30_000),
  workerConcurrency: num(args.concurrency, 10),
  smtpPoolSize: num(args.pool, 5),
};
// --profile: V8 CPU profiles of the api and worker processes (open in Chrome DevTools, or
// summarise with `node --import tsx bench/profile-summary.ts <file>`).
const profileDir = path.resolve('var', 'bench', 'profiles');
// --node-args "--max-semi-space-size=8": extra node flags for the api and worker processes.
const nodeArgs = [
  ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
  ...(args['node-args']?.split(/\s+/).filter(Boolean) ?? []),
];
const jsonFile = args.json ?? path.join('var', 'bench', `bench-${Date.now()}.json`);

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Helpers

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = PG_ADMIN): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function api(base: string) {
  return async <T = Record<string, unknown>>(
    method: string,
    url: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await fetch(base + url, {
      method,
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** The CSV import file, written once per benchmark (streamed: memory stays flat). */
async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('email,name,city\n');
  for (let i = 1; i <= rows; i++) {
    if (!out.write(`import${i}@example.net,Importee ${i},City ${i % 100}\n`)) {
      await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error | null) => (e ? reject(e) : resolve())),
  );
}

// ---------------------------------------------------------------------------------------------
// One round

interface RoundResult {
  raw: { msgsPerSec: number; messageBytes: number; peakRssMb: number };
  endToEnd: {
    recipients: number;
    seconds: number;
    msgsPerSec: number;
    sendToFirstMessageSeconds: number;
    received: number;
    ledgerSent: number;
  };
  ratio: number;
  audienceDrawSeconds: { recipients: number; seconds: number }[];
  import: { rows: number; seconds: number; rowsPerSec: number; uploadSeconds: number };
  apiLatencyMs: { samples: number; p50: number; p99: number; max: number };
  peakRssMb: Record<string, number | undefined>;
  /** Peak resident memory when the campaign had been sent (before the import and the draw). */
  peakRssAfterSendMb: Record<string, number | undefined>;
  /** Now, from each process's own metrics: resident, V8 heap used and total, external (MB). */
  memory: Record<string, Record<string, number>>;
  mime: MimeCheck;
}

/** Resident and heap figures of a service, read from its /metrics on METRICS_PORT. */
async function memoryOf(service: Service): Promise<Record<string, number>> {
  const line = await service.waitFor((l) => l.event === 'metrics_listening', 10_000);
  const text = await (await fetch(`http://127.0.0.1:${String(line.port)}/metrics`)).text();
  const mb = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
    return match ? round(Number(match[1]) / 2 ** 20) : -1;
  };
  return {
    rss: mb('process_resident_memory_bytes'),
    heapUsed: mb('nodejs_heap_size_used_bytes'),
    heapTotal: mb('nodejs_heap_size_total_bytes'),
    external: mb('nodejs_external_memory_bytes'),
  };
}

async function round1(n: number, sink: Sink, csvFile: string): Promise<RoundResult> {
  log(`round ${n}: raw limit (${params.rawMessages} pre-built messages)`);
  // The same number of SMTP connections as the pipeline opens (SMTP_POOL_SIZE per worker
  // process): the ratio compares per-message work, not connection counts.
  const connections = params.smtpPoolSize * params.workers;
  const raw = await runRaw(sink.port, params.rawMessages, connections);
  log(`round ${n}: raw ${round(raw.msgsPerSec)} msg/s (${raw.messageBytes} bytes a message)`);

  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `bulletin_bench_${tag}`;
  const prefix = `bench_${tag}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    SMTP_URL: `smtp://bench:bench@127.0.0.1:${sink.port}`,
    SMTP_POOL_SIZE: String(params.smtpPoolSize),
    WORKER_CONCURRENCY: String(params.workerConcurrency),
    PUBLIC_URL: 'https://news.example.org',
    MAIL_FROM: 'The Secretariat <newsletter@example.org>',
    ADMIN_TOKEN,
    SECRET_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    PORT: '0',
    // Each process's /metrics on a free port: the heap figures behind the RSS.
    METRICS_PORT: '0',
  };
  const services: Service[] = [];
  try {
    // The API starts first and migrates; then the workers.
    const apiProcess = startService('api', 'api', env, nodeArgs);
    services.push(apiProcess);
    const listening = await apiProcess.waitFor((l) => l.event === 'listening');
    const base = `http://127.0.0.1:${String(listening.port)}`;
    const call = api(base);
    for (let i = 1; i <= params.workers; i++) {
      const worker = startService(`worker-${i}`, 'worker', env, nodeArgs);
      services.push(worker);
      await worker.waitFor((l) => l.event === 'workers_started');
    }
    const workers = services.slice(1);

    // Subscribers are seeded with SQL (not measured): the campaign is what is measured.
    const list = await call<{ id: number }>('POST', '/api/v1/lists', { name: 'Bench readers' });
    await admin(async (db) => {
      await db.query(
        `INSERT INTO subscribers (email, name, attributes)
         SELECT 'reader' || g || '@example.org', 'Reader ' || g, jsonb_build_object('city', 'City ' || (g % 50))
           FROM generate_series(1, $1::int) AS g`,
        [params.recipients],
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
    const campaignBody = (name: string, listId: number) => ({
      name,
      subject: SUBJECT,
      templateId: template.id,
      listIds: [listId],
      content,
      contentType: 'markdown',
      fromName: 'The Secretariat',
      fromEmail: 'newsletter@example.org',
      data: CAMPAIGN_DATA,
    });
    const campaign = await call<{ id: number }>(
      'POST',
      '/api/v1/campaigns',
      campaignBody('Bench', list.id),
    );

    // ---- end to end -----------------------------------------------------------------------
    await sink.reset();
    log(
      `round ${n}: end to end, ${params.recipients} recipients, ${params.workers} worker process(es)`,
    );
    const latencies: number[] = [];
    const sentAt = Date.now();
    await call('POST', `/api/v1/campaigns/${campaign.id}/send`);
    let lastShown = 0;
    for (;;) {
      const t = performance.now();
      const shown = await call<{ status: string; stats: { sent: number } }>(
        'GET',
        `/api/v1/campaigns/${campaign.id}`,
      );
      latencies.push(performance.now() - t);
      if (shown.status === 'finished' || shown.status === 'cancelled') break;
      if (Date.now() - lastShown > 5000) {
        lastShown = Date.now();
        log(`  ${shown.stats.sent}/${params.recipients} sent`);
      }
      await sleep(100);
    }
    const stats = await sink.stats();
    const seconds = ((stats.lastAt ?? Date.now()) - sentAt) / 1000;
    const ledgerSent = await admin(async (db) => {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND status = 'sent'",
        [campaign.id],
      );
      return rows[0]!.n;
    }, databaseUrl);
    if (stats.count !== params.recipients || ledgerSent !== params.recipients) {
      throw new Error(
        `end to end: the sink received ${stats.count} and the ledger says ${ledgerSent} sent, of ${params.recipients}`,
      );
    }
    const mime = await checkMime(stats.sample);
    if (!mime.valid)
      throw new Error(`a sent message is not valid MIME: ${mime.problems.join('; ')}`);
    const draws: { recipients: number; seconds: number }[] = [];
    const drawnLine = (campaignId: number) =>
      Promise.any(
        workers.map((w) =>
          w.waitFor((l) => l.event === 'audience_drawn' && l.campaignId === campaignId, 600_000),
        ),
      );
    const drawn = await drawnLine(campaign.id);
    draws.push({ recipients: Number(drawn.recipients), seconds: Number(drawn.ms) / 1000 });
    const endToEnd = {
      recipients: params.recipients,
      seconds: round(seconds, 2),
      msgsPerSec: round(params.recipients / seconds),
      sendToFirstMessageSeconds: round(((stats.firstAt ?? sentAt) - sentAt) / 1000, 2),
      received: stats.count,
      ledgerSent,
    };
    log(`round ${n}: end to end ${endToEnd.msgsPerSec} msg/s (${endToEnd.seconds} s)`);
    // Peak memory of the send alone, before the import and the big draw add theirs.
    const peakRssAfterSendMb: Record<string, number | undefined> = {};
    for (const s of services) peakRssAfterSendMb[s.name] = s.peakRssMb();

    // ---- import ---------------------------------------------------------------------------
    log(`round ${n}: import of ${params.importRows} rows`);
    const importList = await call<{ id: number }>('POST', '/api/v1/lists', {
      name: 'Bench import',
    });
    const importStart = Date.now();
    const upload = await fetch(`${base}/api/v1/lists/${importList.id}/imports?mode=upsert`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        'Content-Type': 'text/csv',
        'Content-Length': String(statSync(csvFile).size),
      },
      body: Readable.toWeb(createReadStream(csvFile)) as ReadableStream,
      duplex: 'half',
    });
    const uploaded = (await upload.json()) as { id: number };
    if (!upload.ok) throw new Error(`import upload: ${upload.status} ${JSON.stringify(uploaded)}`);
    const uploadSeconds = (Date.now() - importStart) / 1000;
    let imported: { status: string; inserted: number; processed: number };
    for (;;) {
      imported = await call('GET', `/api/v1/imports/${uploaded.id}`);
      if (imported.status === 'done' || imported.status === 'failed') break;
      await sleep(100);
    }
    if (imported.status !== 'done' || imported.inserted !== params.importRows) {
      throw new Error(`import ended ${imported.status} with ${imported.inserted} inserted`);
    }
    const importSeconds = (Date.now() - importStart) / 1000;
    const importResult = {
      rows: params.importRows,
      seconds: round(importSeconds, 2),
      rowsPerSec: round(params.importRows / importSeconds, 0),
      uploadSeconds: round(uploadSeconds, 2),
    };
    log(`round ${n}: import ${importResult.rowsPerSec} rows/s`);

    // ---- audience draw of the imported list ---------------------------------------------------
    log(`round ${n}: audience draw of ${params.importRows} subscribers`);
    await admin((db) => db.query('ANALYZE'), databaseUrl);
    const big = await call<{ id: number }>(
      'POST',
      '/api/v1/campaigns',
      campaignBody('Bench draw', importList.id),
    );
    await call('POST', `/api/v1/campaigns/${big.id}/send`);
    const bigDrawn = await drawnLine(big.id);
    // Only the draw is measured: stop the send at once.
    await call('POST', `/api/v1/campaigns/${big.id}/cancel`);
    draws.push({ recipients: Number(bigDrawn.recipients), seconds: Number(bigDrawn.ms) / 1000 });
    log(`round ${n}: draw ${draws.at(-1)!.seconds} s`);

    const memory: Record<string, Record<string, number>> = {};
    for (const service of services) memory[service.name] = await memoryOf(service);
    const peakRssMb: Record<string, number | undefined> = { raw: round(raw.peakRssMb) };
    for (const s of services) peakRssMb[s.name] = s.peakRssMb();
    peakRssMb.sink = sink.peakRssMb();
    const p = (x: number) => round(x, 1);
    return {
      raw: {
        msgsPerSec: round(raw.msgsPerSec),
        messageBytes: raw.messageBytes,
        peakRssMb: round(raw.peakRssMb),
      },
      endToEnd,
      ratio: round(endToEnd.msgsPerSec / raw.msgsPerSec, 3),
      audienceDrawSeconds: draws,
      import: importResult,
      apiLatencyMs: {
        samples: latencies.length,
        p50: p(percentile(latencies, 50)),
        p99: p(percentile(latencies, 99)),
        max: p(Math.max(...latencies)),
      },
      peakRssMb,
      peakRssAfterSendMb,
      memory,
      mime,
    };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await admin((db) =>
      db.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`),
    );
    await deletePrefix(prefix);
  }
}

async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`parameters: ${JSON.stringify(params)}${quick ? ' (quick)' : ''}`);
  if (!args['skip-build']) {
    log('building (npm run build): the processes run the compiled code, as in production');
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'bulletin-bench-'));
  const csvFile = path.join(dir, 'import.csv');
  const sink = await startSink();
  const rounds: RoundResult[] = [];
  try {
    await writeCsv(csvFile, params.importRows);
    for (let i = 1; i <= params.runs; i++) rounds.push(await round1(i, sink, csvFile));
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const med = (pick: (r: RoundResult) => number) => round(median(rounds.map(pick)), 3);
  const last = rounds.at(-1)!;
  const processes = Object.keys(last.peakRssMb);
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: round(totalmem() / 2 ** 30),
      node: process.version,
    },
    params: { ...params, quick },
    raw: { msgsPerSec: med((r) => r.raw.msgsPerSec), messageBytes: last.raw.messageBytes },
    endToEnd: {
      recipients: params.recipients,
      msgsPerSec: med((r) => r.endToEnd.msgsPerSec),
      seconds: med((r) => r.endToEnd.seconds),
      sendToFirstMessageSeconds: med((r) => r.endToEnd.sendToFirstMessageSeconds),
    },
    ratio: med((r) => r.ratio),
    audienceDrawSeconds: med((r) => r.audienceDrawSeconds[1]!.seconds),
    audienceDrawRecipients: last.audienceDrawSeconds[1]!.recipients,
    campaignDrawSeconds: med((r) => r.audienceDrawSeconds[0]!.seconds),
    import: {
      rows: params.importRows,
      rowsPerSec: med((r) => r.import.rowsPerSec),
      seconds: med((r) => r.import.seconds),
    },
    apiLatencyMs: {
      p50: med((r) => r.apiLatencyMs.p50),
      p99: med((r) => r.apiLatencyMs.p99),
    },
    peakRssMb: Object.fromEntries(
      processes.map((name) => [name, Math.max(...rounds.map((r) => r.peakRssMb[name] ?? 0))]),
    ),
    peakRssAfterSendMb: Object.fromEntries(
      Object.keys(last.peakRssAfterSendMb).map((name) => [
        name,
        Math.max(...rounds.map((r) => r.peakRssAfterSendMb[name] ?? 0)),
      ]),
    ),
    mime: last.mime,
    rounds,
  };
  await mkdir(path.dirname(path.resolve(jsonFile)), { recursive: true });
  await writeFile(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result);
  process.stdout.write(`\nJSON: ${jsonFile}\n`);
}

function printTable(r: {
  raw: { msgsPerSec: number };
  endToEnd: { msgsPerSec: number; seconds: number; recipients: number };
  ratio: number;
  audienceDrawSeconds: number;
  audienceDrawRecipients: number;
  import: { rowsPerSec: number; rows: number };
  apiLatencyMs: { p50: number; p99: number };
  peakRssMb: Record<string, number>;
}): void {
  const rows: [string, string, string][] = [
    ['raw SMTP limit (pre-built MIME)', `${r.raw.msgsPerSec} msg/s`, ''],
    [
      'end to end',
      `${r.endToEnd.msgsPerSec} msg/s`,
      `${r.endToEnd.recipients} in ${r.endToEnd.seconds} s`,
    ],
    ['ratio end to end / raw', String(r.ratio), 'target ≥ 0.8'],
    [
      'audience draw',
      `${r.audienceDrawSeconds} s`,
      `${r.audienceDrawRecipients} subscribers; target ≤ 10 s at 1,000,000`,
    ],
    ['CSV import', `${r.import.rowsPerSec} rows/s`, `${r.import.rows} rows; target ≥ 50,000`],
    [
      'GET campaign while sending',
      `p50 ${r.apiLatencyMs.p50} ms`,
      `p99 ${r.apiLatencyMs.p99} ms; target p99 < 50`,
    ],
    ...Object.entries(r.peakRssMb).map(
      ([name, mb]) => [`peak RSS ${name}`, `${mb} MB`, ''] as [string, string, string],
    ),
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  process.stdout.write(
    `\n${rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()).join('\n')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
