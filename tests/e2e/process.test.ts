// The real entry point, spawned as an operator runs it: `node --import tsx main.ts <role>`,
// talked to over real HTTP with fetch.
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PG_ADMIN_URL,
  TEST_ADMIN_TOKEN,
  deleteQueueKeys,
  dropDatabase,
  testEnv,
  uniqueName,
  waitFor,
} from '../helpers/context.js';
import { killAll, runToExit, startService } from '../helpers/process.js';

const TOKEN = /bt_[A-Za-z0-9_-]{43}/g;
const REDIS_URL = 'redis://127.0.0.1:6379';

const databases: string[] = [];
const prefixes: string[] = [];
function world(extra: Record<string, string> = {}) {
  const dbName = uniqueName('bulletin_test');
  const prefix = uniqueName('bt');
  databases.push(dbName);
  prefixes.push(prefix);
  return { dbName, prefix, env: testEnv(dbName, prefix, { LOG_LEVEL: 'info', ...extra }) };
}

afterAll(async () => {
  await killAll();
  for (const prefix of prefixes) await deleteQueueKeys(REDIS_URL, prefix);
  for (const name of databases) await dropDatabase(name);
});

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return found.rowCount === 1;
  } finally {
    await client.end();
  }
}

/** fetch against a base URL with a bearer token, answering status and parsed JSON. */
function client(base: string, token: string) {
  return async (path: string, init: RequestInit = {}) => {
    const res = await fetch(base + path, {
      ...init,
      headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}

const READERS_CSV = [
  'email,name,city',
  'ada@example.org,Ada Lovelace,London',
  'grace@example.org,Grace Hopper,Arlington',
  'not-an-address,Broken Row,Nowhere',
  '',
].join('\n');

async function importReaders(api: ReturnType<typeof client>, listId: number) {
  const posted = await api(`/api/v1/lists/${listId}/imports?mode=upsert`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/csv' },
    body: READERS_CSV,
  });
  expect(posted.status, JSON.stringify(posted.body)).toBe(202);
  expect(posted.body).toMatchObject({ status: 'queued', total: 3 });
  return posted.body.id as number;
}

async function importDone(api: ReturnType<typeof client>, importId: number) {
  return waitFor(async (): Promise<{ status: string } | undefined> => {
    const { body } = (await api(`/api/v1/imports/${importId}`)) as { body: { status: string } };
    return body.status === 'done' || body.status === 'failed' ? body : undefined;
  });
}

describe('start-up failures', () => {
  it('a wrong PORT stops start-up with exit 78, naming PORT, without a stack trace', async () => {
    const { dbName, env } = world({ PORT: 'abc' });
    const result = await runToExit('all', env);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/^\s*PORT: /m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain('node_modules');
    // It stopped before touching anything.
    expect(await databaseExists(dbName)).toBe(false);
  });

  it('a port already in use stops start-up naming PORT, before any worker starts', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const { env } = world({ PORT: String(port) });
      const result = await runToExit('all', env);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toContain(`PORT ${port}`);
      expect(result.stderr).toContain('EADDRINUSE');
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stdout).not.toContain('"event":"listening"');
      // The port is bound before any worker starts, so no job was taken by a failed start.
      expect(result.stdout).not.toContain('"event":"workers_started"');
    } finally {
      blocker.close();
    }
  });

  it('an unreachable database stops start-up naming DATABASE_URL, never its password', async () => {
    const { env } = world({ DATABASE_URL: 'postgres://postgres:pa55word@127.0.0.1:1/bulletin' });
    const result = await runToExit('api', env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).not.toContain('pa55word');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('an unknown role stops start-up naming the roles', async () => {
    const { env } = world();
    const result = await runToExit('scheduler', env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('use all, api or worker');
  });
});

describe('one process with every role (npm start)', () => {
  it('prints a generated token once, serves the README flow, and restarts without a new token', async () => {
    const { dbName, env: withToken } = world();
    const { ADMIN_TOKEN: _unset, ...env } = withToken;
    expect(await databaseExists(dbName)).toBe(false);

    const first = startService('all', env);
    const base = await first.listening();
    const tokens = first.stdout.match(TOKEN) ?? [];
    expect(tokens).toHaveLength(1);
    const token = tokens[0]!;
    // Printed on stdout, never through the logger.
    expect(first.logs().some((l) => JSON.stringify(l).includes(token))).toBe(false);

    // No account yet: a one-time link to make the first admin, on stdout only.
    const setup = first.stdout.match(/https?:\/\/\S+?(\/admin\/setup\/[\w-]+\.[\w-]+)/);
    expect(setup).not.toBeNull();
    expect(first.logs().some((l) => JSON.stringify(l).includes(setup![1]!))).toBe(false);
    const page = await fetch(`${base}${setup![1]}`);
    expect(page.status).toBe(200);
    const made = await fetch(`${base}${setup![1]}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        email: 'first@staff.example.org',
        name: 'First Admin',
        password: 'a long first password',
        confirm: 'a long first password',
      }).toString(),
    });
    expect(made.status).toBe(200);
    const signIn = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'first@staff.example.org', password: 'a long first password' }),
    });
    expect(signIn.status).toBe(200);

    const api = client(base, token);
    expect((await api('/api/v1/lists')).status).toBe(200);
    expect((await client(base, `${token}x`)('/api/v1/lists')).status).toBe(401);
    expect((await fetch(`${base}/api/v1/lists`)).status).toBe(401);

    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      checks: { postgres: { ok: true }, redis: { ok: true }, smtp: { ok: true } },
    });

    // The README's first five minutes.
    const list = await api('/api/v1/lists', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Quarterly newsletter', description: 'Readers' }),
    });
    expect(list.status).toBe(201);
    const importId = await importReaders(api, list.body.id);
    expect(await importDone(api, importId)).toMatchObject({
      status: 'done',
      total: 3,
      processed: 3,
      inserted: 2,
      errorCount: 1,
      errors: [{ line: 4 }],
    });
    const subscribers = await api(`/api/v1/subscribers?list=${list.body.id}`);
    expect(subscribers.status).toBe(200);
    expect(
      subscribers.body.data
        .map((s: { email: string; name: string; attributes: unknown }) => [
          s.email,
          s.name,
          s.attributes,
        ])
        .sort(),
    ).toEqual([
      ['ada@example.org', 'Ada Lovelace', { city: 'London' }],
      ['grace@example.org', 'Grace Hopper', { city: 'Arlington' }],
    ]);

    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(first.logs().some((l) => l.event === 'stopped')).toBe(true);

    const second = startService('all', env);
    const base2 = await second.listening();
    expect(second.stdout).not.toMatch(TOKEN);
    expect(second.stdout).not.toContain('/admin/setup/'); // an account exists now
    expect(second.logs().some((l) => l.event === 'migrated')).toBe(false);
    const again = await client(base2, token)(`/api/v1/lists/${list.body.id}`);
    expect(again.status).toBe(200);
    expect(again.body.subscriberCounts).toMatchObject({ confirmed: 2 });
    expect(await second.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});

describe('stopping', () => {
  it('a SIGTERM that arrives during start-up still drains and exits 0', async () => {
    const { env } = world();
    const service = startService('all', env);
    // Migration is the first step of start-up; the workers and the server come after it.
    await service.waitForEvent('migrated');
    expect(await service.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(service.logs().some((l) => l.event === 'stopped')).toBe(true);
  });
});

describe('separate api and worker processes (npm run start:api, start:worker)', () => {
  it('an import posted to the api process is processed by the worker process', async () => {
    const { env } = world();
    const apiProcess = startService('api', env);
    const base = await apiProcess.listening();
    const api = client(base, TEST_ADMIN_TOKEN);

    const list = await api('/api/v1/lists', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Split roles' }),
    });
    const importId = await importReaders(api, list.body.id);
    // The api role runs no workers: the import waits for one.
    expect((await api(`/api/v1/imports/${importId}`)).body.status).toBe('queued');
    expect(apiProcess.logs().some((l) => l.event === 'workers_started')).toBe(false);

    const worker = startService('worker', env);
    await worker.waitForEvent('workers_started');
    expect(worker.logs().some((l) => l.event === 'listening')).toBe(false);
    expect(await importDone(api, importId)).toMatchObject({ status: 'done', inserted: 2 });
    const subscribers = await api(`/api/v1/subscribers?list=${list.body.id}`);
    expect(subscribers.body.data.map((s: { email: string }) => s.email).sort()).toEqual([
      'ada@example.org',
      'grace@example.org',
    ]);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await apiProcess.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
