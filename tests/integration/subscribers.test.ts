import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let single: number;
let double: number;
beforeAll(async () => {
  ctx = await createTestContext();
  single = (await ctx.api().post('/api/v1/lists').send({ name: 'Single' })).body.id;
  double = (await ctx.api().post('/api/v1/lists').send({ name: 'Double', optin: 'double' })).body
    .id;
});
afterAll(async () => {
  await ctx?.close();
});

const count = async (sql: string, params: unknown[] = []) =>
  (await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

describe('creating subscribers', () => {
  it('normalises the email, subscribes by the lists opt-in and records consent', async () => {
    const res = await ctx
      .api()
      .post('/api/v1/subscribers')
      .set('User-Agent', 'curl/8')
      .send({
        email: '  Ada.Lovelace@Example.ORG ',
        name: 'Ada',
        attributes: { city: 'London' },
        lists: [single, double],
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: 'Ada.Lovelace@example.org',
      name: 'Ada',
      status: 'active',
      attributes: { city: 'London' },
    });
    expect(res.body.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const statuses = Object.fromEntries(
      res.body.lists.map((l: { id: number; subscriptionStatus: string }) => [
        l.id,
        l.subscriptionStatus,
      ]),
    );
    expect(statuses).toEqual({ [single]: 'confirmed', [double]: 'unconfirmed' });
    const consent = await ctx.db.query(
      'SELECT * FROM consent_records WHERE subscriber_id = $1 ORDER BY list_id',
      [res.body.id],
    );
    expect(consent.rows).toHaveLength(2);
    expect(consent.rows[0]).toMatchObject({
      action: 'subscribe',
      source: 'api',
      user_agent: 'curl/8',
    });
    expect(consent.rows[0].ip).toBeTruthy();
  });

  it('subscribes double opt-in lists as confirmed when preconfirmed', async () => {
    const res = await ctx
      .api()
      .post('/api/v1/subscribers')
      .send({ email: 'pre@example.org', lists: [double], preconfirm: true });
    expect(res.body.lists[0].subscriptionStatus).toBe('confirmed');
  });

  it('answers a duplicate email, in any case, with 409 naming the existing subscriber', async () => {
    const first = await ctx.api().post('/api/v1/subscribers').send({ email: 'grace@example.org' });
    const before = await count('subscribers');
    const dup = await ctx
      .api()
      .post('/api/v1/subscribers')
      .send({ email: 'GRACE@EXAMPLE.ORG', lists: [single] });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({
      code: 'duplicate_email',
      existingId: first.body.id,
      existingUuid: first.body.uuid,
    });
    expect(dup.body.errors[0].path).toBe('email');
    expect(await count('subscribers')).toBe(before);
    expect(await count('subscriptions WHERE subscriber_id = $1', [first.body.id])).toBe(0);
  });

  it.each([
    [{ email: 'not-an-address' }, 'email'],
    [{ email: '"a@x y"@example.org' }, 'email'],
    [{ email: 'a@example.org\r\nBcc: b@example.org' }, 'email'],
    [{ email: 'a (comment)@example.org' }, 'email'],
    [{ email: 'a@b@example.org' }, 'email'],
    [{ email: '' }, 'email'],
    [{}, 'email'],
    [{ email: 42 }, 'email'],
    [{ email: 'ok@example.org', name: 'Eve\r\nBcc: x@y.z' }, 'name'],
    [{ email: 'ok@example.org', name: 'Tab\tName' }, 'name'],
    [{ email: 'ok@example.org', attributes: [] }, 'attributes'],
    [{ email: 'ok@example.org', attributes: 'x' }, 'attributes'],
    [{ email: 'ok@example.org', lists: 'all' }, 'lists'],
    [{ email: 'ok@example.org', lists: [0] }, 'lists.0'],
    [{ email: 'ok@example.org', status: 'happy' }, 'status'],
    [{ email: 'ok@example.org', role: 'admin' }, 'role'],
  ])('refuses %j with 400 naming %s and stores nothing', async (body, path) => {
    const before = await count('subscribers');
    const res = await ctx.api().post('/api/v1/subscribers').send(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(await count('subscribers')).toBe(before);
  });

  it('answers 422 naming a list that does not exist, and stores nothing', async () => {
    const before = await count('subscribers');
    const res = await ctx
      .api()
      .post('/api/v1/subscribers')
      .send({ email: 'ghost@example.org', lists: [single, 987654] });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'lists.1', message: 'list 987654 does not exist' }]);
    expect(await count('subscribers')).toBe(before);
  });
});

describe('reading and changing subscribers', () => {
  it('updates fields, records a status change and refuses an email taken by another', async () => {
    const a = (
      await ctx.api().post('/api/v1/subscribers').send({ email: 'alan@example.org', name: 'Alan' })
    ).body;
    await ctx.api().post('/api/v1/subscribers').send({ email: 'taken@example.org' });
    const patched = await ctx
      .api()
      .patch(`/api/v1/subscribers/${a.id}`)
      .send({ name: 'Alan T.', status: 'blocklisted', attributes: { team: 'b' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Alan T.',
      status: 'blocklisted',
      attributes: { team: 'b' },
      email: 'alan@example.org',
    });
    expect(
      await count("consent_records WHERE subscriber_id = $1 AND action = 'status'", [a.id]),
    ).toBe(1);
    const clash = await ctx
      .api()
      .patch(`/api/v1/subscribers/${a.id}`)
      .send({ email: 'Taken@Example.org' });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('duplicate_email');
    expect((await ctx.api().get(`/api/v1/subscribers/${a.id}`)).body.email).toBe(
      'alan@example.org',
    );
    expect((await ctx.api().patch('/api/v1/subscribers/999999').send({ name: 'x' })).status).toBe(
      404,
    );
  });

  it('adds, changes and removes list memberships with consent records', async () => {
    const s = (await ctx.api().post('/api/v1/subscribers').send({ email: 'lin@example.org' })).body;
    const added = await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .send({ add: [single, double] });
    expect(added.status).toBe(200);
    expect(
      added.body.lists.map((l: { subscriptionStatus: string }) => l.subscriptionStatus),
    ).toEqual(['confirmed', 'unconfirmed']);
    const unsub = await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .send({ add: [single], status: 'unsubscribed' });
    expect(unsub.body.lists.find((l: { id: number }) => l.id === single).subscriptionStatus).toBe(
      'unsubscribed',
    );
    // Adding again without a status leaves an existing subscription alone.
    const again = await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .send({ add: [single] });
    expect(again.body.lists.find((l: { id: number }) => l.id === single).subscriptionStatus).toBe(
      'unsubscribed',
    );
    const removed = await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .send({ remove: [double] });
    expect(removed.body.lists.map((l: { id: number }) => l.id)).toEqual([single]);
    const actions = (
      await ctx.db.query(
        'SELECT action, status FROM consent_records WHERE subscriber_id = $1 ORDER BY id',
        [s.id],
      )
    ).rows;
    expect(actions).toEqual([
      { action: 'subscribe', status: 'confirmed' },
      { action: 'subscribe', status: 'unconfirmed' },
      { action: 'unsubscribe', status: 'unsubscribed' },
      { action: 'remove', status: 'unconfirmed' },
    ]);
  });

  it.each([
    [{}, 'add'],
    [{ add: [1], remove: [1] }, 'remove'],
    [{ add: [1], status: 'maybe' }, 'status'],
    [{ add: ['1'] }, 'add.0'],
  ])('refuses the membership change %j naming %s', async (body, path) => {
    const s = (
      await ctx
        .api()
        .post('/api/v1/subscribers')
        .send({ email: `m${Math.random()}@example.org`.replace('0.', '') })
    ).body;
    const res = await ctx.api().put(`/api/v1/subscribers/${s.id}/lists`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('deletes a subscriber with their subscriptions and consent records', async () => {
    const s = (
      await ctx
        .api()
        .post('/api/v1/subscribers')
        .send({ email: 'gone@example.org', lists: [single] })
    ).body;
    expect((await ctx.api().delete(`/api/v1/subscribers/${s.id}`)).status).toBe(204);
    expect((await ctx.api().get(`/api/v1/subscribers/${s.id}`)).status).toBe(404);
    expect(await count('subscriptions WHERE subscriber_id = $1', [s.id])).toBe(0);
    expect(await count('consent_records WHERE subscriber_id = $1', [s.id])).toBe(0);
  });
});

describe('listing subscribers', () => {
  let list: number;
  beforeAll(async () => {
    list = (await ctx.api().post('/api/v1/lists').send({ name: 'Paging' })).body.id;
    for (let i = 0; i < 25; i++) {
      await ctx
        .api()
        .post('/api/v1/subscribers')
        .send({
          email: `page${i}@paging.example`,
          name: i % 5 === 0 ? `Fifth ${i}` : `Reader ${i}`,
          lists: [list],
        });
    }
    const first = (await ctx.api().get(`/api/v1/subscribers?list=${list}&limit=1`)).body.data[0];
    await ctx
      .api()
      .put(`/api/v1/subscribers/${first.id}/lists`)
      .send({ add: [list], status: 'unsubscribed' });
    await ctx.api().patch(`/api/v1/subscribers/${first.id}`).send({ status: 'bounced' });
  });

  it('pages through a list’s subscribers exactly once', async () => {
    const seen: string[] = [];
    let url = `/api/v1/subscribers?list=${list}&limit=10`;
    let pages = 0;
    for (;;) {
      const res = await ctx.api().get(url);
      expect(res.status).toBe(200);
      pages++;
      seen.push(...res.body.data.map((s: { email: string }) => s.email));
      if (!res.body.next) break;
      url = `/api/v1/subscribers?list=${list}&limit=10&after=${res.body.next}`;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it('filters by text, status and subscription status', async () => {
    const byText = await ctx.api().get(`/api/v1/subscribers?list=${list}&q=fifth`);
    expect(byText.body.data.map((s: { name: string }) => s.name)).toEqual([
      'Fifth 0',
      'Fifth 5',
      'Fifth 10',
      'Fifth 15',
      'Fifth 20',
    ]);
    const byEmail = await ctx.api().get('/api/v1/subscribers?q=PAGE1%40');
    expect(byEmail.body.data.map((s: { email: string }) => s.email)).toEqual([
      'page1@paging.example',
    ]);
    const bounced = await ctx.api().get(`/api/v1/subscribers?list=${list}&status=bounced`);
    expect(bounced.body.data).toHaveLength(1);
    const unsub = await ctx
      .api()
      .get(`/api/v1/subscribers?list=${list}&subscriptionStatus=unsubscribed`);
    expect(unsub.body.data).toHaveLength(1);
    const confirmed = await ctx
      .api()
      .get(`/api/v1/subscribers?list=${list}&subscriptionStatus=confirmed`);
    expect(confirmed.body.data).toHaveLength(24);
    const wildcard = await ctx.api().get('/api/v1/subscribers?q=%25');
    expect(wildcard.body.data).toHaveLength(0);
  });

  it('counts subscriptions per status on the list', async () => {
    const res = await ctx.api().get(`/api/v1/lists/${list}`);
    expect(res.body.subscriberCounts).toEqual({ unconfirmed: 0, confirmed: 24, unsubscribed: 1 });
  });

  it.each(['status=gone', 'list=abc', 'subscriptionStatus=maybe', 'limit=5000'])(
    'refuses the filter %s',
    async (q) => {
      const res = await ctx.api().get(`/api/v1/subscribers?${q}`);
      expect(res.status).toBe(400);
    },
  );
});

describe('filtering by subscription status across lists', () => {
  it('finds subscribers with that status on any list when no list is named', async () => {
    const other = (await ctx.api().post('/api/v1/lists').send({ name: 'Other' })).body.id;
    const s = (
      await ctx
        .api()
        .post('/api/v1/subscribers')
        .send({ email: 'anylist@example.org', lists: [other] })
    ).body;
    await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .send({ add: [other], status: 'unsubscribed' });
    const res = await ctx
      .api()
      .get('/api/v1/subscribers?subscriptionStatus=unsubscribed&q=anylist');
    expect(res.body.data.map((x: { id: number }) => x.id)).toEqual([s.id]);
    const confirmed = await ctx
      .api()
      .get('/api/v1/subscribers?subscriptionStatus=confirmed&q=anylist');
    expect(confirmed.body.data).toEqual([]);
  });
});
