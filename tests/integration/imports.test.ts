import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { ImportRunner } from '../../src/services/import-runner.service.js';
import { ImportsRepository } from '../../src/db/repositories/imports.repository.js';
import type { Pool } from '../../src/db/pool.js';

const ctx = contextSuite({}, { workers: true });

interface ImportBody {
  id: number;
  status: string;
  total: number;
  processed: number;
  inserted: number;
  updated: number;
  skipped: number;
  errorCount: number;
  errors: { line: number; reason: string }[];
  failure: string | null;
}

async function createList(optin: 'single' | 'double' = 'single'): Promise<number> {
  const res = await ctx
    .api()
    .post('/api/v1/lists')
    .send({ name: `Import target ${Math.random()}`, optin });
  expect(res.status).toBe(201);
  return res.body.id as number;
}

function upload(listId: number, csv: string | Buffer, mode?: string) {
  const query = mode ? `?mode=${mode}` : '';
  return ctx
    .api()
    .post(`/api/v1/lists/${listId}/imports${query}`)
    .set('Content-Type', 'text/csv')
    .send(csv);
}

async function finished(importId: number): Promise<ImportBody> {
  return waitFor(async () => {
    const res = await ctx.api().get(`/api/v1/imports/${importId}`);
    expect(res.status).toBe(200);
    const body = res.body as ImportBody;
    return body.status === 'done' || body.status === 'failed' ? body : undefined;
  });
}

/** Uploads, waits for the worker and returns the finished import. */
async function importCsv(listId: number, csv: string | Buffer, mode?: string) {
  const res = await upload(listId, csv, mode);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return finished(res.body.id as number);
}

async function subscriber(email: string) {
  const { rows } = await ctx.db.query<{
    id: number;
    email: string;
    name: string;
    attributes: Record<string, string>;
    status: string;
  }>('SELECT id, email, name, attributes, status FROM subscribers WHERE email = $1', [email]);
  return rows[0];
}

async function subscriptionStatus(listId: number, email: string) {
  const { rows } = await ctx.db.query<{ status: string }>(
    `SELECT x.status FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
     WHERE x.list_id = $1 AND s.email = $2`,
    [listId, email],
  );
  return rows[0]?.status;
}

async function listEmails(listId: number): Promise<string[]> {
  const { rows } = await ctx.db.query<{ email: string }>(
    `SELECT s.email FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
     WHERE x.list_id = $1 ORDER BY s.email`,
    [listId],
  );
  return rows.map((r) => r.email);
}

async function createSubscriber(body: Record<string, unknown>): Promise<number> {
  const res = await ctx.api().post('/api/v1/subscribers').send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as number;
}

async function storedImportRows(): Promise<{ imports: number; chunks: number }> {
  const { rows } = await ctx.db.query<{ imports: number; chunks: number }>(
    `SELECT (SELECT count(*)::int FROM imports) AS imports,
            (SELECT count(*)::int FROM import_chunks) AS chunks`,
  );
  return rows[0]!;
}

/** Stores a file as an upload would have (chunks at the given byte offsets), without a job. */
async function storeUpload(
  listId: number,
  file: Buffer,
  cuts: number[] = [],
  mode: 'upsert' | 'skip-existing' = 'upsert',
): Promise<number> {
  const repo = new ImportsRepository(ctx.db);
  const imp = await repo.create(listId, mode);
  const bounds = [0, ...cuts, file.length];
  for (let i = 0; i < bounds.length - 1; i++) {
    await repo.appendChunk(imp.id, i, file.subarray(bounds[i], bounds[i + 1]));
  }
  const lines = file
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
  await repo.markQueued(imp.id, file.length, lines - 1);
  return imp.id;
}

async function getImport(id: number): Promise<ImportBody> {
  const res = await ctx.api().get(`/api/v1/imports/${id}`);
  expect(res.status).toBe(200);
  return res.body as ImportBody;
}

describe('importing a large file with bad lines', () => {
  it('imports 10,000 rows, reports exactly the 50 bad lines by line number and imports the rest', async () => {
    const listId = await createList();
    const tag = `big${listId}`;
    const badKinds: { make: (i: number) => string; reason: RegExp }[] = [
      { make: (i) => `not-an-email-${i},Name ${i},City`, reason: /^email must look like/ },
      { make: (i) => `${tag}.${i}@,Name ${i},City`, reason: /^email must look like/ },
      { make: (i) => `${tag}.${i}@example,Name,City`, reason: /^email domain is not valid/ },
      {
        make: (i) => `${tag}.ctl${i}@example.org,Bell\u0007 ${i},City`,
        reason: /^name must not contain line breaks or control characters/,
      },
      {
        make: (i) => `${tag}.del${i}@example.org,Del\u007f${i},City`,
        reason: /^name must not contain line breaks or control characters/,
      },
      {
        make: (i) => `${tag}.many${i}@example.org,Name,City,one too many`,
        reason: /^has 4 fields but the header has 3$/,
      },
      {
        make: (i) => `"${tag}.q${i}@x y"@example.org,Smuggler,City`,
        reason: /^email must be a single plain address/,
      },
      {
        make: (i) => `"${tag}.v${i}@example.org,attacker@evil.test",Smuggler,City`,
        reason: /^email must be a single plain address/,
      },
      { make: (i) => `,Nobody ${i},City`, reason: /^email is required$/ },
      { make: () => `   ,Blank,City`, reason: /^email is required$/ },
    ];
    // 50 bad rows spread over the file, on and around the 2,000-row batch boundaries too.
    const badIndexes = new Set<number>([0, 1998, 1999, 2000, 2001, 3999, 4000, 9999]);
    for (let k = 0; badIndexes.size < 50; k++) badIndexes.add((k * 211 + 37) % 10_000);
    const lines = ['email,name,city'];
    const expectedErrors: { line: number; reason: RegExp }[] = [];
    let bad = 0;
    for (let i = 0; i < 10_000; i++) {
      if (badIndexes.has(i)) {
        const kind = badKinds[bad++ % badKinds.length]!;
        lines.push(kind.make(i));
        expectedErrors.push({ line: i + 2, reason: kind.reason });
      } else {
        lines.push(`${tag}.${i}@Example.ORG,Reader ${i},City ${i % 7}`);
      }
    }
    const res = await upload(listId, lines.join('\n') + '\n');
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/api/v1/imports/${res.body.id}`);
    expect(res.body).toMatchObject({ status: 'queued', total: 10_000, processed: 0 });

    const done = await finished(res.body.id);
    expect(done).toMatchObject({
      status: 'done',
      total: 10_000,
      processed: 10_000,
      inserted: 9_950,
      updated: 0,
      skipped: 0,
      errorCount: 50,
      failure: null,
    });
    expect(done.inserted + done.updated + done.skipped + done.errorCount).toBe(done.processed);
    const errors = [...done.errors].sort((a, b) => a.line - b.line);
    expect(errors.map((e) => e.line)).toEqual(expectedErrors.map((e) => e.line));
    errors.forEach((error, i) => expect(error.reason).toMatch(expectedErrors[i]!.reason));

    const { rows } = await ctx.db.query<{ n: number; confirmed: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE x.status = 'confirmed')::int AS confirmed
       FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
       WHERE x.list_id = $1 AND s.email LIKE $2`,
      [listId, `${tag}.%`],
    );
    expect(rows[0]).toEqual({ n: 9_950, confirmed: 9_950 });
    // The domain is lower-cased, the local part kept; the third column became an attribute.
    expect(await subscriber(`${tag}.5@example.org`)).toMatchObject({
      email: `${tag}.5@example.org`,
      name: 'Reader 5',
      attributes: { city: 'City 5' },
      status: 'active',
    });
    // Nothing from a bad line got in.
    const all = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM subscribers WHERE email LIKE $1`,
      [`%${tag}.%`],
    );
    expect(all.rows[0]!.n).toBe(9_950);
    const smuggled = await ctx.db.query(
      `SELECT 1 FROM subscribers WHERE email ILIKE '%evil.test%' OR email LIKE '%"%'`,
    );
    expect(smuggled.rowCount).toBe(0);
  });
});

describe('existing subscribers', () => {
  it('upsert updates names and attributes, keeps a name the file leaves empty, and counts them as updated', async () => {
    const listId = await createList();
    await createSubscriber({
      email: 'ada@upsert.test',
      name: 'Ada',
      attributes: { city: 'London', team: 'engines' },
    });
    await createSubscriber({ email: 'grace@upsert.test', name: 'Grace Hopper' });
    const done = await importCsv(
      listId,
      'email,name,city\nada@upsert.test,Ada Lovelace,Geneva\ngrace@upsert.test,,Arlington\nnew@upsert.test,Newcomer,Bern\n',
      'upsert',
    );
    expect(done).toMatchObject({ status: 'done', processed: 3, inserted: 1, updated: 2 });
    expect(done.skipped).toBe(0);
    expect(await subscriber('ada@upsert.test')).toMatchObject({
      name: 'Ada Lovelace',
      attributes: { city: 'Geneva', team: 'engines' },
    });
    expect(await subscriber('grace@upsert.test')).toMatchObject({
      name: 'Grace Hopper',
      attributes: { city: 'Arlington' },
    });
    expect(await listEmails(listId)).toEqual([
      'ada@upsert.test',
      'grace@upsert.test',
      'new@upsert.test',
    ]);
  });

  it('skip-existing leaves existing subscribers as they were but still subscribes them', async () => {
    const listId = await createList();
    await createSubscriber({ email: 'ada@skip.test', name: 'Ada', attributes: { city: 'London' } });
    const done = await importCsv(
      listId,
      'email,name,city\nada@skip.test,Someone Else,Geneva\nnew@skip.test,Newcomer,Bern\n',
      'skip-existing',
    );
    expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 1, updated: 0 });
    expect(done.skipped).toBe(1);
    expect(await subscriber('ada@skip.test')).toMatchObject({
      name: 'Ada',
      attributes: { city: 'London' },
    });
    expect(await subscriptionStatus(listId, 'ada@skip.test')).toBe('confirmed');
    expect(await subscriptionStatus(listId, 'new@skip.test')).toBe('confirmed');
  });

  it('lets the last of several rows for one address win and counts the others as skipped', async () => {
    const listId = await createList();
    const done = await importCsv(
      listId,
      'email,name\ntwice@dup.test,First\nTWICE@DUP.TEST,Second\nother@dup.test,Other\ntwice@Dup.Test,Third\n',
    );
    expect(done).toMatchObject({ processed: 4, inserted: 2, updated: 0, skipped: 2 });
    expect(await subscriber('twice@dup.test')).toMatchObject({ name: 'Third' });
  });

  it('never re-subscribes an unsubscribed address and never changes a blocklisted subscriber', async () => {
    const listId = await createList();
    const goneId = await createSubscriber({ email: 'gone@keep.test', name: 'Gone' });
    const put = await ctx
      .api()
      .put(`/api/v1/subscribers/${goneId}/lists`)
      .send({ add: [listId], status: 'unsubscribed' });
    expect(put.status).toBe(200);
    await createSubscriber({ email: 'blocked@keep.test', name: 'Blocked', status: 'blocklisted' });
    const consentBefore = await ctx.db.query(
      'SELECT id FROM consent_records WHERE subscriber_id = $1',
      [goneId],
    );

    for (const mode of ['upsert', 'skip-existing']) {
      const done = await importCsv(
        listId,
        'email,name,status,subscription_status\ngone@keep.test,Gone Again,active,confirmed\nblocked@keep.test,Blocked,active,confirmed\n',
        mode,
      );
      expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 0, errorCount: 0 });
    }
    expect(await subscriptionStatus(listId, 'gone@keep.test')).toBe('unsubscribed');
    expect((await subscriber('blocked@keep.test'))!.status).toBe('blocklisted');
    const consentAfter = await ctx.db.query(
      'SELECT id FROM consent_records WHERE subscriber_id = $1',
      [goneId],
    );
    expect(consentAfter.rowCount).toBe(consentBefore.rowCount);
  });
});

describe('file formats', () => {
  it('reads a ;-separated Windows file with a BOM, quoted fields, extra columns as attributes and reserved columns ignored', async () => {
    const listId = await createList();
    const csv =
      '\uFEFFEmail;Name;City;Member since;id;uuid;status;subscription_status;created_at;updated_at\r\n' +
      'ada@format.test;"Lovelace; Ada";Geneva;2017;999;00000000-0000-0000-0000-000000000000;blocklisted;unsubscribed;2000-01-01;2000-01-01\r\n' +
      'bob@format.test;"Bob ""the builder""";"Line one\r\nline two";2018;1;;bounced;unsubscribed;;\r\n' +
      'not an address;X;;;;;;;;\r\n' +
      'carol@EXAMPLE.test;Carol;Bern;;;;;;;\r\n';
    const done = await importCsv(listId, Buffer.from(csv, 'utf8'));
    expect(done).toMatchObject({ status: 'done', processed: 4, inserted: 3, errorCount: 1 });
    // The quoted line break makes the bad address the fifth line of the file.
    expect(done.errors).toEqual([{ line: 5, reason: expect.stringMatching(/^email /) }]);
    expect(await subscriber('ada@format.test')).toMatchObject({
      name: 'Lovelace; Ada',
      attributes: { City: 'Geneva', 'Member since': '2017' },
      status: 'active',
    });
    expect(await subscriber('bob@format.test')).toMatchObject({
      name: 'Bob "the builder"',
      attributes: { City: 'Line one\r\nline two', 'Member since': '2018' },
      status: 'active',
    });
    expect(await subscriber('carol@example.test')).toMatchObject({
      name: 'Carol',
      attributes: { City: 'Bern' },
    });
    expect(await subscriptionStatus(listId, 'ada@format.test')).toBe('confirmed');
    expect(await subscriptionStatus(listId, 'bob@format.test')).toBe('confirmed');
  });

  it('reads a file the same wherever the stored chunks happen to be cut', async () => {
    const file = Buffer.from(
      '\uFEFFemail;name;note\r\n' +
        'one@cuts.test;"Semi; colon";"first\r\nsecond\r\nthird"\r\n' +
        '\r\n' +
        'bad address;Bad;x\r\n' +
        'two@cuts.test;Zoë;"quoted ""word"""\r\n',
      'utf8',
    );
    // Cut between every CR and LF, inside the BOM, inside quotes and inside the ë.
    const cuts = new Set<number>([1, 2, file.indexOf('Semi') + 2, file.indexOf('ë') + 1]);
    for (let i = file.indexOf(13); i >= 0; i = file.indexOf(13, i + 1)) cuts.add(i + 1);
    const listId = await createList();
    const id = await storeUpload(
      listId,
      file,
      [...cuts].sort((a, b) => a - b),
    );
    expect(await ctx.container.services.importRunner.run(id)).toBe('done');
    expect(await getImport(id)).toMatchObject({
      processed: 3,
      inserted: 2,
      errors: [{ line: 6, reason: expect.stringMatching(/^email /) }],
    });
    expect(await subscriber('one@cuts.test')).toMatchObject({
      name: 'Semi; colon',
      attributes: { note: 'first\r\nsecond\r\nthird' },
    });
    expect(await subscriber('two@cuts.test')).toMatchObject({
      name: 'Zoë',
      attributes: { note: 'quoted "word"' },
    });
  });

  it('reads tab-separated files and old Mac line endings', async () => {
    const listId = await createList();
    const tabs = await importCsv(listId, 'email\tname\ntab@format.test\tTab Person\n');
    expect(tabs).toMatchObject({ status: 'done', inserted: 1 });
    expect((await subscriber('tab@format.test'))!.name).toBe('Tab Person');
    const uploaded = await upload(listId, 'email,name\rmac@format.test,Mac\rbad,Bad\r');
    expect(uploaded.body.total).toBe(2);
    const mac = await finished(uploaded.body.id);
    expect(mac).toMatchObject({ status: 'done', processed: 2, inserted: 1 });
    expect(mac.errors).toEqual([{ line: 3, reason: expect.stringMatching(/^email /) }]);
  });

  it('strips the apostrophe the exporter puts before formula characters, and only that one', async () => {
    const listId = await createList();
    await importCsv(
      listId,
      "email,name,formula,plain\nformula@format.test,'=SUM(A1:A9),'+1,'quoted\n",
    );
    expect(await subscriber('formula@format.test')).toMatchObject({
      name: '=SUM(A1:A9)',
      attributes: { formula: '+1', plain: "'quoted" },
    });
  });

  it('keeps multi-byte characters that straddle two stored chunks', async () => {
    const listId = await createList();
    const file = Buffer.from('email,name\nzoe@chunks.test,Zoë Ünal\n', 'utf8');
    const cut = file.indexOf(Buffer.from('ë')) + 1; // between the two bytes of ë
    const id = await storeUpload(listId, file, [5, cut]);
    expect(await ctx.container.services.importRunner.run(id)).toBe('done');
    expect((await subscriber('zoe@chunks.test'))!.name).toBe('Zoë Ünal');
  });

  it('reports a NUL character in a cell as a bad line instead of failing the import', async () => {
    const listId = await createList();
    const done = await importCsv(
      listId,
      'email,name,note\nnul@format.test,Nul,"a\u0000b"\nok@format.test,Ok,fine\n',
    );
    expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 1, errorCount: 1 });
    expect(done.errors).toEqual([{ line: 2, reason: expect.stringMatching(/note/) }]);
  });

  it('reports an unclosed quote at the line where the record starts', async () => {
    const listId = await createList();
    const done = await importCsv(
      listId,
      'email,name\nfirst@quote.test,First\nsecond@quote.test,"Never closed\nthird@quote.test,Third\n',
    );
    expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 1, errorCount: 1 });
    expect(done.errors).toEqual([{ line: 3, reason: expect.stringMatching(/never closed/) }]);
  });

  it('reports a line longer than 1 MB as a line error and imports the lines after it', async () => {
    const listId = await createList();
    const csv = `email,name\nbefore@huge.test,Before\nhuge@huge.test,${'x'.repeat(1_100_000)}\nafter@huge.test,After\n`;
    const done = await importCsv(listId, csv);
    expect(done).toMatchObject({ status: 'done', processed: 3, inserted: 2, errorCount: 1 });
    expect(done.errors).toEqual([{ line: 3, reason: 'it is longer than 1048576 bytes (skipped)' }]);
    expect(await listEmails(listId)).toEqual(['after@huge.test', 'before@huge.test']);
  });

  it('keeps line numbers true after an over-long quoted record that spans lines', async () => {
    const listId = await createList();
    const long = `"${'y\n'.repeat(600_000)}"`; // 600,000 line breaks inside one quoted field
    const csv =
      `email,name\nfirst@span.test,First\nlong@span.test,${long}\nbad-address,Bad\n` +
      'last@span.test,"Quoted ""name"""\r\n';
    const done = await importCsv(listId, csv);
    expect(done).toMatchObject({ status: 'done', processed: 4, inserted: 2, errorCount: 2 });
    expect(done.errors).toEqual([
      { line: 3, reason: 'it is longer than 1048576 bytes (skipped)' },
      { line: 600_004, reason: expect.any(String) },
    ]);
    expect(await listEmails(listId)).toEqual(['first@span.test', 'last@span.test']);
  });

  it('a stray quote inside an unquoted field does not swallow the lines after it', async () => {
    const listId = await createList();
    const rows = Array.from(
      { length: 30_000 },
      (_, i) => `r${i}@stray.test,Reader ${i}: 5" screen`,
    );
    const done = await importCsv(listId, `email,name\n${rows.join('\n')}\n`);
    expect(done).toMatchObject({ status: 'done', processed: 30_000, inserted: 30_000 });
    expect(done.errorCount).toBe(0);
  });

  it('refuses a header that names a column twice', async () => {
    const listId = await createList();
    const res = await upload(listId, 'email,name,Email\na@dup-header.test,A,b\n');
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/repeats the column "email"/);
  });
});

describe('consent', () => {
  it('records an import consent for each new subscription; a double opt-in list gives unconfirmed', async () => {
    const single = await createList('single');
    const double = await createList('double');
    const existingId = await createSubscriber({ email: 'known@consent.test', name: 'Known' });
    const csv = 'email,name\nknown@consent.test,Known\nfresh@consent.test,Fresh\n';
    const one = await importCsv(single, csv);
    const two = await importCsv(double, csv);
    expect(await subscriptionStatus(single, 'fresh@consent.test')).toBe('confirmed');
    expect(await subscriptionStatus(double, 'fresh@consent.test')).toBe('unconfirmed');
    expect(await subscriptionStatus(double, 'known@consent.test')).toBe('unconfirmed');

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
      {
        email: 'known@consent.test',
        list_id: single,
        action: 'subscribe',
        status: 'confirmed',
        detail: { importId: one.id },
      },
      {
        email: 'fresh@consent.test',
        list_id: single,
        action: 'subscribe',
        status: 'confirmed',
        detail: { importId: one.id },
      },
      {
        email: 'known@consent.test',
        list_id: double,
        action: 'subscribe',
        status: 'unconfirmed',
        detail: { importId: two.id },
      },
      {
        email: 'fresh@consent.test',
        list_id: double,
        action: 'subscribe',
        status: 'unconfirmed',
        detail: { importId: two.id },
      },
    ]);
    // Importing the same file again adds no subscription, so no new consent record.
    await importCsv(single, csv);
    const again = await ctx.db.query(
      `SELECT 1 FROM consent_records WHERE source = 'import' AND subscriber_id = $1`,
      [existingId],
    );
    expect(again.rowCount).toBe(2);
  });
});

describe('refused uploads', () => {
  it('answers 422 for a file without an email column and keeps nothing', async () => {
    const listId = await createList();
    const before = await storedImportRows();
    const res = await upload(listId, 'name,city\nAda,Geneva\n');
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 422, code: 'unprocessable' });
    expect(res.body.detail).toMatch(/email/);
    expect(await storedImportRows()).toEqual(before);
  });

  it('answers 422 for an empty body and keeps nothing', async () => {
    const listId = await createList();
    const before = await storedImportRows();
    const res = await upload(listId, '');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('unprocessable');
    expect(await storedImportRows()).toEqual(before);
  });

  it('answers 415 for a body that is not CSV', async () => {
    const listId = await createList();
    const before = await storedImportRows();
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
    expect(await storedImportRows()).toEqual(before);
  });

  it('answers 404 for an unknown list, 400 for an unknown mode and 404 for an unknown import', async () => {
    const before = await storedImportRows();
    const res = await upload(987654, 'email\na@b.test\n');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const listId = await createList();
    expect((await upload(listId, 'email\na@b.test\n', 'replace')).status).toBe(400);
    expect(await storedImportRows()).toEqual(before);
    expect((await ctx.api().get('/api/v1/imports/987654')).status).toBe(404);
  });

  it('needs the subscribers:write scope to import and read to see an import', async () => {
    const listId = await createList();
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

describe('progress', () => {
  it('shows a running import with processed between 0 and total while it runs', async () => {
    const listId = await createList();
    const rows = Array.from({ length: 6000 }, (_, i) => `p${i}@progress.test,P ${i}`);
    // Hold a row lock on a subscriber of the second batch: the import stops there, visibly.
    await createSubscriber({ email: 'p3000@progress.test', name: 'Before' });
    const blocker = await ctx.db.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `SELECT 1 FROM subscribers WHERE email = 'p3000@progress.test' FOR UPDATE`,
      );
      const res = await upload(listId, ['email,name', ...rows].join('\r\n'), 'upsert');
      expect(res.status).toBe(202);
      expect(res.body.total).toBe(6000);
      const running = await waitFor(async () => {
        const body = await getImport(res.body.id);
        return body.status === 'running' && body.processed > 0 ? body : undefined;
      });
      expect(running.processed).toBeGreaterThan(0);
      expect(running.processed).toBeLessThan(running.total);
      expect(running.total).toBe(6000);
      await blocker.query('ROLLBACK');
      const done = await finished(res.body.id);
      expect(done).toMatchObject({ status: 'done', processed: 6000, inserted: 5999, updated: 1 });
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });
});

/** A pool whose connect() (used for each batch's transaction) fails after `allowed` calls. */
function crashingPool(pool: Pool, allowed: number): Pool {
  let calls = 0;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property === 'connect') {
        return async () => {
          if (++calls > allowed) throw new Error('simulated crash');
          return target.connect();
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

function resumeFile(tag: string, rows: number) {
  const lines = ['email,name,note'];
  const expectedErrors: number[] = [];
  const emails = new Set<string>();
  let line = 1; // the header
  for (let i = 0; i < rows; i++) {
    line++;
    if (i % 97 === 5) {
      lines.push(`bad-${i},Bad,x`);
      expectedErrors.push(line);
    } else if (i % 113 === 7) {
      // A quoted line break: the record takes two lines of the file.
      lines.push(`${tag}${i}@resume.test,Multi,"one\ntwo"`);
      line++;
      emails.add(`${tag}${i}@resume.test`);
    } else {
      lines.push(`${tag}${i}@resume.test,R ${i},n${i}`);
      emails.add(`${tag}${i}@resume.test`);
    }
  }
  return { file: Buffer.from(lines.join('\n') + '\n'), expectedErrors, emails };
}

describe('resuming', () => {
  it('continues an interrupted run after the last committed batch, without duplicates or gaps', async () => {
    const listId = await createList();
    const { file, expectedErrors, emails } = resumeFile('a', 2600);
    const id = await storeUpload(listId, file, [1000, 30_000]);

    const crashing = new ImportRunner(crashingPool(ctx.db, 3), ctx.container.log, 500);
    await expect(crashing.run(id)).rejects.toThrow('simulated crash');
    const interrupted = await getImport(id);
    expect(interrupted).toMatchObject({ status: 'running', processed: 1500 });
    expect((await listEmails(listId)).length).toBe(interrupted.inserted);

    // The queue retries the job: a worker claims the running import and carries on.
    await ctx.container.services.imports.enqueue(id);
    const done = await finished(id);
    expect(done).toMatchObject({
      status: 'done',
      processed: 2600,
      total: 2600,
      inserted: emails.size,
      updated: 0,
      skipped: 0,
      errorCount: expectedErrors.length,
    });
    expect(done.errors.map((e) => e.line)).toEqual(expectedErrors);
    expect(await listEmails(listId)).toEqual([...emails].sort());
    const consents = await ctx.db.query<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT subscriber_id)::int AS distinct
       FROM consent_records WHERE source = 'import' AND list_id = $1`,
      [listId],
    );
    expect(consents.rows[0]).toEqual({ n: emails.size, distinct: emails.size });
    const chunks = await ctx.db.query('SELECT 1 FROM import_chunks WHERE import_id = $1', [id]);
    expect(chunks.rowCount).toBe(0);
  });

  it('lets only one of two runners that claimed the same import write each batch', async () => {
    const listId = await createList();
    const { file, expectedErrors, emails } = resumeFile('b', 2600);
    const id = await storeUpload(listId, file, [4096]);
    const one = new ImportRunner(ctx.db, ctx.container.log, 500);
    const two = new ImportRunner(ctx.db, ctx.container.log, 500);
    const outcomes = await Promise.all([one.run(id), two.run(id)]);
    expect(outcomes.sort()).toEqual(['done', 'skipped']);
    const done = await getImport(id);
    expect(done).toMatchObject({
      status: 'done',
      processed: 2600,
      inserted: emails.size,
      updated: 0,
      errorCount: expectedErrors.length,
    });
    expect(done.errors.map((e) => e.line)).toEqual(expectedErrors);
    expect(await listEmails(listId)).toEqual([...emails].sort());
  });

  it('does nothing for an import that already finished', async () => {
    const listId = await createList();
    const done = await importCsv(listId, 'email\nonce@resume.test\n');
    expect(await ctx.container.services.importRunner.run(done.id)).toBe('skipped');
    expect(await getImport(done.id)).toMatchObject({ status: 'done', processed: 1, inserted: 1 });
  });
});
