import type { Queryable } from '../pool.js';
import type { CampaignSnapshot } from './campaigns.repository.js';
import type { Recipient } from './deliveries.repository.js';

/** What a tracking request needs to know about the delivery its token names. */
export interface TrackedDelivery {
  id: number;
  campaign_id: number;
  subscriber_id: number | null;
  sent_at: Date | null;
  campaign_started_at: Date | null;
}

export interface TrackingEvent {
  type: 'opened' | 'clicked';
  delivery: TrackedDelivery;
  link: number | null;
  machine: boolean;
  machineReason: string | null;
  at: Date;
}

export interface EngagementCounts {
  opened: { unique: number; machine: number; total: number };
  clicked: { unique: number; machine: number; total: number };
  bounced: { hard: number; soft: number };
}

export interface LinkCount {
  link_index: number;
  clicks: number;
  unique: number;
}

export interface TimelineRow {
  at: Date;
  sent: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  bounced: number;
}

export class EngagementRepository {
  constructor(private readonly db: Queryable) {}

  /** The deliveries tokens name, and when each one's campaign started (the links' cache key). */
  async deliveries(ids: readonly number[]): Promise<Map<number, TrackedDelivery>> {
    const { rows } = await this.db.query<TrackedDelivery>(
      `SELECT d.id, d.campaign_id, d.subscriber_id, d.sent_at, c.started_at AS campaign_started_at
         FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE d.id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** The tracked links of a campaign's snapshot, by index (null when it tracks no clicks). */
  async snapshotLinks(campaignId: number): Promise<string[] | null> {
    const { rows } = await this.db.query<{ links: string[] | null }>(
      `SELECT snapshot -> 'links' AS links FROM campaigns WHERE id = $1`,
      [campaignId],
    );
    return rows[0]?.links ?? null;
  }

  /** The recipient of a delivery as the send saw them (its first list still subscribed, by position). */
  async recipient(deliveryId: number): Promise<Recipient | undefined> {
    const { rows } = await this.db.query<Recipient>(
      `SELECT d.id AS delivery_id, s.id AS subscriber_id, s.uuid, s.email, s.name, s.attributes,
              fl.id AS list_id, COALESCE(fl.name, '') AS list_name
         FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
         LEFT JOIN LATERAL (
           SELECT l.id, l.name FROM campaign_lists cl
             JOIN subscriptions x ON x.list_id = cl.list_id AND x.subscriber_id = s.id
             JOIN lists l ON l.id = cl.list_id
            WHERE cl.campaign_id = d.campaign_id ORDER BY cl.position LIMIT 1) fl ON true
        WHERE d.id = $1`,
      [deliveryId],
    );
    return rows[0];
  }

  /** Stores opens and clicks in one statement (applied already: nothing for the events worker). */
  async recordMany(events: readonly TrackingEvent[]): Promise<void> {
    const column = <T>(pick: (e: TrackingEvent) => T) => events.map(pick);
    await this.db.query(
      `INSERT INTO events (type, source, campaign_id, subscriber_id, delivery_id, link_index,
         machine, machine_reason, occurred_at, applied_at)
       SELECT type, 'tracking', campaign_id, subscriber_id, delivery_id, link_index, machine,
              machine_reason, occurred_at, occurred_at
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::int[],
                     $6::boolean[], $7::text[], $8::timestamptz[])
           AS e(type, campaign_id, subscriber_id, delivery_id, link_index, machine,
                machine_reason, occurred_at)`,
      [
        column((e) => e.type),
        column((e) => e.delivery.campaign_id),
        column((e) => e.delivery.subscriber_id),
        column((e) => e.delivery.id),
        column((e) => e.link),
        column((e) => e.machine),
        column((e) => e.machineReason),
        column((e) => e.at),
      ],
    );
  }

  /** The links of each of these deliveries clicked since `since` (human or not). */
  async linksClickedSinceMany(
    deliveryIds: readonly number[],
    since: Date,
  ): Promise<Map<number, Set<number>>> {
    const { rows } = await this.db.query<{ delivery_id: number; links: number[] }>(
      `SELECT delivery_id, array_agg(DISTINCT link_index) AS links FROM events
        WHERE delivery_id = ANY($1::bigint[]) AND type = 'clicked' AND occurred_at >= $2
        GROUP BY delivery_id`,
      [deliveryIds, since],
    );
    return new Map(rows.map((r) => [r.delivery_id, new Set(r.links)]));
  }

  /** Marks these deliveries' clicks since `since` as a machine's burst. */
  async markBursts(deliveryIds: readonly number[], since: Date): Promise<void> {
    await this.db.query(
      `UPDATE events SET machine = true, machine_reason = 'burst'
        WHERE delivery_id = ANY($1::bigint[]) AND type = 'clicked' AND occurred_at >= $2
          AND NOT machine`,
      [deliveryIds, since],
    );
  }

  async counts(campaignId: number): Promise<EngagementCounts> {
    const { rows } = await this.db.query<{
      type: string;
      unique: number;
      machine: number;
      total: number;
      hard: number;
      soft: number;
    }>(
      `SELECT type,
              count(DISTINCT subscriber_id) FILTER (WHERE NOT machine)::int AS unique,
              count(*) FILTER (WHERE machine)::int AS machine,
              count(*) FILTER (WHERE NOT machine)::int AS total,
              count(DISTINCT COALESCE(subscriber_id::text, lower(email), id::text))
                FILTER (WHERE bounce_type = 'hard')::int AS hard,
              count(DISTINCT COALESCE(subscriber_id::text, lower(email), id::text))
                FILTER (WHERE bounce_type = 'soft')::int AS soft
         FROM events WHERE campaign_id = $1 AND type IN ('opened', 'clicked', 'bounce')
        GROUP BY type`,
      [campaignId],
    );
    const of = (type: string) => rows.find((r) => r.type === type);
    const pick = (type: string) => ({
      unique: of(type)?.unique ?? 0,
      machine: of(type)?.machine ?? 0,
      total: of(type)?.total ?? 0,
    });
    return {
      opened: pick('opened'),
      clicked: pick('clicked'),
      bounced: { hard: of('bounce')?.hard ?? 0, soft: of('bounce')?.soft ?? 0 },
    };
  }

  async linkCounts(campaignId: number): Promise<LinkCount[]> {
    const { rows } = await this.db.query<LinkCount>(
      `SELECT link_index, count(*)::int AS clicks, count(DISTINCT subscriber_id)::int AS unique
         FROM events WHERE campaign_id = $1 AND type = 'clicked' AND NOT machine
        GROUP BY link_index ORDER BY link_index`,
      [campaignId],
    );
    return rows;
  }

  /**
   * Sends, human opens and clicks, unsubscribes and bounces by time bucket from the start: ten
   * minutes during the first six hours, then hours.
   */
  async timeline(campaignId: number, start: Date): Promise<TimelineRow[]> {
    const { rows } = await this.db.query<TimelineRow>(
      `WITH moments AS (
         SELECT sent_at AS at, 'sent' AS kind FROM deliveries
          WHERE campaign_id = $1 AND sent_at IS NOT NULL
         UNION ALL
         SELECT occurred_at, type FROM events
          WHERE campaign_id = $1 AND NOT machine
            AND type IN ('opened', 'clicked', 'unsubscribe', 'bounce')
       ), buckets AS (
         SELECT CASE WHEN at < $2::timestamptz + interval '6 hours'
                     THEN $2::timestamptz + floor(extract(epoch FROM at - $2::timestamptz) / 600)
                          * interval '10 minutes'
                     ELSE date_trunc('hour', at) END AS at, kind
           FROM moments WHERE at >= $2::timestamptz - interval '10 minutes'
       )
       SELECT at,
              count(*) FILTER (WHERE kind = 'sent')::int AS sent,
              count(*) FILTER (WHERE kind = 'opened')::int AS opened,
              count(*) FILTER (WHERE kind = 'clicked')::int AS clicked,
              count(*) FILTER (WHERE kind = 'unsubscribe')::int AS unsubscribed,
              count(*) FILTER (WHERE kind = 'bounce')::int AS bounced
         FROM buckets GROUP BY at ORDER BY at`,
      [campaignId, start],
    );
    return rows;
  }
}

/** A campaign in the public archive. */
export interface ArchivedCampaign {
  id: number;
  uuid: string;
  name: string;
  archive_slug: string;
  data: Record<string, unknown>;
  started_at: Date;
  finished_at: Date | null;
  snapshot: CampaignSnapshot;
}

const ARCHIVED = `archive AND archive_slug IS NOT NULL AND started_at IS NOT NULL
  AND snapshot IS NOT NULL AND status IN ('running', 'paused', 'finished')`;

export class ArchiveRepository {
  constructor(private readonly db: Queryable) {}

  /** Newest first: the campaigns that went out and are shown in the archive. */
  async page(offset: number, limit: number): Promise<ArchivedCampaign[]> {
    const { rows } = await this.db.query<ArchivedCampaign>(
      `SELECT id, uuid, name, archive_slug, data, started_at, finished_at, snapshot
         FROM campaigns WHERE ${ARCHIVED}
        ORDER BY started_at DESC, id DESC OFFSET $1 LIMIT $2`,
      [offset, limit],
    );
    return rows;
  }

  async bySlug(slug: string): Promise<ArchivedCampaign | undefined> {
    const { rows } = await this.db.query<ArchivedCampaign>(
      `SELECT id, uuid, name, archive_slug, data, started_at, finished_at, snapshot
         FROM campaigns WHERE ${ARCHIVED} AND archive_slug = $1`,
      [slug],
    );
    return rows[0];
  }
}

/**
 * The retention of raw opens and clicks (TRACKING_RETENTION_DAYS): a campaign's events older
 * than the cutoff are added into its `retained_counts` and deleted, in one transaction (run it
 * on a transaction's client). A reader is counted there as unique only when no newer event of
 * theirs remains to count them: the report's sum keeps each reader once.
 */
export class RetentionRepository {
  constructor(private readonly db: Queryable) {}

  async campaignsWithEventsBefore(cutoff: Date, limit: number): Promise<number[]> {
    const { rows } = await this.db.query<{ campaign_id: number }>(
      `SELECT DISTINCT campaign_id FROM events
        WHERE source = 'tracking' AND occurred_at < $1 AND campaign_id IS NOT NULL LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map((r) => r.campaign_id);
  }

  /** Folds and deletes one campaign's old events; answers how many were removed. */
  async fold(campaignId: number, cutoff: Date): Promise<number> {
    const locked = await this.db.query<{ retained_counts: Record<string, number> }>(
      'SELECT retained_counts FROM campaigns WHERE id = $1 FOR UPDATE',
      [campaignId],
    );
    const kept = { ...(locked.rows[0]?.retained_counts ?? {}) };
    const newer = (match: string) =>
      `NOT EXISTS (SELECT 1 FROM events n WHERE n.campaign_id = o.campaign_id
         AND n.source = 'tracking' AND n.type = o.type AND n.subscriber_id = o.subscriber_id
         AND NOT n.machine AND n.occurred_at >= $2 ${match})`;
    const { rows: byType } = await this.db.query<{ type: string; machine: number; unique: number }>(
      `SELECT type, count(*) FILTER (WHERE machine)::int AS machine,
              count(DISTINCT subscriber_id) FILTER (WHERE NOT machine AND ${newer('')})::int AS unique
         FROM events o WHERE campaign_id = $1 AND source = 'tracking' AND occurred_at < $2
        GROUP BY type`,
      [campaignId, cutoff],
    );
    const { rows: byLink } = await this.db.query<{
      link_index: number;
      clicks: number;
      unique: number;
    }>(
      `SELECT link_index, count(*)::int AS clicks,
              count(DISTINCT subscriber_id)
                FILTER (WHERE ${newer('AND n.link_index = o.link_index')})::int AS unique
         FROM events o WHERE campaign_id = $1 AND source = 'tracking' AND type = 'clicked'
          AND NOT machine AND occurred_at < $2 GROUP BY link_index`,
      [campaignId, cutoff],
    );
    const add = (key: string, n: number) => {
      kept[key] = Number(kept[key] ?? 0) + n;
    };
    for (const t of byType) {
      add(`${t.type}.unique`, t.unique);
      add(`${t.type}.machine`, t.machine);
    }
    for (const l of byLink) {
      add(`links.${l.link_index}.clicks`, l.clicks);
      add(`links.${l.link_index}.unique`, l.unique);
    }
    await this.db.query('UPDATE campaigns SET retained_counts = $2 WHERE id = $1', [
      campaignId,
      JSON.stringify(kept),
    ]);
    const deleted = await this.db.query(
      `DELETE FROM events WHERE campaign_id = $1 AND source = 'tracking' AND occurred_at < $2`,
      [campaignId, cutoff],
    );
    return deleted.rowCount ?? 0;
  }
}
