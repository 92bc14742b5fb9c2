// Campaign use cases: editing under the lifecycle rules, and every status change. Each change is
// a conditional UPDATE (CampaignsRepository.transition), so two requests racing to start or
// pause the same campaign cannot both win; the loser gets a 409.
import {
  canTransition,
  transition,
  type CampaignAction,
  type DeliveryStatus,
} from '../domain/campaign.js';
import { checkAddresses, definedOf, slugify } from '../domain/campaign-input.js';
import {
  editedFields,
  requireEditable,
  slugConflict,
  type CampaignInput,
  type NewCampaign,
} from './campaign-edit.js';

export type { CampaignInput, NewCampaign } from './campaign-edit.js';
import type { Actor } from '../domain/audit.js';
import { AppError, notFound, validation } from '../domain/errors.js';
import { resolveSendAt } from '../domain/schedule.js';
import { inTransaction, type Pool, type Queryable } from '../db/pool.js';
import { TemplatesRepository } from '../db/repositories/templates.repository.js';
import {
  CampaignsRepository,
  type CampaignFields,
  type CampaignRow,
  type CampaignSnapshot,
} from '../db/repositories/campaigns.repository.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import { ListsRepository } from '../db/repositories/lists.repository.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../lib/logger.js';
import { drawJobId, type Queues } from '../queue/queues.js';
import type { AudienceService } from './audience.service.js';
import type { InFlight } from '../queue/in-flight.js';
import { resolveAbandoned } from './abandoned-claims.js';
import { ListsService } from './lists.service.js';
import { buildSnapshot } from './campaign-snapshot.js';
import type { ApprovalGate } from './approvals.service.js';

export class CampaignsService {
  constructor(
    private readonly pool: Pool,
    private readonly queues: Queues,
    private readonly audience: AudienceService,
    private readonly log: Logger,
    private readonly inFlight: InFlight,
    private readonly metrics?: Metrics,
    private readonly approvals?: ApprovalGate,
    private readonly defaults: { tracking: CampaignFields['tracking']; publicUrl: string } = {
      tracking: { opens: false, clicks: false },
      publicUrl: 'http://localhost:3000',
    },
  ) {}

  private repo() {
    return new CampaignsRepository(this.pool);
  }

  async create(input: NewCampaign, actor?: Actor): Promise<CampaignRow> {
    const checked = checkAddresses(input);
    const archive = checked.archive ?? false;
    const fields: CampaignFields = {
      ...checked,
      tracking: { ...this.defaults.tracking, ...definedOf(checked.tracking) },
      archive,
      archiveSlug: checked.archiveSlug ?? (archive ? slugify(checked.name) : null),
    };
    const id = await inTransaction(this.pool, async (tx) => {
      await new ListsService(new ListsRepository(tx)).requireExisting(fields.listIds, 'listIds');
      await this.requireTemplate(tx, fields.templateId);
      return new CampaignsRepository(tx).create(fields);
    }).catch(slugConflict);
    await this.approvals?.edited(id, actor);
    return this.get(id);
  }

  async get(id: number): Promise<CampaignRow> {
    const row = await this.repo().findById(id);
    if (!row) throw notFound('Campaign', id);
    return row;
  }

  page(after: number | undefined, limit: number, status?: string): Promise<CampaignRow[]> {
    return this.repo().page(after, limit, status);
  }

  newestFirst(before: number | undefined, limit: number): Promise<CampaignRow[]> {
    return this.repo().newestFirst(before, limit);
  }

  lastFinished(limit: number): Promise<CampaignRow[]> {
    return this.repo().lastFinished(limit);
  }

  async update(id: number, input: CampaignInput, actor?: Actor): Promise<CampaignRow> {
    const checked = checkAddresses(input);
    await inTransaction(this.pool, async (tx) => {
      const repo = new CampaignsRepository(tx);
      const current = await repo.findById(id, true);
      if (!current) throw notFound('Campaign', id);
      requireEditable(current, checked);
      if (checked.listIds)
        await new ListsService(new ListsRepository(tx)).requireExisting(checked.listIds, 'listIds');
      if (checked.templateId) await this.requireTemplate(tx, checked.templateId);
      await repo.update(id, editedFields(current, checked));
    }).catch(slugConflict);
    // The approval covers exactly what was approved: an edit may void it (docs/approval.md).
    await this.approvals?.edited(id, actor);
    return this.get(id);
  }

  deliveries(
    campaignId: number,
    after: number | undefined,
    limit: number,
    status?: DeliveryStatus,
  ) {
    return new DeliveriesRepository(this.pool).page(campaignId, after, limit, status);
  }

  async delete(id: number): Promise<void> {
    const current = await this.get(id);
    if (current.status === 'running' || current.status === 'paused') {
      throw new AppError(
        'illegal_transition',
        `A ${current.status} campaign cannot be deleted; cancel it first`,
      );
    }
    await this.repo().delete(id);
  }

  /** Compiles the template with this quarter's content once; the result is frozen at start. */
  /** The message as it will be sent; `untracked` for test sends (no delivery to name). */
  buildSnapshot(campaign: CampaignRow, untracked = false): Promise<CampaignSnapshot> {
    return buildSnapshot(this.pool, campaign, untracked ? null : this.defaults.publicUrl);
  }

  async schedule(
    id: number,
    sendAt: string,
    timezone: string | undefined,
    now = new Date(),
  ): Promise<CampaignRow> {
    const resolved = resolveSendAt(sendAt, timezone);
    if (!resolved.ok) throw validation([{ path: resolved.path, message: resolved.message }]);
    if (resolved.at.getTime() <= now.getTime()) {
      throw new AppError('unprocessable', 'sendAt is in the past', {
        errors: [{ path: 'sendAt', message: `${resolved.at.toISOString()} is not in the future` }],
      });
    }
    const campaign = await this.get(id);
    this.requireTransition(campaign, 'schedule');
    await this.approvals?.ensureApproved(campaign);
    // Refuse now what would fail at send time, while someone is there to fix it.
    await this.buildSnapshot(campaign);
    return this.move(campaign, 'schedule', { sendAt: resolved.at, timezone: resolved.timezone });
  }

  /** Starts now (or at the scheduled time, from the scheduler). */
  async start(id: number): Promise<CampaignRow> {
    const campaign = await this.get(id);
    this.requireTransition(campaign, 'start');
    await this.approvals?.ensureApproved(campaign);
    const snapshot = await this.buildSnapshot(campaign);
    const started = await this.move(campaign, 'start', {
      snapshot,
      started: true,
      bumpGeneration: true,
    });
    await this.enqueue(started);
    this.log.info({ event: 'campaign_started', campaignId: id }, 'campaign started');
    return started;
  }

  async pause(id: number): Promise<CampaignRow> {
    const paused = await this.move(await this.get(id), 'pause', { reason: 'paused by request' });
    this.log.info({ event: 'campaign_paused', campaignId: id }, 'campaign paused');
    return paused;
  }

  async resume(id: number): Promise<CampaignRow> {
    const resumed = await this.move(await this.get(id), 'resume', { bumpGeneration: true });
    // Rows waiting out a retry delay go now: whoever resumes has fixed what made them wait.
    await new DeliveriesRepository(this.pool).releaseRetryDelays(id);
    await this.enqueue(resumed);
    this.log.info({ event: 'campaign_resumed', campaignId: id }, 'campaign resumed');
    return resumed;
  }

  async cancel(id: number): Promise<CampaignRow> {
    const cancelled = await this.move(await this.get(id), 'cancel', {
      reason: 'cancelled by request',
    });
    this.log.info({ event: 'campaign_cancelled', campaignId: id }, 'campaign cancelled');
    return cancelled;
  }

  /** Re-sends failed and unknown deliveries of a finished campaign, on purpose. */
  async retry(id: number): Promise<CampaignRow> {
    const campaign = await this.get(id);
    this.requireTransition(campaign, 'retry');
    const moved = await inTransaction(this.pool, async (tx) => {
      const count = await new DeliveriesRepository(tx).requeueFailed(id);
      if (count === 0) throw new AppError('conflict', 'No failed or unknown deliveries to retry');
      const row = await new CampaignsRepository(tx).transition(
        id,
        transition('retry').from,
        'running',
        { bumpGeneration: true },
      );
      if (!row) throw new AppError('illegal_transition', `Campaign ${id} changed status meanwhile`);
      return row;
    });
    await this.enqueue(moved);
    return moved;
  }

  /** Scheduler tick: starts campaigns whose time has come; one that cannot start fails visibly. */
  async startDue(now = new Date()): Promise<number> {
    let started = 0;
    for (const id of await this.repo().dueScheduled(now)) {
      try {
        await this.start(id);
        started++;
      } catch (error) {
        if (error instanceof AppError && error.code === 'illegal_transition') continue; // another process won
        if (error instanceof AppError && error.code === 'approval-required') {
          await this.repo().transition(id, ['scheduled'], 'draft', {
            reason: 'not started: the approval no longer holds',
            sendAt: null,
          });
          this.log.warn(
            { event: 'campaign_start_refused', campaignId: id },
            'scheduled campaign not approved',
          );
          continue;
        }
        const reason = `could not start: ${(error as Error).message}`.slice(0, 500);
        await this.repo().transition(id, ['scheduled'], 'failed', { reason });
        this.log.error(
          { event: 'campaign_start_failed', campaignId: id, reason },
          'scheduled campaign failed to start',
        );
      }
    }
    return started;
  }

  /**
   * Scheduler tick. Claims older than `staleSendingMs` belong to no live job (a window's SMTP
   * work is far shorter): their outcome is unknown, and without this a campaign whose jobs
   * Redis lost mid-window could never finish. Then every running campaign whose work Redis no
   * longer knows (flushed, or restarted without persistence, while every process kept running)
   * is queued again: its draw if the audience was not drawn yet, else its queued rows.
   */
  async sweep(staleSendingMs: number): Promise<void> {
    for (const id of await this.repo().withStatus('running')) {
      const requeued = await this.settleStale(id, staleSendingMs);
      await this.ensureQueued(id, { assumeLost: requeued });
    }
  }

  /**
   * After a process starts, PostgreSQL says what should be queued: every running campaign is
   * queued again under a new generation of job ids, whatever Redis says (its jobs may be from a
   * crashed process). Then campaigns whose scheduled time passed while nothing ran start.
   */
  async reconcile(staleSendingMs: number): Promise<void> {
    for (const id of await this.repo().withStatus('running')) {
      await this.settleStale(id, staleSendingMs);
      await this.ensureQueued(id, { assumeLost: true });
    }
    await this.startDue();
  }

  /**
   * The one recovery path: makes sure Redis holds the work of a running campaign. With
   * `assumeLost` false it acts only when the campaign's marker key is gone (Redis lost it);
   * then it bumps the generation and enqueues again. Idempotent: the draw and the batches are
   * safe to repeat (unique ledger rows, conditional claims).
   */
  async ensureQueued(
    id: number,
    { assumeLost }: { assumeLost: boolean },
  ): Promise<'not-running' | 'known' | 'requeued'> {
    const campaign = await this.repo().findById(id);
    if (campaign?.status !== 'running') return 'not-running';
    if (!assumeLost && (await this.audience.workKnown(id))) return 'known';
    const generation = await this.repo().bumpGeneration(id);
    if (!assumeLost) {
      this.log.warn(
        {
          event: 'campaign_requeued',
          campaignId: id,
          generation,
          drawn: !!campaign.audience_drawn_at,
        },
        'the queue lost this campaign: queued again from the ledger',
      );
    }
    await this.enqueue({ ...campaign, generation });
    return 'requeued';
  }

  /**
   * Claims older than `staleSendingMs` belong to no live job: resolved from their in-flight
   * markers. Returns whether rows went back to the queue (they then need jobs again).
   */
  private async settleStale(id: number, staleSendingMs: number): Promise<boolean> {
    const rows = await new DeliveriesRepository(this.pool).staleSending(id, staleSendingMs);
    const counts = await resolveAbandoned(this.pool, this.inFlight, id, rows);
    if (counts.unknown > 0) this.metrics?.messages.inc({ result: 'unknown' }, counts.unknown);
    if (counts.sent > 0) this.metrics?.messages.inc({ result: 'sent' }, counts.sent);
    if (counts.unknown + counts.sent + counts.queued > 0) {
      this.log.warn(
        { event: 'deliveries_unknown', campaignId: id, count: counts.unknown, ...counts },
        'stale claims resolved',
      );
      await this.repo().finishIfDone(id);
    }
    return counts.queued > 0;
  }

  /**
   * Puts a running campaign's work in Redis: its draw job while the audience is not drawn (the
   * draw queues the batches), else one job per range of queued ledger rows. Either way the
   * campaign's marker key records that Redis holds its work, for the sweep.
   */
  private async enqueue(campaign: CampaignRow): Promise<void> {
    if (!campaign.audience_drawn_at) {
      await this.queues.campaigns.add(
        'draw',
        { campaignId: campaign.id, generation: campaign.generation },
        { jobId: drawJobId(campaign.id, campaign.generation) },
      );
      await this.audience.markQueued(campaign.id, campaign.generation);
      return;
    }
    await this.audience.queueBatches(campaign.id, campaign.generation);
    await this.repo().finishIfDone(campaign.id);
  }

  private requireTransition(campaign: CampaignRow, action: CampaignAction): void {
    if (!canTransition(campaign.status, action)) {
      throw new AppError('illegal_transition', `Cannot ${action} a ${campaign.status} campaign`, {
        extra: { campaignStatus: campaign.status },
      });
    }
  }

  private async move(
    campaign: CampaignRow,
    action: CampaignAction,
    extra: Parameters<CampaignsRepository['transition']>[3] = {},
  ): Promise<CampaignRow> {
    this.requireTransition(campaign, action);
    const rule = transition(action);
    const moved = await this.repo().transition(campaign.id, rule.from, rule.to, extra);
    if (!moved) {
      const now = await this.get(campaign.id);
      throw new AppError('illegal_transition', `Cannot ${action} a ${now.status} campaign`, {
        extra: { campaignStatus: now.status },
      });
    }
    return moved;
  }

  private async requireTemplate(db: Queryable, templateId: number | null | undefined) {
    if (!templateId) return;
    if (!(await new TemplatesRepository(db).exists(templateId))) {
      throw new AppError('unprocessable', 'The template does not exist', {
        errors: [{ path: 'templateId', message: `template ${templateId} does not exist` }],
      });
    }
  }
}
