// Private Redis and PostgreSQL servers for the fault scenarios that restart or flush them, so
// the shared servers other test files use are never disturbed. Both binaries come from
// Debian's packages; each instance lives in its own temporary directory on a free port.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/** A port the kernel says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

export interface RedisInstance {
  port: number;
  url: string;
  /** Stops the server (it writes its append-only file) and starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  /** FLUSHALL: every key of every prefix is gone, as after a Redis that lost its data. */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis configured as docs/operations.md recommends (append-only file, noeviction), so a
 * restart keeps the queues, as it would in production.
 */
export async function startRedisInstance(): Promise<RedisInstance> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'bulletin-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  };
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await until(ping, `redis-server on port ${port} did not answer`);
  };
  const stopServer = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM'); // a clean shutdown: the append-only file is complete
    await exited;
  };
  await start();
  return {
    port,
    url,
    async restart(downMs = 1000) {
      await stopServer();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async flushAll() {
      const client = new Redis(url);
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async stop() {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresInstance {
  port: number;
  /** Connection URL of one database on this server (created on first migrate). */
  url(database: string): string;
  /** Stops the server (fast: every connection is cut) and starts it again after downMs. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throw-away PostgreSQL cluster (initdb into a temporary directory, trust auth, no fsync).
 * PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
 * `postgres` system user, as the machine's own cluster does.
 */
export async function startPostgresInstance(): Promise<PostgresInstance> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'bulletin-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (bin: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : path.join(PG_BIN, bin),
      asRoot ? ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args] : args,
      { stdio: 'pipe', cwd: dir },
    );
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const ready = async () => {
    const client = new pg.Client({ connectionString: url('postgres') });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const start = async () => {
    run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
    await until(ready, `PostgreSQL on port ${port} did not answer`);
  };
  const stopServer = (mode: 'fast' | 'immediate') => {
    try {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    } catch {
      // already stopped
    }
  };
  await start();
  return {
    port,
    url,
    async restart(downMs = 1000) {
      stopServer('fast');
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop() {
      stopServer('immediate');
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
