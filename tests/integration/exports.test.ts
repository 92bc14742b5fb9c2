import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';

const ctx = contextSuite({}, { workers: true });

async function createList(name: string): Promise<number> {
  const res = await ctx.api().post('/api/v1/lists').send({ name });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

async function createSubscriber(body: Record<string, unknown>): Promise<number> {
  const res = await ctx.api().post('/api/v1/subscribers').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as number;
}

/** Downloads an export as raw bytes (supertest would otherwise decode and buffer it as text). */
function download(url: string, token?: string) {
  const req = token
    ? ctx.http.get(url).set('Authorization', `Bearer ${token}`)
    : ctx.api().get(url);
  return req.buffer(true).parse((res, callback) => {
    const parts: Buffer[] = [];
    res.on('data', (part: Buffer) => parts.push(part));
    res.on('end', () => callback(null, Buffer.concat(parts)));
  });
}

function rowsOf(body: Buffer): string[][] {
  return parse(body, { bom: true });
}

interface ImportBody {
  status: string;
  inserted: number;
  errorCount: number;
  errors: { line: number; reason: string }[];
}

interface Snapshot {
  email: string;
  name: string;
  attributes: Record<string, unknown>;
}

async function snapshot(listId: number): Promise<Snapshot[]> {
  const { rows } = await ctx.db.query<Snapshot>(
    `SELECT s.email, s.name, s.attributes FROM subscriptions x
     JOIN subscribers s ON s.id = x.subscriber_id WHERE x.list_id = $1 ORDER BY s.email`,
    [listId],
  );
  return rows;
}

const FORMULAS: Snapshot[] = [
  {
    email: 'sum@export.test',
    name: '=SUM(A1:A9)',
    attributes: { city: 'Geneva', note: '=HYPERLINK("http://evil.test","click")' },
  },
  { email: 'plus@export.test', name: '+1', attributes: { note: '+41 22 000 00 00' } },
  { email: 'minus@export.test', name: '-2', attributes: { note: '-2+3' } },
  { email: 'at@export.test', name: '@cmd', attributes: { note: '@SUM(A1)' } },
  { email: 'tab@export.test', name: 'Tab', attributes: { note: '\t=1+1' } },
  { email: 'cr@export.test', name: 'Carriage', attributes: { note: '\r=1+1' } },
  { email: 'quoted@export.test', name: "'=already quoted", attributes: { note: "'plain" } },
  { email: '-dash@export.test', name: 'Dash', attributes: { '=key': 'formula key', city: 'Bern' } },
  {
    email: 'plain@export.test',
    name: 'Zoë "Zed" Ünal, Jr.',
    attributes: { note: 'two\r\nlines; with, delimiters' },
  },
];

describe('export', () => {
  it('neutralises formula cells and re-imports to the same emails, names and attributes', async () => {
    const listId = await createList('Formulas');
    for (const s of FORMULAS) await createSubscriber({ ...s, lists: [listId] });

    const res = await download(`/api/v1/lists/${listId}/export.csv`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="list-${listId}.csv"`);
    const body = res.body as Buffer;
    expect(body.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(body.toString('utf8')).toMatch(
      /^\uFEFFemail,name,status,subscription_status,created_at,/,
    );
    // Records end with CR LF; the bare line break inside the note is quoted.
    expect(body.toString('utf8').endsWith('\r\n')).toBe(true);

    const [header, ...rows] = rowsOf(body);
    expect(header).toEqual([
      'email',
      'name',
      'status',
      'subscription_status',
      'created_at',
      "'=key",
      'city',
      'note',
    ]);
    expect(rows).toHaveLength(FORMULAS.length);
    const byEmail = new Map(rows.map((r) => [r[0]!.replace(/^'/, ''), r]));
    expect(byEmail.get('sum@export.test')).toEqual([
      'sum@export.test',
      "'=SUM(A1:A9)",
      'active',
      'confirmed',
      expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      '',
      'Geneva',
      `'=HYPERLINK("http://evil.test","click")`,
    ]);
    expect(byEmail.get('plus@export.test')!.slice(1, 2)).toEqual(["'+1"]);
    expect(byEmail.get('minus@export.test')![1]).toBe("'-2");
    expect(byEmail.get('at@export.test')![1]).toBe("'@cmd");
    expect(byEmail.get('tab@export.test')![7]).toBe("'\t=1+1");
    expect(byEmail.get('cr@export.test')![7]).toBe("'\r=1+1");
    expect(byEmail.get('quoted@export.test')![1]).toBe("''=already quoted");
    expect(byEmail.get('quoted@export.test')![7]).toBe("'plain");
    expect(byEmail.get('-dash@export.test')![0]).toBe("'-dash@export.test");
    // No cell a spreadsheet would evaluate.
    for (const row of [header!, ...rows]) {
      for (const cell of row) expect(cell, JSON.stringify(cell)).not.toMatch(/^[=+\-@\t\r]/);
    }

    // Re-import into a new list, after the subscribers are gone: the file alone brings them back.
    const before = await snapshot(listId);
    expect(before).toEqual([...FORMULAS].sort((a, b) => a.email.localeCompare(b.email)));
    await ctx.db.query(
      'DELETE FROM subscribers WHERE id IN (SELECT subscriber_id FROM subscriptions WHERE list_id = $1)',
      [listId],
    );
    const newList = await createList('Formulas again');
    const upload = await ctx
      .api()
      .post(`/api/v1/lists/${newList}/imports`)
      .set('Content-Type', 'text/csv')
      .send(body);
    expect(upload.status).toBe(202);
    const done = await waitFor(async () => {
      const got = await ctx.api().get(`/api/v1/imports/${upload.body.id}`);
      const status = got.body.status as string;
      return status === 'done' || status === 'failed' ? (got.body as ImportBody) : undefined;
    });
    expect(done, JSON.stringify(done.errors)).toMatchObject({
      status: 'done',
      inserted: FORMULAS.length,
      errorCount: 0,
    });
    expect(await snapshot(newList)).toEqual(before);
  });

  it('writes non-string attributes as text and leaves missing ones empty', async () => {
    const listId = await createList('Types');
    await createSubscriber({
      email: 'typed@export.test',
      attributes: { score: 42, tags: ['a', 'b'], vip: true, none: null },
      lists: [listId],
    });
    await createSubscriber({ email: 'bare@export.test', lists: [listId] });
    const res = await download(`/api/v1/lists/${listId}/export.csv`);
    const [header, ...rows] = rowsOf(res.body as Buffer);
    expect(header!.slice(5)).toEqual(['none', 'score', 'tags', 'vip']);
    const typed = rows.find((r) => r[0] === 'typed@export.test')!;
    expect(typed.slice(5)).toEqual(['', '42', '["a","b"]', 'true']);
    const bare = rows.find((r) => r[0] === 'bare@export.test')!;
    expect(bare.slice(1, 2).concat(bare.slice(5))).toEqual(['', '', '', '', '']);
  });

  it('filters by subscription status', async () => {
    const listId = await createList('Mixed');
    await createSubscriber({ email: 'yes@filter.test', lists: [listId] });
    const gone = await createSubscriber({ email: 'gone@filter.test', lists: [listId] });
    await ctx
      .api()
      .put(`/api/v1/subscribers/${gone}/lists`)
      .send({ add: [listId], status: 'unsubscribed' });
    const pending = await createSubscriber({ email: 'pending@filter.test' });
    await ctx
      .api()
      .put(`/api/v1/subscribers/${pending}/lists`)
      .send({ add: [listId], status: 'unconfirmed' });

    const emails = async (query: string) => {
      const res = await download(`/api/v1/lists/${listId}/export.csv${query}`);
      expect(res.status).toBe(200);
      return rowsOf(res.body as Buffer)
        .slice(1)
        .map((r) => `${r[0]}:${r[3]}`)
        .sort();
    };
    expect(await emails('?subscriptionStatus=confirmed')).toEqual(['yes@filter.test:confirmed']);
    expect(await emails('?subscriptionStatus=unsubscribed')).toEqual([
      'gone@filter.test:unsubscribed',
    ]);
    expect(await emails('')).toEqual([
      'gone@filter.test:unsubscribed',
      'pending@filter.test:unconfirmed',
      'yes@filter.test:confirmed',
    ]);
    const bad = await ctx.api().get(`/api/v1/lists/${listId}/export.csv?subscriptionStatus=maybe`);
    expect(bad.status).toBe(400);
  });

  it('answers 404 with a problem for an unknown list', async () => {
    const res = await ctx.api().get('/api/v1/lists/987654/export.csv');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('not_found');
  });

  it('needs the read scope', async () => {
    const listId = await createList('Scoped');
    const writer = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'w', scopes: ['subscribers:write'] });
    const reader = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'r', scopes: ['read'] });
    expect((await download(`/api/v1/lists/${listId}/export.csv`, writer.body.token)).status).toBe(
      403,
    );
    expect((await download(`/api/v1/lists/${listId}/export.csv`, reader.body.token)).status).toBe(
      200,
    );
    expect((await ctx.http.get(`/api/v1/lists/${listId}/export.csv`)).status).toBe(401);
  });

  it('streams a list of several thousand subscribers, each exactly once and in order', async () => {
    const listId = await createList('Large');
    const count = 12_000; // more than two pages of the exporter's keyset paging
    await ctx.db.query(
      `WITH added AS (
         INSERT INTO subscribers (email, name, attributes)
         SELECT 'bulk' || i || '@stream.test', 'Bulk ' || i, jsonb_build_object('n', i::text)
         FROM generate_series(1, $2::int) AS i
         RETURNING id
       )
       INSERT INTO subscriptions (list_id, subscriber_id, status)
       SELECT $1, id, 'confirmed' FROM added`,
      [listId, count],
    );
    const res = await download(`/api/v1/lists/${listId}/export.csv`);
    expect(res.status).toBe(200);
    // Sent as it is produced: no Content-Length, chunked transfer.
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const [header, ...rows] = rowsOf(res.body as Buffer);
    expect(header).toEqual(['email', 'name', 'status', 'subscription_status', 'created_at', 'n']);
    expect(rows).toHaveLength(count);
    expect(rows.map((r) => r[0])).toEqual(
      Array.from({ length: count }, (_, i) => `bulk${i + 1}@stream.test`),
    );
    expect(rows[11_999]).toEqual([
      'bulk12000@stream.test',
      'Bulk 12000',
      'active',
      'confirmed',
      expect.any(String),
      '12000',
    ]);
  });
});
