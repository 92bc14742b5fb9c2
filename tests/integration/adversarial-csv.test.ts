// Adversarial CSV files, beyond tests/integration/imports.test.ts: invalid UTF-8,
// UTF-16, addresses built to smuggle a second recipient, attribute keys that would pollute
// JavaScript objects. A bad line is reported with its number and its neighbours import; a file
// that cannot be read at all is refused and stores nothing.
import { describe, expect, it } from 'vitest';
import { waitFor, postJsonText } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { stateOf } from '../helpers/state.js';

const ctx = contextSuite({}, { workers: true });

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

  const utf16le = Buffer.from('email\nx@csv.test\n', 'utf16le');
  const utf16be = Buffer.from(utf16le).swap16();
  it.each([
    [
      'UTF-16 LE with its byte order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le]),
      /UTF-16/,
    ],
    [
      'UTF-16 BE with its byte order mark',
      Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be]),
      /UTF-16/,
    ],
    ['UTF-16 LE without a byte order mark', utf16le, /NUL bytes: UTF-16/],
    [
      'an .xlsx workbook (a zip archive)',
      Buffer.concat([
        Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0]),
        Buffer.from('[Content_Types].xml'),
      ]),
      /spreadsheet/,
    ],
  ])('%s is refused as a whole with 415 saying why; nothing stored', async (_what, file, why) => {
    const id = await list();
    const before = await stateOf(ctx);
    const { res } = await importFile(id, file);
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(why);
    expect(res.body.detail).toMatch(/save it as CSV UTF-8/);
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('a UTF-8 byte order mark before a quoted header is skipped: "email" is recognised', async () => {
    const id = await list();
    const { result } = await importFile(id, '\uFEFF"email","name"\r\nbom@csv.test,"Bo M"\r\n');
    expect(result).toMatchObject({ status: 'done', inserted: 1, errors: [] });
    expect(await emailsOf(id)).toEqual(['bom@csv.test']);
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

  it('"__proto__" in another case or with spaces around it is refused too', async () => {
    const id = await list();
    const before = await stateOf(ctx);
    const { res } = await importFile(id, 'email, __PROTO__ \nproto2@csv.test,1\n');
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/__proto__/);
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('"constructor", "prototype" and Object method names are ordinary attribute keys', async () => {
    const id = await list();
    const { result } = await importFile(
      id,
      'email,constructor,prototype,toString,hasOwnProperty\nctor@csv.test,x,y,z,w\n',
    );
    expect(result).toMatchObject({ status: 'done', inserted: 1 });
    const { rows } = await ctx.db.query<{ attributes: Record<string, unknown> }>(
      "SELECT attributes FROM subscribers WHERE email_key = lower('ctor@csv.test')",
    );
    expect(rows[0]!.attributes).toEqual({
      constructor: 'x',
      prototype: 'y',
      toString: 'z',
      hasOwnProperty: 'w',
    });
    expect(typeof ({} as Record<string, unknown>).toString).toBe('function');
  });

  it('the API refuses "__proto__" in attributes and campaign data, naming it', async () => {
    const before = await stateOf(ctx);
    const res = await postJsonText(
      ctx,
      '/api/v1/subscribers',
      '{"email":"proto@api.test","attributes":{"__proto__":{"isAdmin":true}}}',
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'attributes.__proto__', message: 'is a reserved name' },
    ]);
    expect(await stateOf(ctx)).toEqual(before);
  });
});

describe('huge lines and fields', () => {
  it('a 5 MB file that is one line without a line break is refused with 422 saying so', async () => {
    const id = await list();
    const before = await stateOf(ctx);
    for (const file of ['x'.repeat(5_000_000), `email,${'x'.repeat(5_000_000)}`]) {
      const { res } = await importFile(id, file);
      expect(res.status).toBe(422);
      expect(res.body.detail).toMatch(/header row \(line 1\) is longer than 65536 characters/);
    }
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('a header of 100,000 columns is refused for its length, not for a half column name', async () => {
    const id = await list();
    const before = await stateOf(ctx);
    const header = ['email', ...Array.from({ length: 100_000 }, (_, i) => `c${i}`)].join(',');
    const { res } = await importFile(id, `${header}\nwide@csv.test\n`);
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/longer than 65536 characters/);
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('a 5 MB last line without a line break is a line error with its number; it never hangs', async () => {
    const id = await list();
    const started = Date.now();
    const { res, result } = await importFile(
      id,
      `email\nbefore-huge@csv.test\n${'a'.repeat(5_000_000)}`,
    );
    expect(res.status).toBe(202);
    expect(result).toMatchObject({ status: 'done', processed: 2, inserted: 1 });
    expect((result as unknown as { errors: unknown[] }).errors).toEqual([
      { line: 3, reason: 'it is longer than 1048576 bytes (skipped)' },
    ]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await emailsOf(id)).toEqual(['before-huge@csv.test']);
  });

  it('fields past any limit are errors on their own lines; the lines around them import', async () => {
    const id = await list();
    const file = [
      'email,name,note',
      `${'a'.repeat(20_000)}@csv.test,Long address,`,
      `longname@csv.test,${'N'.repeat(300)},`,
      `longnote@csv.test,Note,${'n'.repeat(10_001)}`,
      `widerow@csv.test,Wide,x${',v'.repeat(100_000)}`,
      'fine@csv.test,Fine,ok',
    ].join('\n');
    const { result } = await importFile(id, file);
    expect(result).toMatchObject({ status: 'done', inserted: 1 });
    expect(result!.errors).toEqual([
      { line: 2, reason: 'a field is longer than 10000 characters' },
      { line: 3, reason: 'name must be at most 200 characters' },
      { line: 4, reason: 'a field is longer than 10000 characters' },
      { line: 5, reason: 'has 100003 fields but the header has 3' },
    ]);
    expect(await emailsOf(id)).toEqual(['fine@csv.test']);
  });
});

describe('file shapes', () => {
  it('a header without rows is a finished import of nothing', async () => {
    for (const file of ['email,name\n', 'email']) {
      const id = await list();
      const { res, result } = await importFile(id, file);
      expect(res.status).toBe(202);
      expect(result).toMatchObject({ status: 'done', inserted: 0, errors: [] });
      expect(await emailsOf(id)).toEqual([]);
    }
  });

  it('a line break inside a quoted name is that line’s error; line numbers after it stay physical', async () => {
    const id = await list();
    const file =
      'email,name\ncrlf@csv.test,"Ada\r\nBcc: all@evil.test"\nbad,B\nafter@csv.test,After\n';
    const { result } = await importFile(id, file);
    expect(result).toMatchObject({ status: 'done', inserted: 1 });
    expect(result!.errors).toEqual([
      { line: 2, reason: 'name must not contain line breaks or control characters' },
      { line: 4, reason: expect.stringMatching(/^email /) },
    ]);
    expect(await emailsOf(id)).toEqual(['after@csv.test']);
  });

  it('uploads that are not CSV (form, multipart, no type) or go to an unknown list store nothing', async () => {
    const id = await list();
    const before = await stateOf(ctx);
    const post = (url: string) => ctx.api().post(url);
    const answers = [
      await post(`/api/v1/lists/${id}/imports`).type('form').send('email=a%40csv.test'),
      await post(`/api/v1/lists/${id}/imports`).attach(
        'file',
        Buffer.from('email\na@csv.test\n'),
        'list.csv',
      ),
      await post(`/api/v1/lists/${id}/imports`).send(Buffer.from('email\na@csv.test\n')),
      await post('/api/v1/lists/987654321/imports')
        .set('Content-Type', 'text/csv')
        .send('email\na@csv.test\n'),
    ];
    expect(answers.map((a) => a.status)).toEqual([415, 415, 415, 404]);
    for (const a of answers)
      expect(a.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await stateOf(ctx)).toEqual(before);
  });
});

describe('formula cells from a CSV', () => {
  it('are imported as data and exported with a leading apostrophe, and read back the same', async () => {
    const id = await list();
    const file =
      'email,name,a,b,c,d,e\n' +
      'formula@csv.test,"=HYPERLINK(""http://evil.test"",""x"")",+cmd|calc,-1+1,@SUM(A1),"\t=1+1","\r=2+2"\n';
    const { result } = await importFile(id, file);
    expect(result).toMatchObject({ status: 'done', inserted: 1, errors: [] });
    const { rows } = await ctx.db.query<{ name: string; attributes: Record<string, string> }>(
      "SELECT name, attributes FROM subscribers WHERE email_key = lower('formula@csv.test')",
    );
    // Stored as written; the importer trims cells, so the tab and CR before "=" go.
    expect(rows[0]).toEqual({
      name: '=HYPERLINK("http://evil.test","x")',
      attributes: { a: '+cmd|calc', b: '-1+1', c: '@SUM(A1)', d: '=1+1', e: '=2+2' },
    });
    const exported = await ctx.api().get(`/api/v1/lists/${id}/export.csv`);
    expect(exported.status).toBe(200);
    const cells = exported.text.split('\r\n')[1]!;
    expect(cells).toContain(`"'=HYPERLINK(""http://evil.test"",""x"")"`);
    for (const cell of ["'+cmd|calc", "'-1+1", "'@SUM(A1)", "'=1+1", "'=2+2"]) {
      expect(cells).toContain(cell);
    }
    const again = await list();
    const { result: reimport } = await importFile(again, Buffer.from(exported.text));
    expect(reimport).toMatchObject({ status: 'done', updated: 1, errors: [] });
    const after = await ctx.db.query(
      "SELECT name, attributes FROM subscribers WHERE email_key = lower('formula@csv.test')",
    );
    expect(after.rows[0]).toEqual(rows[0]);
  });
});
