// The audit log (docs/audit.md): every state-changing request, by a user or a token, recorded
// before its answer; read newest first with actor and entity filters and a cursor; append-only;
// never a secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ADMIN_TOKEN, type TestContext } from '../helpers/context.js';
import { as, personWith, USER_PASSWORD, type Person } from '../helpers/accounts.js';

let ctx: TestContext;
let editor: Person;

beforeAll(async () => {
  ctx = await createTestContext();
  editor = await personWith(ctx, ['editor']);
});
afterAll(async () => {
  await ctx?.close();
});

const audit = async (query = '') =>
  (await ctx.api().get(`/api/v1/audit${query}`).expect(200)).body as {
    data: {
      id: number;
      actor: { type: string; id: number | null; name: string };
      action: string;
      entity: { type: string; id: string | null };
      detail: Record<string, unknown>;
    }[];
    next: string | null;
  };

describe('the audit log', () => {
  it('records who did what, by user and by token, as soon as the answer arrives', async () => {
    const list = await as(ctx, editor).post('/api/v1/lists').send({ name: 'Audited' }).expect(201);
    const [first] = (await audit('?limit=1')).data;
    expect(first).toMatchObject({
      actor: { type: 'user', id: editor.id },
      action: 'list.create',
      entity: { type: 'list', id: String(list.body.id) },
      detail: { fields: ['name'] },
    });
    await ctx
      .api()
      .patch(`/api/v1/lists/${list.body.id}`)
      .send({ visibility: 'public' })
      .expect(200);
    const [second] = (await audit('?limit=1')).data;
    expect(second).toMatchObject({
      actor: { type: 'token', id: null, name: 'ADMIN_TOKEN' },
      action: 'list.update',
      entity: { type: 'list', id: String(list.body.id) },
      detail: { fields: ['visibility'], visibility: 'public' },
    });
  });

  it('records sign-in, actions on sub-resources and nothing for refused requests', async () => {
    const before = (await audit()).data.length;
    await ctx.api().post('/api/v1/lists').send({ name: '' }).expect(400);
    await as(ctx, editor, { csrf: false }).post('/api/v1/lists').send({ name: 'x' }).expect(403);
    expect((await audit()).data.length).toBe(before);
    const person = await personWith(ctx, ['viewer']);
    const actions = (await audit(`?actor=user:${person.id}`)).data.map((e) => e.action);
    expect(actions).toEqual(['session.create']);
    await as(ctx, person).delete('/api/v1/session').expect(204);
    expect((await audit(`?actor=user:${person.id}`)).data.map((e) => e.action)).toEqual([
      'session.delete',
      'session.create',
    ]);
  });

  it('filters by actor and by entity, and pages with a cursor, newest first', async () => {
    for (let i = 0; i < 5; i++) {
      await as(ctx, editor)
        .post('/api/v1/lists')
        .send({ name: `Paged ${i}` })
        .expect(201);
    }
    const byEditor = await audit(`?actor=user:${editor.id}&entity=list&limit=2`);
    expect(byEditor.data).toHaveLength(2);
    expect(byEditor.next).toBeTruthy();
    const rest = await audit(
      `?actor=user:${editor.id}&entity=list&limit=1000&after=${byEditor.next}`,
    );
    const ids = [...byEditor.data, ...rest.data].map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...byEditor.data, ...rest.data].every((e) => e.actor.id === editor.id)).toBe(true);
    const oneList = byEditor.data[0]!.entity.id!;
    const forList = await audit(`?entity=list:${oneList}`);
    expect(forList.data.every((e) => e.entity.id === oneList)).toBe(true);
    const tokens = await audit('?actor=token:bootstrap');
    expect(tokens.data.length).toBeGreaterThan(0);
    expect(tokens.data.every((e) => e.actor.name === 'ADMIN_TOKEN')).toBe(true);
    expect((await ctx.api().get('/api/v1/audit?actor=somebody')).status).toBe(400);
  });

  it('is readable by admin and ops only', async () => {
    const viewer = await personWith(ctx, ['viewer']);
    const ops = await personWith(ctx, ['ops']);
    expect((await as(ctx, viewer).get('/api/v1/audit')).status).toBe(403);
    await as(ctx, ops).get('/api/v1/audit').expect(200);
  });

  it('is append-only: the database refuses to change or delete a row', async () => {
    await expect(ctx.db.query("UPDATE audit_log SET action = 'x'")).rejects.toThrow(/append-only/);
    await expect(ctx.db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });

  it('holds no secret: no password, no token, no CSRF token', async () => {
    const token = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'ci', scopes: ['read'] })
      .expect(201);
    await ctx
      .api()
      .post('/api/v1/users')
      .send({
        email: 'secretive@staff.example.org',
        name: 'S',
        roles: ['viewer'],
        password: USER_PASSWORD,
      })
      .expect(201);
    await as(ctx, editor)
      .post('/api/v1/session/password')
      .send({ currentPassword: USER_PASSWORD, newPassword: 'another long password' })
      .expect(200);
    const { rows } = await ctx.db.query<{ t: string }>(
      'SELECT audit_log::text AS t FROM audit_log',
    );
    const text = rows.map((r) => r.t).join('\n');
    for (const secret of [
      USER_PASSWORD,
      'another long password',
      token.body.token,
      TEST_ADMIN_TOKEN,
      editor.csrf,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('session.password');
    expect(text).toContain('currentPassword'); // the field is named, its value is not kept
  });
});
