// What feedback (webhooks, the bounce receiver, SMTP replies) changes about a subscriber: the
// status the bounce policy decides, unsubscribes, and the VERP token's subscriber and campaign.
import type { Queryable } from '../pool.js';

export class SubscriberFeedbackRepository {
  constructor(private readonly db: Queryable) {}

  /** The subscriber (id, address) and the campaign id a VERP token names; undefined if gone. */
  async withCampaignByUuids(
    subscriberUuid: string,
    campaignUuid: string | null,
  ): Promise<{ id: number; email: string; campaign_id: number | null } | undefined> {
    const { rows } = await this.db.query<{ id: number; email: string; campaign_id: number | null }>(
      `SELECT s.id, s.email,
              (SELECT c.id FROM campaigns c WHERE c.uuid = $2::uuid) AS campaign_id
       FROM subscribers s WHERE s.uuid = $1::uuid`,
      [subscriberUuid, campaignUuid],
    );
    return rows[0];
  }

  /** A status set by a feedback event, with its consent record naming the event. */
  async setStatusFromFeedback(
    subscriberId: number,
    status: string,
    eventId: number,
    source: string,
  ): Promise<void> {
    await this.db.query('UPDATE subscribers SET status = $2, updated_at = now() WHERE id = $1', [
      subscriberId,
      status,
    ]);
    await this.db.query(
      `INSERT INTO consent_records (subscriber_id, action, status, source, detail)
       VALUES ($1, 'status', $2, 'webhook', jsonb_build_object('eventId', $3::bigint, 'source', $4::text))`,
      [subscriberId, status, eventId, source],
    );
  }

  /**
   * A complaint (every list) or an unsubscribe event (the campaign's lists, or every list when
   * the campaign is unknown), with a consent record per list naming the event.
   */
  async unsubscribeFromFeedback(
    subscriberId: number,
    campaignId: number | null,
    eventId: number,
    source: string,
  ): Promise<void> {
    await this.db.query(
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
