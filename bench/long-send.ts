// `node --import tsx bench/long-send.ts [--recipients N] [--skip-build]`
//
// One long send (default 1,000,000 recipients) to the benchmark's counting sink, with the
// worker's resident memory recorded as the sent count passes 10,000, 100,000 and the whole
// audience (docs/performance.md, "Memory over a long send"): a worker that held anything per
// recipient would grow with the count. Its own database and Redis prefix, removed afterwards.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { rssMb, startSink, type Service } from './processes.js';
import { round, sleep } from './support.js';
import { endRound, processDefaults, roundEnv, seedCampaign, startRound } from './world.js';

const { values: args } = parseArgs({
  options: {
    recipients: { type: 'string', default: '1000000' },
    'skip-build': { type: 'boolean', default: false },
  },
});
const log = (line: string) => process.stderr.write(`[long-send] ${line}\n`);

async function main(): Promise<void> {
  const recipients = Number(args.recipients);
  const marks = [10_000, 100_000, recipients].filter(
    (m, i, all) => m <= recipients && all.indexOf(m) === i,
  );
  if (!args['skip-build']) execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const sink = await startSink();
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `bulletin_long_${tag}`;
  const prefix = `long_${tag}`;
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const env = roundEnv(databaseUrl, prefix, sink.port, processDefaults());
  const services: Service[] = [];
  try {
    const { call, workers } = await startRound(services, env, 1, []);
    const worker = workers[0]!;
    log(`seeding ${recipients} subscribers`);
    const { campaign } = await seedCampaign(call, databaseUrl, recipients);
    const started = Date.now();
    await call('POST', `/api/v1/campaigns/${campaign.id}/send`);
    const rss: { sent: number; rssMb: number | undefined; peakRssMb: number | undefined }[] = [];
    let next = 0;
    for (;;) {
      const shown = await call<{ status: string; stats: { sent: number } }>(
        'GET',
        `/api/v1/campaigns/${campaign.id}`,
      );
      while (next < marks.length && shown.stats.sent >= marks[next]!) {
        rss.push({
          sent: shown.stats.sent,
          rssMb: rssMb(worker.child.pid),
          peakRssMb: worker.peakRssMb(),
        });
        log(
          `${shown.stats.sent} sent: worker RSS ${rss.at(-1)!.rssMb} MB (peak ${rss.at(-1)!.peakRssMb})`,
        );
        next++;
      }
      if (shown.status !== 'running') {
        // The end, whatever the count reached (a failed message or two leave it short).
        if (next < marks.length) {
          rss.push({
            sent: shown.stats.sent,
            rssMb: rssMb(worker.child.pid),
            peakRssMb: worker.peakRssMb(),
          });
        }
        break;
      }
      await sleep(1000);
    }
    const stats = await sink.stats();
    const seconds = ((stats.lastAt ?? Date.now()) - started) / 1000;
    process.stdout.write(
      `${JSON.stringify({ recipients, received: stats.count, seconds: round(seconds, 1), msgsPerSec: round(recipients / seconds), rss })}\n`,
    );
    if (stats.count !== recipients) throw new Error(`the sink received ${stats.count}`);
  } finally {
    await endRound(services, dbName, prefix);
    await sink.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`long send failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
