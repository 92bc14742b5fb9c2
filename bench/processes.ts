// Processes of a benchmark run: the service's own entry point (`main.ts <role>`) spawned
// like an operator runs it, the sink and the raw sender as children with IPC, and their peak
// memory read from the kernel (VmHWM: the high-water mark of resident memory).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/lib/paths.js';

export interface LogLine {
  event?: string;
  [key: string]: unknown;
}

export interface Service {
  name: string;
  child: ChildProcess;
  logs(): LogLine[];
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  peakRssMb(): number | undefined;
  stop(): Promise<void>;
}

/** VmHWM of a running process, in MB; undefined once it has exited. */
export function peakRssMb(pid: number | undefined, field = 'VmHWM'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory now (VmRSS), in MB. */
export const rssMb = (pid: number | undefined) => peakRssMb(pid, 'VmRSS');

export function startService(
  name: string,
  role: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Service {
  // The compiled code, as production runs it (run.ts builds it first): tsx's on-the-fly
  // transpiling would add its own memory and start-up time to the figures.
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js', role], {
    cwd: packageRoot(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let buffered = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('{')) {
        try {
          lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    }
    for (const w of waiters) w();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      for (const w of waiters) w();
      resolve();
    }),
  );
  return {
    name,
    child,
    logs: () => lines,
    waitFor(predicate, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (found) done(() => resolve(found));
          else if (exited) done(() => reject(new Error(`${name} exited early:\n${stderr}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${name}: timed out waiting\n${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    peakRssMb: () => peakRssMb(child.pid),
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

interface SinkStats {
  count: number;
  bytes: number;
  firstAt: number | null;
  lastAt: number | null;
  sample: string | null;
}

export interface Sink {
  port: number;
  /**
   * Forgets what arrived; `collect` keeps each message's click links from now on, and
   * `latencyMs` delays the answer to each message's final dot (a relay's queue write).
   */
  reset(options?: { collect?: boolean; latencyMs?: number }): Promise<void>;
  stats(): Promise<SinkStats>;
  /** The distinct click links of each message since a collecting reset. */
  links(): Promise<string[][]>;
  peakRssMb(): number | undefined;
  close(): Promise<void>;
}

function ask<T>(
  child: ChildProcess,
  cmd: string,
  reply: string,
  extra: Record<string, unknown> = {},
): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & Record<string, unknown>) => {
      if (message.type !== reply) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.send({ cmd, ...extra });
  });
}

const here = path.join(packageRoot(), 'bench');

export async function startSink(): Promise<Sink> {
  const child = fork(path.join(here, 'sink.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { type: string; port: number }) => resolve(m.port));
    child.once('exit', () => reject(new Error('the sink exited')));
  });
  return {
    port,
    reset: async ({ collect = false, latencyMs = 0 } = {}) => {
      await ask(child, 'reset', 'reset', { collect, latencyMs });
    },
    links: async () => (await ask<{ links: string[][] }>(child, 'links', 'links')).links,
    stats: async () => (await ask<{ stats: SinkStats }>(child, 'stats', 'stats')).stats,
    peakRssMb: () => peakRssMb(child.pid),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ cmd: 'close' });
      }),
  };
}

export interface RawResult {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  messageBytes: number;
  peakRssMb: number;
}

export function runRaw(port: number, messages: number, connections: number): Promise<RawResult> {
  const child = fork(
    path.join(here, 'raw.ts'),
    [String(port), String(messages), String(connections)],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    let result: RawResult | undefined;
    child.on('message', (m: RawResult & { type: string }) => {
      if (m.type === 'raw') result = m;
    });
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the raw sender exited with ${code}`)),
    );
  });
}
