// A scope check that no spelling of a path can bypass (docs/security.md): every admin route
// declares its scope on the route itself, and routing is strict and case-sensitive. Each route
// is called with real ids, under every odd spelling, with every token that lacks its scope:
// the answer is 403 or 404 and nothing changes. Unknown query parameters are a 400 on every
// route that takes a query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { stateOf } from '../helpers/state.js';
import { TOKEN_SCOPES as SCOPES, type Scope } from '../../src/domain/scopes.js';
import { NEEDS, OPEN_API_ROUTES, SIGNED_IN_ROUTES } from '../helpers/route-scopes.js';

interface Layer {
  route?: {
    path: string;
    methods: Record<string, boolean>;
    stack: { handle: { scopes?: Scope[] } }[];
  };
  handle?: { stack?: Layer[] };
}

/** Every admin route with the scopes its own first handler checks, from Express's stack. */
function declaredScopes(app: unknown): Record<string, Scope[] | undefined> {
  const found: Record<string, Scope[] | undefined> = {};
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) {
          found[`${m.toUpperCase()} ${layer.route.path}`] = layer.route.stack[0]?.handle.scopes;
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  const top = (app as { router: { stack: Layer[] } }).router.stack;
  const api = top.find((l) =>
    l.handle?.stack?.some((s) => s.handle?.stack?.some((r) => r.route?.path === '/campaigns')),
  );
  walk(api!.handle!.stack!);
  return found;
}

let ctx: TestContext;
const tokens = new Map<Scope, string>();
let ids: Record<string, string>;

beforeAll(async () => {
  ctx = await createTestContext();
  for (const scope of SCOPES) {
    const res = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: scope, scopes: [scope] });
    tokens.set(scope, res.body.token as string);
  }
  const list = await fixtures.createList(ctx, 'Spelled');
  const subscribers = await fixtures.seedSubscribers(ctx, 'spell', 3);
  await fixtures.subscribe(ctx, list, subscribers);
  const template = await fixtures.createTemplate(ctx);
  const campaign = await fixtures.createCampaign(ctx, { templateId: template, listIds: [list] });
  const token = await ctx
    .api()
    .post('/api/v1/tokens')
    .send({ name: 'victim', scopes: ['read'] });
  const imported = await ctx
    .api()
    .post(`/api/v1/lists/${list}/imports`)
    .set('Content-Type', 'text/csv')
    .send('email\nimported@example.test\n');
  ids = {
    lists: String(list),
    subscribers: String(subscribers[0]),
    templates: String(template),
    campaigns: String(campaign.id),
    tokens: String(token.body.id),
    imports: String(imported.body.id),
  };
});
afterAll(async () => {
  await ctx?.close();
});

/** The route's path with real ids: /campaigns/:id/send → /campaigns/12/send. */
function realPath(route: string): string {
  const path = route.split(' ')[1]!;
  const collection = path.split('/')[1]!;
  return path
    .replace(':name', 'deliveries')
    .replace('/jobs/:id', '/jobs/1')
    .replace(':id', ids[collection] ?? '1');
}

/** Every odd spelling of a path that a router might treat like the real one. */
function spellings(path: string): [string, string][] {
  const segments = path.split('/');
  const last = segments.at(-1)!;
  const word = /[a-z]/.exec(last) ? last : segments[1]!;
  const encoded = word.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
  const upperFirst = word[0]!.toUpperCase() + word.slice(1);
  return [
    ['upper case', `/api/v1${path.replace(word, word.toUpperCase())}`],
    ['capitalised', `/api/v1${path.replace(word, upperFirst)}`],
    ['all upper case', `/API/V1${path.toUpperCase()}`],
    ['trailing slash', `/api/v1${path}/`],
    ['double slash inside', `/api/v1${path.replace(/\/(?=[^/]*$)/, '//')}`],
    ['double slash in front', `/api/v1/${path}`],
    ['encoded letter', `/api/v1${path.replace(word, encoded)}`],
    ['encoded slash', `/api/v1${path.replace(/\/(?=[^/]*$)/, '%2F')}`],
  ];
}

const tokenRows = async () =>
  (await ctx.db.query('SELECT id, name, scopes, revoked_at FROM api_tokens ORDER BY id')).rows;

function call(method: string, url: string, token: string) {
  const req = ctx.http[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](url);
  req.set('Authorization', `Bearer ${token}`);
  return ['POST', 'PUT', 'PATCH'].includes(method) && !url.toLowerCase().includes('import')
    ? req.send({ emails: ['x@example.test'], sendAt: '2099-01-01T09:00', name: 'changed' })
    : req;
}

describe('scopes are declared on the routes themselves', () => {
  it('every admin route checks, as its first handler, exactly the scopes of the table', () => {
    const declared = declaredScopes(ctx.app);
    expect(Object.keys(declared).sort()).toEqual(
      [...Object.keys(NEEDS), ...SIGNED_IN_ROUTES, ...OPEN_API_ROUTES].sort(),
    );
    for (const [route, needs] of Object.entries(NEEDS)) {
      // An admin-only route is declared as needing `admin` (the table lists no other scope).
      expect(declared[route], route).toEqual(needs.length ? needs : ['admin']);
    }
  });
});

describe.each(Object.entries(NEEDS))('%s under other spellings', (route, needs) => {
  const method = route.split(' ')[0]!;
  it('is refused (403) or not found (404) for every token lacking its scope; nothing changes', async () => {
    const before = await stateOf(ctx);
    const tokensBefore = await tokenRows();
    const status = await ctx.db.query('SELECT status FROM campaigns WHERE id = $1', [
      ids.campaigns,
    ]);
    for (const [what, url] of spellings(realPath(route))) {
      for (const scope of SCOPES.filter((s) => s !== 'admin' && !needs.includes(s))) {
        const res = await call(method, url, tokens.get(scope)!);
        expect([403, 404], `${what} ${url} with ${scope}: ${res.status}`).toContain(res.status);
      }
    }
    // A token's last_used_at moves when it is used; everything else stays as it was.
    expect({ ...(await stateOf(ctx)), api_tokens: '' }).toEqual({ ...before, api_tokens: '' });
    expect(await tokenRows()).toEqual(tokensBefore);
    const after = await ctx.db.query('SELECT status FROM campaigns WHERE id = $1', [ids.campaigns]);
    expect(after.rows).toEqual(status.rows);
  });
});

describe('unknown query parameters', () => {
  it.each(Object.keys(NEEDS).filter((r) => r.startsWith('GET ')))(
    '%s answers 400 naming the parameter, and changes nothing',
    async (route) => {
      const url = `/api/v1${realPath(route)}?email=ada@example.org`;
      const res = await ctx.api().get(url);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors).toEqual([
        { path: 'email', message: expect.stringContaining('is not a query parameter') },
      ]);
    },
  );

  it('POST /lists/:id/imports with an unknown parameter is a 400 and imports nothing', async () => {
    const before = await stateOf(ctx);
    const res = await ctx
      .api()
      .post(`/api/v1/lists/${ids.lists}/imports?mod=skip-existing`)
      .set('Content-Type', 'text/csv')
      .send('email\nsomeone@example.test\n');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('mod');
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('known parameters still filter: ?status= on subscribers and ?q=', async () => {
    const res = await ctx.api().get('/api/v1/subscribers?q=spell1&status=active');
    expect(res.status).toBe(200);
    expect(res.body.data.map((s: { email: string }) => s.email)).toEqual(['spell1@example.test']);
  });
});
