// Addresses are one subscriber whatever their letter case (docs/contract.md §2): the stored
// lower-cased key decides, through the API, imports and the search.
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import { importTools } from '../helpers/imports.js';

const ctx = contextSuite({}, { workers: true });
const tools = importTools(ctx);

async function rowsFor(key: string) {
  const { rows } = await ctx.db.query<{ email: string; name: string }>(
    'SELECT email, name FROM subscribers WHERE email_key = $1',
    [key],
  );
  return rows;
}

describe('letter case of addresses', () => {
  it('an upsert import updates the subscriber whose address differs only in case', async () => {
    const listId = await tools.createList();
    const id = await tools.createSubscriber({ email: 'Mixed.Case@case.test', name: 'Before' });

    const done = await tools.importCsv(
      listId,
      'email,name\nMIXED.CASE@case.test,After\n',
      'upsert',
    );

    expect(done).toMatchObject({ status: 'done', inserted: 0, updated: 1, skipped: 0 });
    expect(await rowsFor('mixed.case@case.test')).toEqual([
      { email: 'Mixed.Case@case.test', name: 'After' },
    ]);
    const member = await ctx.db.query(
      'SELECT subscriber_id FROM subscriptions WHERE list_id = $1',
      [listId],
    );
    expect(member.rows).toEqual([{ subscriber_id: id }]);
  });

  it('a skip-existing import finds the subscriber in another case and subscribes them once', async () => {
    const listId = await tools.createList();
    const id = await tools.createSubscriber({ email: 'keep.me@case.test', name: 'Kept' });

    const done = await tools.importCsv(
      listId,
      'email,name\nKEEP.ME@case.test,Changed\nKeep.Me@case.test,Again\n',
      'skip-existing',
    );

    expect(done).toMatchObject({ status: 'done', inserted: 0, updated: 0, skipped: 2 });
    expect(await rowsFor('keep.me@case.test')).toEqual([
      { email: 'keep.me@case.test', name: 'Kept' },
    ]);
    const member = await ctx.db.query(
      'SELECT subscriber_id FROM subscriptions WHERE list_id = $1',
      [listId],
    );
    expect(member.rows).toEqual([{ subscriber_id: id }]);
  });

  it('rows of one file in several cases, in different batches, make one subscriber', async () => {
    const listId = await tools.createList();
    const filler = Array.from({ length: 2500 }, (_, i) => `filler${i}@case.test,F`);
    const csv = ['email,name', 'Split@case.test,First', ...filler, 'SPLIT@case.test,Last'].join(
      '\n',
    );

    const done = await tools.importCsv(listId, csv, 'upsert');

    expect(done).toMatchObject({ status: 'done', inserted: 2501, updated: 1 });
    expect(await rowsFor('split@case.test')).toEqual([{ email: 'Split@case.test', name: 'Last' }]);
  });

  it('the search finds an address typed in another case', async () => {
    await tools.createSubscriber({ email: 'Searchable.Person@case.test', name: 'Findable' });
    const res = await ctx.api().get('/api/v1/subscribers').query({ q: 'searchable.PERSON' });
    expect(res.status).toBe(200);
    expect(res.body.data.map((s: { email: string }) => s.email)).toEqual([
      'Searchable.Person@case.test',
    ]);
  });
});
