// Adversarial input on the public pages, beyond the public-*.test.ts files: control
// characters in form fields, private lists smuggled into a preferences form, oversized forms,
// and token segments that try path traversal or overflow. Each answer is a clear page with the
// right status, and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createList, seedSubscribers, subscribe } from '../helpers/campaigns.js';
import { stateOf } from '../helpers/state.js';

let ctx: TestContext;
let publicList: { id: number; uuid: string };
let privateList: { id: number; uuid: string };
let subscriberUuid: string;
let subscriberId: number;
beforeAll(async () => {
  ctx = await createTestContext({
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    PUBLIC_URL: 'https://news.example.org',
  });
  const make = async (name: string, visibility: string) => {
    const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
      "INSERT INTO lists (name, optin, visibility) VALUES ($1, 'single', $2) RETURNING id, uuid",
      [name, visibility],
    );
    return rows[0]!;
  };
  publicList = await make('Open', 'public');
  privateList = await make('Board only', 'private');
  const other = await createList(ctx, 'Unused');
  [subscriberId] = (await seedSubscribers(ctx, 'pub', 1, 'public.test')) as [number];
  await subscribe(ctx, publicList.id, [subscriberId]);
  expect(other).toBeGreaterThan(0);
  const { rows } = await ctx.db.query<{ uuid: string }>(
    'SELECT uuid FROM subscribers WHERE id = $1',
    [subscriberId],
  );
  subscriberUuid = rows[0]!.uuid;
});
afterAll(async () => {
  await ctx?.close();
});

let ip = 0;
const nextIp = () => `198.18.0.${++ip}`;
const prefsToken = () => ctx.container.services.links.token('preferences', subscriberUuid);

function form(url: string, fields: [string, string][]) {
  return ctx.http
    .post(url)
    .set('X-Forwarded-For', nextIp())
    .type('form')
    .send(new URLSearchParams(fields).toString());
}

/** The form comes back with 400, the field marked invalid, and nothing stored or changed. */
async function expectFormRefused(url: string, fields: [string, string][]) {
  const before = await stateOf(ctx);
  const res = await form(url, fields);
  expect(res.status).toBe(400);
  expect(res.type).toBe('text/html');
  expect(res.text).toMatch(/aria-invalid="true"/);
  expect(await stateOf(ctx)).toEqual(before);
}

describe('control characters in public form fields', () => {
  it.each([
    ['CR LF with a header', 'Ada\r\nBcc: all@evil.test'],
    ['NUL', 'Ada\u0000'],
    ['an escape sequence', 'Ada\u001b[2J'],
  ])(
    'subscribe: a name with %s gets the form again with 400; nothing stored',
    async (_what, name) => {
      await expectFormRefused('/subscribe', [
        ['email', 'new@public.test'],
        ['name', name],
        ['lists', publicList.uuid],
      ]);
    },
  );

  it('subscribe: an address with a line break and a second recipient is refused', async () => {
    const before = await stateOf(ctx);
    for (const email of [
      'a@public.test\r\nb@evil.test',
      'a@public.test,b@evil.test',
      '"a b"@public.test',
      'a@public.test\u0000',
      'a@pub\u2028lic.test',
    ]) {
      const res = await form('/subscribe', [
        ['email', email],
        ['lists', publicList.uuid],
      ]);
      expect(res.status, email).toBe(400);
    }
    expect(await stateOf(ctx)).toEqual(before);
  });

  it.each([
    ['CR LF', 'Ada\r\nX-Injected: 1'],
    ['NUL', 'Ada\u0000'],
    ['a line separator (U+2028)', 'Ada\u2028Bcc: x@evil.test'],
  ])(
    'preferences: a name with %s is refused and the page shown again; nothing changes',
    async (_what, name) => {
      await expectFormRefused(`/preferences/${prefsToken()}`, [
        ['action', 'save'],
        ['name', name],
        ['lists', publicList.uuid],
      ]);
    },
  );
});

describe('lists a visitor may not choose', () => {
  it('a private list smuggled into the preferences form is never subscribed', async () => {
    const res = await form(`/preferences/${prefsToken()}`, [
      ['action', 'save'],
      ['name', 'Ada'],
      ['lists', publicList.uuid],
      ['lists', privateList.uuid],
      ['lists', '00000000-0000-0000-0000-000000000000'],
      ['lists', String(privateList.id)],
    ]);
    expect([200, 400]).toContain(res.status);
    const { rows } = await ctx.db.query(
      'SELECT 1 FROM subscriptions WHERE subscriber_id = $1 AND list_id = $2',
      [subscriberId, privateList.id],
    );
    expect(rows).toEqual([]);
  });
});

describe('lists smuggled into the subscribe form', () => {
  it('private, unknown and numeric list ids next to a public one subscribe to the public one only', async () => {
    const email = 'smuggler@public.test';
    const res = await form('/subscribe', [
      ['email', email],
      ['lists', publicList.uuid],
      ['lists', privateList.uuid],
      ['lists', String(privateList.id)],
      ['lists', '00000000-0000-0000-0000-000000000000'],
      ['lists', "' OR 1=1 --"],
    ]);
    expect(res.status).toBe(200);
    const { rows } = await ctx.db.query(
      `SELECT x.list_id FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
       WHERE s.email_key = lower($1)`,
      [email],
    );
    expect(rows).toEqual([{ list_id: publicList.id }]);
  });
});

describe('markup and Liquid in names', () => {
  const hostile = '{{ 12345 | plus: 54321 }}{% raw %}<img src=x onerror=alert(1)>';

  it('the subscribe form shows a refused name back escaped and never evaluated', async () => {
    const before = await stateOf(ctx);
    const res = await form('/subscribe', [
      ['email', 'not an address'],
      ['name', hostile],
      ['lists', publicList.uuid],
    ]);
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '{{ 12345 | plus: 54321 }}{% raw %}&lt;img src=x onerror=alert(1)&gt;',
    );
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).not.toContain('66666');
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('the preference page stores such a name as typed and shows it escaped', async () => {
    const saved = await form(`/preferences/${prefsToken()}`, [
      ['action', 'save'],
      ['name', hostile],
      ['lists', publicList.uuid],
    ]);
    expect(saved.status).toBe(200);
    const page = await ctx.http
      .get(`/preferences/${prefsToken()}`)
      .set('X-Forwarded-For', nextIp());
    expect(page.text).toContain(
      'value="{{ 12345 | plus: 54321 }}{% raw %}&lt;img src=x onerror=alert(1)&gt;"',
    );
    expect(page.text).not.toContain('<img src=x');
    const { rows } = await ctx.db.query('SELECT name FROM subscribers WHERE id = $1', [
      subscriberId,
    ]);
    expect(rows).toEqual([{ name: hostile }]);
  });
});

describe('oversized and malformed bodies', () => {
  it('a form body over the limit gets a 413 page; nothing stored', async () => {
    const before = await stateOf(ctx);
    const res = await form('/subscribe', [
      ['email', 'big@public.test'],
      ['name', 'x'.repeat(2 * 1024 * 1024)],
      ['lists', publicList.uuid],
    ]);
    expect(res.status).toBe(413);
    expect(res.type).toBe('text/html');
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('an oversized one-click or preferences post with a genuine token gets a 413 page and changes nothing', async () => {
    const before = await stateOf(ctx);
    const unsubscribeToken = ctx.container.services.links.token('unsubscribe', subscriberUuid);
    const big = 'x'.repeat(100 * 1024);
    const answers = [
      await form(`/unsubscribe/${unsubscribeToken}`, [
        ['List-Unsubscribe', 'One-Click'],
        ['pad', big],
      ]),
      await form(`/preferences/${prefsToken()}`, [
        ['action', 'unsubscribe-all'],
        ['pad', big],
      ]),
      await form(`/preferences/${prefsToken()}`, [
        ['action', 'erase'],
        ['confirm', 'erase'],
        ['pad', big],
      ]),
    ];
    for (const res of answers) {
      expect(res.status).toBe(413);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain('Too much data');
    }
    expect(await stateOf(ctx)).toEqual(before);
  });
});

describe('token segments that try path traversal or overflow', () => {
  it('answer exactly like an unknown token', async () => {
    const unknown = await ctx.http.get('/unsubscribe/AAAAAA.unknown-token-value-000000');
    expect(unknown.status).toBe(404);
    for (const token of [
      '..%2F..%2Fetc%2Fpasswd',
      '..%5C..%5Cwindows%5Cwin.ini',
      '%2e%2e%2f%2e%2e%2f',
      'a'.repeat(5000),
      '%00',
      `${prefsToken()}%00`,
      `${prefsToken()}%2F..`,
    ]) {
      for (const page of ['unsubscribe', 'preferences', 'confirm']) {
        const res = await ctx.http.get(`/${page}/${token}`).set('X-Forwarded-For', nextIp());
        expect(res.status, `${page}/${token.slice(0, 40)}`).toBe(404);
        expect(res.text).toBe(unknown.text);
      }
    }
  });
});
