// Spawns the real entry point (`node --import tsx main.ts <role>`) as an operator would,
// and watches its output. Start-up is recognised from its JSON log lines, so spawned services
// run with LOG_LEVEL=info unless told otherwise; PORT=0 lets the kernel pick a free port, and
// the `listening` line says which one.
import { spawn, type ChildProcess } from 'node:child_process';
import { packageRoot } from '../../src/lib/paths.js';
import { keepProcessOutput } from './test-logs.js';

/** all, api or worker; anything else is passed through to test the refusal. */
export type Role = string;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LogLine {
  event?: string;
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** The JSON log lines printed on stdout so far. */
  logs(): LogLine[];
  /** Resolves with the first log line of that event; rejects if the process exits first. */
  waitForEvent(event: string, timeoutMs?: number): Promise<LogLine>;
  /** Resolves once the HTTP server listens (roles all and api), with its base URL. */
  listening(timeoutMs?: number): Promise<string>;
  exited: Promise<Exit>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** SIGKILL if still running; for afterAll. */
  kill(): Promise<void>;
}

/** Only what node needs from the parent environment: the test's own settings stay out. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

const running = new Set<ServiceProcess>();

export function startService(role: Role, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts', role], {
    cwd: packageRoot(),
    env: { ...baseEnv(), LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exit: Exit | undefined;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  // Everything it writes also goes to the log audit, as it arrives (see test-logs.ts).
  const auditName = `process-${role}-${child.pid ?? 'x'}`;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    keepProcessOutput(auditName, chunk);
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      notify();
    });
  });

  const logs = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });

  const describe = () =>
    `role ${role}, exit ${JSON.stringify(exit)}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;

  const waitForEvent = (event: string, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const line = logs().find((l) => l.event === event);
        if (line) done(() => resolve(line));
        else if (exit) done(() => reject(new Error(`exited before "${event}": ${describe()}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no "${event}" in ${timeoutMs} ms: ${describe()}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const service: ServiceProcess = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    logs,
    waitForEvent,
    async listening(timeoutMs) {
      const line = await waitForEvent('listening', timeoutMs);
      return `http://127.0.0.1:${String(line.port)}`;
    },
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!exit) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still running ${timeoutMs} ms after ${signal}: ${describe()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
        running.delete(service);
      }
    },
    async kill() {
      running.delete(service);
      if (exit) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(service);
  return service;
}

/** Kills every service this test file started that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.kill()));
}

/** Runs the entry to completion (for start-up failures) and returns its exit and output. */
export async function runToExit(role: Role, env: Record<string, string>) {
  const service = startService(role, env);
  const exit = await Promise.race([
    service.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`did not exit: ${service.stderr}`)), 20_000).unref(),
    ),
  ]).finally(() => service.kill());
  return { ...exit, stdout: service.stdout, stderr: service.stderr };
}
