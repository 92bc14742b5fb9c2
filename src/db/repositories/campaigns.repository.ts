import type { StoredApprovalStatus } from '../../domain/approval.js';
import type { Actor } from '../../domain/audit.js';
import type { CampaignStatus } from '../../domain/campaign.js';
import type { Queryable } from '../pool.js';
import { SetClause } from '../set-clause.js';

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
  approval_status: StoredApprovalStatus;
  approval_requested_by: Actor | null;
  approval_requested_at: Date | null;
  approval_decided_by: Actor | null;
  approval_decided_at: Date | null;
  approval_note: string | null;
  approval_fingerprint: string | null;
  last_edited_by: Actor | null;
  track_opens: boolean;
  track_clicks: boolean;
  archive: boolean;
  archive_slug: string | null;
  retained_counts: Record<string, number>;
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
  /** Frozen with the message (older snapshots have neither: no tracking). */
  tracking?: { opens: boolean; clicks: boolean };
  /** The original URLs of the tracked links, by index: the only targets of /l/<token>. */
  links?: string[];
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
  /** Frozen into the snapshot at the start (docs/engagement.md). */
  tracking: { opens: boolean; clicks: boolean };
  archive: boolean;
  archiveSlug: string | null;
}

const SELECT = `SELECT c.*, COALESCE((SELECT array_agg(cl.list_id ORDER BY cl.position)
                  FROM campaign_lists cl WHERE cl.campaign_id = c.id), '{}') AS list_ids
                FROM campaigns c`;

export class CampaignsRepository {
  constructor(private readonly db: Queryable) {}

  async create(f: CampaignFields): Promise<number> {
    const { rows } = await this.db.query<{ id: number }>(
      `INSERT INTO campaigns (name, subject, template_id, content, content_type, from_name,
         from_email, reply_to, data, track_opens, track_clicks, archive, archive_slug)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
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
        f.tracking.opens,
        f.tracking.clicks,
        f.archive,
        f.archiveSlug,
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

  /** The console's list: newest first, a page of campaigns older than `before`. */
  async newestFirst(before: number | undefined, limit: number): Promise<CampaignRow[]> {
    const { rows } = await this.db.query<CampaignRow>(
      `${SELECT} WHERE ($1::bigint IS NULL OR c.id < $1) ORDER BY c.id DESC LIMIT $2`,
      [before ?? null, limit],
    );
    return rows;
  }

  /** The campaigns that finished last, the most recent first. */
  async lastFinished(limit: number): Promise<CampaignRow[]> {
    const { rows } = await this.db.query<CampaignRow>(
      `${SELECT} WHERE c.status = 'finished' ORDER BY c.finished_at DESC NULLS LAST, c.id DESC
       LIMIT $1`,
      [limit],
    );
    return rows;
  }

  /** Sets the fields given (undefined leaves a column as it is; null clears it). */
  async update(id: number, f: Partial<CampaignFields>): Promise<void> {
    const set = new SetClause([id])
      .set('name', f.name)
      .set('subject', f.subject)
      .set('template_id', f.templateId)
      .set('content', f.content)
      .set('content_type', f.contentType)
      .set('from_name', f.fromName)
      .set('from_email', f.fromEmail)
      .set('reply_to', f.replyTo)
      .set('data', f.data === undefined ? undefined : JSON.stringify(f.data), '::jsonb')
      .set('track_opens', f.tracking?.opens)
      .set('track_clicks', f.tracking?.clicks)
      .set('archive', f.archive)
      .set('archive_slug', f.archiveSlug)
      .expr('updated_at = now()');
    await this.db.query(`UPDATE campaigns SET ${set.sql} WHERE id = $1`, set.params);
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
    const set = new SetClause([id, [...from]])
      .set('status', to)
      .set('status_reason', extra.reason ?? null)
      .set('send_at', extra.sendAt, '::timestamptz')
      .set('timezone', extra.sendAt === undefined ? undefined : (extra.timezone ?? null))
      .set('snapshot', extra.snapshot ? JSON.stringify(extra.snapshot) : undefined, '::jsonb')
      .expr('started_at = COALESCE(started_at, now())', extra.started === true)
      // Finishing stamps the time; running again (resume, retry) clears an earlier finish.
      .expr('finished_at = now()', extra.finished === true)
      .expr('finished_at = NULL', extra.finished !== true && to === 'running')
      .expr('generation = generation + 1', extra.bumpGeneration === true)
      .expr('updated_at = now()');
    const { rows } = await this.db.query<{ id: number }>(
      `UPDATE campaigns SET ${set.sql} WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`,
      set.params,
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
