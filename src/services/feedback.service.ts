// Applies feedback events (bounces, complaints, unsubscribes) to subscribers with the policy of
// docs/contract.md §4.3. Storing and applying happen in one transaction, once per provider event id,
// so a replayed event changes nothing.
import { statusAfter } from '../domain/bounce-policy.js';
import type { SubscriberStatus } from '../domain/subscriber-status.js';
import { inTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { EventsRepository, type NewEvent } from '../db/repositories/events.repository.js';

export interface FeedbackPolicy {
  softBounceLimit: number;
  softBounceWindowDays: number;
}

export class FeedbackService {
  constructor(
    private readonly pool: Pool,
    private readonly policy: FeedbackPolicy,
  ) {}

  /** Returns false when the event was a replay (already stored). */
  async record(event: NewEvent): Promise<boolean> {
    return inTransaction(this.pool, (tx) => this.recordIn(tx, event));
  }

  async recordIn(tx: PoolClient, event: NewEvent): Promise<boolean> {
    const events = new EventsRepository(tx);
    const id = await events.insert(event);
    if (id === undefined) return false;
    if (event.subscriberId) await this.apply(tx, id, event, event.subscriberId);
    await events.markApplied(id);
    return true;
  }

  /**
   * Applies an event a webhook stored earlier (applied_at NULL), once: the row lock and the
   * applied_at check make a second job for the same event a no-op. A hard bounce also marks
   * the message's ledger row bounced when the ledger still says it was sent.
   */
  async applyStored(eventId: number): Promise<'applied' | 'skipped'> {
    return inTransaction(this.pool, async (tx) => {
      const events = new EventsRepository(tx);
      const stored = await events.lockUnapplied(eventId);
      if (!stored) return 'skipped';
      const event: NewEvent = { ...stored, bounceType: stored.bounceType };
      if (stored.subscriberId) await this.apply(tx, stored.id, event, stored.subscriberId);
      if (
        stored.type === 'bounce' &&
        stored.bounceType === 'hard' &&
        stored.campaignId &&
        stored.subscriberId
      ) {
        await tx.query(
          `UPDATE deliveries SET status = 'bounced', last_error = $3, updated_at = now()
           WHERE campaign_id = $1 AND subscriber_id = $2 AND status IN ('sent', 'unknown')`,
          [stored.campaignId, stored.subscriberId, stored.reason?.slice(0, 500) ?? 'bounced'],
        );
      }
      await events.markApplied(stored.id);
      return 'applied';
    });
  }

  private async apply(tx: PoolClient, eventId: number, event: NewEvent, subscriberId: number) {
    const { rows } = await tx.query<{ status: SubscriberStatus }>(
      'SELECT status FROM subscribers WHERE id = $1 FOR UPDATE',
      [subscriberId],
    );
    const current = rows[0]?.status;
    if (!current) return;
    const since = new Date(Date.now() - this.policy.softBounceWindowDays * 86_400_000);
    const soft =
      event.type === 'bounce' && event.bounceType === 'soft'
        ? await new EventsRepository(tx).softBouncesSince(subscriberId, since)
        : 0;
    const next = statusAfter(current, event, soft, this.policy.softBounceLimit);
    if (next !== current) {
      await tx.query('UPDATE subscribers SET status = $2, updated_at = now() WHERE id = $1', [
        subscriberId,
        next,
      ]);
      await tx.query(
        `INSERT INTO consent_records (subscriber_id, action, status, source, detail)
         VALUES ($1, 'status', $2, 'webhook', jsonb_build_object('eventId', $3::bigint, 'source', $4::text))`,
        [subscriberId, next, eventId, event.source],
      );
    }
    if (event.type === 'complaint')
      await this.unsubscribe(tx, subscriberId, null, eventId, event.source);
    if (event.type === 'unsubscribe') {
      await this.unsubscribe(tx, subscriberId, event.campaignId ?? null, eventId, event.source);
    }
  }

  /** Unsubscribes from the campaign's lists, or from every list when the campaign is unknown. */
  private async unsubscribe(
    tx: PoolClient,
    subscriberId: number,
    campaignId: number | null,
    eventId: number,
    source: string,
  ) {
    await tx.query(
      `WITH changed AS (
         UPDATE subscriptions SET status = 'unsubscribed', updated_at = now()
         WHERE subscriber_id = $1 AND status <> 'unsubscribed'
           AND ($2::bigint IS NULL OR list_id IN (SELECT list_id FROM campaign_lists WHERE campaign_id = $2))
         RETURNING list_id
       )
       INSERT INTO consent_records (subscriber_id, list_id, action, status, source, detail)
       SELECT $1, list_id, 'unsubscribe', 'unsubscribed', 'webhook',
              jsonb_build_object('eventId', $3::bigint, 'source', $4::text)
       FROM changed`,
      [subscriberId, campaignId, eventId, source],
    );
  }
}
