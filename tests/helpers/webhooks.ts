// Shared by the webhook test files: seed a subscriber, read its status, wait for the events
// worker, and take a snapshot of everything a rejected request must leave unchanged.
import { createHmac, randomBytes, sign, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { waitFor, type TestContext } from './context.js';

export async function insertSubscriber(
  ctx: TestContext,
  email: string,
  listIds: number[] = [],
): Promise<{ id: number; email: string }> {
  const { rows } = await ctx.db.query<{ id: number }>(
    'INSERT INTO subscribers (email) VALUES ($1) RETURNING id',
    [email],
  );
  for (const listId of listIds) {
    await ctx.db.query(
      "INSERT INTO subscriptions (list_id, subscriber_id, status) VALUES ($1, $2, 'confirmed')",
      [listId, rows[0]!.id],
    );
  }
  return { id: rows[0]!.id, email };
}

export async function subscriberStatus(ctx: TestContext, id: number): Promise<string> {
  const { rows } = await ctx.db.query<{ status: string }>(
    'SELECT status FROM subscribers WHERE id = $1',
    [id],
  );
  return rows[0]!.status;
}

/** Waits until the events worker has applied every stored event. */
export async function allEventsApplied(ctx: TestContext): Promise<void> {
  await waitFor(async () => {
    const { rows } = await ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE applied_at IS NULL',
    );
    return rows[0]!.n === 0;
  });
}

/** Events, consent records and every subscriber's status: what a refused request must not change. */
export async function worldState(ctx: TestContext) {
  const { rows } = await ctx.db.query(
    `SELECT (SELECT count(*)::int FROM events) AS events,
            (SELECT count(*)::int FROM consent_records) AS consents,
            (SELECT json_agg(json_build_array(id, status) ORDER BY id) FROM subscribers) AS subscribers`,
  );
  return rows[0] as { events: number; consents: number; subscribers: unknown };
}

/** The credentials a test context was started with, for signing requests the way providers do. */
export interface WebhookCredentials {
  genericSecret: string;
  postmark: { user: string; password: string };
  sendgridKey: { privateKey: KeyObject };
  /** A fresh client address per request: refusals count per address. */
  nextIp: () => string;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Correctly signed (or, where given, differently signed) posts to the provider webhooks. The
 * context is read at each call: test files build the senders before beforeAll makes it.
 */
export function webhookSenders(context: () => TestContext, creds: WebhookCredentials) {
  const http = () => context().http;
  const genericSignature = (body: string, t = nowSeconds(), secret = creds.genericSecret) =>
    `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  return {
    genericSignature,
    postGeneric: (body: string, signature: string | undefined = genericSignature(body)) => {
      const req = http()
        .post('/webhooks/generic')
        .set('X-Forwarded-For', creds.nextIp())
        .set('Content-Type', 'application/json');
      if (signature !== undefined) void req.set('Bulletin-Signature', signature);
      return req.send(body);
    },
    postSendgrid: (body: string) => {
      const ts = String(nowSeconds());
      const signature = sign('sha256', Buffer.from(ts + body), creds.sendgridKey.privateKey);
      return http()
        .post('/webhooks/sendgrid')
        .set('X-Forwarded-For', creds.nextIp())
        .set('Content-Type', 'application/json')
        .set('X-Twilio-Email-Event-Webhook-Signature', signature.toString('base64'))
        .set('X-Twilio-Email-Event-Webhook-Timestamp', ts)
        .send(body);
    },
    postPostmark: (body: string) => {
      return http()
        .post('/webhooks/postmark')
        .set('X-Forwarded-For', creds.nextIp())
        .auth(creds.postmark.user, creds.postmark.password)
        .set('Content-Type', 'application/json')
        .send(body);
    },
  };
}

/**
 * What a provider's webhook tests use, bound to their context (read when called: it is made in
 * a hook); `tag` marks their addresses.
 */
export function webhookTools(ctx: () => TestContext, tag: string) {
  const tools = {
    subscriber: (listIds: number[] = []) =>
      insertSubscriber(ctx(), `${tag}-${randomBytes(4).toString('hex')}@example.org`, listIds),
    statusOf: (id: number) => subscriberStatus(ctx(), id),
    allApplied: () => allEventsApplied(ctx()),
    world: () => worldState(ctx()),
    /**
     * After a complaint from `complainer` and an unsubscribe from `leaver` (each on one list)
     * and a later delivery event: the complaint holds, the leaver is still an active
     * subscriber, and both left their list.
     */
    expectComplainedAndLeft: async (complainer: number, leaver: number) => {
      await allEventsApplied(ctx());
      expect(await subscriberStatus(ctx(), complainer)).toBe('complained');
      expect(await subscriberStatus(ctx(), leaver)).toBe('active');
      const rows = await tools.subscriptionsOf([complainer, leaver]);
      expect(rows).toEqual([{ status: 'unsubscribed' }, { status: 'unsubscribed' }]);
    },
    /** The subscription statuses of these subscribers, all lists together. */
    subscriptionsOf: async (ids: number[]) =>
      (
        await ctx().db.query<{ status: string }>(
          'SELECT status FROM subscriptions WHERE subscriber_id = ANY($1) ORDER BY subscriber_id, list_id',
          [ids],
        )
      ).rows,
  };
  return tools;
}
