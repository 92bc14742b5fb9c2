// CSV imports (docs/contract.md §2): large files with bad lines, existing subscribers, file
// formats (consent, limits: imports-limits.test.ts; progress, resuming: imports-progress.test.ts).
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import { importTools } from '../helpers/imports.js';

const ctx = contextSuite({}, { workers: true });

const tools = importTools(ctx);

describe('importing a large file with bad lines', () => {
  it('imports 10,000 rows, reports exactly the 50 bad lines by line number and imports the rest', async () => {
    const listId = await tools.createList();
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
    const res = await tools.upload(listId, lines.join('\n') + '\n');
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/api/v1/imports/${res.body.id}`);
    expect(res.body).toMatchObject({ status: 'queued', total: 10_000, processed: 0 });

    const done = await tools.finished(res.body.id);
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
    expect(await tools.subscriber(`${tag}.5@example.org`)).toMatchObject({
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
    const listId = await tools.createList();
    await tools.createSubscriber({
      email: 'ada@upsert.test',
      name: 'Ada',
      attributes: { city: 'London', team: 'engines' },
    });
    await tools.createSubscriber({ email: 'grace@upsert.test', name: 'Grace Hopper' });
    const done = await tools.importCsv(
      listId,
      'email,name,city\nada@upsert.test,Ada Lovelace,Geneva\ngrace@upsert.test,,Arlington\nnew@upsert.test,Newcomer,Bern\n',
      'upsert',
    );
    expect(done).toMatchObject({ status: 'done', processed: 3, inserted: 1, updated: 2 });
    expect(done.skipped).toBe(0);
    expect(await tools.subscriber('ada@upsert.test')).toMatchObject({
      name: 'Ada Lovelace',
      attributes: { city: 'Geneva', team: 'engines' },
    });
    expect(await tools.subscriber('grace@upsert.test')).toMatchObject({
      name: 'Grace Hopper',
      attributes: { city: 'Arlington' },
    });
    expect(await tools.listEmails(listId)).toEqual([
      'ada@upsert.test',
      'grace@upsert.test',
      'new@upsert.test',
    ]);
  });

  it('skip-existing leaves existing subscribers as they were but still subscribes them', async () => {
    const listId = await tools.createList();
    await tools.createSubscriber({
      email: 'ada@skip.test',
      name: 'Ada',
      attributes: { city: 'London' },
    });
    const done = await tools.importCsv(
      listId,
      'email,name,city\nada@skip.test,Someone Else,Geneva\nnew@skip.test,Newcomer,Bern\n',
      'skip-existing',
    );
    expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 1, updated: 0 });
    expect(done.skipped).toBe(1);
    expect(await tools.subscriber('ada@skip.test')).toMatchObject({
      name: 'Ada',
      attributes: { city: 'London' },
    });
    expect(await tools.subscriptionStatus(listId, 'ada@skip.test')).toBe('confirmed');
    expect(await tools.subscriptionStatus(listId, 'new@skip.test')).toBe('confirmed');
  });

  it('lets the last of several rows for one address win and counts the others as skipped', async () => {
    const listId = await tools.createList();
    const done = await tools.importCsv(
      listId,
      'email,name\ntwice@dup.test,First\nTWICE@DUP.TEST,Second\nother@dup.test,Other\ntwice@Dup.Test,Third\n',
    );
    expect(done).toMatchObject({ processed: 4, inserted: 2, updated: 0, skipped: 2 });
    expect(await tools.subscriber('twice@dup.test')).toMatchObject({ name: 'Third' });
  });

  it('never re-subscribes an unsubscribed address and never changes a blocklisted subscriber', async () => {
    const listId = await tools.createList();
    const goneId = await tools.createSubscriber({ email: 'gone@keep.test', name: 'Gone' });
    const put = await ctx
      .api()
      .put(`/api/v1/subscribers/${goneId}/lists`)
      .send({ add: [listId], status: 'unsubscribed' });
    expect(put.status).toBe(200);
    await tools.createSubscriber({
      email: 'blocked@keep.test',
      name: 'Blocked',
      status: 'blocklisted',
    });
    const consentBefore = await ctx.db.query(
      'SELECT id FROM consent_records WHERE subscriber_id = $1',
      [goneId],
    );

    for (const mode of ['upsert', 'skip-existing']) {
      const done = await tools.importCsv(
        listId,
        'email,name,status,subscription_status\ngone@keep.test,Gone Again,active,confirmed\nblocked@keep.test,Blocked,active,confirmed\n',
        mode,
      );
      expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 0, errorCount: 0 });
    }
    expect(await tools.subscriptionStatus(listId, 'gone@keep.test')).toBe('unsubscribed');
    expect((await tools.subscriber('blocked@keep.test'))!.status).toBe('blocklisted');
    const consentAfter = await ctx.db.query(
      'SELECT id FROM consent_records WHERE subscriber_id = $1',
      [goneId],
    );
    expect(consentAfter.rowCount).toBe(consentBefore.rowCount);
  });
});

describe('file formats', () => {
  it('reads a ;-separated Windows file with a BOM, quoted fields, extra columns as attributes and reserved columns ignored', async () => {
    const listId = await tools.createList();
    const csv =
      '\uFEFFEmail;Name;City;Member since;id;uuid;status;subscription_status;created_at;updated_at\r\n' +
      'ada@format.test;"Lovelace; Ada";Geneva;2017;999;00000000-0000-0000-0000-000000000000;blocklisted;unsubscribed;2000-01-01;2000-01-01\r\n' +
      'bob@format.test;"Bob ""the builder""";"Line one\r\nline two";2018;1;;bounced;unsubscribed;;\r\n' +
      'not an address;X;;;;;;;;\r\n' +
      'carol@EXAMPLE.test;Carol;Bern;;;;;;;\r\n';
    const done = await tools.importCsv(listId, Buffer.from(csv, 'utf8'));
    expect(done).toMatchObject({ status: 'done', processed: 4, inserted: 3, errorCount: 1 });
    // The quoted line break makes the bad address the fifth line of the file.
    expect(done.errors).toEqual([{ line: 5, reason: expect.stringMatching(/^email /) }]);
    expect(await tools.subscriber('ada@format.test')).toMatchObject({
      name: 'Lovelace; Ada',
      attributes: { City: 'Geneva', 'Member since': '2017' },
      status: 'active',
    });
    expect(await tools.subscriber('bob@format.test')).toMatchObject({
      name: 'Bob "the builder"',
      attributes: { City: 'Line one\r\nline two', 'Member since': '2018' },
      status: 'active',
    });
    expect(await tools.subscriber('carol@example.test')).toMatchObject({
      name: 'Carol',
      attributes: { City: 'Bern' },
    });
    expect(await tools.subscriptionStatus(listId, 'ada@format.test')).toBe('confirmed');
    expect(await tools.subscriptionStatus(listId, 'bob@format.test')).toBe('confirmed');
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
    const listId = await tools.createList();
    const id = await tools.storeUpload(
      listId,
      file,
      [...cuts].sort((a, b) => a - b),
    );
    expect(await ctx.container.services.importRunner.run(id)).toBe('done');
    expect(await tools.getImport(id)).toMatchObject({
      processed: 3,
      inserted: 2,
      errors: [{ line: 6, reason: expect.stringMatching(/^email /) }],
    });
    expect(await tools.subscriber('one@cuts.test')).toMatchObject({
      name: 'Semi; colon',
      attributes: { note: 'first\r\nsecond\r\nthird' },
    });
    expect(await tools.subscriber('two@cuts.test')).toMatchObject({
      name: 'Zoë',
      attributes: { note: 'quoted "word"' },
    });
  });

  it('reads tab-separated files and old Mac line endings', async () => {
    const listId = await tools.createList();
    const tabs = await tools.importCsv(listId, 'email\tname\ntab@format.test\tTab Person\n');
    expect(tabs).toMatchObject({ status: 'done', inserted: 1 });
    expect((await tools.subscriber('tab@format.test'))!.name).toBe('Tab Person');
    const uploaded = await tools.upload(listId, 'email,name\rmac@format.test,Mac\rbad,Bad\r');
    expect(uploaded.body.total).toBe(2);
    const mac = await tools.finished(uploaded.body.id);
    expect(mac).toMatchObject({ status: 'done', processed: 2, inserted: 1 });
    expect(mac.errors).toEqual([{ line: 3, reason: expect.stringMatching(/^email /) }]);
  });

  it('strips the apostrophe the exporter puts before formula characters, and only that one', async () => {
    const listId = await tools.createList();
    await tools.importCsv(
      listId,
      "email,name,formula,plain\nformula@format.test,'=SUM(A1:A9),'+1,'quoted\n",
    );
    expect(await tools.subscriber('formula@format.test')).toMatchObject({
      name: '=SUM(A1:A9)',
      attributes: { formula: '+1', plain: "'quoted" },
    });
  });

  it('keeps multi-byte characters that straddle two stored chunks', async () => {
    const listId = await tools.createList();
    const file = Buffer.from('email,name\nzoe@chunks.test,Zoë Ünal\n', 'utf8');
    const cut = file.indexOf(Buffer.from('ë')) + 1; // between the two bytes of ë
    const id = await tools.storeUpload(listId, file, [5, cut]);
    expect(await ctx.container.services.importRunner.run(id)).toBe('done');
    expect((await tools.subscriber('zoe@chunks.test'))!.name).toBe('Zoë Ünal');
  });

  it('reports a NUL character in a cell as a bad line instead of failing the import', async () => {
    const listId = await tools.createList();
    const done = await tools.importCsv(
      listId,
      'email,name,note\nnul@format.test,Nul,"a\u0000b"\nok@format.test,Ok,fine\n',
    );
    expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 1, errorCount: 1 });
    expect(done.errors).toEqual([{ line: 2, reason: expect.stringMatching(/note/) }]);
  });

  it('reports an unclosed quote at the line where the record starts', async () => {
    const listId = await tools.createList();
    const done = await tools.importCsv(
      listId,
      'email,name\nfirst@quote.test,First\nsecond@quote.test,"Never closed\nthird@quote.test,Third\n',
    );
    expect(done).toMatchObject({ status: 'done', processed: 2, inserted: 1, errorCount: 1 });
    expect(done.errors).toEqual([{ line: 3, reason: expect.stringMatching(/never closed/) }]);
  });

  it('reports a line longer than 1 MB as a line error and imports the lines after it', async () => {
    const listId = await tools.createList();
    const csv = `email,name\nbefore@huge.test,Before\nhuge@huge.test,${'x'.repeat(1_100_000)}\nafter@huge.test,After\n`;
    const done = await tools.importCsv(listId, csv);
    expect(done).toMatchObject({ status: 'done', processed: 3, inserted: 2, errorCount: 1 });
    expect(done.errors).toEqual([{ line: 3, reason: 'it is longer than 1048576 bytes (skipped)' }]);
    expect(await tools.listEmails(listId)).toEqual(['after@huge.test', 'before@huge.test']);
  });

  it('keeps line numbers true after an over-long quoted record that spans lines', async () => {
    const listId = await tools.createList();
    const long = `"${'y\n'.repeat(600_000)}"`; // 600,000 line breaks inside one quoted field
    const csv =
      `email,name\nfirst@span.test,First\nlong@span.test,${long}\nbad-address,Bad\n` +
      'last@span.test,"Quoted ""name"""\r\n';
    const done = await tools.importCsv(listId, csv);
    expect(done).toMatchObject({ status: 'done', processed: 4, inserted: 2, errorCount: 2 });
    expect(done.errors).toEqual([
      { line: 3, reason: 'it is longer than 1048576 bytes (skipped)' },
      { line: 600_004, reason: expect.any(String) },
    ]);
    expect(await tools.listEmails(listId)).toEqual(['first@span.test', 'last@span.test']);
  });

  it('a stray quote inside an unquoted field does not swallow the lines after it', async () => {
    const listId = await tools.createList();
    const rows = Array.from(
      { length: 30_000 },
      (_, i) => `r${i}@stray.test,Reader ${i}: 5" screen`,
    );
    const done = await tools.importCsv(listId, `email,name\n${rows.join('\n')}\n`);
    expect(done).toMatchObject({ status: 'done', processed: 30_000, inserted: 30_000 });
    expect(done.errorCount).toBe(0);
  });

  it('refuses a header that names a column twice', async () => {
    const listId = await tools.createList();
    const res = await tools.upload(listId, 'email,name,Email\na@dup-header.test,A,b\n');
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/repeats the column "email"/);
  });
});
