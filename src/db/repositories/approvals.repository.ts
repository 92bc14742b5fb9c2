// The approval columns of a campaign (docs/approval.md). Every change is conditional on the
// approval's current state, so two approvers (or an approver and an editor) racing cannot both
// win.
import type { Actor } from '../../domain/audit.js';
import type { Queryable } from '../pool.js';

export class ApprovalsRepository {
  constructor(private readonly db: Queryable) {}

  /** none/rejected → pending; false when it was pending or approved already. */
  async request(id: number, actor: Actor, at: Date, fingerprint: string): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE campaigns SET approval_status = 'pending', approval_requested_by = $2,
         approval_requested_at = $3, approval_decided_by = NULL, approval_decided_at = NULL,
         approval_note = NULL, approval_fingerprint = $4
       WHERE id = $1 AND approval_status IN ('none', 'rejected')`,
      [id, JSON.stringify(actor), at, fingerprint],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** pending → approved/rejected, only while the campaign is still what was asked about. */
  async decide(
    id: number,
    decision: 'approved' | 'rejected',
    actor: Actor,
    at: Date,
    note: string | null,
    fingerprint: string,
  ): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE campaigns SET approval_status = $2, approval_decided_by = $3,
         approval_decided_at = $4, approval_note = $5
       WHERE id = $1 AND approval_status = 'pending' AND approval_fingerprint = $6`,
      [id, decision, JSON.stringify(actor), at, note, fingerprint],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Back to none; answers the status it had, or undefined when it was none already. */
  async void(id: number): Promise<string | undefined> {
    const { rows } = await this.db.query<{ was: string }>(
      `UPDATE campaigns c SET approval_status = 'none', approval_requested_by = NULL,
         approval_requested_at = NULL, approval_decided_by = NULL, approval_decided_at = NULL,
         approval_note = NULL, approval_fingerprint = NULL
       FROM (SELECT id, approval_status AS was FROM campaigns WHERE id = $1 FOR UPDATE) old
       WHERE c.id = old.id AND old.was <> 'none'
       RETURNING old.was`,
      [id],
    );
    return rows[0]?.was;
  }

  async setLastEditor(id: number, actor: Actor): Promise<void> {
    await this.db.query('UPDATE campaigns SET last_edited_by = $2 WHERE id = $1', [
      id,
      JSON.stringify(actor),
    ]);
  }

  /** Draft and scheduled campaigns using the template whose approval is not none. */
  async withTemplate(templateId: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT id FROM campaigns WHERE template_id = $1 AND approval_status <> 'none'
         AND status IN ('draft', 'scheduled') ORDER BY id`,
      [templateId],
    );
    return rows.map((r) => r.id);
  }

  /** Draft and scheduled campaigns on the list whose approval is not none. */
  async withList(listId: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT c.id FROM campaigns c JOIN campaign_lists cl ON cl.campaign_id = c.id
       WHERE cl.list_id = $1 AND c.approval_status <> 'none'
         AND c.status IN ('draft', 'scheduled') ORDER BY c.id`,
      [listId],
    );
    return rows.map((r) => r.id);
  }
}
