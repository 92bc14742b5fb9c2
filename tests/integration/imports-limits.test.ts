// CSV imports: the consent they record, refused uploads and the size limit.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { importTools } from '../helpers/imports.js';

const ctx = contextSuite({}, { workers: true });

const tools = importTools(ctx);

describe('consent', () => {
  it('records an import consent for each new subscription; a double opt-in list gives unconfirmed', async () => {
    const single = await tools.createList('single');
    const double = await tools.createList('double');
    const existingId = await tools.createSubscriber({ email: 'known@consent.test', name: 'Known' });
    const csv = 'email,name\nknown@consent.test,Known\nfresh@consent.test,Fresh\n';
    const one = await tools.importCsv(single, csv);
    const two = await tools.importCsv(double, csv);
    expect(await tools.subscriptionStatus(single, 'fresh@consent.test')).toBe('confirmed');
    expect(await tools.subscriptionStatus(double, 'fresh@consent.test')).toBe('unconfirmed');
    expect(await tools.subscriptionStatus(double, 'known@consent.test')).toBe('unconfirmed');

    const { rows } = await ctx.db.query<{
      email: string;
      list_id: number;
      action: string;
      status: string;
      detail: { importId: number };
    }>(
      `SELECT s.email, c.list_id, c.action, c.status, c.detail FROM consent_records c
       JOIN subscribers s ON s.id = c.subscriber_id
       WHERE c.source = 'import' AND s.email LIKE '%@consent.test' ORDER BY c.id`,
    );
    expect(rows).toEqual([
      ...['known@consent.test', 'fresh@consent.test'].map((email) => ({
        email,
        list_id: single,
        action: 'subscribe',
        status: 'confirmed',
        detail: { importId: one.id },
      })),
      // On the double opt-in list the subscriptions wait for their confirmation.
      ...['known@consent.test', 'fresh@consent.test'].map((email) => ({
        email,
        list_id: double,
        action: 'subscribe',
        status: 'unconfirmed',
        detail: { importId: two.id },
      })),
    ]);
    // Importing the same file again adds no subscription, so no new consent record.
    await tools.importCsv(single, csv);
    const again = await ctx.db.query(
      `SELECT 1 FROM consent_records WHERE source = 'import' AND subscriber_id = $1`,
      [existingId],
    );
    expect(again.rowCount).toBe(2);
  });
});

describe('refused uploads', () => {
  it('answers 422 for a file without an email column and keeps nothing', async () => {
    const listId = await tools.createList();
    const before = await tools.storedImportRows();
    const res = await tools.upload(listId, 'name,city\nAda,Geneva\n');
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 422, code: 'unprocessable' });
    expect(res.body.detail).toMatch(/email/);
    expect(await tools.storedImportRows()).toEqual(before);
  });

  it('answers 422 for an empty body and keeps nothing', async () => {
    const listId = await tools.createList();
    const before = await tools.storedImportRows();
    const res = await tools.upload(listId, '');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('unprocessable');
    expect(await tools.storedImportRows()).toEqual(before);
  });

  it('answers 415 for a body that is not CSV', async () => {
    const listId = await tools.createList();
    const before = await tools.storedImportRows();
    const html = await ctx
      .api()
      .post(`/api/v1/lists/${listId}/imports`)
      .set('Content-Type', 'text/html')
      .send('<p>email</p>');
    expect(html.status).toBe(415);
    expect(html.body.code).toBe('unsupported_media_type');
    const json = await ctx
      .api()
      .post(`/api/v1/lists/${listId}/imports`)
      .send({ email: 'a@b.test' });
    expect(json.status).toBe(415);
    const gzip = await ctx
      .api()
      .post(`/api/v1/lists/${listId}/imports`)
      .set('Content-Type', 'text/csv')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync('email\na@gzip.test\n'));
    expect(gzip.status).toBe(415);
    expect(await tools.storedImportRows()).toEqual(before);
  });

  it('answers 404 for an unknown list, 400 for an unknown mode and 404 for an unknown import', async () => {
    const before = await tools.storedImportRows();
    const res = await tools.upload(987654, 'email\na@b.test\n');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const listId = await tools.createList();
    expect((await tools.upload(listId, 'email\na@b.test\n', 'replace')).status).toBe(400);
    expect(await tools.storedImportRows()).toEqual(before);
    expect((await ctx.api().get('/api/v1/imports/987654')).status).toBe(404);
  });

  it('needs the subscribers:write scope to import and read to see an import', async () => {
    const listId = await tools.createList();
    const reader = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'r', scopes: ['read'] });
    expect(reader.status).toBe(201);
    const res = await ctx.http
      .post(`/api/v1/lists/${listId}/imports`)
      .set('Authorization', `Bearer ${reader.body.token}`)
      .set('Content-Type', 'text/csv')
      .send('email\na@scope.test\n');
    expect(res.status).toBe(403);
    const anonymous = await ctx.http
      .post(`/api/v1/lists/${listId}/imports`)
      .set('Content-Type', 'text/csv')
      .send('email\na@scope.test\n');
    expect(anonymous.status).toBe(401);
  });
});

describe('size limit', () => {
  let small: TestContext;
  beforeAll(async () => {
    small = await createTestContext({ IMPORT_MAX_BYTES: '2048' });
  });
  afterAll(async () => {
    await small?.close();
  });

  async function smallList(): Promise<number> {
    const res = await small.api().post('/api/v1/lists').send({ name: 'Small' });
    return res.body.id as number;
  }

  async function stored(): Promise<number> {
    const { rows } = await small.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM imports) + (SELECT count(*) FROM import_chunks) AS n`,
    );
    return Number(rows[0]!.n);
  }

  it('answers 413 for a body over IMPORT_MAX_BYTES and stores nothing', async () => {
    const listId = await smallList();
    const csv =
      'email,name\n' + Array.from({ length: 200 }, (_, i) => `r${i}@big.test,R ${i}`).join('\n');
    expect(Buffer.byteLength(csv)).toBeGreaterThan(2048);
    const res = await small
      .api()
      .post(`/api/v1/lists/${listId}/imports`)
      .set('Content-Type', 'text/csv')
      .send(csv);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(await stored()).toBe(0);
  });

  it('answers 413 for a chunked upload that grows past the limit and stores nothing', async () => {
    const listId = await smallList();
    const server = small.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: `/api/v1/lists/${listId}/imports`,
            headers: {
              authorization: `Bearer ${small.config.adminToken}`,
              'content-type': 'text/csv',
              'transfer-encoding': 'chunked',
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.write('email,name\n');
        for (let i = 0; i < 100; i++) req.write(`chunked${i}@big.test,Chunk ${i}\n`);
        req.end();
      });
      expect(status).toBe(413);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await stored()).toBe(0);
  });

  it('accepts a body under the limit', async () => {
    const listId = await smallList();
    const res = await small
      .api()
      .post(`/api/v1/lists/${listId}/imports`)
      .set('Content-Type', 'text/csv')
      .send('email,name\nfits@small.test,Fits\n');
    expect(res.status).toBe(202);
    expect(res.body.total).toBe(1);
  });
});
