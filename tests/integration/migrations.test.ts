import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR, ensureDatabase, migrate } from '../../src/db/migrate.js';
import {
  PG_ADMIN_URL,
  deleteQueueKeys,
  dropDatabase,
  testDatabaseUrl,
  testEnv,
  uniqueName,
} from '../helpers/context.js';
import { killAll, startService } from '../helpers/process.js';

// Every migration shipped in src/db/migrations, in the order they apply.
const ALL_MIGRATIONS = readdirSync(MIGRATIONS_DIR)
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.replace(/\.sql$/, ''))
  .sort();

const SCHEMA_TABLES = [
  'subscribers',
  'lists',
  'subscriptions',
  'consent_records',
  'templates',
  'campaigns',
  'campaign_lists',
  'deliveries',
  'events',
  'api_tokens',
  'imports',
  'import_chunks',
  'settings',
];

const databases: string[] = [];
const prefixes: string[] = [];
function newDatabase(): string {
  const name = uniqueName('bulletin_test');
  databases.push(name);
  return name;
}

afterAll(async () => {
  await killAll();
  for (const prefix of prefixes) await deleteQueueKeys('redis://127.0.0.1:6379', prefix);
  for (const name of databases) await dropDatabase(name);
});

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const databaseExists = async (name: string) =>
  (await query(PG_ADMIN_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;

const appliedMigrations = async (name: string) =>
  (await query<{ name: string }>(testDatabaseUrl(name), 'SELECT name FROM pgmigrations')).map(
    (r) => r.name,
  );

/** Moves a database `count` migrations up or down, as an operator's rollback would. */
async function step(url: string, direction: 'up' | 'down', count: number) {
  await runner({
    databaseUrl: url,
    dir: MIGRATIONS_DIR,
    migrationsTable: 'pgmigrations',
    direction,
    count,
    singleTransaction: true,
    checkOrder: true,
    log: () => undefined,
  });
}

/** Every column, index, constraint and type of the public schema (the bookkeeping table aside). */
async function schemaOf(url: string) {
  const columns = await query(
    url,
    `SELECT table_name, column_name, data_type, is_nullable, column_default
     FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> 'pgmigrations' ORDER BY 1, 2`,
  );
  const indexes = await query(
    url,
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE schemaname = 'public' AND tablename <> 'pgmigrations' ORDER BY 1`,
  );
  const constraints = await query(
    url,
    `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
     FROM pg_constraint WHERE connamespace = 'public'::regnamespace
       AND conrelid::regclass::text <> 'pgmigrations' ORDER BY 1, 2`,
  );
  const types = await query(
    url,
    `SELECT typname FROM pg_type
     WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd', 'c')
       AND typrelid = 0 ORDER BY 1`,
  );
  return { columns, indexes, constraints, types };
}

describe('migrations', () => {
  it('roll back one at a time to exactly the schema of the migration before, and forward again', async () => {
    const url = testDatabaseUrl(newDatabase());
    await migrate(url);
    const full = await schemaOf(url);
    expect(full.columns.length).toBeGreaterThan(50);

    for (let kept = ALL_MIGRATIONS.length - 1; kept >= 0; kept--) {
      await step(url, 'down', 1);
      // The same schema as a fresh database migrated only up to `kept`.
      const reference = testDatabaseUrl(newDatabase());
      await ensureDatabase(reference);
      if (kept > 0) await step(reference, 'up', kept);
      expect(await schemaOf(url), `after rolling back to ${kept} migrations`).toEqual(
        await schemaOf(reference),
      );
      expect(await appliedMigrations(url.split('/').pop()!)).toEqual(ALL_MIGRATIONS.slice(0, kept));
    }
    const empty = await schemaOf(url);
    expect(empty.columns).toEqual([]);
    expect(empty.types).toEqual([]);

    expect(await migrate(url)).toEqual(ALL_MIGRATIONS);
    expect(await schemaOf(url)).toEqual(full);
  });

  it('keep addresses unique in any letter case when the lower-cased key replaces citext', async () => {
    const url = testDatabaseUrl(newDatabase());
    await ensureDatabase(url);
    const before = ALL_MIGRATIONS.indexOf('1700000000013_email_key');
    await step(url, 'up', before);
    await query(
      url,
      `INSERT INTO subscribers (email) VALUES ('Ada@Example.ORG'), ('bob@example.org')`,
    );
    await query(
      url,
      `INSERT INTO events (type, source, email) VALUES ('bounce', 'api', 'BOB@example.org')`,
    );

    await step(url, 'up', 1);

    expect(await query(url, 'SELECT email, email_key FROM subscribers ORDER BY email_key')).toEqual(
      [
        { email: 'Ada@Example.ORG', email_key: 'ada@example.org' },
        { email: 'bob@example.org', email_key: 'bob@example.org' },
      ],
    );
    await expect(
      query(url, `INSERT INTO subscribers (email) VALUES ('ADA@example.org')`),
    ).rejects.toMatchObject({ code: '23505', constraint: 'subscribers_email_key' });
    expect(
      await query(url, `SELECT email FROM events WHERE lower(email) = 'bob@example.org'`),
    ).toEqual([{ email: 'BOB@example.org' }]);

    // Rolled back, citext holds the same rule and the same rows.
    await step(url, 'down', 1);
    expect(
      await query(url, `SELECT email FROM subscribers WHERE email = 'ADA@EXAMPLE.ORG'`),
    ).toEqual([{ email: 'Ada@Example.ORG' }]);
  });

  it('create a database that does not exist yet, with every table of the schema', async () => {
    const name = newDatabase();
    expect(await databaseExists(name)).toBe(false);

    const applied = await migrate(testDatabaseUrl(name));

    expect(applied).toEqual(ALL_MIGRATIONS);
    expect(await databaseExists(name)).toBe(true);
    const tables = await query<{ table_name: string }>(
      testDatabaseUrl(name),
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(SCHEMA_TABLES));
    expect(await appliedMigrations(name)).toEqual(ALL_MIGRATIONS);
  });

  it('apply nothing to a database already migrated, and its data survives', async () => {
    const name = newDatabase();
    const url = testDatabaseUrl(name);
    await migrate(url);
    await query(url, `INSERT INTO lists (name) VALUES ('Survivors')`);
    await query(url, `INSERT INTO settings (key, value) VALUES ('marker', 'kept')`);

    expect(await migrate(url)).toEqual([]);
    expect(await migrate(url)).toEqual([]);

    expect(await query(url, 'SELECT name FROM lists')).toEqual([{ name: 'Survivors' }]);
    expect(await query(url, `SELECT value FROM settings WHERE key = 'marker'`)).toEqual([
      { value: 'kept' },
    ]);
    expect(await appliedMigrations(name)).toEqual(ALL_MIGRATIONS);
  });

  it('run in parallel on a new database: exactly one applies, none fails', async () => {
    const name = newDatabase();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => migrate(testDatabaseUrl(name))),
    );

    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures.map((f) => String(f.reason))).toEqual([]);
    const applied = results.map((r) => (r as PromiseFulfilledResult<string[]>).value);
    expect(applied.filter((a) => a.length > 0)).toEqual([ALL_MIGRATIONS]);
    expect(await appliedMigrations(name)).toEqual(ALL_MIGRATIONS);
  });

  it('three processes starting at once on a new database migrate it once and all start', async () => {
    const name = newDatabase();
    const prefix = uniqueName('bt');
    prefixes.push(prefix);
    // No ADMIN_TOKEN: the three also race to generate the bootstrap token.
    const { ADMIN_TOKEN: _unset, ...env } = testEnv(name, prefix, { LOG_LEVEL: 'info' });
    const services = Array.from({ length: 3 }, () => startService('worker', env));

    await Promise.all(services.map((s) => s.waitForEvent('workers_started')));

    const migrated = services.filter((s) => s.logs().some((l) => l.event === 'migrated'));
    expect(migrated).toHaveLength(1);
    const printedTokens = services.flatMap((s) => s.stdout.match(/bt_[A-Za-z0-9_-]{43}/g) ?? []);
    expect(printedTokens).toHaveLength(1);
    expect(await appliedMigrations(name)).toEqual(ALL_MIGRATIONS);

    const exits = await Promise.all(services.map((s) => s.stop('SIGTERM')));
    exits.forEach((exit, i) => {
      const { stdout, stderr } = services[i]!;
      expect(exit, `${stdout}\n${stderr}`).toEqual({ code: 0, signal: null });
    });
  });
});
