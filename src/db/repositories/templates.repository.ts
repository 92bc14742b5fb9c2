import type { Queryable } from '../pool.js';
import { SetClause } from '../set-clause.js';

export interface TemplateRow {
  id: number;
  name: string;
  mjml: string;
  created_at: Date;
  updated_at: Date;
}

/** A page entry: everything but the (possibly large) MJML source. */
export type TemplateSummaryRow = Omit<TemplateRow, 'mjml'> & { mjml_bytes: number };

export interface TemplateFields {
  name: string;
  mjml: string;
}

/** PostgreSQL's foreign_key_violation: the row is still referenced. */
const FOREIGN_KEY_VIOLATION = '23503';

export class TemplatesRepository {
  constructor(private readonly db: Queryable) {}

  async create(fields: TemplateFields): Promise<TemplateRow> {
    const { rows } = await this.db.query<TemplateRow>(
      'INSERT INTO templates (name, mjml) VALUES ($1, $2) RETURNING *',
      [fields.name, fields.mjml],
    );
    return rows[0]!;
  }

  async findById(id: number): Promise<TemplateRow | undefined> {
    const { rows } = await this.db.query<TemplateRow>('SELECT * FROM templates WHERE id = $1', [
      id,
    ]);
    return rows[0];
  }

  async exists(id: number): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM templates WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async page(after: number | undefined, limit: number): Promise<TemplateSummaryRow[]> {
    const { rows } = await this.db.query<TemplateSummaryRow>(
      `SELECT id, name, octet_length(mjml) AS mjml_bytes, created_at, updated_at FROM templates
       WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [after ?? null, limit],
    );
    return rows;
  }

  async update(id: number, fields: Partial<TemplateFields>): Promise<TemplateRow | undefined> {
    // A field left out (or null) keeps its value.
    const set = new SetClause([id])
      .set('name', fields.name ?? undefined)
      .set('mjml', fields.mjml ?? undefined)
      .expr('updated_at = now()');
    const { rows } = await this.db.query<TemplateRow>(
      `UPDATE templates SET ${set.sql} WHERE id = $1 RETURNING *`,
      set.params,
    );
    return rows[0];
  }

  /** 'in-use' when a campaign still refers to it (campaigns.template_id is ON DELETE RESTRICT). */
  async delete(id: number): Promise<'deleted' | 'missing' | 'in-use'> {
    try {
      const result = await this.db.query('DELETE FROM templates WHERE id = $1', [id]);
      return (result.rowCount ?? 0) > 0 ? 'deleted' : 'missing';
    } catch (error) {
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return 'in-use';
      throw error;
    }
  }

  async campaignsUsing(id: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      'SELECT id FROM campaigns WHERE template_id = $1 ORDER BY id LIMIT 100',
      [id],
    );
    return rows.map((r) => r.id);
  }
}
