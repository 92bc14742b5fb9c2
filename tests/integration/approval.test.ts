// The two-person rule (docs/approval.md) with REQUIRE_APPROVAL=true: schedule and send are
// refused until a signed-in approver, who is neither the requester nor the last editor, approves;
// the approval holds for exactly what was approved, and any change to it voids the approval (in
// the audit log); a scheduled campaign voided before its time goes back to draft and never starts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { stateOf } from '../helpers/state.js';
import { as, outbox, personWith, type Person } from '../helpers/accounts.js';

let ctx: TestContext;
let editor: Person;
let sender: Person;
let approver: Person;
let editorApprover: Person;
let listIds: number[];
let templateId: number;

beforeAll(async () => {
  ctx = await createTestContext({ REQUIRE_APPROVAL: 'true' });
  editor = await personWith(ctx, ['editor']);
  sender = await personWith(ctx, ['sender']);
  approver = await personWith(ctx, ['approver']);
  editorApprover = await personWith(ctx, ['sender', 'approver']);
  const a = await fixtures.createList(ctx, 'Approval A');
  const b = await fixtures.createList(ctx, 'Approval B');
  const readers = await fixtures.seedSubscribers(ctx, 'approval', 3);
  await fixtures.subscribe(ctx, a, readers);
  await fixtures.subscribe(ctx, b, readers.slice(0, 1));
  listIds = [a, b];
  templateId = await fixtures.createTemplate(ctx);
});
afterAll(async () => {
  await ctx?.close();
});

async function draft(by: Person = editor, template = templateId): Promise<number> {
  const res = await as(ctx, by)
    .post('/api/v1/campaigns')
    .send({
      name: 'Q1',
      subject: 'Quarterly',
      templateId: template,
      listIds: [listIds[0]],
      content: 'Hello',
    })
    .expect(201);
  return res.body.id as number;
}

const get = async (id: number) => (await ctx.api().get(`/api/v1/campaigns/${id}`).expect(200)).body;
const request = (id: number, by: Person = editor) =>
  as(ctx, by).post(`/api/v1/campaigns/${id}/approval-request`).send({});
const approve = (id: number, by: Person = approver, note?: string) =>
  as(ctx, by)
    .post(`/api/v1/campaigns/${id}/approve`)
    .send(note ? { note } : {});

async function approved(id: number): Promise<void> {
  await request(id).expect(200);
  await approve(id).expect(200);
  expect((await get(id)).approval.status).toBe('approved');
}

const FUTURE = '2099-03-01T09:00';

describe('without an approval', () => {
  it('schedule and send answer 409 approval-required, and nothing changes', async () => {
    const id = await draft();
    expect((await get(id)).approval).toEqual({
      status: 'none',
      requestedBy: null,
      requestedAt: null,
      decidedBy: null,
      decidedAt: null,
      note: null,
    });
    const before = await stateOf(ctx);
    for (const res of [
      await as(ctx, sender)
        .post(`/api/v1/campaigns/${id}/schedule`)
        .send({ sendAt: FUTURE, timezone: 'Europe/Zurich' }),
      await as(ctx, sender).post(`/api/v1/campaigns/${id}/send`).send({}),
      await ctx.api().post(`/api/v1/campaigns/${id}/send`),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body.type).toMatch(/approval-required$/);
    }
    expect(await stateOf(ctx)).toEqual(before);
    expect((await get(id)).status).toBe('draft');
  });
});

describe('the approval flow', () => {
  it('request mails every approver a link; another person approves; then it can be scheduled', async () => {
    const id = await draft();
    const requested = await request(id).expect(200);
    expect(requested.body.approval).toMatchObject({
      status: 'pending',
      requestedBy: { type: 'user', id: editor.id },
      requestedAt: expect.any(String),
    });
    const mails = (await outbox(ctx)).filter((m) => m.subject.startsWith('Approval requested'));
    const to = mails.map((m) => m.to);
    expect(to).toEqual(expect.arrayContaining([approver.email, editorApprover.email]));
    expect(to).not.toContain(editor.email);
    expect(to).not.toContain(sender.email);
    expect(mails[0]!.text).toContain(`http://localhost:3000/admin/campaigns/${id}`);
    expect((await request(id)).status).toBe(409); // already pending
    const done = await approve(id, approver, 'Read it twice; good to go').expect(200);
    expect(done.body.approval).toMatchObject({
      status: 'approved',
      decidedBy: { type: 'user', id: approver.id },
      decidedAt: expect.any(String),
      note: 'Read it twice; good to go',
    });
    const scheduled = await as(ctx, sender)
      .post(`/api/v1/campaigns/${id}/schedule`)
      .send({ sendAt: FUTURE, timezone: 'Europe/Zurich' })
      .expect(200);
    expect(scheduled.body.status).toBe('scheduled');
  });

  it('refuses the requester, the last editor and every API token', async () => {
    const id = await draft(editorApprover);
    await request(id, editorApprover).expect(200);
    const self = await approve(id, editorApprover);
    expect(self.status).toBe(403);
    expect(self.body.type).toMatch(/self-approval$/);
    // Someone else asked, but the last change is the approver's own (a field the approval does
    // not cover, so it stays pending).
    const other = await draft(editor);
    await request(other).expect(200);
    await as(ctx, editorApprover)
      .patch(`/api/v1/campaigns/${other}`)
      .send({ name: 'Renamed' })
      .expect(200);
    expect((await get(other)).approval.status).toBe('pending');
    const lastEditor = await approve(other, editorApprover);
    expect(lastEditor.status).toBe(403);
    expect(lastEditor.body.type).toMatch(/self-approval$/);
    const byToken = await ctx.api().post(`/api/v1/campaigns/${other}/approve`).send({});
    expect(byToken.status).toBe(403);
    expect((await as(ctx, editor).post(`/api/v1/campaigns/${other}/approve`).send({})).status).toBe(
      403,
    );
    await approve(other, approver).expect(200);
  });

  it('reject needs a reason and records it; the editor can ask again', async () => {
    const id = await draft();
    await request(id).expect(200);
    const noReason = await as(ctx, approver).post(`/api/v1/campaigns/${id}/reject`).send({});
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors[0].path).toBe('reason');
    const rejected = await as(ctx, approver)
      .post(`/api/v1/campaigns/${id}/reject`)
      .send({ reason: 'The date in the second paragraph is wrong' })
      .expect(200);
    expect(rejected.body.approval).toMatchObject({
      status: 'rejected',
      note: 'The date in the second paragraph is wrong',
    });
    expect((await as(ctx, sender).post(`/api/v1/campaigns/${id}/send`)).status).toBe(409);
    await request(id).expect(200);
    expect((await get(id)).approval.status).toBe('pending');
  });
});

describe('an approval holds for exactly what was approved', () => {
  const changes: [string, () => Record<string, unknown> | Promise<Record<string, unknown>>][] = [
    ['subject', () => ({ subject: 'Another subject' })],
    ['content', () => ({ content: 'Different words' })],
    ['contentType', () => ({ contentType: 'mjml', content: '<mj-text>Hello</mj-text>' })],
    ['templateId', async () => ({ templateId: await fixtures.createTemplate(ctx) })],
    ['listIds', () => ({ listIds })],
    ['fromName', () => ({ fromName: 'Somebody else' })],
    ['fromEmail', () => ({ fromEmail: 'other@bulletin.test' })],
    ['replyTo', () => ({ replyTo: 'replies@bulletin.test' })],
    ['data', () => ({ data: { issue: 2 } })],
  ];

  it.each(changes)('a change of %s voids it, in the audit log', async (_field, change) => {
    const id = await draft();
    await approved(id);
    await as(ctx, editor)
      .patch(`/api/v1/campaigns/${id}`)
      .send(await change())
      .expect(200);
    expect((await get(id)).approval.status).toBe('none');
    const audit = (await ctx.api().get(`/api/v1/audit?entity=campaign:${id}`).expect(200)).body
      .data as { action: string }[];
    // Newest first: the void happens inside the edit, whose own row is written as it answers.
    expect(audit.map((a) => a.action).slice(0, 2)).toEqual([
      'campaign.update',
      'campaign.approval.void',
    ]);
    expect(audit[1]).toMatchObject({
      action: 'campaign.approval.void',
      actor: { type: 'user', id: editor.id },
      detail: { was: 'approved' },
    });
    expect((await as(ctx, sender).post(`/api/v1/campaigns/${id}/send`)).status).toBe(409);
  });

  it('an edit of the template as it was approved voids it too; a name change does not', async () => {
    const template = await fixtures.createTemplate(ctx);
    const id = await draft(editor, template);
    await approved(id);
    await as(ctx, editor)
      .patch(`/api/v1/campaigns/${id}`)
      .send({ name: 'Only the name' })
      .expect(200);
    expect((await get(id)).approval.status).toBe('approved');
    await as(ctx, editor)
      .patch(`/api/v1/templates/${template}`)
      .send({ mjml: fixtures.MINIMAL_MJML.replace('Hello', 'Dear') })
      .expect(200);
    expect((await get(id)).approval.status).toBe('none');
  });

  it('a scheduled campaign whose approval is voided goes back to draft and does not start', async () => {
    const id = await draft();
    await approved(id);
    await as(ctx, sender)
      .post(`/api/v1/campaigns/${id}/schedule`)
      .send({ sendAt: FUTURE, timezone: 'UTC' })
      .expect(200);
    await as(ctx, editor)
      .patch(`/api/v1/campaigns/${id}`)
      .send({ subject: 'Changed after approval' })
      .expect(200);
    const after = await get(id);
    expect(after).toMatchObject({ status: 'draft', approval: { status: 'none' } });
    expect(after.statusReason).toMatch(/approval/);
    // Other tests' campaigns may start here; this one must not.
    await ctx.container.services.campaigns.startDue(new Date('2099-03-02T00:00:00Z'));
    expect((await get(id)).status).toBe('draft');
    const { rows } = await ctx.db.query(
      'SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1',
      [id],
    );
    expect(rows[0].n).toBe(0);
  });

  it('a scheduled campaign changed behind the API (the rule checked again at its time) does not start', async () => {
    const id = await draft();
    await approved(id);
    await as(ctx, sender)
      .post(`/api/v1/campaigns/${id}/schedule`)
      .send({ sendAt: FUTURE })
      .expect(200);
    await ctx.db.query("UPDATE campaigns SET subject = 'Edited in the database' WHERE id = $1", [
      id,
    ]);
    // Other tests' campaigns may start here; this one must not.
    await ctx.container.services.campaigns.startDue(new Date('2099-03-02T00:00:00Z'));
    expect((await get(id)).status).toBe('draft');
  });
});

describe('without REQUIRE_APPROVAL', () => {
  it('shows not-required and sends without one', async () => {
    const plain = await createTestContext();
    try {
      const list = await fixtures.createList(plain, 'Plain');
      const template = await fixtures.createTemplate(plain);
      const campaign = await fixtures.createCampaign(plain, {
        templateId: template,
        listIds: [list],
      });
      const res = await plain.api().get(`/api/v1/campaigns/${campaign.id}`).expect(200);
      expect(res.body.approval.status).toBe('not-required');
      await plain
        .api()
        .post(`/api/v1/campaigns/${campaign.id}/schedule`)
        .send({ sendAt: FUTURE })
        .expect(200);
    } finally {
      await plain.close();
    }
  });
});
