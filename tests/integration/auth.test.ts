import { describe, expect, it } from 'vitest';
import { TOKEN_SCOPES as SCOPES } from '../../src/domain/scopes.js';
import { hashToken } from '../../src/domain/tokens.js';
import { TEST_ADMIN_TOKEN } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';

const ctx = contextSuite();

async function createToken(scopes: string[], name = 'test') {
  const res = await ctx.api().post('/api/v1/tokens').send({ name, scopes });
  expect(res.status).toBe(201);
  return res.body as { id: number; token: string; prefix: string; scopes: string[] };
}

const asToken = (token: string) => ({
  get: (url: string) => ctx.http.get(url).set('Authorization', `Bearer ${token}`),
  post: (url: string) => ctx.http.post(url).set('Authorization', `Bearer ${token}`),
});

describe('authentication', () => {
  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const res = await ctx.http.get('/api/v1/lists');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 401,
      code: 'unauthorized',
      type: 'urn:bulletin:problem:unauthorized',
    });
  });

  it.each([
    ['a wrong token', `Bearer ${TEST_ADMIN_TOKEN}x`],
    ['a malformed header', `Token ${TEST_ADMIN_TOKEN}`],
    ['an empty bearer', 'Bearer '],
    ['basic auth', `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}`],
  ])('refuses %s with 401', async (_what, header) => {
    const res = await ctx.http.get('/api/v1/lists').set('Authorization', header);
    expect(res.status).toBe(401);
  });

  it('accepts the bootstrap admin token', async () => {
    expect((await ctx.api().get('/api/v1/lists')).status).toBe(200);
  });

  it('creates a token shown once and stores only its hash', async () => {
    const created = await createToken(['read'], 'reporting');
    expect(created.token).toMatch(/^bt_[A-Za-z0-9_-]{43}$/);
    expect(created.token.startsWith(created.prefix)).toBe(true);
    const { rows } = await ctx.db.query('SELECT * FROM api_tokens WHERE id = $1', [created.id]);
    expect(rows[0].token_hash.equals(hashToken(created.token))).toBe(true);
    expect(JSON.stringify(rows[0])).not.toContain(created.token);
    const listed = await ctx.api().get('/api/v1/tokens');
    const entry = listed.body.data.find((t: { id: number }) => t.id === created.id);
    expect(entry).toMatchObject({ name: 'reporting', scopes: ['read'], revokedAt: null });
    expect(entry.token).toBeUndefined();
    expect(JSON.stringify(listed.body)).not.toContain(created.token);
  });

  it('refuses a revoked token with the same 401 as an unknown one', async () => {
    const created = await createToken(['read']);
    expect((await asToken(created.token).get('/api/v1/lists')).status).toBe(200);
    expect((await ctx.api().delete(`/api/v1/tokens/${created.id}`)).status).toBe(204);
    const revoked = await asToken(created.token).get('/api/v1/lists');
    const unknown = await asToken('bt_' + 'A'.repeat(43)).get('/api/v1/lists');
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual(unknown.body);
    const listed = await ctx.api().get('/api/v1/tokens');
    expect(
      listed.body.data.find((t: { id: number }) => t.id === created.id).revokedAt,
    ).not.toBeNull();
  });

  it('answers 404 when revoking a token that does not exist', async () => {
    expect((await ctx.api().delete('/api/v1/tokens/999999')).status).toBe(404);
  });
});

describe('scopes', () => {
  it('lets a read token GET but not write, with 403 naming the scope', async () => {
    const { token } = await createToken(['read']);
    expect((await asToken(token).get('/api/v1/subscribers')).status).toBe(200);
    const res = await asToken(token).post('/api/v1/lists').send({ name: 'nope' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'forbidden' });
    expect(res.body.detail).toContain('subscribers:write');
    const { rows } = await ctx.db.query("SELECT count(*)::int AS n FROM lists WHERE name = 'nope'");
    expect(rows[0].n).toBe(0);
  });

  it('lets a subscribers:write token write lists and subscribers but not read them', async () => {
    const { token } = await createToken(['subscribers:write']);
    const list = await asToken(token).post('/api/v1/lists').send({ name: 'Writers' });
    expect(list.status).toBe(201);
    expect(
      (await asToken(token).post('/api/v1/subscribers').send({ email: 'writer@example.org' }))
        .status,
    ).toBe(201);
    expect((await asToken(token).get('/api/v1/lists')).status).toBe(403);
  });

  it('keeps token management to admin tokens', async () => {
    for (const scope of SCOPES.filter((s) => s !== 'admin')) {
      const { token } = await createToken([scope]);
      expect((await asToken(token).get('/api/v1/tokens')).status, scope).toBe(403);
      expect(
        (
          await asToken(token)
            .post('/api/v1/tokens')
            .send({ name: 'x', scopes: ['admin'] })
        ).status,
        scope,
      ).toBe(403);
    }
    const { token } = await createToken(['admin']);
    expect((await asToken(token).get('/api/v1/tokens')).status).toBe(200);
    expect((await asToken(token).post('/api/v1/lists').send({ name: 'By admin' })).status).toBe(
      201,
    );
  });

  it.each([
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['root'] }, 'scopes.0'],
    [{ name: '', scopes: ['read'] }, 'name'],
    [{ scopes: ['read'] }, 'name'],
    [{ name: 'x', scopes: ['read'], expires: 'never' }, 'expires'],
  ])('refuses the token request %j naming %s', async (body, path) => {
    const res = await ctx.api().post('/api/v1/tokens').send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});
