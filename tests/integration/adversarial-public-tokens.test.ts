// Forged link tokens on every public page and method, beyond public-unsubscribe's
// "bad links": truncations, padding, the standard base64 alphabet, slack bits, key ids, a
// swapped purpose byte, genuine tokens posted to the wrong page's destructive actions. Each
// answer must be byte for byte the answer to an unknown token, and nothing may change. Then
// replayed confirmation links, in parallel: one confirmation, one event.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLink, signingKey } from '../../src/domain/links.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { seedSubscribers, subscribe } from '../helpers/campaigns.js';
import { stateOf } from '../helpers/state.js';

let ctx: TestContext;
let listId: number;
let subscriberId: number;
let subscriberUuid: string;
beforeAll(async () => {
  ctx = await createTestContext({
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    PUBLIC_URL: 'https://news.example.org',
  });
  const { rows } = await ctx.db.query<{ id: number }>(
    "INSERT INTO lists (name, optin, visibility) VALUES ('Open', 'single', 'public') RETURNING id",
  );
  listId = rows[0]!.id;
  [subscriberId] = (await seedSubscribers(ctx, 'tok', 1, 'tokens.test')) as [number];
  await subscribe(ctx, listId, [subscriberId]);
  const uuid = await ctx.db.query<{ uuid: string }>('SELECT uuid FROM subscribers WHERE id = $1', [
    subscriberId,
  ]);
  subscriberUuid = uuid.rows[0]!.uuid;
});
afterAll(async () => {
  await ctx?.close();
});

type Purpose = 'unsubscribe' | 'preferences' | 'confirm';
const sign = (purpose: Purpose, campaignUuid?: string) =>
  ctx.container.services.links.token(purpose, subscriberUuid, campaignUuid);

/** A genuine token whose body has "-" and "_": the standard alphabet spells them "+" and "/". */
function tokenWithUrlSafeCharacters(purpose: Purpose): string {
  for (;;) {
    const token = sign(purpose, randomUUID());
    const body = token.split('.')[1]!;
    if (body.includes('-') && body.includes('_')) return token;
  }
}

function forgeries(purpose: Purpose): [string, string][] {
  const genuine = sign(purpose);
  const [kid, body] = genuine.split('.') as [string, string];
  const withCampaign = tokenWithUrlSafeCharacters(purpose);
  const [cKid, cBody] = withCampaign.split('.') as [string, string];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  // 49 bytes in 66 characters: the last one carries 4 bits nobody reads.
  const last = alphabet.indexOf(cBody.at(-1)!);
  const slack = `${cKid}.${cBody.slice(0, -1)}${alphabet[last ^ 1]}`;
  const bytes = Buffer.from(body, 'base64url');
  const purposeSwapped = Buffer.from(bytes);
  purposeSwapped[0] = purposeSwapped[0] === 1 ? 2 : 1;
  const flippedKid = kid.replace(/[a-zA-Z]/, (c) =>
    c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
  );
  return [
    ['truncated by one character', genuine.slice(0, -1)],
    ['truncated to the payload (no MAC)', `${kid}.${bytes.subarray(0, 17).toString('base64url')}`],
    ['the MAC alone', `${kid}.${bytes.subarray(17).toString('base64url')}`],
    ['base64 padding "="', `${genuine}=`],
    ['base64 padding "=="', `${genuine}==`],
    ['the standard base64 alphabet', `${cKid}.${cBody.replace(/-/g, '+').replace(/_/g, '/')}`],
    ['other slack bits in the last character', slack],
    ['the key id in another case', `${flippedKid}.${body}`],
    ['an unknown key id with the genuine body', `AAAAAA.${body}`],
    ['no key id', body],
    ['the purpose byte swapped', `${kid}.${purposeSwapped.toString('base64url')}`],
    ['one bit flipped in the MAC', `${kid}.${flipBit(bytes, 30).toString('base64url')}`],
    ['one bit flipped in the subscriber uuid', `${kid}.${flipBit(bytes, 5).toString('base64url')}`],
    [
      'signed with another secret',
      signLink(signingKey('another-secret-key-0123456789abcdef0123'), {
        purpose,
        subscriberUuid,
      }),
    ],
    ['a double dot', `${kid}..${body}`],
    ['a trailing NUL', `${genuine}%00`],
    ['a trailing encoded slash', `${genuine}%2F`],
    ['an extra path segment', `${genuine}/extra`],
    ['the token after a dot segment', `x/../${genuine}`],
  ];
}

function flipBit(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

let ip = 0;
const nextIp = () => `198.18.${Math.floor(++ip / 250)}.${(ip % 250) + 1}`;

/** Every page and method a token opens, with the most destructive body each one takes. */
const REQUESTS: [
  string,
  (token: string) => Promise<{ status: number; text: string; type: string }>,
][] = [
  ['GET /unsubscribe', (t) => ctx.http.get(`/unsubscribe/${t}`).set('X-Forwarded-For', nextIp())],
  [
    'POST /unsubscribe (one-click)',
    (t) =>
      ctx.http
        .post(`/unsubscribe/${t}`)
        .set('X-Forwarded-For', nextIp())
        .type('form')
        .send('List-Unsubscribe=One-Click'),
  ],
  ['GET /preferences', (t) => ctx.http.get(`/preferences/${t}`).set('X-Forwarded-For', nextIp())],
  [
    'POST /preferences (erase)',
    (t) =>
      ctx.http
        .post(`/preferences/${t}`)
        .set('X-Forwarded-For', nextIp())
        .type('form')
        .send('action=erase&confirm=erase'),
  ],
  [
    'POST /preferences (unsubscribe all)',
    (t) =>
      ctx.http
        .post(`/preferences/${t}`)
        .set('X-Forwarded-For', nextIp())
        .type('form')
        .send('action=unsubscribe-all'),
  ],
  ['GET /confirm', (t) => ctx.http.get(`/confirm/${t}`).set('X-Forwarded-For', nextIp())],
  ['GET /my-data', (t) => ctx.http.get(`/my-data/${t}`).set('X-Forwarded-For', nextIp())],
  ['GET /erase', (t) => ctx.http.get(`/erase/${t}`).set('X-Forwarded-For', nextIp())],
  [
    'POST /erase',
    (t) =>
      ctx.http
        .post(`/erase/${t}`)
        .set('X-Forwarded-For', nextIp())
        .type('form')
        .send('confirm=erase'),
  ],
];

const PAGE_PURPOSE: Record<string, Purpose> = {
  unsubscribe: 'unsubscribe',
  preferences: 'preferences',
  confirm: 'confirm',
};

describe('forged tokens answer exactly like an unknown token', () => {
  it.each(REQUESTS)('%s', async (what, send) => {
    const purpose = PAGE_PURPOSE[what.split(' ')[1]!.slice(1)]!;
    const unknown = await send(`AAAAAA.${'A'.repeat(44)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('text/html');
    const before = await stateOf(ctx);
    for (const [name, token] of forgeries(purpose)) {
      const res = await send(token);
      expect({ status: res.status, type: res.type, text: res.text }, name).toEqual({
        status: unknown.status,
        type: unknown.type,
        text: unknown.text,
      });
    }
    expect(await stateOf(ctx)).toEqual(before);
    // The genuine token still opens its page (GETs only: the POSTs would change things).
    if (what.startsWith('GET /unsubscribe') || what.startsWith('GET /preferences')) {
      expect((await send(sign(purpose))).status).toBe(200);
    }
  });

  it('genuine tokens on another page’s destructive action change nothing', async () => {
    const before = await stateOf(ctx);
    const unknown = await REQUESTS[1]![1](`AAAAAA.${'A'.repeat(44)}`);
    const bounce = signLink(signingKey(ctx.config.secretKey!), {
      purpose: 'bounce',
      subscriberUuid,
    });
    const crossed: [number, string][] = [
      [1, sign('preferences')], // one-click unsubscribe with a preferences token
      [1, sign('confirm')],
      [1, bounce],
      [3, sign('unsubscribe')], // erase with an unsubscribe token
      [3, sign('confirm')],
      [4, sign('unsubscribe')],
      [5, sign('preferences')], // confirm with a preferences token
      [5, sign('unsubscribe')],
      [5, bounce],
    ];
    for (const [index, token] of crossed) {
      const res = await REQUESTS[index]![1](token);
      expect({ status: res.status, text: res.text }, REQUESTS[index]![0]).toEqual({
        status: unknown.status,
        text: unknown.text,
      });
    }
    expect(await stateOf(ctx)).toEqual(before);
  });
});

describe('replayed confirmation links', () => {
  it('five parallel clicks and a later one confirm once: one consent record, one event', async () => {
    const { rows } = await ctx.db.query<{ id: number }>(
      "INSERT INTO lists (name, optin, visibility) VALUES ('Double', 'double', 'public') RETURNING id",
    );
    const doubleId = rows[0]!.id;
    const [id] = (await seedSubscribers(ctx, 'replay', 1, 'tokens.test')) as [number];
    await ctx.db.query(
      "INSERT INTO subscriptions (list_id, subscriber_id, status) VALUES ($1, $2, 'unconfirmed')",
      [doubleId, id],
    );
    const { rows: u } = await ctx.db.query<{ uuid: string }>(
      'SELECT uuid FROM subscribers WHERE id = $1',
      [id],
    );
    const path = `/confirm/${ctx.container.services.links.token('confirm', u[0]!.uuid)}`;
    const clicks = await Promise.all(
      Array.from({ length: 5 }, () => ctx.http.get(path).set('X-Forwarded-For', nextIp())),
    );
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200, 200, 200]);
    expect(clicks.filter((c) => c.text.includes('Subscription confirmed'))).toHaveLength(1);
    const later = await ctx.http.get(path).set('X-Forwarded-For', nextIp());
    expect(later.text).toContain('Already confirmed');
    const count = async (sql: string) =>
      (await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, [id])).rows[0]!.n;
    expect(await count("events WHERE subscriber_id = $1 AND type = 'confirmed'")).toBe(1);
    expect(await count("consent_records WHERE subscriber_id = $1 AND action = 'confirm'")).toBe(1);
    expect(
      (await ctx.db.query('SELECT status FROM subscriptions WHERE subscriber_id = $1', [id])).rows,
    ).toEqual([{ status: 'confirmed' }]);
  });
});
