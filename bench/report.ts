// The benchmark's result: the figures of each round, their medians, and the table it prints.
import { cpus, totalmem } from 'node:os';
import type { MimeCheck } from './mime-check.js';
import type { RelayResult } from './relay.js';
import { median, round } from './support.js';

export interface RoundResult {
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
  /** The same sends against a sink that answers each message after a relay's latency. */
  relay?: RelayResult;
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

export function machineOf() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** The medians of the rounds (peak memory: the highest), with the machine and the parameters. */
export function summarise(
  rounds: RoundResult[],
  params: Record<string, unknown> & { recipients: number; importRows: number },
) {
  const med = (pick: (r: RoundResult) => number) => round(median(rounds.map(pick)), 3);
  const last = rounds.at(-1)!;
  const processes = Object.keys(last.peakRssMb);
  const result = {
    date: new Date().toISOString(),
    machine: machineOf(),
    params,
    raw: { msgsPerSec: med((r) => r.raw.msgsPerSec), messageBytes: last.raw.messageBytes },
    endToEnd: {
      recipients: params.recipients,
      msgsPerSec: med((r) => r.endToEnd.msgsPerSec),
      seconds: med((r) => r.endToEnd.seconds),
      sendToFirstMessageSeconds: med((r) => r.endToEnd.sendToFirstMessageSeconds),
    },
    ratio: med((r) => r.ratio),
    ...(last.relay ? { relay: relayOf(rounds) } : {}),
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
  return result;
}

/** The relay figures' medians over the rounds. */
function relayOf(rounds: RoundResult[]) {
  const med = (pick: (r: RelayResult) => number) =>
    round(median(rounds.map((r) => pick(r.relay!))), 3);
  const { latencyMs, connections } = rounds.at(-1)!.relay!;
  return {
    latencyMs,
    connections,
    raw: { msgsPerSec: med((r) => r.raw.msgsPerSec) },
    endToEnd: { msgsPerSec: med((r) => r.endToEnd.msgsPerSec) },
    ratio: med((r) => r.ratio),
  };
}

export function printTable(r: {
  raw: { msgsPerSec: number };
  relay?: ReturnType<typeof relayOf>;
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
    ...(r.relay
      ? ([
          [
            `relay ${r.relay.latencyMs} ms: raw`,
            `${r.relay.raw.msgsPerSec} msg/s`,
            `${r.relay.connections} connections`,
          ],
          [`relay ${r.relay.latencyMs} ms: end to end`, `${r.relay.endToEnd.msgsPerSec} msg/s`, ''],
          ['relay ratio', String(r.relay.ratio), 'target ≥ 0.8'],
        ] as [string, string, string][])
      : []),
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
