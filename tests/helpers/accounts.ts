// People for the account tests: users made through the API, signed in through POST
// /api/v1/session, and requests sent with their cookie and CSRF token, as a browser would.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import PostalMime from 'postal-mime';
import request from 'supertest';
import { expect } from 'vitest';
import { listOutbox } from '../../src/mail/transport.js';
import { hotp, base32Decode, totpStep } from '../../src/domain/totp.js';
import type { TestContext } from './context.js';

export const USER_PASSWORD = 'correct horse battery staple 42';

/** A clock the test moves: sessions, links and throttles are judged by it. */
export class TestClock {
  private offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface Person {
  id: number;
  email: string;
  cookie: string;
  csrf: string;
}

let counter = 0;

/** A new user with these roles (and the test password), made with the admin token. */
export async function createUser(
  ctx: TestContext,
  roles: string[],
  fields: { email?: string; name?: string } = {},
): Promise<{ id: number; email: string }> {
  counter += 1;
  const email = fields.email ?? `${roles.join('-')}-${counter}-${Date.now()}@staff.example.org`;
  const res = await ctx
    .api()
    .post('/api/v1/users')
    .send({
      email,
      name: fields.name ?? `${roles.join(' ')} ${counter}`,
      roles,
      password: USER_PASSWORD,
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as number, email };
}

/** The session cookie's `name=value`, from a Set-Cookie answer. */
export function cookieOf(res: request.Response): string {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const session = cookies.find((c) => c.startsWith('bulletin_session='));
  expect(session, 'a bulletin_session cookie').toBeTruthy();
  return session!.split(';')[0]!;
}

export function signInRequest(
  ctx: TestContext,
  body: { email: string; password: string; totp?: string },
  ip?: string,
) {
  const req = ctx.http.post('/api/v1/session').send(body);
  return ip ? req.set('X-Forwarded-For', ip) : req;
}

export async function signIn(
  ctx: TestContext,
  user: { id?: number; email: string },
  password = USER_PASSWORD,
  totp?: string,
): Promise<Person> {
  const res = await signInRequest(ctx, { email: user.email, password, ...(totp ? { totp } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    id: res.body.user.id as number,
    email: user.email,
    cookie: cookieOf(res),
    csrf: res.body.csrfToken as string,
  };
}

/** A user with these roles, signed in. */
export async function personWith(ctx: TestContext, roles: string[]): Promise<Person> {
  return signIn(ctx, await createUser(ctx, roles));
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Requests as the person's browser: the cookie, and the CSRF token unless told otherwise. */
export function as(ctx: TestContext, person: Person, { csrf = true } = {}) {
  const send = (method: Method, url: string) => {
    const req = ctx.http[method](url).set('Cookie', person.cookie);
    return csrf ? req.set('X-CSRF-Token', person.csrf) : req;
  };
  return {
    get: (url: string) => send('get', url),
    post: (url: string) => send('post', url),
    put: (url: string) => send('put', url),
    patch: (url: string) => send('patch', url),
    delete: (url: string) => send('delete', url),
  };
}

/** The current TOTP code of a base32 secret, at the given time. */
export function totpCode(secret: string, at: Date, stepOffset = 0): string {
  return hotp(base32Decode(secret)!, totpStep(Math.floor(at.getTime() / 1000)) + stepOffset);
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** The mails in the development outbox (newest first). */
export async function outbox(ctx: TestContext): Promise<Mail[]> {
  const entries = await listOutbox(ctx.config);
  return Promise.all(
    entries.map(async (entry) => {
      const parsed = await PostalMime.parse(
        readFileSync(path.join(ctx.config.outboxDir, entry.file), 'utf8'),
      );
      return {
        to: parsed.to?.[0]?.address ?? '',
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
      };
    }),
  );
}

/** The first link in a text that starts with `prefix`. */
export function linkIn(text: string, prefix: string): string {
  const found = text.match(new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\S+`));
  expect(found, `a link starting ${prefix}`).toBeTruthy();
  return found![0];
}
