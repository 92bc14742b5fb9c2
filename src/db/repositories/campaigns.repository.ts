import type { CampaignStatus } from '../../domain/campaign.js';
import type { Queryable } from '../pool.js';

export interface CampaignRow {
  id: number;
  uuid: string;
  name: string;
  subject: string;
  template_id: number | null;
  content: string | null;
  content_type: 'markdown' | 'mjml';
  from_name: string | null;
  from_email: string | null;
  reply_to: string | null;
  data: Record<string, unknown>;
  status: CampaignStatus;
  status_reason: string | null;
  send_at: Date | null;
  timezone: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  snapshot: CampaignSnapshot | null;
  generation: number;
  audience_drawn_at: Date | null;
  recipients: number;
  created_at: Date;
  updated_at: Date;
  list_ids: number[];
}

/**
 * What a running campaign sends, frozen when it starts: the compiled message. The sender is
 * not frozen: it is read from the campaign row at send time (editable while paused).
 */
export interface CampaignSnapshot {
  subject: string;
  html: string;
  text: string;
  warnings: string[];
}

export interface CampaignFields {
  name: string;
  subject: string;
  templateId: number | null;
  listIds: number[];
  content: string | null;
  contentType: 'markdown' | 'mjml';
  fromName: string | null;
  fromEmail: string | null;
  replyTo: string | null;
  data: Record<string, unknown>;
}

const SELECT = `SELECT c.*, COALESCE((SELECT array_agg(cl.list_id ORDER BY cl.position)
                  FROM campaign_lists cl WHERE cl.campaign_id = c.id), '{}') AS list_ids
                FROM campaigns c`;

export class CampaignsRepository {
  constructor(private readonly db: Queryable) {}

  async create(f: CampaignFields): Promise<number> {
    const { rows } = await this.db.query<{ id: number }>(
      `INSERT INTO campaigns (name, subject, template_id, content, content_type, from_name,
         from_email, reply_to, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        f.name,
        f.subject,
        f.templateId,
        f.content,
        f.contentType,
        f.fromName,
        f.fromEmail,
        f.replyTo,
        JSON.stringify(f.data),
      ],
    );
    const id = rows[0]!.id;
    await this.setLists(id, f.listIds);
    return id;
  }

  async setLists(id: number, listIds: number[]): Promise<void> {
    await this.db.query('DELETE FROM campaign_lists WHERE campaign_id = $1', [id]);
    await this.db.query(
      `INSERT INTO campaign_lists (campaign_id, list_id, position)
       SELECT $1, list_id, ord FROM unnest($2::bigint[]) WITH ORDINALITY AS t(list_id, ord)`,
      [id, listIds],
    );
  }

  async findById(id: number, lock = false): Promise<CampaignRow | undefined> {
    const { rows } = await this.db.query<CampaignRow>(
      `${SELECT} WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`,
      [id],
    );
    return rows[0];
  }

  async page(after: number | undefined, limit: number, status?: string): Promise<CampaignRow[]> {
    const { rows } = await this.db.query<CampaignRow>(
      `${SELECT} WHERE ($1::bigint IS NULL OR c.id > $1) AND ($3::text IS NULL OR c.status = $3)
       ORDER BY c.id LIMIT $2`,
      [after ?? null, limit, status ?? null],
    );
    return rows;
  }

  async update(id: number, f: Partial<CampaignFields>): Promise<void> {
    await this.db.query(
      `UPDATE campaigns SET
         name = COALESCE($2, name), subject = COALESCE($3, subject),
         template_id = CASE WHEN $4::boolean THEN $5::bigint ELSE template_id END,
         content = CASE WHEN $6::boolean THEN $7 ELSE content END,
         content_type = COALESCE($8, content_type),
         from_name = CASE WHEN $9::boolean THEN $10 ELSE from_name END,
         from_email = CASE WHEN $11::boolean THEN $12 ELSE from_email END,
         reply_to = CASE WHEN $13::boolean THEN $14 ELSE reply_to END,
         data = COALESCE($15::jsonb, data),
         updated_at = now()
       WHERE id = $1`,
      [
        id,
        f.name ?? null,
        f.subject ?? null,
        f.templateId !== undefined,
        f.templateId ?? null,
        f.content !== undefined,
        f.content ?? null,
        f.contentType ?? null,
        f.fromName !== undefined,
        f.fromName ?? null,
        f.fromEmail !== undefined,
        f.fromEmail ?? null,
        f.replyTo !== undefined,
        f.replyTo ?? null,
        f.data ? JSON.stringify(f.data) : null,
      ],
    );
    if (f.listIds) await this.setLists(id, f.listIds);
  }

  async delete(id: number): Promise<void> {
    await this.db.query('DELETE FROM campaigns WHERE id = $1', [id]);
  }

  /**
   * Moves a campaign from one of `from` to `to`, atomically; undefined when it was not in one of
   * those statuses (someone else moved it first). `extra` sets more columns in the same UPDATE.
   */
  async transition(
    id: number,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    extra: {
      reason?: string | null;
      sendAt?: Date | null;
      timezone?: string | null;
      snapshot?: CampaignSnapshot;
      started?: boolean;
      finished?: boolean;
      bumpGeneration?: boolean;
    } = {},
  ): Promise<CampaignRow | undefined> {
    const { rows } = await this.db.query<{ id: number }>(
      `UPDATE campaigns SET status = $3,
         status_reason = $4,
         send_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE send_at END,
         timezone = CASE WHEN $5::boolean THEN $7 ELSE timezone END,
         snapshot = COALESCE($8::jsonb, snapshot),
         started_at = CASE WHEN $9::boolean THEN COALESCE(started_at, now()) ELSE started_at END,
         finished_at = CASE WHEN $10::boolean THEN now() WHEN $3 = 'running' THEN NULL ELSE finished_at END,
         generation = generation + CASE WHEN $11::boolean THEN 1 ELSE 0 END,
         updated_at = now()
       WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`,
      [
        id,
        [...from],
        to,
        extra.reason ?? null,
        extra.sendAt !== undefined,
        extra.sendAt ?? null,
        extra.timezone ?? null,
        extra.snapshot ? JSON.stringify(extra.snapshot) : null,
        extra.started ?? false,
        extra.finished ?? false,
        extra.bumpGeneration ?? false,
      ],
    );
    return rows[0] ? this.findById(rows[0].id) : undefined;
  }

  async bumpGeneration(id: number): Promise<number> {
    const { rows } = await this.db.query<{ generation: number }>(
      'UPDATE campaigns SET generation = generation + 1 WHERE id = $1 RETURNING generation',
      [id],
    );
    return rows[0]?.generation ?? 0;
  }

  async dueScheduled(now: Date): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at, id`,
      [now],
    );
    return rows.map((r) => r.id);
  }

  /** Id, uuid and name of the campaign a public link names, or undefined. */
  async summaryByUuid(
    uuid: string,
  ): Promise<{ id: number; uuid: string; name: string } | undefined> {
    const { rows } = await this.db.query<{ id: number; uuid: string; name: string }>(
      'SELECT id, uuid, name FROM campaigns WHERE uuid = $1',
      [uuid],
    );
    return rows[0];
  }

  /** The status alone (a cheap read between draw chunks), or undefined when deleted. */
  async statusOf(id: number): Promise<CampaignStatus | undefined> {
    const { rows } = await this.db.query<{ status: CampaignStatus }>(
      'SELECT status FROM campaigns WHERE id = $1',
      [id],
    );
    return rows[0]?.status;
  }

  async withStatus(status: CampaignStatus): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      'SELECT id FROM campaigns WHERE status = $1 ORDER BY id',
      [status],
    );
    return rows.map((r) => r.id);
  }

  async markAudienceDrawn(id: number, recipients: number): Promise<void> {
    await this.db.query(
      'UPDATE campaigns SET audience_drawn_at = now(), recipients = $2 WHERE id = $1',
      [id, recipients],
    );
  }

  /** Finishes a running campaign when nothing is left queued or sending. */
  async finishIfDone(id: number): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE campaigns SET status = 'finished', finished_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'running' AND audience_drawn_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM deliveries d
                         WHERE d.campaign_id = $1 AND d.status IN ('queued', 'sending'))`,
      [id],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
