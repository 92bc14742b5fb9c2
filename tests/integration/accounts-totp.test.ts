// Two-factor sign-in (docs/accounts.md): enrolment with a first code, sign-in with a code or a
// recovery code, each accepted once, and REQUIRE_2FA for admins. Codes are computed from the
// secret the enrolment shows, at the time of the test's clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import {
  as,
  createUser,
  personWith,
  signIn,
  signInRequest,
  TestClock,
  totpCode,
  USER_PASSWORD,
  type Person,
} from '../helpers/accounts.js';

let ctx: TestContext;
const clock = new TestClock();

beforeAll(async () => {
  ctx = await createTestContext({ REQUIRE_2FA: 'true' }, { clock: clock.now });
});
afterAll(async () => {
  await ctx?.close();
});

/** Turns two-factor sign-in on for a signed-in person; answers the secret and recovery codes. */
async function enrol(person: Person): Promise<{ secret: string; recoveryCodes: string[] }> {
  const begun = await as(ctx, person).post('/api/v1/session/totp').expect(200);
  expect(begun.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/.+secret=/);
  expect(begun.body.qrSvg).toMatch(/^<svg/);
  const secret = begun.body.secret as string;
  const wrong = await as(ctx, person)
    .post('/api/v1/session/totp/confirm')
    .send({ code: totpCode(secret, clock.now(), 5) });
  expect(wrong.status).toBe(400);
  const confirmed = await as(ctx, person)
    .post('/api/v1/session/totp/confirm')
    .send({ code: totpCode(secret, clock.now()) })
    .expect(200);
  expect(confirmed.body.recoveryCodes).toHaveLength(10);
  return { secret, recoveryCodes: confirmed.body.recoveryCodes as string[] };
}

describe('two-factor sign-in', () => {
  it('once on, needs a code; a wrong code gets the same 401 as a wrong password', async () => {
    const person = await personWith(ctx, ['editor']);
    const { secret } = await enrol(person);
    clock.advance(30_000);
    const missing = await signInRequest(ctx, { email: person.email, password: USER_PASSWORD });
    expect(missing.status).toBe(401);
    expect(missing.body.secondFactor).toBe('required');
    expect(missing.headers['set-cookie']).toBeUndefined();
    const wrongCode = await signInRequest(ctx, {
      email: person.email,
      password: USER_PASSWORD,
      totp: totpCode(secret, clock.now(), 3),
    });
    const wrongPassword = await signInRequest(ctx, {
      email: person.email,
      password: 'a wrong password here',
      totp: totpCode(secret, clock.now()),
    });
    expect(wrongCode.status).toBe(401);
    expect(wrongCode.body).toEqual(wrongPassword.body);
    await signIn(ctx, person, USER_PASSWORD, totpCode(secret, clock.now()));
  });

  it('accepts a code once: the same code again, or an earlier one, is refused', async () => {
    const person = await personWith(ctx, ['viewer']);
    const { secret } = await enrol(person);
    clock.advance(30_000);
    const code = totpCode(secret, clock.now());
    await signIn(ctx, person, USER_PASSWORD, code);
    const again = await signInRequest(ctx, {
      email: person.email,
      password: USER_PASSWORD,
      totp: code,
    });
    expect(again.status).toBe(401);
    const earlier = await signInRequest(ctx, {
      email: person.email,
      password: USER_PASSWORD,
      totp: totpCode(secret, clock.now(), -1),
    });
    expect(earlier.status).toBe(401);
    // One step of drift either way is allowed, for the next step.
    clock.advance(30_000);
    await signIn(ctx, person, USER_PASSWORD, totpCode(secret, clock.now(), 1));
  });

  it('takes each recovery code once, instead of a code', async () => {
    const person = await personWith(ctx, ['viewer']);
    const { recoveryCodes } = await enrol(person);
    await signIn(ctx, person, USER_PASSWORD, recoveryCodes[0]!.toUpperCase());
    const reused = await signInRequest(ctx, {
      email: person.email,
      password: USER_PASSWORD,
      totp: recoveryCodes[0]!,
    });
    expect(reused.status).toBe(401);
    await signIn(ctx, person, USER_PASSWORD, recoveryCodes[1]!.replace('-', ''));
  });

  it('stores no secret or code in any answer after enrolment, and can be turned off with the password', async () => {
    const person = await personWith(ctx, ['editor']);
    const { secret, recoveryCodes } = await enrol(person);
    const user = await ctx.api().get(`/api/v1/users/${person.id}`).expect(200);
    expect(user.body.totp).toBe(true);
    const text =
      JSON.stringify(user.body) + JSON.stringify((await ctx.api().get('/api/v1/audit')).body);
    expect(text).not.toContain(secret);
    for (const code of recoveryCodes) expect(text).not.toContain(code);
    clock.advance(30_000);
    const signedIn = await signIn(ctx, person, USER_PASSWORD, totpCode(secret, clock.now()));
    const refused = await as(ctx, signedIn)
      .post('/api/v1/session/totp/disable')
      .send({ password: 'not my password!' });
    expect(refused.status).toBe(400);
    await as(ctx, signedIn)
      .post('/api/v1/session/totp/disable')
      .send({ password: USER_PASSWORD })
      .expect(204);
    await signIn(ctx, person);
  });
});

describe('REQUIRE_2FA', () => {
  it('lets an admin without a second factor do nothing but turn one on', async () => {
    const admin = await personWith(ctx, ['admin']);
    const me = await as(ctx, admin).get('/api/v1/session').expect(200);
    expect(me.body.secondFactorRequired).toBe(true);
    for (const url of ['/api/v1/campaigns', '/api/v1/users', '/api/v1/audit']) {
      const res = await as(ctx, admin).get(url);
      expect(res.status, url).toBe(403);
      expect(res.body.detail).toMatch(/two-factor/);
    }
    const { secret } = await enrol(admin);
    // Proving the code turned the factor on: this session has the admin's scopes now.
    await as(ctx, admin).get('/api/v1/users').expect(200);
    clock.advance(30_000);
    const again = await signIn(ctx, admin, USER_PASSWORD, totpCode(secret, clock.now()));
    await as(ctx, again).get('/api/v1/users').expect(200);
    const off = await as(ctx, again)
      .post('/api/v1/session/totp/disable')
      .send({ password: USER_PASSWORD });
    expect(off.status).toBe(409);
  });

  it('does not apply to other roles', async () => {
    const editor = await signIn(ctx, await createUser(ctx, ['editor']));
    await as(ctx, editor).get('/api/v1/campaigns').expect(200);
  });
});
