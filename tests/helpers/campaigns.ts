// Seeding helpers for campaign tests: set-based SQL, so thousands of subscribers take
// milliseconds, and a minimal template that uses every kind of merge tag.
import { waitFor, type TestContext } from './context.js';

export const MINIMAL_MJML = `<mjml>
  <mj-body>
    <mj-section><mj-column>
      <mj-text>Hello {{ subscriber.name }} ({{ subscriber.attributes.city }}) from {{ list.name }}</mj-text>
      {{ content }}
      <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Preferences</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;

export async function createTemplate(ctx: TestContext, mjml = MINIMAL_MJML): Promise<number> {
  const { rows } = await ctx.db.query<{ id: number }>(
    "INSERT INTO templates (name, mjml) VALUES ('test', $1) RETURNING id",
    [mjml],
  );
  return rows[0]!.id;
}

export async function createList(
  ctx: TestContext,
  name: string,
  optin: 'single' | 'double' = 'single',
): Promise<number> {
  const { rows } = await ctx.db.query<{ id: number }>(
    'INSERT INTO lists (name, optin) VALUES ($1, $2) RETURNING id',
    [name, optin],
  );
  return rows[0]!.id;
}

/** Inserts `count` subscribers named `${prefix}N` and returns their ids in order. */
export async function seedSubscribers(
  ctx: TestContext,
  prefix: string,
  count: number,
  domain = 'example.test',
): Promise<number[]> {
  const { rows } = await ctx.db.query<{ id: number }>(
    `INSERT INTO subscribers (email, name, attributes)
     SELECT $1 || g || '@' || $3, 'Reader ' || g, jsonb_build_object('city', 'City ' || g)
     FROM generate_series(1, $2::int) g ORDER BY g RETURNING id`,
    [prefix, count, domain],
  );
  return rows.map((r) => r.id);
}

export async function subscribe(
  ctx: TestContext,
  listId: number,
  subscriberIds: number[],
  status = 'confirmed',
): Promise<void> {
  await ctx.db.query(
    `INSERT INTO subscriptions (list_id, subscriber_id, status)
     SELECT $1, id, $3 FROM unnest($2::bigint[]) id
     ON CONFLICT (list_id, subscriber_id) DO UPDATE SET status = EXCLUDED.status`,
    [listId, subscriberIds, status],
  );
}

export async function createCampaign(
  ctx: TestContext,
  body: Record<string, unknown>,
): Promise<{ id: number; uuid: string }> {
  const res = await ctx
    .api()
    .post('/api/v1/campaigns')
    .send({
      name: 'Quarterly',
      subject: 'News for {{ subscriber.name }}',
      content: 'This quarter, **much** happened.',
      fromName: 'The Secretariat',
      fromEmail: 'news@bulletin.test',
      ...body,
    });
  if (res.status !== 201)
    throw new Error(`campaign not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function ledger(ctx: TestContext, campaignId: number) {
  const { rows } = await ctx.db.query<{
    id: number;
    subscriber_id: number;
    status: string;
    message_id: string | null;
    attempts: number;
    email: string;
    last_error: string | null;
  }>(
    `SELECT d.id, d.subscriber_id, d.status, d.message_id, d.attempts, s.email, d.last_error
     FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $1 ORDER BY d.id`,
    [campaignId],
  );
  return rows;
}

export async function campaignStatus(ctx: TestContext, id: number): Promise<string> {
  const { rows } = await ctx.db.query<{ status: string }>(
    'SELECT status FROM campaigns WHERE id = $1',
    [id],
  );
  return rows[0]!.status;
}

/** Waits until the campaign reaches `status` (in the database, as the API reports it). */
export function waitForCampaign(
  ctx: TestContext,
  id: number,
  status = 'finished',
  timeoutMs = 60_000,
): Promise<boolean> {
  return waitFor(async () => (await campaignStatus(ctx, id)) === status, {
    timeoutMs,
    intervalMs: 50,
  });
}

/** A subscriber's subscription status per list id. */
export async function subscriptionStatuses(
  ctx: TestContext,
  subscriberId: number,
): Promise<Record<number, string>> {
  const { rows } = await ctx.db.query<{ list_id: number; status: string }>(
    'SELECT list_id, status FROM subscriptions WHERE subscriber_id = $1',
    [subscriberId],
  );
  return Object.fromEntries(rows.map((r) => [r.list_id, r.status]));
}

/**
 * Two overlapping lists over 2,000 new subscribers: 1..1200 on A, 801..2000 on B (400 on both,
 * who must get one message), and 40 on A who must get none: unconfirmed (double opt-in
 * pending), unsubscribed, bounced and blocklisted, ten each. 1,960 are eligible.
 */
export async function overlappingAudience(ctx: TestContext) {
  const a = await createList(ctx, 'Members');
  const b = await createList(ctx, 'Partners');
  const ids = await seedSubscribers(ctx, 'reader', 2000);
  await subscribe(ctx, a, ids.slice(0, 1200));
  await subscribe(ctx, b, ids.slice(800));
  const excluded = {
    unconfirmed: ids.slice(0, 10),
    unsubscribed: ids.slice(10, 20),
    bounced: ids.slice(20, 30),
    blocklisted: ids.slice(30, 40),
  };
  await subscribe(ctx, a, excluded.unconfirmed, 'unconfirmed');
  await subscribe(ctx, a, excluded.unsubscribed, 'unsubscribed');
  for (const status of ['bounced', 'blocklisted'] as const) {
    await ctx.db.query('UPDATE subscribers SET status = $2 WHERE id = ANY($1::bigint[])', [
      excluded[status],
      status,
    ]);
  }
  return { lists: [a, b], ids, excluded, eligible: 1960 };
}

/**
 * Moves a campaign's send an hour into the past (its start and every delivery's sent_at):
 * opens and clicks made now are readers', not the prefetches and scanners of delivery time.
 */
export async function ageSend(ctx: TestContext, campaignId: number): Promise<void> {
  await ctx.db.query(
    "UPDATE deliveries SET sent_at = sent_at - interval '1 hour' WHERE campaign_id = $1",
    [campaignId],
  );
  await ctx.db.query(
    "UPDATE campaigns SET started_at = started_at - interval '1 hour' WHERE id = $1",
    [campaignId],
  );
}
