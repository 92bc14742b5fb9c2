// Shared by the webhook test files: seed a subscriber, read its status, wait for the events
// worker, and take a snapshot of everything a rejected request must leave unchanged.
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
