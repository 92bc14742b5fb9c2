// A subscriber's history: feedback events and consent records in one timeline, oldest first,
// paged on (time in microseconds, rank, id) so a page boundary never skips or repeats an entry.
// At the same instant an event comes before the consent record it caused.
import type { Queryable } from '../pool.js';

export interface HistoryEntry {
  kind: 'event' | 'consent';
  id: number;
  at: Date;
  /** Microseconds since the epoch: the cursor needs PostgreSQL's full precision. */
  at_us: string;
  type: string;
  status: string | null;
  bounce_type: string | null;
  source: string;
  campaign_id: number | null;
  list_id: number | null;
  reason: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface HistoryCursor {
  us: string;
  kind: 'event' | 'consent';
  id: number;
}

export class HistoryRepository {
  constructor(private readonly db: Queryable) {}

  async page(
    subscriberId: number,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<HistoryEntry[]> {
    const { rows } = await this.db.query<HistoryEntry>(
      `SELECT kind, id, at, at_us::text, type, status, bounce_type, source, campaign_id, list_id,
              reason, ip, user_agent
       FROM (
         SELECT 'event' AS kind, 0 AS rank, id, occurred_at AS at, type, NULL::text AS status,
                bounce_type, source, campaign_id, NULL::bigint AS list_id, reason,
                NULL::text AS ip, NULL::text AS user_agent
         FROM events WHERE subscriber_id = $1
         UNION ALL
         SELECT 'consent', 1, id, created_at, action, status, NULL, source, NULL, list_id, NULL,
                host(ip), user_agent
         FROM consent_records WHERE subscriber_id = $1
       ) h
       CROSS JOIN LATERAL (SELECT (extract(epoch FROM h.at) * 1000000)::bigint AS at_us) t
       WHERE $2::bigint IS NULL OR (t.at_us, h.rank, h.id) > ($2::bigint, $3::int, $4::bigint)
       ORDER BY t.at_us, h.rank, h.id LIMIT $5`,
      [
        subscriberId,
        after?.us ?? null,
        after ? (after.kind === 'event' ? 0 : 1) : null,
        after?.id ?? null,
        limit,
      ],
    );
    return rows;
  }
}
