// Adversarial CSV files (issue 7), beyond tests/integration/imports.test.ts: invalid UTF-8,
// UTF-16, addresses built to smuggle a second recipient, attribute keys that would pollute
// JavaScript objects. A bad line is reported with its number and its neighbours import; a file
// that cannot be read at all is refused and stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';
import { stateOf } from '../helpers/state.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
  ctx.startWorkers();
});
afterAll(async () => {
  await ctx?.close();
});

let seq = 0;
async function list(): Promise<number> {
  const res = await ctx
    .api()
    .post('/api/v1/lists')
    .send({ name: `CSV ${++seq}` });
  return res.body.id as number;
}

interface ImportResult {
  status: string;
  inserted: number;
  errors: { line: number; reason: string }[];
}

async function importFile(listId: number, file: Buffer | string) {
  const res = await ctx
    .api()
    .post(`/api/v1/lists/${listId}/imports`)
    .set('Content-Type', 'text/csv')
    .send(Buffer.isBuffer(file) ? file : Buffer.from(file));
  if (res.status !== 202) return { res, result: undefined };
  const result = await waitFor(async () => {
    const r = await ctx.api().get(`/api/v1/imports/${res.body.id}`);
    return ['done', 'failed'].includes(r.body.status) ? (r.body as ImportResult) : undefined;
  });
  return { res, result };
}

async function emailsOf(listId: number): Promise<string[]> {
  const { rows } = await ctx.db.query<{ email: string }>(
    'SELECT s.email FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id WHERE x.list_id = $1 ORDER BY s.email',
    [listId],
  );
  return rows.map((r) => r.email);
}

describe('CSV bytes that are not UTF-8 text', () => {
  it('a line with invalid UTF-8 is reported by its number; nothing is stored with replacement characters', async () => {
    const id = await list();
    const file = Buffer.concat([
      Buffer.from('email,name\nok1@csv.test,Ada\nbad@csv.test,'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('\nok2@csv.test,Bo\n'),
    ]);
    const { result } = await importFile(id, file);
    expect(result).toMatchObject({ status: 'done', inserted: 2 });
    expect(result!.errors).toEqual([{ line: 3, reason: expect.stringMatching(/UTF-8/) }]);
    expect(await emailsOf(id)).toEqual(['ok1@csv.test', 'ok2@csv.test']);
    const { rows } = await ctx.db.query("SELECT 1 FROM subscribers WHERE name LIKE '%\uFFFD%'");
    expect(rows).toEqual([]);
  });

  it('a UTF-16 file (byte order mark FF FE) is refused as a whole with 415, nothing stored', async () => {
    const id = await list();
    const before = await stateOf(ctx);
    const file = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('email\nx@csv.test\n', 'utf16le'),
    ]);
    const { res } = await importFile(id, file);
    expect(res.status).toBe(415);
    expect(res.body.detail).toMatch(/UTF-16|UTF-8/);
    expect(await stateOf(ctx)).toEqual(before);
  });
});

describe('addresses that smuggle a second recipient', () => {
  it('each such line is an error with its line number; the lines around it import', async () => {
    const id = await list();
    const bad = [
      '"""a@x y""@csv.test"',
      '"a@x.test,b@y.test"',
      '"a@x.test\nb@y.test"', // a line break inside the quoted field: 2 physical lines
      'a(comment)@csv.test',
      '<a@csv.test>',
      'ops@pаypal.test',
      '"a@csv.test\r\nBcc: b@y.test"',
    ];
    const file = ['email', 'first@csv.test', ...bad, 'last@csv.test'].join('\n') + '\n';
    const { result } = await importFile(id, file);
    expect(result).toMatchObject({ status: 'done', inserted: 2 });
    expect(result!.errors.map((e) => e.line)).toEqual([3, 4, 5, 7, 8, 9, 10]);
    for (const e of result!.errors) expect(e.reason).toMatch(/^email/);
    expect(await emailsOf(id)).toEqual(['first@csv.test', 'last@csv.test']);
  });
});

describe('attribute keys that would pollute objects', () => {
  it('a "__proto__" column is refused with 422 before anything is stored', async () => {
    const id = await list();
    const before = await stateOf(ctx);
    const { res } = await importFile(id, 'email,__proto__\nproto@csv.test,{"isAdmin":true}\n');
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/__proto__/);
    expect(await stateOf(ctx)).toEqual(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('"constructor" and "prototype" are ordinary attribute keys', async () => {
    const id = await list();
    const { result } = await importFile(id, 'email,constructor,prototype\nctor@csv.test,x,y\n');
    expect(result).toMatchObject({ status: 'done', inserted: 1 });
    const { rows } = await ctx.db.query<{ attributes: Record<string, unknown> }>(
      "SELECT attributes FROM subscribers WHERE email = 'ctor@csv.test'",
    );
    expect(rows[0]!.attributes).toEqual({ constructor: 'x', prototype: 'y' });
  });

  it('the API refuses "__proto__" in attributes and campaign data, naming it', async () => {
    const before = await stateOf(ctx);
    const res = await ctx
      .api()
      .post('/api/v1/subscribers')
      .set('Content-Type', 'application/json')
      .send('{"email":"proto@api.test","attributes":{"__proto__":{"isAdmin":true}}}');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'attributes.__proto__', message: 'is a reserved name' },
    ]);
    expect(await stateOf(ctx)).toEqual(before);
  });
});
