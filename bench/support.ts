// Small helpers of the benchmark: statistics, the import file, process memory, cleanup.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrate } from '../src/db/migrate.js';
import type { Service } from './processes.js';

export const PG_ADMIN =
  process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_TOKEN = `bench-${randomBytes(12).toString('hex')}`;

/** Runs `fn` on a connection of its own (to the server's admin database by default). */
export async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = PG_ADMIN): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs `fn` with a migrated database of its own, `<prefix>_<random>` on PG_ADMIN's server,
 * dropped afterwards whatever happens.
 */
export async function withScratchDatabase<T>(
  prefix: string,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  await admin((db) => db.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  try {
    await migrate(url.toString());
    return await fn(url.toString());
  } finally {
    await admin((db) =>
      db.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
    );
  }
}

/** A JSON client of the API at `base`, with the benchmark's admin token. */
export function api(base: string) {
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

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CSV import file, written once per benchmark (streamed: memory stays flat). */
export async function writeCsv(file: string, rows: number): Promise<void> {
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

/** Resident and heap figures of a service, read from its /metrics on METRICS_PORT. */
export async function memoryOf(service: Service): Promise<Record<string, number>> {
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

/** Deletes every Redis key of a queue prefix. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
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
