// Scopes on every admin route (docs/security.md): a table of what each route needs, checked
// against the routes the app really serves, then every route is called with every kind of
// credential. A route added without an entry here fails the first test.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createTestContext, TEST_ADMIN_TOKEN, type TestContext } from '../helpers/context.js';
import { TOKEN_SCOPES as SCOPES } from '../../src/domain/scopes.js';
import { CONSOLE_NEEDS } from '../helpers/console-routes.js';
import {
  NEEDS,
  OPEN_API_ROUTES,
  PEOPLE_ONLY_ROUTES,
  SIGNED_IN_ROUTES,
} from '../helpers/route-scopes.js';

const METRICS_TOKEN = 'metrics-token-for-the-scope-table-0123';

/**
 * Every other route the app serves, and what guards it. A new route outside /api/v1 fails the
 * inventory test until it is listed here (and, if it needs auth, tested below or elsewhere).
 */
const OUTSIDE_API: Record<string, string> = {
  ...Object.fromEntries(
    Object.keys(CONSOLE_NEEDS).map((r) => [
      r,
      'the console: a session and a scope (console-access.test.ts)',
    ]),
  ),
  'GET /metrics': 'METRICS_TOKEN when set (below)',
  'GET /admin/setup/:token': 'signed one-time link while no user exists (accounts-setup.test.ts)',
  'POST /admin/setup/:token': 'signed one-time link while no user exists',
  'GET /admin/password/:token': 'signed one-time link, 72 hours (accounts-users.test.ts)',
  'POST /admin/password/:token': 'signed one-time link, 72 hours',
  'GET /': 'open: a redirect to /admin',
  'GET /docs': 'open: the documentation index',
  'GET /docs/:page': 'open: a page of docs/ (names checked, no traversal)',
  'GET /api/docs': 'open: the API reference page (the API itself needs tokens)',
  'GET /api/docs/init.js': 'open: static',
  'GET /health': 'open: liveness, says nothing',
  'GET /ready': 'open: which dependency is down, no detail',
  'GET /api/v1/openapi.json': 'open: the API description, like the docs',
  'GET /dev/outbox': 'development only: 404 in production or with SMTP_URL (below)',
  'GET /dev/outbox/:file': 'development only, as above',
  'GET /dev/outbox/:file/html': 'development only, as above',
  'POST /webhooks/generic': 'HMAC signature (webhooks-generic.test.ts)',
  'POST /webhooks/mailgun': 'Mailgun HMAC (webhooks-mailgun.test.ts)',
  'POST /webhooks/sendgrid': 'SendGrid ECDSA (webhooks-sendgrid.test.ts)',
  'POST /webhooks/ses': 'SNS signature (webhooks-ses.test.ts)',
  'POST /webhooks/postmark': 'basic auth (webhooks-postmark.test.ts)',
  'GET /assets/public-*.css': 'open: static',
  'GET /assets/icon-*.svg': 'open: static',
  'GET /subscribe': 'open: public page',
  'POST /subscribe': 'open: rate limited (public-subscribe.test.ts)',
  'GET /confirm/:token': 'signed token (security-rate-limits.test.ts)',
  'GET /l/:token':
    'signed click token; redirects only to its snapshot URL (engagement-tracking.test.ts)',
  'GET /o/:token': 'signed open token; always the pixel, records only genuine ones',
  'GET /view/:token': 'signed web-view token (engagement-tracking.test.ts)',
  'GET /archive': 'open: the public archive (engagement-archive.test.ts)',
  'GET /archive/feed.xml': 'open: the archive as Atom',
  'GET /archive/:slug': 'open: an archived newsletter, rendered for nobody in particular',
  'GET /archive/:slug/message': 'open: the same message, in its frame',
  'GET /unsubscribe/:token': 'signed token',
  'POST /unsubscribe/:token': 'signed token',
  'GET /preferences/:token': 'signed token',
  'POST /preferences/:token': 'signed token',
  'GET /my-data/:token': 'signed token, one hour (public-preferences.test.ts)',
  'GET /erase/:token': 'signed token, one hour: a confirmation page',
  'POST /erase/:token': 'signed token, one hour',
  'ALL /confirm{/*rest},/unsubscribe{/*rest},/preferences{/*rest},/my-data{/*rest},/erase{/*rest},/l{/*rest},/o{/*rest},/view{/*rest},/archive{/*rest}':
    'open: the 404 page',
};

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

const routesOf = (stack: Layer[]): string[] =>
  stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).map(
          (m) => `${m.replace('_all', 'all').toUpperCase()} ${String(layer.route!.path)}`,
        )
      : layer.handle?.stack
        ? routesOf(layer.handle.stack)
        : [],
  );

/** The routes the app serves, read from Express's own router stack: the API's, and the rest. */
function servedRoutes(app: unknown): { api: string[]; outside: string[] } {
  const top = (app as { router: { stack: Layer[] } }).router.stack;
  // The API router is the one whose sub-routers serve /campaigns.
  const api = top.find(
    (l) => l.handle?.stack && routesOf(l.handle.stack).includes('GET /campaigns'),
  )!;
  return {
    api: routesOf(api.handle!.stack!).sort(),
    outside: routesOf(top.filter((l) => l !== api))
      .map((r) => r.replace(/-[0-9a-f]{12}\./, '-*.'))
      .sort(),
  };
}

let ctx: TestContext;
const tokens = new Map<string, string>();
let revoked: string;
beforeAll(async () => {
  ctx = await createTestContext({ METRICS_TOKEN });
  for (const scope of SCOPES) {
    const res = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: scope, scopes: [scope] });
    expect(res.status).toBe(201);
    tokens.set(scope, res.body.token as string);
  }
  const gone = await ctx
    .api()
    .post('/api/v1/tokens')
    .send({ name: 'gone', scopes: ['admin'] });
  revoked = gone.body.token as string;
  await ctx.api().delete(`/api/v1/tokens/${gone.body.id}`).expect(204);
});
afterAll(async () => {
  await ctx?.close();
});

function call(route: string, auth: string | undefined) {
  const [method, path] = route.split(' ') as [string, string];
  const url = `/api/v1${path.replace(':name', 'deliveries').replace(/:id/g, '999999')}`;
  const req = ctx.http[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](url);
  if (auth !== undefined) req.set('Authorization', auth);
  return ['POST', 'PUT', 'PATCH'].includes(method) && !path.endsWith('/imports')
    ? req.send({})
    : req;
}

describe('the scope table', () => {
  it('covers exactly the routes the API serves, and the OpenAPI document lists them all', async () => {
    const served = servedRoutes(ctx.app).api;
    expect(served).toEqual([...Object.keys(NEEDS), ...SIGNED_IN_ROUTES, ...OPEN_API_ROUTES].sort());
    const doc = (await ctx.http.get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) =>
        Object.keys(ops).map(
          (m) => `${m.toUpperCase()} ${p.replace('/api/v1', '').replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      )
      .sort();
    expect(documented).toEqual(served);
  });

  it('every route outside /api/v1 is listed with what guards it', () => {
    expect(servedRoutes(ctx.app).outside).toEqual(Object.keys(OUTSIDE_API).sort());
  });
});

describe.each(Object.entries(NEEDS))('%s', (route, needs) => {
  it('refuses a missing, malformed, unknown or revoked token with 401', async () => {
    for (const auth of [
      undefined,
      'Basic YWRtaW46YWRtaW4=',
      'Bearer ',
      'Bearer bt_not-a-real-token-000000000000000000000000',
      `Bearer ${TEST_ADMIN_TOKEN}x`,
      `Bearer ${revoked}`,
    ]) {
      const res = await call(route, auth);
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it('answers 403 to every other scope, and lets the right ones (and admin) through', async () => {
    for (const scope of SCOPES) {
      const res = await call(route, `Bearer ${tokens.get(scope)!}`);
      const allowed = scope === 'admin' || needs.includes(scope);
      if (allowed && PEOPLE_ONLY_ROUTES.includes(route)) {
        expect(res.status, `${scope}: tokens never approve`).toBe(403);
        expect(res.body.detail).toMatch(/API tokens cannot/);
      } else if (allowed) {
        expect([401, 403], `${scope} must pass`).not.toContain(res.status);
      } else {
        expect(res.status, `${scope} must be refused`).toBe(403);
        expect(res.body).toMatchObject({ status: 403, type: expect.any(String) });
      }
    }
    const bootstrap = await call(route, `Bearer ${TEST_ADMIN_TOKEN}`);
    if (PEOPLE_ONLY_ROUTES.includes(route)) expect(bootstrap.status).toBe(403);
    else expect([401, 403]).not.toContain(bootstrap.status);
  });
});

describe.each(SIGNED_IN_ROUTES)('%s (any signed-in principal)', (route) => {
  it('refuses a missing, malformed, unknown or revoked token with 401', async () => {
    for (const auth of [undefined, 'Bearer ', `Bearer ${TEST_ADMIN_TOKEN}x`, `Bearer ${revoked}`]) {
      expect((await call(route, auth)).status, String(auth)).toBe(401);
    }
  });

  it('lets every token through the scope check; only GET /session answers a token', async () => {
    for (const scope of SCOPES) {
      const res = await call(route, `Bearer ${tokens.get(scope)!}`);
      if (route === 'GET /session') {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ user: null, actor: { type: 'token', name: scope } });
      } else {
        expect(res.status, scope).toBe(403);
        expect(res.body.detail).toMatch(/signed-in users/);
      }
    }
  });
});

describe('outside /api/v1', () => {
  it('the queue dashboard needs an ops or admin token (basic auth password or bearer)', async () => {
    const none = await ctx.http.get('/admin/queues');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    const basic = (token: string) => `Basic ${Buffer.from(`ops:${token}`).toString('base64')}`;
    for (const scope of SCOPES) {
      const token = tokens.get(scope)!;
      const allowed = scope === 'ops' || scope === 'admin';
      for (const auth of [basic(token), `Bearer ${token}`]) {
        const res = await ctx.http.get('/admin/queues').set('Authorization', auth);
        if (allowed) expect(res.status, `${scope} ${auth.split(' ')[0]}`).toBe(200);
        else expect([401, 403], `${scope} ${auth.split(' ')[0]}`).toContain(res.status);
      }
    }
  });

  it("the dashboard's actions need ops too, and a cross-site form post adds no job", async () => {
    const paused = async () =>
      Promise.all(ctx.container.queues.all().map((q) => q.isPaused())).then((p) => p.some(Boolean));
    const jobs = () => ctx.container.queues.deliveries.count();
    const before = await jobs();
    const pause = (auth?: string) => {
      const req = ctx.http.put('/admin/queues/api/queues/pause');
      return auth ? req.set('Authorization', auth) : req;
    };
    expect((await pause()).status).toBe(401);
    for (const scope of SCOPES.filter((s) => s !== 'ops' && s !== 'admin')) {
      expect((await pause(`Bearer ${tokens.get(scope)!}`)).status, scope).toBe(403);
    }
    expect(await paused()).toBe(false);
    // A form on another site can post with the browser's remembered basic auth, but only as
    // a form (no JSON without a CORS preflight): the board's JSON-only body parser ignores it.
    const opsBasic = `Basic ${Buffer.from(`ops:${tokens.get('ops')!}`).toString('base64')}`;
    for (const type of ['form', 'text']) {
      const res = await ctx.http
        .post('/admin/queues/api/queues/deliveries/add')
        .set('Authorization', opsBasic)
        .type(type)
        .send(type === 'form' ? 'name=send&data=x' : '{"name":"send","data":{}}');
      expect(res.status, type).toBe(415);
    }
    expect(await jobs()).toBe(before);
    // The board's own JSON requests still work.
    const json = await ctx.http
      .post('/admin/queues/api/queues/deliveries/add')
      .set('Authorization', opsBasic)
      .send({ name: 'board-test', data: {} });
    expect(json.status).toBe(200);
    expect(await jobs()).toBe(before + 1);
  });

  it('the development outbox does not exist in production (nor with SMTP_URL)', async () => {
    const prod = createApp({ ...ctx.container, config: { ...ctx.config, nodeEnv: 'production' } });
    expect((await request(prod).get('/dev/outbox')).status).toBe(404);
    expect((await request(prod).get('/dev/outbox/x.eml')).status).toBe(404);
  });

  it('metrics need METRICS_TOKEN when it is set; API tokens do not open them', async () => {
    expect((await ctx.http.get('/metrics')).status).toBe(401);
    const admin = await ctx.http.get('/metrics').set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(admin.status).toBe(401);
    const ok = await ctx.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('bulletin_messages_total');
  });

  it('a token cannot mint itself a wider one; unknown scopes are refused', async () => {
    for (const scope of SCOPES.filter((s) => s !== 'admin')) {
      const res = await ctx.http
        .post('/api/v1/tokens')
        .set('Authorization', `Bearer ${tokens.get(scope)!}`)
        .send({ name: 'escalate', scopes: ['admin'] });
      expect(res.status, scope).toBe(403);
    }
    const bad = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'x', scopes: ['root'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toMatch(/^scopes/);
    const { rows } = await ctx.db.query(
      "SELECT count(*)::int AS n FROM api_tokens WHERE name IN ('escalate', 'x')",
    );
    expect(rows[0].n).toBe(0);
  });
});
