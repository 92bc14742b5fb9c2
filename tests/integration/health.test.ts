import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ADMIN_TOKEN, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let broken: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
  // Nothing listens on these ports: Redis and SMTP are "down" for this context.
  broken = await createTestContext({
    REDIS_URL: 'redis://127.0.0.1:1',
    SMTP_URL: 'smtp://127.0.0.1:1',
  });
});
afterAll(async () => {
  await ctx?.close();
  await broken?.close();
});

describe('health and readiness', () => {
  it('answers /health with 200 without a token', async () => {
    const res = await ctx.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('is ready when PostgreSQL, Redis and the mail transport answer', async () => {
    const res = await ctx.http.get('/ready');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({
      postgres: { ok: true },
      redis: { ok: true },
      smtp: { ok: true },
    });
  });

  it('answers 503 naming what is down, and nothing more to an anonymous caller', async () => {
    const res = await broken.http.get('/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      status: 'unavailable',
      ok: false,
      checks: { postgres: { ok: true }, redis: { ok: false }, smtp: { ok: false } },
    });
    // No host, port or error text anywhere in the answer.
    expect(res.text).not.toMatch(/127\.0\.0\.1|:1\b|ECONNREFUSED|connection/i);
  });

  it('tells an ops or admin token (or METRICS_TOKEN) why, and a read token nothing more', async () => {
    const admin = await broken.http
      .get('/ready')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(admin.status).toBe(503);
    expect(admin.body.checks.redis.error).toBeTruthy();
    expect(admin.body.checks.smtp.error).toBeTruthy();
    const read = await broken
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'reader', scopes: ['read'] });
    const asReader = await broken.http
      .get('/ready')
      .set('Authorization', `Bearer ${read.body.token as string}`);
    expect(asReader.body.checks.smtp).toEqual({ ok: false });
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes every admin route of this release', async () => {
    const res = await ctx.http.get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = Object.keys(res.body.paths);
    for (const path of [
      '/api/v1/lists',
      '/api/v1/lists/{id}',
      '/api/v1/subscribers',
      '/api/v1/subscribers/{id}',
      '/api/v1/subscribers/{id}/lists',
      '/api/v1/lists/{id}/imports',
      '/api/v1/imports/{id}',
      '/api/v1/lists/{id}/export.csv',
      '/api/v1/tokens',
      '/api/v1/tokens/{id}',
    ]) {
      expect(paths).toContain(path);
    }
    const create = res.body.paths['/api/v1/subscribers'].post;
    const schema = create.requestBody.content['application/json'].schema;
    const resolved = schema.$ref
      ? res.body.components.schemas[schema.$ref.split('/').pop()]
      : schema;
    expect(resolved.required).toEqual(['email']);
    expect(Object.keys(resolved.properties)).toEqual(
      expect.arrayContaining(['email', 'name', 'attributes', 'lists', 'status']),
    );
    expect(res.body.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });
});

describe('unknown routes', () => {
  it('answers 404 as problem details', async () => {
    const res = await ctx.http.get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
