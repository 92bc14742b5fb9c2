// The two-person rule (docs/approval.md). With REQUIRE_APPROVAL, a campaign is scheduled or
// sent only when a signed-in approver, neither its requester nor its last editor, approved
// exactly what will go out: the approval stores a fingerprint of it (domain/approval.ts), and
// any edit that changes the fingerprint sets the approval back to none, in the audit log. A
// scheduled campaign whose approval is voided goes back to draft, so it cannot start.
import type { Config } from '../config.js';
import {
  approvalFingerprint,
  isSelfApproval,
  shownApprovalStatus,
  type ApprovalStatus,
} from '../domain/approval.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/audit.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Pool, Queryable } from '../db/pool.js';
import { ApprovalsRepository } from '../db/repositories/approvals.repository.js';
import { CampaignsRepository, type CampaignRow } from '../db/repositories/campaigns.repository.js';
import { TemplatesRepository } from '../db/repositories/templates.repository.js';
import { UsersRepository } from '../db/repositories/users.repository.js';
import type { Logger } from '../lib/logger.js';
import type { MailTransport } from '../mail/transport.js';
import { sendNotice } from './account-mail.js';
import type { AuditService } from './audit.service.js';
import type { Principal } from './principal.js';
import type { Clock } from './sessions.service.js';

export interface ApprovalView {
  status: ApprovalStatus;
  requestedBy: Actor | null;
  requestedAt: string | null;
  decidedBy: Actor | null;
  decidedAt: string | null;
  note: string | null;
}

/** What CampaignsService asks of the rule: kept small so that it does not know the rest. */
export interface ApprovalGate {
  edited(campaignId: number, actor: Actor | undefined): Promise<void>;
  ensureApproved(campaign: CampaignRow): Promise<void>;
}

const EDITABLE = ['draft', 'scheduled'];

export class ApprovalsService implements ApprovalGate {
  constructor(
    private readonly pool: Pool,
    private readonly config: Pick<Config, 'requireApproval' | 'publicUrl' | 'mailFrom' | 'org'>,
    private readonly transport: MailTransport,
    private readonly audit: AuditService,
    private readonly log: Logger,
    private readonly clock: Clock = () => new Date(),
  ) {}

  present(row: CampaignRow): ApprovalView {
    return {
      status: shownApprovalStatus(row.approval_status, this.config.requireApproval),
      requestedBy: row.approval_requested_by,
      requestedAt: row.approval_requested_at?.toISOString() ?? null,
      decidedBy: row.approval_decided_by,
      decidedAt: row.approval_decided_at?.toISOString() ?? null,
      note: row.approval_note,
    };
  }

  /** The fingerprint of what the campaign would send now (its template as it is now). */
  async fingerprint(campaign: CampaignRow, db: Queryable = this.pool): Promise<string> {
    const template = campaign.template_id
      ? await new TemplatesRepository(db).findById(campaign.template_id)
      : undefined;
    return approvalFingerprint({
      subject: campaign.subject,
      content: campaign.content,
      contentType: campaign.content_type,
      templateId: campaign.template_id,
      templateMjml: template?.mjml ?? null,
      listIds: campaign.list_ids,
      fromName: campaign.from_name,
      fromEmail: campaign.from_email,
      replyTo: campaign.reply_to,
      data: campaign.data,
    });
  }

  private async campaign(id: number): Promise<CampaignRow> {
    const row = await new CampaignsRepository(this.pool).findById(id);
    if (!row) throw notFound('Campaign', id);
    return row;
  }

  async request(id: number, actor: Actor): Promise<CampaignRow> {
    const campaign = await this.campaign(id);
    if (!EDITABLE.includes(campaign.status)) {
      throw new AppError('illegal_transition', `A ${campaign.status} campaign needs no approval`);
    }
    const repo = new ApprovalsRepository(this.pool);
    if (!(await repo.request(id, actor, this.clock(), await this.fingerprint(campaign)))) {
      throw new AppError('conflict', `The approval is ${campaign.approval_status} already`);
    }
    await this.mailApprovers(campaign, actor);
    return this.campaign(id);
  }

  async decide(
    id: number,
    principal: Principal,
    decision: 'approved' | 'rejected',
    note: string | null,
  ): Promise<CampaignRow> {
    if (!principal.user) {
      throw new AppError('forbidden', 'Approving needs a signed-in person; API tokens cannot');
    }
    const campaign = await this.campaign(id);
    if (campaign.approval_status !== 'pending') {
      throw new AppError('conflict', `No approval is pending (it is ${campaign.approval_status})`);
    }
    if (isSelfApproval(principal.actor, campaign.approval_requested_by, campaign.last_edited_by)) {
      throw new AppError(
        'self-approval',
        'Someone other than the requester and the last editor must decide',
      );
    }
    const fingerprint = await this.fingerprint(campaign);
    const repo = new ApprovalsRepository(this.pool);
    if (fingerprint !== campaign.approval_fingerprint) {
      await this.voidApproval(campaign, SYSTEM_ACTOR, 'changed since approval was requested');
      throw new AppError('conflict', 'The campaign changed since approval was requested');
    }
    if (!(await repo.decide(id, decision, principal.actor, this.clock(), note, fingerprint))) {
      throw new AppError('conflict', 'The approval changed meanwhile');
    }
    return this.campaign(id);
  }

  /** After an edit: records the editor; voids the approval when what it covers changed. */
  async edited(campaignId: number, actor: Actor | undefined): Promise<void> {
    if (actor) await new ApprovalsRepository(this.pool).setLastEditor(campaignId, actor);
    const campaign = await this.campaign(campaignId);
    await this.recheck(campaign, actor ?? SYSTEM_ACTOR, 'the campaign changed');
  }

  /** After a template's MJML changed: every campaign approved with it is rechecked. */
  async templateEdited(templateId: number, actor: Actor): Promise<void> {
    for (const id of await new ApprovalsRepository(this.pool).withTemplate(templateId)) {
      await this.recheck(await this.campaign(id), actor, `template ${templateId} changed`);
    }
  }

  async ensureApproved(campaign: CampaignRow): Promise<void> {
    if (!this.config.requireApproval) return;
    if (campaign.approval_status === 'approved') {
      const now = await this.fingerprint(campaign);
      if (now === campaign.approval_fingerprint) return;
      await this.voidApproval(campaign, SYSTEM_ACTOR, 'changed since it was approved');
    }
    throw new AppError(
      'approval-required',
      'This campaign needs an approval by a second person before it is scheduled or sent',
      {
        extra: {
          approval: campaign.approval_status === 'approved' ? 'none' : campaign.approval_status,
        },
      },
    );
  }

  private async recheck(campaign: CampaignRow, actor: Actor, why: string): Promise<void> {
    if (campaign.approval_status === 'none' || !EDITABLE.includes(campaign.status)) return;
    if ((await this.fingerprint(campaign)) === campaign.approval_fingerprint) return;
    await this.voidApproval(campaign, actor, why);
  }

  private async voidApproval(campaign: CampaignRow, actor: Actor, why: string): Promise<void> {
    const was = await new ApprovalsRepository(this.pool).void(campaign.id);
    if (!was) return;
    await this.audit.record({
      actor,
      action: 'campaign.approval.void',
      entity: { type: 'campaign', id: campaign.id },
      detail: { was, reason: why },
    });
    if (campaign.status === 'scheduled' && this.config.requireApproval) {
      const reason = 'approval voided: the campaign changed after it was approved';
      await new CampaignsRepository(this.pool).transition(campaign.id, ['scheduled'], 'draft', {
        reason,
        sendAt: null,
      });
      await this.audit.record({
        actor: SYSTEM_ACTOR,
        action: 'campaign.unschedule',
        entity: { type: 'campaign', id: campaign.id },
        detail: { reason },
      });
    }
  }

  private async mailApprovers(campaign: CampaignRow, requester: Actor): Promise<void> {
    const approvers = await new UsersRepository(this.pool).activeWithRoles(['approver', 'admin']);
    const url = `${this.config.publicUrl}/admin/campaigns/${campaign.id}`;
    for (const user of approvers) {
      if (requester.type === 'user' && requester.id === user.id) continue;
      try {
        await sendNotice(this.transport, this.config, {
          to: { name: user.name, email: user.email },
          subject: `Approval requested: ${campaign.name}`,
          lines: [
            `${requester.name} asks you to approve the campaign "${campaign.name}" (subject: ${campaign.subject}) before it is sent.`,
            'Open it in the console to read it, then approve or reject it.',
          ],
          link: { url, label: 'Review the campaign' },
        });
      } catch (error) {
        this.log.error(
          { event: 'approval_mail_failed', campaignId: campaign.id, userId: user.id, err: error },
          'approval request not mailed',
        );
      }
    }
  }
}
