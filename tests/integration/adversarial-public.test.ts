// Adversarial input on the public pages (issue 7), beyond the public-*.test.ts files: control
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
  ctx = await createTestContext({ PUBLIC_URL: 'https://news.example.org' });
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

describe('control characters in public form fields', () => {
  it.each([
    ['CR LF with a header', 'Ada\r\nBcc: all@evil.test'],
    ['NUL', 'Ada\u0000'],
    ['an escape sequence', 'Ada\u001b[2J'],
  ])(
    'subscribe: a name with %s gets the form again with 400; nothing stored',
    async (_what, name) => {
      const before = await stateOf(ctx);
      const res = await form('/subscribe', [
        ['email', 'new@public.test'],
        ['name', name],
        ['lists', publicList.uuid],
      ]);
      expect(res.status).toBe(400);
      expect(res.type).toBe('text/html');
      expect(res.text).toMatch(/aria-invalid="true"/);
      expect(await stateOf(ctx)).toEqual(before);
    },
  );

  it('subscribe: an address with a line break and a second recipient is refused', async () => {
    const before = await stateOf(ctx);
    for (const email of [
      'a@public.test\r\nb@evil.test',
      'a@public.test,b@evil.test',
      '"a b"@public.test',
    ]) {
      const res = await form('/subscribe', [
        ['email', email],
        ['lists', publicList.uuid],
      ]);
      expect(res.status, email).toBe(400);
    }
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('preferences: a name with CR LF is refused and the page shown again; nothing changes', async () => {
    const before = await stateOf(ctx);
    const res = await form(`/preferences/${prefsToken()}`, [
      ['action', 'save'],
      ['name', 'Ada\r\nX-Injected: 1'],
      ['lists', publicList.uuid],
    ]);
    expect(res.status).toBe(400);
    expect(await stateOf(ctx)).toEqual(before);
  });
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
