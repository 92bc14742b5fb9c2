// Creates the database when it is missing and applies migrations under PostgreSQL's advisory
// locks, so several processes starting at once (API, workers) create and migrate exactly once.
import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { packageRoot } from '../lib/paths.js';
import type { Logger } from '../lib/logger.js';

export const MIGRATIONS_DIR = path.join(packageRoot(), 'src', 'db', 'migrations');

/**
 * Creates the target database when it is missing. The target is tried first, so a server
 * where the role may not open the maintenance database still starts once the database exists.
 * Creation happens under an advisory lock held on the maintenance database: two CREATE
 * DATABASE statements racing for one name fail with a unique violation on pg_database,
 * not with "already exists", so they must not race at all.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  if (await canConnect(databaseUrl)) return false;

  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`bulletin:create:${name}`]);
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return true;
    } catch (error) {
      // Another installation (an older version, a script) created it without our lock.
      if (['42P04', '23505'].includes((error as { code?: string }).code ?? '')) return false;
      throw error;
    }
  } finally {
    // Ending the session releases the advisory lock.
    await client.end();
  }
}

/** True when the database accepts a connection; false only when it does not exist (3D000). */
async function canConnect(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
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
