import { describe, expect, it } from 'vitest';
import { postJsonText } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';

const ctx = contextSuite();

describe('lists', () => {
  it('creates a list with defaults and reads it back with zero counts', async () => {
    const created = await ctx.api().post('/api/v1/lists').send({ name: 'Quarterly readers' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/lists/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'Quarterly readers',
      description: '',
      optin: 'single',
      visibility: 'private',
      subscriberCounts: { unconfirmed: 0, confirmed: 0, unsubscribed: 0 },
    });
    const read = await ctx.api().get(`/api/v1/lists/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('updates only the fields it is given', async () => {
    const { body } = await ctx
      .api()
      .post('/api/v1/lists')
      .send({ name: 'Members', description: 'All members' });
    const patched = await ctx
      .api()
      .patch(`/api/v1/lists/${body.id}`)
      .send({ optin: 'double', visibility: 'public' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Members',
      description: 'All members',
      optin: 'double',
      visibility: 'public',
    });
  });

  it('deletes a list, after which it is not found', async () => {
    const { body } = await ctx.api().post('/api/v1/lists').send({ name: 'Temporary' });
    expect((await ctx.api().delete(`/api/v1/lists/${body.id}`)).status).toBe(204);
    const gone = await ctx.api().get(`/api/v1/lists/${body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await ctx.api().delete(`/api/v1/lists/${body.id}`)).status).toBe(404);
  });

  it.each([
    [{}, 'name', 'is required'],
    [{ name: '' }, 'name', 'is required'],
    [{ name: 'a\r\nBcc: x@evil.test' }, 'name', 'line breaks'],
    [{ name: 42 }, 'name', ''],
    [{ name: 'ok', optin: 'triple' }, 'optin', ''],
    [{ name: 'ok', visibility: 'secret' }, 'visibility', ''],
    [{ name: 'ok', colour: 'red' }, 'colour', 'is not a known field'],
    [{ name: 'x'.repeat(201) }, 'name', 'at most 200'],
  ])('refuses %j with a problem naming %s', async (body, path, message) => {
    const before = await ctx.db.query('SELECT count(*)::int AS n FROM lists');
    const res = await ctx.api().post('/api/v1/lists').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      status: 400,
      code: 'validation_failed',
      title: 'Validation failed',
    });
    const error = res.body.errors.find((e: { path: string }) => e.path === path);
    expect(error, JSON.stringify(res.body.errors)).toBeDefined();
    expect(error.message).toContain(message);
    const after = await ctx.db.query('SELECT count(*)::int AS n FROM lists');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('answers malformed JSON with 400 and a non-JSON body with 415', async () => {
    const malformed = await postJsonText(ctx, '/api/v1/lists', '{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('malformed_request');
    const form = await ctx.api().post('/api/v1/lists').type('form').send('name=x');
    expect(form.status).toBe(415);
  });

  it('refuses a body over the JSON size limit with 413', async () => {
    const res = await ctx
      .api()
      .post('/api/v1/lists')
      .send({ name: 'big', description: 'x'.repeat(2_000_000) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
  });

  it.each(['abc', '0', '-1', '1.5', '..%2F..%2Fetc', '99999999999999999999'])(
    'answers 400 for the id %s',
    async (id) => {
      const res = await ctx.api().get(`/api/v1/lists/${id}`);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('id');
    },
  );

  it('pages through every list exactly once with the cursor', async () => {
    for (let i = 0; i < 7; i++)
      await ctx
        .api()
        .post('/api/v1/lists')
        .send({ name: `Paged ${i}` });
    const all = (await ctx.db.query<{ id: number }>('SELECT id FROM lists ORDER BY id')).rows.map(
      (r) => r.id,
    );
    const seen: number[] = [];
    let url = '/api/v1/lists?limit=3';
    for (;;) {
      const res = await ctx.api().get(url);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((l: { id: number }) => l.id));
      if (!res.body.next) break;
      url = `/api/v1/lists?limit=3&after=${res.body.next}`;
    }
    expect(seen).toEqual(all);
  });

  it.each([['limit=0'], ['limit=1001'], ['limit=ten'], ['after=not-a-cursor']])(
    'refuses the page query %s',
    async (q) => {
      const res = await ctx.api().get(`/api/v1/lists?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    },
  );
});
