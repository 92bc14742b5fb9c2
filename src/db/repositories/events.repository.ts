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
    | 'api'
    | 'tracking';
  providerEventId: string;
  campaignId?: number | null;
  subscriberId?: number | null;
  email?: string | null;
  reason?: string | null;
  payload?: unknown;
  occurredAt?: Date;
}

/** A stored event as the worker applies it. */
export interface StoredEvent {
  id: number;
  type: NewEvent['type'];
  bounceType: 'hard' | 'soft' | null;
  source: NewEvent['source'];
  providerEventId: string;
  campaignId: number | null;
  subscriberId: number | null;
  reason: string | null;
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
        e.payload === undefined ? null : jsonbText(e.payload),
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
      // Opens and clicks count people: each recipient once, machines not at all.
      `SELECT type, count(DISTINCT COALESCE(subscriber_id::text, lower(email), id::text))::int AS n
       FROM events WHERE campaign_id = $1 AND NOT machine GROUP BY type`,
      [campaignId],
    );
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }

  // --- Webhook events: stored first (applied_at NULL), applied later by the events worker. ---

  /**
   * What an incoming event is about. The Message-ID we generated (stored with or without angle
   * brackets) names the delivery, hence the campaign and the subscriber it went to; without
   * one, the address names the subscriber. A delivery's subscriber counts only when the event's
   * address is theirs (the subscriber may have changed address since).
   */
  async resolveTarget(t: {
    messageId: string | null;
    email: string | null;
    campaignUuid: string | null;
    campaignId: number | null;
  }): Promise<{ campaignId: number | null; subscriberId: number | null }> {
    const { rows } = await this.db.query<{
      delivery_campaign: number | null;
      delivery_subscriber: number | null;
      email_subscriber: number | null;
      named_campaign: number | null;
    }>(
      `WITH d AS (
         SELECT d.campaign_id, d.subscriber_id, s.email FROM deliveries d
         LEFT JOIN subscribers s ON s.id = d.subscriber_id
         WHERE $1::text IS NOT NULL AND d.message_id IN ($1::text, '<' || $1::text || '>')
         ORDER BY d.id LIMIT 1
       )
       SELECT (SELECT campaign_id FROM d) AS delivery_campaign,
              (SELECT subscriber_id FROM d WHERE $2::text IS NULL OR lower(email) = lower($2::text))
                AS delivery_subscriber,
              (SELECT id FROM subscribers WHERE email_key = lower($2::text)) AS email_subscriber,
              (SELECT id FROM campaigns WHERE uuid = $3::uuid OR id = $4::bigint LIMIT 1)
                AS named_campaign`,
      [t.messageId, t.email, t.campaignUuid, t.campaignId],
    );
    const row = rows[0]!;
    return {
      campaignId: row.delivery_campaign ?? row.named_campaign,
      subscriberId: row.delivery_subscriber ?? row.email_subscriber,
    };
  }

  /** The id of an already stored, not yet applied event (a provider re-sending it). */
  async unappliedId(
    source: NewEvent['source'],
    providerEventId: string,
  ): Promise<number | undefined> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT id FROM events
       WHERE source = $1 AND provider_event_id = $2 AND applied_at IS NULL`,
      [source, providerEventId],
    );
    return rows[0]?.id;
  }

  /** Stored events still waiting to be applied, received before the cutoff, oldest first. */
  async unappliedBefore(cutoff: Date, limit: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT id FROM events WHERE applied_at IS NULL AND received_at < $1 ORDER BY id LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Locks a stored event that is not applied yet; undefined when it is (or does not exist). */
  async lockUnapplied(id: number): Promise<StoredEvent | undefined> {
    const { rows } = await this.db.query<StoredEvent>(
      `SELECT id, type, bounce_type AS "bounceType", source, provider_event_id AS "providerEventId",
              campaign_id AS "campaignId", subscriber_id AS "subscriberId", reason
       FROM events WHERE id = $1 AND applied_at IS NULL FOR UPDATE`,
      [id],
    );
    return rows[0];
  }
}

/**
 * JSON text PostgreSQL's jsonb accepts. A provider's payload is stored as sent for audits, but
 * jsonb refuses \u0000 and lone surrogate escapes (JSON.stringify writes both), and one such
 * character must not make a whole signed batch fail: each becomes U+FFFD.
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value).replace(/\\(?:u0000|ud[89a-f][0-9a-f]{2}|.)/g, (escape) =>
    escape.length === 6 ? '\\ufffd' : escape,
  );
}
