// Sign-in, the session cookie, expiry and the end of sessions (docs/accounts.md): real
// PostgreSQL, the real app, a clock the test moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import {
  as,
  cookieOf,
  createUser,
  personWith,
  signIn,
  signInRequest,
  TestClock,
  USER_PASSWORD,
} from '../helpers/accounts.js';

let ctx: TestContext;
const clock = new TestClock();

beforeAll(async () => {
  ctx = await createTestContext(
    { TRUST_PROXY: 'loopback', SESSION_IDLE_MINUTES: '30', SESSION_MAX_HOURS: '8' },
    { clock: clock.now },
  );
});
afterAll(async () => {
  await ctx?.close();
});

const whoAmI = (person: { cookie: string }) =>
  ctx.http.get('/api/v1/session').set('Cookie', person.cookie);

describe('signing in', () => {
  it('answers the user and a CSRF token, and sets the session cookie with the contract flags', async () => {
    const user = await createUser(ctx, ['editor']);
    const res = await signInRequest(ctx, {
      email: user.email.toUpperCase(),
      password: USER_PASSWORD,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: expect.objectContaining({ id: user.id, email: user.email, roles: ['editor'] }),
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(res.body.user.lastSignInAt).not.toBeNull();
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!;
    const flags = cookie.split(';').map((f) => f.trim().toLowerCase());
    expect(flags).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(flags).not.toContain('secure'); // PUBLIC_URL is http here
    const me = await whoAmI({ cookie: cookieOf(res) }).expect(200);
    expect(me.body).toMatchObject({
      user: { id: user.id },
      actor: { type: 'user', id: user.id },
      scopes: expect.arrayContaining(['read', 'campaigns:write']),
      csrfToken: res.body.csrfToken,
    });
  });

  it('gives a wrong address, a wrong password and a disabled account the same 401', async () => {
    const user = await createUser(ctx, ['viewer']);
    const disabled = await createUser(ctx, ['viewer']);
    await ctx.api().patch(`/api/v1/users/${disabled.id}`).send({ status: 'disabled' }).expect(200);
    const answers = await Promise.all([
      signInRequest(ctx, { email: 'nobody-here@staff.example.org', password: USER_PASSWORD }),
      signInRequest(ctx, { email: user.email, password: 'not the password at all' }),
      signInRequest(ctx, { email: disabled.email, password: USER_PASSWORD }),
      signInRequest(ctx, { email: user.email, password: '' }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const bodies = answers.map((r) => JSON.stringify(r.body));
    expect(new Set(bodies).size).toBe(1);
  });

  it('never answers a password or its hash', async () => {
    const user = await createUser(ctx, ['admin']);
    const person = await signIn(ctx, user);
    const answers = [
      await ctx.api().get(`/api/v1/users/${user.id}`),
      await ctx.api().get('/api/v1/users'),
      await whoAmI(person),
      await signInRequest(ctx, { email: user.email, password: USER_PASSWORD }),
    ];
    for (const res of answers) {
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(USER_PASSWORD);
      expect(text).not.toMatch(/scrypt\$|password_hash|passwordHash|totp_secret/);
    }
  });
});

describe('throttling per address', () => {
  it('refuses an address with 429 and Retry-After after 10 failures in 15 minutes, whatever the client address', async () => {
    const user = await createUser(ctx, ['viewer']);
    for (let i = 0; i < 10; i++) {
      const res = await signInRequest(
        ctx,
        { email: user.email, password: `wrong ${i}` },
        `203.0.113.${i}`,
      );
      expect(res.status).toBe(401);
    }
    // The right password, from yet another address: still refused while the window lasts.
    const locked = await signInRequest(
      ctx,
      { email: user.email, password: USER_PASSWORD },
      '198.51.100.7',
    );
    expect(locked.status).toBe(429);
    const wait = Number(locked.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    // Another address is not affected.
    const other = await createUser(ctx, ['viewer']);
    await signIn(ctx, other);
    clock.advance(wait * 1000 + 1000);
    await signIn(ctx, user);
  });
});

describe('sessions end', () => {
  it('at sign-out, on the server: the cookie no longer works', async () => {
    const person = await personWith(ctx, ['viewer']);
    await as(ctx, person).delete('/api/v1/session').expect(204);
    expect((await whoAmI(person)).status).toBe(401);
  });

  it('after SESSION_IDLE_MINUTES without use, and are kept alive by use', async () => {
    const person = await personWith(ctx, ['viewer']);
    clock.advance(20 * 60_000);
    await whoAmI(person).expect(200);
    clock.advance(20 * 60_000); // 40 minutes since sign-in, 20 since last use
    await whoAmI(person).expect(200);
    clock.advance(31 * 60_000);
    expect((await whoAmI(person)).status).toBe(401);
  });

  it('after SESSION_MAX_HOURS whatever the use', async () => {
    const person = await personWith(ctx, ['viewer']);
    for (let minutes = 0; minutes < 8 * 60 - 20; minutes += 20) {
      clock.advance(20 * 60_000);
      await whoAmI(person).expect(200);
    }
    clock.advance(19 * 60_000); // 7 h 59 min since sign-in, 19 idle
    await whoAmI(person).expect(200);
    clock.advance(2 * 60_000); // past 8 hours, 2 minutes idle
    await whoAmI(person).expect(401);
  });

  it('at once when the user is disabled, has roles changed or is deleted', async () => {
    for (const change of ['disable', 'roles', 'delete'] as const) {
      const person = await personWith(ctx, ['editor']);
      const other = await signIn(ctx, { email: person.email });
      const url = `/api/v1/users/${person.id}`;
      if (change === 'disable') await ctx.api().patch(url).send({ status: 'disabled' }).expect(200);
      if (change === 'roles')
        await ctx
          .api()
          .patch(url)
          .send({ roles: ['viewer'] })
          .expect(200);
      if (change === 'delete') await ctx.api().delete(url).expect(204);
      expect((await whoAmI(person)).status, change).toBe(401);
      expect((await whoAmI(other)).status, change).toBe(401);
    }
  });

  it('a name change does not end them', async () => {
    const person = await personWith(ctx, ['editor']);
    await ctx.api().patch(`/api/v1/users/${person.id}`).send({ name: 'Renamed' }).expect(200);
    await whoAmI(person).expect(200);
  });

  it('at a password change: every session ends, this browser gets a new one', async () => {
    const person = await personWith(ctx, ['viewer']);
    const elsewhere = await signIn(ctx, { email: person.email });
    const wrong = await as(ctx, person)
      .post('/api/v1/session/password')
      .send({ currentPassword: 'not my password!', newPassword: 'a new long password 7' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([{ path: 'currentPassword', message: expect.any(String) }]);
    await whoAmI(elsewhere).expect(200);
    const res = await as(ctx, person)
      .post('/api/v1/session/password')
      .send({ currentPassword: USER_PASSWORD, newPassword: 'a new long password 7' });
    expect(res.status).toBe(200);
    expect((await whoAmI(person)).status).toBe(401);
    expect((await whoAmI(elsewhere)).status).toBe(401);
    await whoAmI({ cookie: cookieOf(res) }).expect(200);
    await signIn(ctx, { email: person.email }, 'a new long password 7');
    expect(
      (await signInRequest(ctx, { email: person.email, password: USER_PASSWORD })).status,
    ).toBe(401);
  });

  it('refuses a new password shorter than 12 characters', async () => {
    const person = await personWith(ctx, ['viewer']);
    const res = await as(ctx, person)
      .post('/api/v1/session/password')
      .send({ currentPassword: USER_PASSWORD, newPassword: 'short one' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'newPassword', message: expect.stringContaining('12') },
    ]);
    await whoAmI(person).expect(200);
  });
});

describe('a session on the admin routes', () => {
  it('is accepted exactly as a token with the same scopes, and refused when the role lacks the scope', async () => {
    const editor = await personWith(ctx, ['editor']);
    await as(ctx, editor).get('/api/v1/campaigns').expect(200);
    const created = await as(ctx, editor).post('/api/v1/lists').send({ name: 'By an editor' });
    expect(created.status).toBe(201);
    const denied = await as(ctx, editor).get('/api/v1/tokens');
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toMatch(/Your roles do not give/);
  });

  it('a forged or malformed cookie is a 401', async () => {
    for (const cookie of [
      'bulletin_session=abc',
      `bulletin_session=${'A'.repeat(43)}`,
      'other=1',
    ]) {
      expect((await ctx.http.get('/api/v1/session').set('Cookie', cookie)).status).toBe(401);
    }
  });
});

describe('the session cookie under https', () => {
  it('is Secure when PUBLIC_URL is https', async () => {
    const secure = await createTestContext({ PUBLIC_URL: 'https://news.example.org' });
    try {
      const user = await createUser(secure, ['viewer']);
      const res = await signInRequest(secure, { email: user.email, password: USER_PASSWORD });
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!.toLowerCase();
      expect(cookie.split(';').map((f) => f.trim())).toContain('secure');
    } finally {
      await secure.close();
    }
  });
});
