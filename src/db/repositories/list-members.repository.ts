// A list's members for the CSV export: page by page on the subscriber id, never OFFSET.
import type { Queryable } from '../pool.js';

export interface ListMemberRow {
  id: number;
  email: string;
  name: string;
  attributes: Record<string, unknown>;
  status: string;
  subscription_status: string;
  created_at: Date;
}

export class ListMembersRepository {
  constructor(private readonly db: Queryable) {}

  /** Every attribute key the members use (the export's extra columns), sorted. */
  async attributeKeys(listId: number, subscriptionStatus?: string): Promise<string[]> {
    const { rows } = await this.db.query<{ key: string }>(
      `SELECT DISTINCT jsonb_object_keys(s.attributes) AS key
       FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
       WHERE x.list_id = $1 AND ($2::text IS NULL OR x.status = $2) ORDER BY 1`,
      [listId, subscriptionStatus ?? null],
    );
    return rows.map((r) => r.key);
  }

  /** Up to `limit` members with subscriber ids above `after`, in id order. */
  async page(
    listId: number,
    after: number,
    limit: number,
    subscriptionStatus?: string,
  ): Promise<ListMemberRow[]> {
    const { rows } = await this.db.query<ListMemberRow>(
      `SELECT s.id, s.email, s.name, s.attributes, s.status, x.status AS subscription_status,
              s.created_at
       FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
       WHERE x.list_id = $1 AND x.subscriber_id > $2 AND ($4::text IS NULL OR x.status = $4)
       ORDER BY x.subscriber_id LIMIT $3`,
      [listId, after, limit, subscriptionStatus ?? null],
    );
    return rows;
  }
}
