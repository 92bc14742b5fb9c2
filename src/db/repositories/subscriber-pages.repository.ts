// What the public pages read about one subscriber: the lists a page offers them, their
// subscription statuses, the campaign's lists of a link, and everything "download my data" holds.
import type { Queryable } from '../pool.js';
import type { SubscriptionStatus } from './subscribers.repository.js';

export interface ShownList {
  id: number;
  uuid: string;
  name: string;
  description: string;
  visibility: 'public' | 'private';
  status: SubscriptionStatus | null;
}

export interface PublicListRow {
  id: number;
  uuid: string;
  name: string;
  description: string;
  optin: 'single' | 'double';
}

export class SubscriberPagesRepository {
  constructor(private readonly db: Queryable) {}

  /** The lists the subscribe form offers. */
  async publicLists(): Promise<PublicListRow[]> {
    const { rows } = await this.db.query<PublicListRow>(
      `SELECT id, uuid, name, description, optin FROM lists
       WHERE visibility = 'public' ORDER BY lower(name), id`,
    );
    return rows;
  }

  /** Public lists and every list the subscriber is or was on, with their status. */
  async shownLists(subscriberId: number): Promise<ShownList[]> {
    const { rows } = await this.db.query<ShownList>(
      `SELECT l.id, l.uuid, l.name, l.description, l.visibility, x.status
       FROM lists l
       LEFT JOIN subscriptions x ON x.list_id = l.id AND x.subscriber_id = $1
       WHERE l.visibility = 'public' OR x.status IS NOT NULL
       ORDER BY lower(l.name), l.id`,
      [subscriberId],
    );
    return rows;
  }

  /** The subscriber's status on each of these lists they are on. */
  async statusesOn(
    subscriberId: number,
    listIds: number[],
  ): Promise<Map<number, SubscriptionStatus>> {
    const { rows } = await this.db.query<{ list_id: number; status: SubscriptionStatus }>(
      'SELECT list_id, status FROM subscriptions WHERE subscriber_id = $1 AND list_id = ANY($2::bigint[])',
      [subscriberId, listIds],
    );
    return new Map(rows.map((r) => [r.list_id, r.status]));
  }

  /** The lists (id, name) on which the subscriber has this status, by name. */
  async listsWithStatus(
    subscriberId: number,
    status: SubscriptionStatus,
  ): Promise<{ list_id: number; name: string }[]> {
    const { rows } = await this.db.query<{ list_id: number; name: string }>(
      `SELECT l.id AS list_id, l.name FROM subscriptions x JOIN lists l ON l.id = x.list_id
       WHERE x.subscriber_id = $1 AND x.status = $2 ORDER BY lower(l.name), l.id`,
      [subscriberId, status],
    );
    return rows;
  }

  /** The lists of a campaign. */
  async campaignListIds(campaignId: number): Promise<number[]> {
    const { rows } = await this.db.query<{ list_id: number }>(
      'SELECT list_id FROM campaign_lists WHERE campaign_id = $1',
      [campaignId],
    );
    return rows.map((r) => r.list_id);
  }

  /** List names by id, in name order. */
  async listNames(ids: number[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ name: string }>(
      'SELECT name FROM lists WHERE id = ANY($1::bigint[]) ORDER BY lower(name), id',
      [ids],
    );
    return rows.map((r) => r.name);
  }

  /**
   * What "download my data" holds beyond the profile. The address and browser of a consent
   * record are the subscriber's own only when they acted themselves (the form, the preference
   * page, a link): one made through the API or an import holds a staff member's, left out.
   */
  async dataOf(subscriberId: number, email: string) {
    const [subscriptions, consent, events, deliveries] = await Promise.all([
      this.db.query(
        `SELECT l.uuid AS "listUuid", l.name AS list, x.status, x.created_at AS "createdAt",
                x.updated_at AS "updatedAt"
         FROM subscriptions x JOIN lists l ON l.id = x.list_id
         WHERE x.subscriber_id = $1 ORDER BY x.created_at, l.id`,
        [subscriberId],
      ),
      this.db.query(
        `SELECT c.created_at AS "createdAt", l.name AS list, c.action, c.status, c.source,
                CASE WHEN c.source IN ('api', 'import') THEN NULL ELSE host(c.ip) END AS ip,
                CASE WHEN c.source IN ('api', 'import') THEN NULL ELSE c.user_agent END AS "userAgent",
                c.detail
         FROM consent_records c LEFT JOIN lists l ON l.id = c.list_id
         WHERE c.subscriber_id = $1 ORDER BY c.id`,
        [subscriberId],
      ),
      this.db.query(
        `SELECT e.occurred_at AS "occurredAt", e.type, e.bounce_type AS "bounceType", e.source,
                c.uuid AS "campaignUuid", c.name AS campaign, e.reason, e.payload
         FROM events e LEFT JOIN campaigns c ON c.id = e.campaign_id
         WHERE e.subscriber_id = $1 OR lower(e.email) = lower($2) ORDER BY e.id`,
        [subscriberId, email],
      ),
      this.db.query(
        `SELECT c.uuid AS "campaignUuid", c.name AS campaign, d.status, d.sent_at AS "sentAt"
         FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
         WHERE d.subscriber_id = $1 ORDER BY d.id`,
        [subscriberId],
      ),
    ]);
    return {
      subscriptions: subscriptions.rows,
      consentRecords: consent.rows,
      events: events.rows,
      deliveries: deliveries.rows,
    };
  }
}
