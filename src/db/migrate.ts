// Creates the database when it is missing and applies migrations under PostgreSQL's advisory
// lock, so several processes starting at once (API, workers) migrate exactly once.
import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { packageRoot } from '../lib/paths.js';
import type { Logger } from '../lib/logger.js';

export const MIGRATIONS_DIR = path.join(packageRoot(), 'src', 'db', 'migrations');

/** Connects to the server's maintenance database and creates the target if it is missing. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database: another process created it between our check and create.
      if ((error as { code?: string }).code === '42P04') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

export async function migrate(databaseUrl: string, log?: Logger): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: 'pgmigrations',
    direction: 'up',
    advisoryLockMode: 'wait',
    singleTransaction: true,
    checkOrder: true,
    log: (message: string) => log?.debug({ event: 'migration' }, message),
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) log?.info({ event: 'migrated', migrations: names }, 'database migrated');
  return names;
}
