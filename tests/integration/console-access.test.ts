// Who may do what in the console (docs/console.md): every console route is called by a
// signed-in person of every role, with the session's CSRF token, and is refused (403) exactly
// when the role lacks the route's scope, whatever the page shows; without a session every
// route leads to sign-in; a form post without the CSRF token is a 403 and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasScope, type Scope } from '../../src/domain/scopes.js';
import { ROLES, scopesOf } from '../../src/domain/roles.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { personWith, type Person } from '../helpers/accounts.js';
import { CONSOLE_NEEDS } from '../helpers/console-routes.js';
import { stateOf } from '../helpers/state.js';

let ctx: TestContext;
const people = new Map<string, Person>();

beforeAll(async () => {
  ctx = await createTestContext();
  for (const role of ROLES) people.set(role, await personWith(ctx, [role]));
});
afterAll(async () => {
  await ctx?.close();
});

const pathOf = (route: string) =>
  route
    .split(' ')[1]!
    .replace(':queue', 'deliveries')
    .replace(':job', '999999')
    .replace(':list', '999999')
    .replace(':id', '999999');

function call(route: string, person: Person | undefined, csrf: boolean) {
  const [method] = route.split(' ') as [string];
  const path = pathOf(route);
  const req = method === 'GET' ? ctx.http.get(path) : ctx.http.post(path).type('form');
  if (person) req.set('Cookie', person.cookie);
  if (method !== 'GET') req.send(csrf && person ? `_csrf=${encodeURIComponent(person.csrf)}` : '');
  return req.redirects(0);
}

const guarded = Object.entries(CONSOLE_NEEDS).filter(([, need]) => need !== 'open');

describe.each(guarded)('%s', (route, need) => {
  it('sends a visitor without a session to sign-in', async () => {
    const res = await call(route, undefined, false);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/admin\/login/);
  });

  it('is refused (403) to exactly the roles without its scope', async () => {
    for (const role of ROLES) {
      const res = await call(route, people.get(role), true);
      const allowed = need === 'signed-in' || hasScope(scopesOf([role]), need as Scope);
      if (allowed) expect(res.status, `${role} must pass`).not.toBe(403);
      else expect(res.status, `${role} must be refused`).toBe(403);
    }
  });
});

describe('CSRF on console forms', () => {
  it.each(guarded.filter(([r]) => r.startsWith('POST ')).map(([r]) => r))(
    '%s without the session token is a 403 and changes nothing',
    async (route) => {
      const before = await stateOf(ctx);
      const res = await call(route, people.get('admin'), false);
      expect(res.status).toBe(403);
      expect(await stateOf(ctx)).toEqual(before);
    },
  );
});
