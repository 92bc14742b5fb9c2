// Roles × routes, and CSRF on every write (docs/accounts.md). Every admin route is called by a
// signed-in user of every role, and by a token holding exactly that role's scopes: both get the
// same answer, allowed exactly when the role's scopes open the route. Every state-changing route
// called with the session cookie but without the CSRF token (or with a wrong one) is a 403 and
// changes nothing; the same call with a bearer token needs no CSRF token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasScope } from '../../src/domain/scopes.js';
import { ROLES, ROLE_SCOPES, scopesOf } from '../../src/domain/roles.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { stateOf } from '../helpers/state.js';
import { as, personWith, type Person } from '../helpers/accounts.js';
import { NEEDS, PEOPLE_ONLY_ROUTES, SIGNED_IN_ROUTES } from '../helpers/route-scopes.js';

let ctx: TestContext;
const people = new Map<string, Person>();
const tokens = new Map<string, string>();
let ids: Record<string, string>;

beforeAll(async () => {
  ctx = await createTestContext();
  for (const role of ROLES) {
    people.set(role, await personWith(ctx, [role]));
    const scopes = ROLE_SCOPES[role].filter((s) => s !== 'campaigns:approve');
    if (scopes.length === 0) continue;
    const res = await ctx.api().post('/api/v1/tokens').send({ name: role, scopes });
    tokens.set(role, res.body.token as string);
  }
  const list = await fixtures.createList(ctx, 'Roles');
  const subscribers = await fixtures.seedSubscribers(ctx, 'roles', 2);
  await fixtures.subscribe(ctx, list, subscribers);
  const template = await fixtures.createTemplate(ctx);
  const campaign = await fixtures.createCampaign(ctx, { templateId: template, listIds: [list] });
  ids = {
    lists: String(list),
    subscribers: String(subscribers[0]),
    templates: String(template),
    campaigns: String(campaign.id),
    users: String(people.get('viewer')!.id),
  };
});
afterAll(async () => {
  await ctx?.close();
});

/** The route with ids that do not exist (so that nothing changes when it is allowed). */
const missingPath = (route: string) =>
  `/api/v1${route.split(' ')[1]!.replace(':name', 'deliveries').replace(/:id/g, '999999')}`;

/** The route with real ids, so that an allowed write would change something. */
function realPath(route: string): string {
  const path = route.split(' ')[1]!;
  const collection = path.split('/')[1]!;
  return `/api/v1${path
    .replace(':name', 'deliveries')
    .replace('/jobs/:id', '/jobs/1')
    .replace(':id', ids[collection] ?? '1')}`;
}

const writes = Object.keys(NEEDS).filter((r) => !r.startsWith('GET '));
const BODY = { name: 'Changed', emails: ['x@example.test'], sendAt: '2099-01-01T09:00' };

function call(
  client: ReturnType<typeof as> | ReturnType<typeof tokenClient>,
  route: string,
  url: string,
) {
  const method = route.split(' ')[0]!.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  const req = client[method](url);
  return ['post', 'put', 'patch'].includes(method) && !url.endsWith('/imports')
    ? req.send(BODY)
    : req;
}

describe.each(Object.entries(NEEDS))('%s', (route, needs) => {
  it('is open to exactly the roles whose scopes include what it needs, session and token alike', async () => {
    for (const role of ROLES) {
      const granted = scopesOf([role]);
      const allowed = (needs.length === 0 ? ['admin' as const] : needs).some((s) =>
        hasScope(granted, s),
      );
      const bySession = await call(as(ctx, people.get(role)!), route, missingPath(route));
      if (allowed) {
        expect([401, 403], `${role} (session) must pass: ${bySession.status}`).not.toContain(
          bySession.status,
        );
      } else {
        expect(bySession.status, `${role} (session) must be refused`).toBe(403);
      }
      const token = tokens.get(role);
      if (!token) continue;
      const byToken = await call(tokenClient(token), route, missingPath(route));
      if (PEOPLE_ONLY_ROUTES.includes(route)) expect(byToken.status).toBe(403);
      else expect(byToken.status, `${role} token vs session`).toBe(bySession.status);
    }
  });
});

function tokenClient(token: string) {
  const auth = <T extends { set(k: string, v: string): T }>(r: T) =>
    r.set('Authorization', `Bearer ${token}`);
  return {
    get: (u: string) => auth(ctx.http.get(u)),
    post: (u: string) => auth(ctx.http.post(u)),
    put: (u: string) => auth(ctx.http.put(u)),
    patch: (u: string) => auth(ctx.http.patch(u)),
    delete: (u: string) => auth(ctx.http.delete(u)),
  };
}

describe('CSRF', () => {
  it.each([...writes, ...SIGNED_IN_ROUTES.filter((r) => !r.startsWith('GET '))])(
    '%s with the cookie but no or a wrong CSRF token is a 403 and changes nothing',
    async (route) => {
      const admin = people.get('admin')!;
      const before = await stateOf(ctx);
      for (const person of [admin, { ...admin, csrf: `${admin.csrf.slice(0, -2)}xx` }]) {
        const withoutToken = person === admin;
        const client = as(ctx, person, { csrf: !withoutToken });
        const res = await call(client, route, realPath(route));
        expect(res.status, `${route} ${withoutToken ? 'without' : 'with a wrong'} token`).toBe(403);
        expect(res.body.type).toMatch(/csrf$/);
      }
      expect(await stateOf(ctx)).toEqual(before);
      // The session still works: GETs need no token.
      await as(ctx, admin, { csrf: false }).get('/api/v1/session').expect(200);
    },
  );

  it('accepts the token as X-CSRF-Token or as a _csrf field of the body', async () => {
    const editor = people.get('editor')!;
    const header = await as(ctx, editor).post('/api/v1/lists').send({ name: 'CSRF header' });
    expect(header.status).toBe(201);
    const field = await as(ctx, editor, { csrf: false })
      .post('/api/v1/lists')
      .send({ name: 'CSRF field', _csrf: editor.csrf });
    expect(field.status).toBe(201);
    expect(field.body.name).toBe('CSRF field');
  });

  it("a bearer request needs no CSRF token, and another session's token is refused", async () => {
    await ctx.api().post('/api/v1/lists').send({ name: 'By token' }).expect(201);
    const editor = people.get('editor')!;
    const viewer = people.get('viewer')!;
    const res = await as(ctx, { ...editor, csrf: viewer.csrf })
      .post('/api/v1/lists')
      .send({ name: 'x' });
    expect(res.status).toBe(403);
  });
});

describe('the queue dashboard with a session', () => {
  it('opens for the ops and admin roles only, and refuses cross-site writes', async () => {
    for (const role of ROLES) {
      const res = await ctx.http.get('/admin/queues').set('Cookie', people.get(role)!.cookie);
      const allowed = role === 'ops' || role === 'admin';
      expect(res.status, role).toBe(allowed ? 200 : 403);
    }
    const ops = people.get('ops')!;
    const crossSite = await ctx.http
      .put('/admin/queues/api/queues/pause')
      .set('Cookie', ops.cookie)
      .set('Sec-Fetch-Site', 'cross-site');
    expect(crossSite.status).toBe(403);
    const foreign = await ctx.http
      .put('/admin/queues/api/queues/pause')
      .set('Cookie', ops.cookie)
      .set('Origin', 'https://evil.example');
    expect(foreign.status).toBe(403);
    const paused = await Promise.all(ctx.container.queues.all().map((q) => q.isPaused()));
    expect(paused.some(Boolean)).toBe(false);
  });
});
