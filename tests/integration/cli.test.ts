import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/domain/tokens.js';
import { dropDatabase, testDatabaseUrl, uniqueName } from '../helpers/context.js';

const run = promisify(execFile);
const dbName = uniqueName('bulletin_test_cli');
// No BULLETIN_TOKEN: token create then takes the direct-database path it is tested on here (with
// one, it goes through the API: tests/e2e/cli-api.test.ts).
const env = {
  ...process.env,
  NODE_ENV: 'test',
  DATABASE_URL: testDatabaseUrl(dbName),
  BULLETIN_TOKEN: '',
};
const bulletin = (...args: string[]) =>
  run(process.execPath, ['bin/bulletin.js', ...args], { env });

afterAll(async () => {
  await dropDatabase(dbName);
});

describe('the bulletin command', () => {
  it('migrate creates and migrates a new database, then finds nothing to do', async () => {
    const first = await bulletin('migrate');
    expect(first.stdout).toMatch(/^Applied: 1700000000001_initial/);
    const second = await bulletin('migrate');
    expect(second.stdout).toBe('Database is up to date.\n');
  });

  it('token create prints a token once and stores only its hash with the scopes', async () => {
    const { stdout } = await bulletin(
      'token',
      'create',
      '--name',
      'deploy',
      '--scopes',
      'read,ops',
    );
    const token = /bt_[A-Za-z0-9_-]{43}/.exec(stdout)?.[0];
    expect(token).toBeDefined();
    const client = new pg.Client({ connectionString: testDatabaseUrl(dbName) });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT name, scopes, token_hash FROM api_tokens');
      expect(rows).toHaveLength(1);
      expect(rows[0].name).toBe('deploy');
      expect(rows[0].scopes).toEqual(['read', 'ops']);
      expect(rows[0].token_hash.equals(hashToken(token!))).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('refuses unknown scopes and a bad configuration with a clear message', async () => {
    await expect(
      bulletin('token', 'create', '--name', 'x', '--scopes', 'root'),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('scopes must be a comma-separated subset of'),
    });
    await expect(
      run(process.execPath, ['bin/bulletin.js', 'migrate'], {
        env: { ...env, DATABASE_URL: 'mysql://x' },
      }),
    ).rejects.toMatchObject({ code: 78, stderr: expect.stringContaining('DATABASE_URL') });
  });

  it('user create makes an account and prints a one-time set-password link, once per address', async () => {
    const { stdout } = await bulletin(
      'user',
      'create',
      '--email',
      'first@staff.example.org',
      '--name',
      'First Admin',
    );
    expect(stdout).toContain('with roles admin');
    const link = /http:\/\/localhost:3000\/admin\/password\/[\w-]+\.[\w-]+/.exec(stdout)?.[0];
    expect(link).toBeDefined();
    const client = new pg.Client({ connectionString: testDatabaseUrl(dbName) });
    await client.connect();
    try {
      const users = await client.query('SELECT email, roles, password_hash FROM users');
      expect(users.rows).toEqual([
        { email: 'first@staff.example.org', roles: ['admin'], password_hash: null },
      ]);
      const links = await client.query(
        "SELECT token_hash FROM account_links WHERE purpose = 'set-password' AND used_at IS NULL",
      );
      expect(links.rows).toHaveLength(1);
      expect(links.rows[0].token_hash.equals(hashToken(link!.split('/').at(-1)!))).toBe(true);
    } finally {
      await client.end();
    }
    await expect(
      bulletin('user', 'create', '--email', 'FIRST@staff.example.org', '--name', 'Again'),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('exists') });
    await expect(
      bulletin(
        'user',
        'create',
        '--email',
        'x@staff.example.org',
        '--name',
        'X',
        '--roles',
        'root',
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('viewer, editor, sender') });
  });
});
