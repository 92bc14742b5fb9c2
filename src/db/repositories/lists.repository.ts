import type { Queryable } from '../pool.js';
import { SetClause } from '../set-clause.js';

export interface ListRow {
  id: number;
  uuid: string;
  name: string;
  description: string;
  optin: 'single' | 'double';
  visibility: 'public' | 'private';
  created_at: Date;
  updated_at: Date;
}

export interface ListCounts {
  unconfirmed: number;
  confirmed: number;
  unsubscribed: number;
}

export interface ListFields {
  name: string;
  description: string;
  optin: 'single' | 'double';
  visibility: 'public' | 'private';
}

export class ListsRepository {
  constructor(private readonly db: Queryable) {}

  async create(fields: ListFields): Promise<ListRow> {
    const { rows } = await this.db.query<ListRow>(
      `INSERT INTO lists (name, description, optin, visibility) VALUES ($1, $2, $3, $4)
       RETURNING *`,
      [fields.name, fields.description, fields.optin, fields.visibility],
    );
    return rows[0]!;
  }

  async findById(id: number): Promise<ListRow | undefined> {
    const { rows } = await this.db.query<ListRow>('SELECT * FROM lists WHERE id = $1', [id]);
    return rows[0];
  }

  async findMany(ids: number[]): Promise<ListRow[]> {
    const { rows } = await this.db.query<ListRow>(
      'SELECT * FROM lists WHERE id = ANY($1::bigint[]) ORDER BY id',
      [ids],
    );
    return rows;
  }

  async page(after: number | undefined, limit: number): Promise<ListRow[]> {
    const { rows } = await this.db.query<ListRow>(
      'SELECT * FROM lists WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2',
      [after ?? null, limit],
    );
    return rows;
  }

  async update(id: number, fields: Partial<ListFields>): Promise<ListRow | undefined> {
    // A field left out (or null) keeps its value.
    const set = new SetClause([id])
      .set('name', fields.name ?? undefined)
      .set('description', fields.description ?? undefined)
      .set('optin', fields.optin ?? undefined)
      .set('visibility', fields.visibility ?? undefined)
      .expr('updated_at = now()');
    const { rows } = await this.db.query<ListRow>(
      `UPDATE lists SET ${set.sql} WHERE id = $1 RETURNING *`,
      set.params,
    );
    return rows[0];
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM lists WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  /** Campaigns that are not over and still use the list. */
  async activeCampaignsUsing(id: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT c.id FROM campaigns c JOIN campaign_lists cl ON cl.campaign_id = c.id
       WHERE cl.list_id = $1 AND c.status IN ('scheduled', 'running', 'paused') ORDER BY c.id`,
      [id],
    );
    return rows.map((r) => r.id);
  }

  async counts(ids: number[]): Promise<Map<number, ListCounts>> {
    const { rows } = await this.db.query<{ list_id: number; status: string; n: number }>(
      `SELECT list_id, status, count(*)::int AS n FROM subscriptions
       WHERE list_id = ANY($1::bigint[]) GROUP BY list_id, status`,
      [ids],
    );
    const result = new Map<number, ListCounts>();
    for (const id of ids) result.set(id, { unconfirmed: 0, confirmed: 0, unsubscribed: 0 });
    for (const row of rows) {
      const counts = result.get(row.list_id);
      if (counts && row.status in counts) counts[row.status as keyof ListCounts] = row.n;
    }
    return result;
  }
}
