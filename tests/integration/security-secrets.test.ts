// Tokens are kept only as hashes (PRODUCT.md §4): after tokens are made and used, no column of
// any table, no Redis key or value of this deployment, and no API answer holds one in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  createTestContext,
  REDIS_URL,
  TEST_ADMIN_TOKEN,
  type TestContext,
} from '../helpers/context.js';
import { hashToken } from '../../src/domain/tokens.js';

let ctx: TestContext;
const made: string[] = [];
beforeAll(async () => {
  ctx = await createTestContext();
  for (const scopes of [['read'], ['ops'], ['admin']]) {
    const res = await ctx.api().post('/api/v1/tokens').send({ name: scopes[0], scopes });
    expect(res.status).toBe(201);
    made.push(res.body.token as string);
  }
  // Use them, so any "last used" bookkeeping has run.
  for (const token of made) {
    await ctx.http.get('/api/v1/queues').set('Authorization', `Bearer ${token}`);
  }
});
afterAll(async () => {
  await ctx?.close();
});

/** Every value of every column of every table, as text. */
async function everyStoredValue(): Promise<string> {
  const { rows: tables } = await ctx.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await ctx.db.query(`SELECT t::text AS row FROM "${table_name}" t`);
    for (const r of rows as { row: string }[]) parts.push(r.row);
  }
  return parts.join('\n');
}

describe('tokens only as hashes', () => {
  it('no table holds a token in clear, nor in the hex or base64 of its bytes', async () => {
    const stored = await everyStoredValue();
    // The dump does include the token rows (their names and scopes).
    expect(stored).toMatch(/\(\d+,read,/);
    for (const token of [...made, TEST_ADMIN_TOKEN]) {
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(Buffer.from(token).toString('hex'));
      expect(stored).not.toContain(Buffer.from(token).toString('base64'));
    }
    // What is stored is the hash (bytea, shown as \x…): the check above can see stored tokens.
    const { rows } = await ctx.db.query<{ hash: Buffer }>(
      'SELECT token_hash AS hash FROM api_tokens',
    );
    const hashes = rows.map((r) => r.hash.toString('hex'));
    for (const token of made) expect(hashes).toContain(hashToken(token).toString('hex'));
  });

  it("no Redis key or value of this deployment's prefix holds a token", async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(
          cursor,
          'MATCH',
          `${ctx.config.queuePrefix}:*`,
          'COUNT',
          500,
        );
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      const dump: string[] = [...keys];
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') dump.push((await redis.get(key)) ?? '');
        if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
        if (type === 'list') dump.push(...(await redis.lrange(key, 0, -1)));
        if (type === 'zset') dump.push(...(await redis.zrange(key, '0', '-1')));
        if (type === 'set') dump.push(...(await redis.smembers(key)));
      }
      const text = dump.join('\n');
      for (const token of [...made, TEST_ADMIN_TOKEN]) expect(text).not.toContain(token);
    } finally {
      redis.disconnect();
    }
  });

  it('listing tokens shows names, scopes and a short prefix, never the token or its hash', async () => {
    const res = await ctx.api().get('/api/v1/tokens').expect(200);
    const text = JSON.stringify(res.body);
    for (const token of made) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashToken(token).toString('hex'));
      expect(text).not.toContain(hashToken(token).toString('base64'));
    }
    expect(res.body.data.length).toBeGreaterThanOrEqual(3);
    for (const row of res.body.data as Record<string, unknown>[]) {
      expect(Object.keys(row)).not.toContain('token');
      expect(Object.keys(row).some((k) => /hash/i.test(k))).toBe(false);
    }
  });
});
