// `npm run bench -- [--recipients N] [--runs K] [--quick] [--json FILE] [--workers W]
//                   [--relay-latency-ms MS]`
// `npm run bench -- --clicks [--click-count N] [--clients C] [--recipients N] [--runs K]`
//
// One command, one machine, one run of each measurement per round, medians over the rounds:
//   raw         a nodemailer pool sending a pre-built MIME message of the newsletter's size
//               straight to the sink: the machine's SMTP limit, the yardstick
//   end to end  a real campaign: HTTP API → ledger → BullMQ → worker processes → SMTP → sink
//   relay       raw and end to end again, the sink answering each message after
//               --relay-latency-ms (default 50; 0 skips it) as a real relay does (relay.ts)
//   import      a CSV of IMPORT_ROWS rows posted to the API and imported by the workers
//   draw        the audience draw of a campaign to those imported subscribers
// It prints a table, writes JSON, and removes its databases and Redis keys. With --clicks it
// measures the click storm instead (bench/clicks.ts).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { checkMime } from './mime-check.js';
import { machineOf, printTable, summarise, type RoundResult } from './report.js';
import { ADMIN_TOKEN, admin, memoryOf, percentile, round, sleep, writeCsv } from './support.js';
import { clickBench } from './clicks.js';
import {
  endRound,
  processDefaults,
  roundEnv,
  seedCampaign,
  startRound,
  type Call,
} from './world.js';
import { runRaw, startSink, type Service, type Sink } from './processes.js';
import { measureRelay } from './relay.js';

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
    clicks: { type: 'boolean', default: false },
    'click-count': { type: 'string' },
    clients: { type: 'string' },
    'relay-latency-ms': { type: 'string' },
  },
});

const quick = args.quick ?? false;
const num = (value: string | undefined, fallback: number, min = 1) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`expected a whole number of at least ${min}, got ${value}`);
  return n;
};
const defaults = processDefaults();
const params = {
  recipients: num(args.recipients, quick ? 2000 : 100_000),
  runs: num(args.runs, quick ? 1 : 3),
  workers: num(args.workers, 1),
  importRows: num(args['import-rows'], quick ? 20_000 : 1_000_000),
  rawMessages: num(args['raw-messages'], quick ? 5000 : 30_000),
  workerConcurrency: num(args.concurrency, defaults.workerConcurrency),
  smtpPoolSize: num(args.pool, defaults.smtpPoolSize),
  relayLatencyMs: num(args['relay-latency-ms'], 50, 0),
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
  const env = roundEnv(databaseUrl, prefix, sink.port, params);
  const services: Service[] = [];
  try {
    // The API starts first and migrates; then the workers.
    const { base, call, workers } = await startRound(services, env, params.workers, nodeArgs);

    const { campaignBody, campaign, list } = await seedCampaign(
      call,
      databaseUrl,
      params.recipients,
    );

    const drawnLine = (campaignId: number) =>
      Promise.any(
        workers.map((w) =>
          w.waitFor((l) => l.event === 'audience_drawn' && l.campaignId === campaignId, 600_000),
        ),
      );
    const world: RoundWorld = { call, databaseUrl, services, campaignBody, drawnLine };
    const { endToEnd, latencies, mime, draws, peakRssAfterSendMb } = await measureSend(
      n,
      world,
      sink,
      campaign.id,
    );
    const relay =
      params.relayLatencyMs > 0
        ? await measureRelay(
            {
              call,
              sink,
              databaseUrl,
              body: campaignBody('Bench relay', list.id),
              recipients: params.recipients,
            },
            params.relayLatencyMs,
            connections,
            (line) => log(`round ${n}: ${line}`),
          )
        : undefined;
    const { importList, importResult } = await measureImport(n, base, call, csvFile);
    draws.push(await measureDraw(n, world, importList.id));

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
      ...(relay ? { relay } : {}),
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
    await endRound(services, dbName, prefix);
  }
}

/** What the measurements of one round share: its API, database, processes and campaign body. */
interface RoundWorld {
  call: Call;
  databaseUrl: string;
  services: Service[];
  campaignBody: (name: string, listId: number) => Record<string, unknown>;
  drawnLine: (campaignId: number) => Promise<Record<string, unknown>>;
}

/** Sends the seeded campaign, polling its GET as a console would, and checks what arrived. */
async function measureSend(n: number, r: RoundWorld, sink: Sink, campaignId: number) {
  await sink.reset();
  log(
    `round ${n}: end to end, ${params.recipients} recipients, ${params.workers} worker process(es)`,
  );
  const latencies: number[] = [];
  const sentAt = Date.now();
  await r.call('POST', `/api/v1/campaigns/${campaignId}/send`);
  let lastShown = 0;
  for (;;) {
    const t = performance.now();
    const shown = await r.call<{ status: string; stats: { sent: number } }>(
      'GET',
      `/api/v1/campaigns/${campaignId}`,
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
      [campaignId],
    );
    return rows[0]!.n;
  }, r.databaseUrl);
  if (stats.count !== params.recipients || ledgerSent !== params.recipients) {
    throw new Error(
      `end to end: the sink received ${stats.count} and the ledger says ${ledgerSent} sent, of ${params.recipients}`,
    );
  }
  const mime = await checkMime(stats.sample);
  if (!mime.valid) throw new Error(`a sent message is not valid MIME: ${mime.problems.join('; ')}`);
  const draws: { recipients: number; seconds: number }[] = [];
  const drawn = await r.drawnLine(campaignId);
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
  for (const s of r.services) peakRssAfterSendMb[s.name] = s.peakRssMb();

  return { endToEnd, latencies, mime, draws, peakRssAfterSendMb };
}

/** Posts the CSV to a new list and waits for the import; its figures and the list. */
async function measureImport(n: number, base: string, call: Call, csvFile: string) {
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

  return { importList, importResult };
}

/** Draws a campaign's audience from the imported list, and cancels it: only the draw counts. */
async function measureDraw(n: number, r: RoundWorld, listId: number) {
  log(`round ${n}: audience draw of ${params.importRows} subscribers`);
  await admin((db) => db.query('ANALYZE'), r.databaseUrl);
  const big = await r.call<{ id: number }>(
    'POST',
    '/api/v1/campaigns',
    r.campaignBody('Bench draw', listId),
  );
  await r.call('POST', `/api/v1/campaigns/${big.id}/send`);
  const bigDrawn = await r.drawnLine(big.id);
  // Only the draw is measured: stop the send at once.
  await r.call('POST', `/api/v1/campaigns/${big.id}/cancel`);
  const drawn = { recipients: Number(bigDrawn.recipients), seconds: Number(bigDrawn.ms) / 1000 };
  log(`round ${n}: draw ${drawn.seconds} s`);
  return drawn;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`parameters: ${JSON.stringify(params)}${quick ? ' (quick)' : ''}`);
  if (!args['skip-build']) {
    log('building (npm run build): the processes run the compiled code, as in production');
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (args.clicks) return clickMain();
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

  const result = summarise(rounds, { ...params, quick });
  await mkdir(path.dirname(path.resolve(jsonFile)), { recursive: true });
  await writeFile(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result);
  process.stdout.write(`\nJSON: ${jsonFile}\n`);
}

async function clickMain(): Promise<void> {
  const clickParams = {
    recipients: num(args.recipients, quick ? 2000 : 10_000),
    clicks: num(args['click-count'], quick ? 2000 : 20_000),
    clients: num(args.clients, quick ? 50 : 200),
    runs: num(args.runs, quick ? 1 : 2),
    smtpPoolSize: params.smtpPoolSize,
    workerConcurrency: params.workerConcurrency,
  };
  log(`click storm: ${JSON.stringify(clickParams)}`);
  const sink = await startSink();
  let clicks;
  try {
    clicks = await clickBench(clickParams, sink, nodeArgs);
  } finally {
    await sink.close();
  }
  const result = {
    date: new Date().toISOString(),
    machine: machineOf(),
    params: clickParams,
    clicks,
  };
  await mkdir(path.dirname(path.resolve(jsonFile)), { recursive: true });
  await writeFile(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(clicks, null, 2)}\nJSON: ${jsonFile}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
