import type { Queryable } from '../pool.js';

export interface NewEvent {
  type: 'bounce' | 'complaint' | 'unsubscribe' | 'delivered' | 'opened' | 'clicked' | 'confirmed';
  bounceType?: 'hard' | 'soft' | null;
  source:
    | 'smtp'
    | 'mailgun'
    | 'sendgrid'
    | 'ses'
    | 'postmark'
    | 'generic'
    | 'dsn'
    | 'one-click'
    | 'preferences'
    | 'api';
  providerEventId: string;
  campaignId?: number | null;
  subscriberId?: number | null;
  email?: string | null;
  reason?: string | null;
  payload?: unknown;
  occurredAt?: Date;
}

export class EventsRepository {
  constructor(private readonly db: Queryable) {}

  /** Stores an event once per (source, provider id); returns its id, or undefined for a replay. */
  async insert(e: NewEvent): Promise<number | undefined> {
    const { rows } = await this.db.query<{ id: number }>(
      `INSERT INTO events (type, bounce_type, source, provider_event_id, campaign_id, subscriber_id,
         email, reason, payload, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()))
       ON CONFLICT (source, provider_event_id) DO NOTHING RETURNING id`,
      [
        e.type,
        e.bounceType ?? null,
        e.source,
        e.providerEventId,
        e.campaignId ?? null,
        e.subscriberId ?? null,
        e.email ?? null,
        e.reason ?? null,
        e.payload === undefined ? null : JSON.stringify(e.payload),
        e.occurredAt ?? null,
      ],
    );
    return rows[0]?.id;
  }

  async softBouncesSince(subscriberId: number, since: Date): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events
       WHERE subscriber_id = $1 AND type = 'bounce' AND bounce_type = 'soft' AND occurred_at >= $2`,
      [subscriberId, since],
    );
    return rows[0]!.n;
  }

  async markApplied(id: number): Promise<void> {
    await this.db.query('UPDATE events SET applied_at = now() WHERE id = $1', [id]);
  }

  async campaignCounts(campaignId: number): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ type: string; n: number }>(
      `SELECT type, count(DISTINCT COALESCE(subscriber_id::text, email::text, id::text))::int AS n
       FROM events WHERE campaign_id = $1 GROUP BY type`,
      [campaignId],
    );
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }
}
