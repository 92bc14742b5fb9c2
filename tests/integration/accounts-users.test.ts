// The users API and the one-time account links (docs/accounts.md): a user made without a
// password gets a set-password link in the answer and by mail; the page sets the password once;
// the link dies after 72 hours. The first account: the setup link while no user exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import {
  createUser,
  linkIn,
  outbox,
  signIn,
  signInRequest,
  TestClock,
  USER_PASSWORD,
} from '../helpers/accounts.js';

let ctx: TestContext;
const clock = new TestClock();
const NEW_PASSWORD = 'my own chosen password 99';

beforeAll(async () => {
  ctx = await createTestContext({}, { clock: clock.now });
});
afterAll(async () => {
  await ctx?.close();
});

const form = (url: string, fields: Record<string, string>) =>
  ctx.http.post(new URL(url).pathname).type('form').send(new URLSearchParams(fields).toString());

describe('the first account', () => {
  it('is made once through the setup link while no user exists', async () => {
    const url = await ctx.container.services.users.setupLinkIfNoUser();
    expect(url).toMatch(/^http:\/\/localhost:3000\/admin\/setup\/[\w-]+\.[\w-]+$/);
    const path = new URL(url!).pathname;
    const page = await ctx.http.get(path).expect(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toMatch(/<label for="email"\s*>Email<\/label\s*>/);
    const short = await form(url!, {
      email: 'first@staff.example.org',
      name: 'First',
      password: 'short',
      confirm: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.text).toContain('at least 12 characters');
    const made = await form(url!, {
      email: 'first@staff.example.org',
      name: 'First Admin',
      password: USER_PASSWORD,
      confirm: USER_PASSWORD,
    });
    expect(made.status).toBe(200);
    expect(made.text).toContain('Your account is ready');
    const person = await signIn(ctx, { email: 'first@staff.example.org' });
    const me = await ctx.http.get('/api/v1/session').set('Cookie', person.cookie).expect(200);
    expect(me.body.user.roles).toEqual(['admin']);
    // The link worked once; no new one is issued now that a user exists.
    expect((await ctx.http.get(path)).status).toBe(404);
    expect(
      (
        await form(url!, {
          email: 'second@staff.example.org',
          name: 'x',
          password: USER_PASSWORD,
          confirm: USER_PASSWORD,
        })
      ).status,
    ).toBe(404);
    expect(await ctx.container.services.users.setupLinkIfNoUser()).toBeUndefined();
  });

  it('a forged setup link is the 404 page', async () => {
    expect((await ctx.http.get(`/admin/setup/${'a'.repeat(32)}.${'b'.repeat(22)}`)).status).toBe(
      404,
    );
    expect((await ctx.http.get('/admin/setup/nope')).status).toBe(404);
  });
});

describe('users', () => {
  it('made without a password get a one-time set-password link, in the answer and by mail', async () => {
    const res = await ctx
      .api()
      .post('/api/v1/users')
      .send({ email: 'Grace@Staff.Example.org', name: 'Grace', roles: ['sender'] })
      .expect(201);
    expect(res.body).toMatchObject({
      email: 'Grace@staff.example.org',
      roles: ['sender'],
      status: 'active',
      totp: false,
    });
    const url = res.body.setPasswordUrl as string;
    expect(url).toMatch(/\/admin\/password\//);
    const mail = (await outbox(ctx)).find((m) => m.to === 'Grace@staff.example.org');
    expect(linkIn(mail!.text, 'http://localhost:3000/admin/password/')).toBe(url);
    // No password yet: no way in.
    expect(
      (await signInRequest(ctx, { email: 'grace@staff.example.org', password: '' })).status,
    ).toBe(401);
    const mismatch = await form(url, {
      password: NEW_PASSWORD,
      confirm: 'something else entirely',
    });
    expect(mismatch.status).toBe(400);
    const set = await form(url, { password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(set.status).toBe(200);
    await signIn(ctx, { email: 'grace@staff.example.org' }, NEW_PASSWORD);
    expect((await form(url, { password: USER_PASSWORD, confirm: USER_PASSWORD })).status).toBe(404);
  });

  it('set-password links die after 72 hours, and a new one replaces the old', async () => {
    const res = await ctx
      .api()
      .post('/api/v1/users')
      .send({ email: 'late@staff.example.org', name: 'Late', roles: ['viewer'] })
      .expect(201);
    const first = res.body.setPasswordUrl as string;
    const second = (await ctx.api().post(`/api/v1/users/${res.body.id}/password-link`).expect(200))
      .body.setPasswordUrl as string;
    expect((await ctx.http.get(new URL(first).pathname)).status).toBe(404);
    await ctx.http.get(new URL(second).pathname).expect(200);
    clock.advance(72 * 3_600_000 + 1000);
    expect((await ctx.http.get(new URL(second).pathname)).status).toBe(404);
  });

  it('have unique addresses whatever the letter case', async () => {
    await createUser(ctx, ['viewer'], { email: 'Unique@staff.example.org' });
    const dup = await ctx
      .api()
      .post('/api/v1/users')
      .send({ email: 'unique@STAFF.example.org', name: 'Again', roles: ['viewer'] });
    expect(dup.status).toBe(409);
    expect(dup.body.errors).toEqual([{ path: 'email', message: expect.any(String) }]);
  });

  it('refuses unknown roles, short passwords and unknown fields, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: 'r@staff.example.org', name: 'R', roles: ['root'] }, 'roles.0'],
      [{ email: 'r@staff.example.org', name: 'R', roles: [] }, 'roles'],
      [
        { email: 'r@staff.example.org', name: 'R', roles: ['viewer'], password: 'short' },
        'password',
      ],
      [{ email: 'not an address', name: 'R', roles: ['viewer'] }, 'email'],
      [{ email: 'r@staff.example.org', name: 'R', roles: ['viewer'], passwordHash: 'x' }, ''],
    ];
    for (const [body, path] of cases) {
      const res = await ctx.api().post('/api/v1/users').send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (path) expect(res.body.errors[0].path).toBe(path);
    }
    const list = await ctx.api().get('/api/v1/users?limit=1000').expect(200);
    expect(list.body.data.map((u: { email: string }) => u.email)).not.toContain(
      'r@staff.example.org',
    );
  });

  it('keep one active admin: the last one cannot be demoted, disabled or deleted', async () => {
    const admins = (await ctx.api().get('/api/v1/users?limit=1000')).body.data.filter(
      (u: { roles: string[] }) => u.roles.includes('admin'),
    );
    expect(admins).toHaveLength(1);
    const url = `/api/v1/users/${admins[0].id}`;
    expect(
      (
        await ctx
          .api()
          .patch(url)
          .send({ roles: ['viewer'] })
      ).status,
    ).toBe(409);
    expect((await ctx.api().patch(url).send({ status: 'disabled' })).status).toBe(409);
    expect((await ctx.api().delete(url)).status).toBe(409);
    const second = await createUser(ctx, ['admin']);
    await ctx
      .api()
      .patch(url)
      .send({ roles: ['ops'] })
      .expect(200);
    await ctx
      .api()
      .patch(url)
      .send({ roles: ['admin'] })
      .expect(200);
    await ctx.api().delete(`/api/v1/users/${second.id}`).expect(204);
    expect((await ctx.api().get(`/api/v1/users/${second.id}`)).status).toBe(404);
  });
});
