// Tokens are kept only as hashes (docs/contract.md §4): after tokens are made and used, no column of
// any table, no Redis key or value of this deployment, and no API answer holds one in clear.
// Configured secrets (SMTP password, webhook keys, METRICS_TOKEN, SECRET_KEY) are never stored;
// only a generated SECRET_KEY is, by design, so that every process signs links alike.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type pg from 'pg';
import {
  createTestContext,
  REDIS_URL,
  TEST_ADMIN_TOKEN,
  waitFor,
  type TestContext,
} from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { allEventsApplied } from '../helpers/webhooks.js';
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

/** Every value of every column of every table, as text (each row as PostgreSQL prints it). */
async function everyStoredValue(db: pg.Pool = ctx.db): Promise<string> {
  const { rows: tables } = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await db.query(`SELECT t::text AS row FROM "${table_name}" t`);
    for (const r of rows as { row: string }[]) parts.push(r.row);
  }
  return parts.join('\n');
}

/** Every key under a queue prefix, and every value of strings, hashes, lists, sets and zsets. */
async function everyRedisValue(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
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
      if (type === 'stream') dump.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
    return dump.join('\n');
  } finally {
    redis.disconnect();
  }
}

/** The secret as written, and as its bytes in hex or base64 (how bytea or a header carries it). */
function expectAbsent(text: string, secrets: string[]) {
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString('hex'));
    expect(text).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

describe('tokens only as hashes', () => {
  it('no table holds a token in clear, nor in the hex or base64 of its bytes', async () => {
    const stored = await everyStoredValue();
    // The dump does include the token rows (their names and scopes).
    expect(stored).toMatch(/\(\d+,read,/);
    expectAbsent(stored, [...made, TEST_ADMIN_TOKEN]);
    // What is stored is the hash (bytea, shown as \x…): the check above can see stored tokens.
    const { rows } = await ctx.db.query<{ hash: Buffer }>(
      'SELECT token_hash AS hash FROM api_tokens',
    );
    const hashes = rows.map((r) => r.hash.toString('hex'));
    for (const token of made) expect(hashes).toContain(hashToken(token).toString('hex'));
  });

  it("no Redis key or value of this deployment's prefix holds a token", async () => {
    // Rate-limit counters and queue keys exist under the prefix: the dump is not empty.
    await ctx.http.get('/unsubscribe/forged-link').expect(404);
    const text = await everyRedisValue(ctx.config.queuePrefix);
    expect(text).toContain(`${ctx.config.queuePrefix}:ratelimit:`);
    expectAbsent(text, [...made, TEST_ADMIN_TOKEN]);
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

describe('generated bootstrap secrets', () => {
  let fresh: TestContext;
  beforeAll(async () => {
    // No ADMIN_TOKEN, no SECRET_KEY: the first start generates both.
    fresh = await createTestContext({ ADMIN_TOKEN: '', SECRET_KEY: '' });
  });
  afterAll(async () => {
    await fresh?.close();
  });

  it('a generated admin token works and is kept only as its hash', async () => {
    const token = fresh.container.secrets.generatedAdminToken!;
    expect(token).toMatch(/^bt_/);
    await fresh.http.get('/api/v1/tokens').set('Authorization', `Bearer ${token}`).expect(200);
    const stored = await everyStoredValue(fresh.db);
    expectAbsent(stored, [token]);
    expect(stored).toContain(hashToken(token).toString('hex'));
    expectAbsent(await everyRedisValue(fresh.config.queuePrefix), [token]);
  });

  it('a generated SECRET_KEY is stored in settings, by design: every process must sign alike', async () => {
    const { rows } = await fresh.db.query<{ value: string }>(
      "SELECT value FROM settings WHERE key = 'secret_key'",
    );
    expect(rows.map((r) => r.value)).toEqual([fresh.container.secrets.secretKey]);
  });
});

describe('configured secrets', () => {
  const SMTP_PASSWORD = 'smtp-password-never-stored-4711';
  const secrets = {
    WEBHOOK_SECRET: 'generic-webhook-secret-never-stored-0123',
    MAILGUN_SIGNING_KEY: 'mailgun-signing-key-never-stored-0123',
    POSTMARK_WEBHOOK_USER: 'postmark-user',
    POSTMARK_WEBHOOK_PASSWORD: 'postmark-password-never-stored-0123',
    METRICS_TOKEN: 'metrics-token-never-stored-0123456',
    SECRET_KEY: 'configured-secret-key-never-stored-0123456789',
  };
  let conf: TestContext;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    const port = new URL(sink.url).port;
    conf = await createTestContext({
      ...secrets,
      SMTP_URL: `smtp://mailer:${SMTP_PASSWORD}@127.0.0.1:${port}`,
      MAX_SEND_ERRORS: '2',
      RETRY_BASE_DELAY_MS: '50',
    });
    conf.startWorkers();
  });
  afterAll(async () => {
    await conf?.close();
    await sink?.close();
  });

  it('no table and no Redis value holds them, after mail, webhooks and an SMTP login failure', async () => {
    // Webhooks from two providers, each authenticated with its secret.
    const list = await fixtures.createList(conf, 'Secrets');
    const ids = await fixtures.seedSubscribers(conf, 'sec', 3, 'secrets.test');
    await fixtures.subscribe(conf, list, ids);
    const t = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      events: [{ id: 'g-1', type: 'bounce', bounceType: 'hard', email: 'sec1@secrets.test' }],
    });
    const v1 = createHmac('sha256', secrets.WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex');
    await conf.http
      .post('/webhooks/generic')
      .set('Content-Type', 'application/json')
      .set('Bulletin-Signature', `t=${t},v1=${v1}`)
      .send(body)
      .expect(200);
    const basic = `${secrets.POSTMARK_WEBHOOK_USER}:${secrets.POSTMARK_WEBHOOK_PASSWORD}`;
    await conf.http
      .post('/webhooks/postmark')
      .set('Content-Type', 'application/json')
      .set('Authorization', `Basic ${Buffer.from(basic).toString('base64')}`)
      .send({
        RecordType: 'SpamComplaint',
        ID: 42,
        Type: 'SpamComplaint',
        TypeCode: 512,
        Email: 'sec2@secrets.test',
        BouncedAt: new Date().toISOString(),
      })
      .expect(200);
    await allEventsApplied(conf);

    // A campaign whose SMTP login is refused pauses itself with the server's reason.
    sink.behaviour.authError = { code: 535, message: '5.7.8 Authentication credentials invalid' };
    const campaign = await fixtures.createCampaign(conf, {
      templateId: await fixtures.createTemplate(conf),
      listIds: [list],
    });
    await conf.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
    await waitFor(async () => (await fixtures.campaignStatus(conf, campaign.id)) === 'paused', {
      timeoutMs: 60_000,
    });
    const { rows } = await conf.db.query<{ status_reason: string }>(
      'SELECT status_reason FROM campaigns WHERE id = $1',
      [campaign.id],
    );
    expect(rows[0]!.status_reason).toMatch(/535|[Aa]uthentication/);

    const stored = await everyStoredValue(conf.db);
    // The dump sees what was written above: subscribers, the providers' payloads, the reason.
    for (const seen of ['sec1@secrets.test', 'SpamComplaint', 'g-1', 'Authentication'])
      expect(stored).toContain(seen);
    const all = [SMTP_PASSWORD, ...Object.values(secrets).filter((v) => v !== 'postmark-user')];
    expectAbsent(stored, [...all, basic]);
    expectAbsent(await everyRedisValue(conf.config.queuePrefix), [...all, basic]);
  });
});
