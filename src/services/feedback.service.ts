// Applies feedback events (bounces, complaints, unsubscribes) to subscribers with the policy of
// docs/contract.md §4.3. Storing and applying happen in one transaction, once per provider event id,
// so a replayed event changes nothing.
import { statusAfter } from '../domain/bounce-policy.js';
import { inTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import { EventsRepository, type NewEvent } from '../db/repositories/events.repository.js';
import { SubscribersRepository } from '../db/repositories/subscribers.repository.js';
import { SubscriberFeedbackRepository } from '../db/repositories/subscriber-feedback.repository.js';

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
    await this.apply(tx, id, event);
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
      await this.apply(tx, stored.id, event);
      await events.markApplied(stored.id);
      return 'applied';
    });
  }

  /**
   * What an event does, wherever it came from (a webhook, the bounce receiver, an SMTP reply):
   * the subscriber's status by the policy, unsubscribes, and for a hard bounce the message's
   * ledger row when the ledger still says it was sent.
   */
  private async apply(tx: PoolClient, eventId: number, event: NewEvent) {
    const subscriberId = event.subscriberId;
    if (!subscriberId) return;
    if (event.type === 'bounce' && event.bounceType === 'hard' && event.campaignId) {
      await new DeliveriesRepository(tx).markBounced(
        event.campaignId,
        subscriberId,
        event.reason?.slice(0, 500) ?? 'bounced',
      );
    }
    const subscribers = new SubscribersRepository(tx);
    const current = (await subscribers.lockById(subscriberId))?.status;
    if (!current) return;
    const since = new Date(Date.now() - this.policy.softBounceWindowDays * 86_400_000);
    const soft =
      event.type === 'bounce' && event.bounceType === 'soft'
        ? await new EventsRepository(tx).softBouncesSince(subscriberId, since)
        : 0;
    const next = statusAfter(current, event, soft, this.policy.softBounceLimit);
    if (next !== current) {
      await new SubscriberFeedbackRepository(tx).setStatusFromFeedback(
        subscriberId,
        next,
        eventId,
        event.source,
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
    await new SubscriberFeedbackRepository(tx).unsubscribeFromFeedback(
      subscriberId,
      campaignId,
      eventId,
      source,
    );
  }
}
