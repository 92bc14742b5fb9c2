// One run of a delivery job over its range of ledger ids (docs/campaigns.md, "Sending a batch").
// The run claims a window, sends it, classifies the answers (src/domain/window-outcomes.ts),
// records them, and goes on until the range is done, the campaign stops running, the process
// shuts down or the error breaker trips. Its state (the claim, the campaign as last read, the
// outcomes waiting to be written) lives here and nowhere else.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { CampaignRow, CampaignsRepository } from '../db/repositories/campaigns.repository.js';
import type { DeliveriesRepository, Recipient } from '../db/repositories/deliveries.repository.js';
import { retryOnConnectionLoss } from '../db/retry.js';
import type { Queryable } from '../db/pool.js';
import { senderOf } from '../domain/sender.js';
import {
  classifyWindow,
  messageResultOf,
  type Outcome,
  type Retry,
  type WindowResults,
} from '../domain/window-outcomes.js';
import type { Gate } from '../lib/gate.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { InFlight } from '../queue/in-flight.js';
import { retryJobId, type DeliveryJob, type Queues } from '../queue/queues.js';
import { resolveAbandoned } from './abandoned-claims.js';
import type { CampaignMessageBuilder } from './campaign-message.builder.js';
import type { FeedbackService } from './feedback.service.js';
import type { MessageSender } from './message-sender.js';
import type { SendErrorBreaker } from './send-error-breaker.js';

export type BatchOutcome = 'done' | 'not-running' | 'paused-by-errors' | 'stopped';

/** What every run of this process shares: built once by DeliveryService. */
export interface BatchRunParts {
  db: Queryable;
  campaigns: CampaignsRepository;
  ledger: DeliveriesRepository;
  inFlight: InFlight;
  sender: MessageSender;
  messages: CampaignMessageBuilder;
  feedback: FeedbackService;
  queues: Queues;
  breaker: SendErrorBreaker;
  metrics: Metrics;
  config: Config;
  /** Windows claimed and in flight in this process, across all its jobs. */
  windows: Gate;
  windowSize: number;
}

interface Window {
  claimed: { id: number; attempts: number }[];
  recipients: Recipient[];
}

/** How often a run re-reads its campaign: pause, cancel and SIGTERM act within this. */
const STATUS_CHECK_MS = 500;

export class BatchRun {
  /** This run's claim: rows it claims carry it, and its in-flight markers name it. */
  private readonly claim: string;
  private campaign: CampaignRow | undefined;
  private checkedAt = 0;
  /**
   * Outcomes of the last window when they need nothing else done first (no retry to queue, no
   * pause): written by the next claim's statement, saving a round trip per window.
   */
  private deferred: Outcome[] = [];

  constructor(
    private readonly parts: BatchRunParts,
    private readonly job: DeliveryJob,
    private readonly jobId: string,
    private readonly shouldStop: () => boolean,
    private readonly log: Logger,
  ) {
    this.claim = `${jobId}#${randomBytes(4).toString('hex')}`;
  }

  async run(): Promise<BatchOutcome> {
    await this.parts.inFlight.startRun(this.job.campaignId, this.claim);
    await this.takeOverAbandoned();
    let outcome: BatchOutcome | undefined;
    while (outcome === undefined) outcome = await this.parts.windows.run(() => this.step());
    await this.end();
    if (
      outcome === 'done' &&
      (await this.retrying(() => this.parts.campaigns.finishIfDone(this.job.campaignId)))
    ) {
      this.log.info(
        { event: 'campaign_finished', campaignId: this.job.campaignId },
        'campaign finished',
      );
    }
    return outcome;
  }

  /** One window, start to end; undefined while the range has more to send. */
  private async step(): Promise<BatchOutcome | undefined> {
    const stop = await this.stopReason();
    if (stop) return stop;
    const window = await this.claimWindow();
    if (window.claimed.length === 0) return 'done';
    return this.settle(await this.send(window));
  }

  /**
   * Every statement of a run rides out a database restart: outcomes of messages already handed
   * to SMTP wait in memory until PostgreSQL answers again (docs/reliability.md).
   */
  private retrying<T>(fn: () => Promise<T>): Promise<T> {
    return retryOnConnectionLoss(fn, {
      onRetry: (error, attempt) => {
        if (attempt !== 1) return;
        this.log.warn(
          { event: 'database_unavailable', campaignId: this.job.campaignId, err: error },
          'database unreachable: holding the batch until it answers',
        );
      },
    });
  }

  /** Rows an earlier run of this job left `sending` (it died mid-send), resolved first. */
  private async takeOverAbandoned(): Promise<void> {
    const { campaignId } = this.job;
    const { db, ledger, inFlight, metrics } = this.parts;
    const left = await this.retrying(() => ledger.abandonedBy(campaignId, this.jobId, this.claim));
    if (left.length === 0) return;
    const counts = await this.retrying(() => resolveAbandoned(db, inFlight, campaignId, left));
    this.log.warn(
      {
        event: 'deliveries_unknown',
        campaignId,
        jobId: this.jobId,
        count: counts.unknown,
        ...counts,
      },
      'an earlier run of this job stopped mid-send: its rows resolved',
    );
    if (counts.unknown > 0) metrics.messages.inc({ result: 'unknown' }, counts.unknown);
    if (counts.sent > 0) metrics.messages.inc({ result: 'sent' }, counts.sent);
  }

  /** Why the run must stop before its next window, if it must. */
  private async stopReason(): Promise<BatchOutcome | undefined> {
    // Checked once through the gate, where a job may have waited.
    if (Date.now() - this.checkedAt > STATUS_CHECK_MS) {
      this.campaign = await this.retrying(() => this.parts.campaigns.findById(this.job.campaignId));
      this.checkedAt = Date.now();
    }
    const c = this.campaign;
    if (!c || c.status !== 'running' || !c.snapshot) return 'not-running';
    return this.shouldStop() ? 'stopped' : undefined;
  }

  private async claimWindow(): Promise<Window> {
    const { ledger, windowSize } = this.parts;
    const previous = this.deferred;
    const window = await this.write(previous, () =>
      ledger.claimRecipients(
        {
          campaignId: this.job.campaignId,
          fromId: this.job.fromId,
          toId: this.job.toId,
          limit: windowSize,
          claimedBy: this.claim,
        },
        previous,
      ),
    );
    this.deferred = [];
    return window;
  }

  private async send(window: Window): Promise<WindowResults> {
    const { sender, messages, config } = this.parts;
    const campaign = this.campaign!;
    const personalizer = messages.personalizer(campaign);
    const from = senderOf(campaign, config.mailFrom);
    const answers = await Promise.all(
      window.recipients.map((r) =>
        sender.send(campaign, personalizer, from, r, this.claim, this.log),
      ),
    );
    const attempts = new Map(window.claimed.map((c) => [c.id, c.attempts]));
    const eligible = new Set(window.recipients.map((r) => r.delivery_id));
    return classifyWindow(
      window.claimed.filter((c) => !eligible.has(c.id)).map((c) => c.id),
      window.recipients.map((r, i) => ({
        deliveryId: r.delivery_id,
        subscriberId: r.subscriber_id,
        email: r.email,
        attempt: attempts.get(r.delivery_id) ?? 1,
        result: answers[i]!,
      })),
      config,
      Date.now(),
    );
  }

  /** Records a window's results; 'paused-by-errors' when the breaker tripped. */
  private async settle(results: WindowResults): Promise<BatchOutcome | undefined> {
    await this.recordBounces(results);
    const { breaker } = this.parts;
    const campaignId = this.job.campaignId;
    // A plain window is written by the next claim; anything else now, before the retry jobs
    // exist that will look for these rows.
    if (results.retries.length === 0 && results.transportErrors === 0) {
      if (results.accepted > 0) await breaker.succeeded(campaignId);
      this.deferred = results.outcomes;
      return undefined;
    }
    await this.write(results.outcomes, () =>
      this.parts.ledger.record(results.outcomes, this.claim),
    );
    this.logTransportErrors(results);
    await this.queueRetries(results.retries);
    if (results.transportErrors > 0 && results.transportErrors === results.attempted) {
      const consecutive = await breaker.failed(campaignId, results.transportErrors);
      if (consecutive === undefined) return undefined;
      await this.autoPause(consecutive, results);
      return 'paused-by-errors';
    }
    if (results.accepted > 0) await breaker.succeeded(campaignId);
    return undefined;
  }

  /** The one place a run's outcomes reach the ledger: alone, or with the next claim. */
  private async write<T>(outcomes: Outcome[], statement: () => Promise<T>): Promise<T> {
    const value = await this.retrying(statement);
    if (outcomes.length > 0) {
      this.forget(outcomes);
      // Counted once the ledger holds them, so each counter tracks the ledger's own count.
      this.parts.metrics.countMessages(outcomes.map(messageResultOf));
    }
    return value;
  }

  /** Bounces the server gave in the SMTP transaction go through the feedback pipeline. */
  private async recordBounces(results: WindowResults): Promise<void> {
    for (const b of results.bounces) {
      await this.retrying(() =>
        this.parts.feedback.record({
          type: 'bounce',
          bounceType: b.bounceType,
          source: 'smtp',
          providerEventId: `smtp-${b.deliveryId}-${b.attempt}`,
          campaignId: this.job.campaignId,
          subscriberId: b.subscriberId,
          email: b.email,
          reason: b.reason,
        }),
      );
    }
  }

  private logTransportErrors(results: WindowResults): void {
    const first = results.firstTransportError;
    if (!first) return;
    // No recipient in it: a transport error (auth, connection refused) concerns the server.
    this.log.warn(
      {
        event: 'smtp_transport_error',
        campaignId: this.job.campaignId,
        count: results.transportErrors,
        code: first.error.code,
        responseCode: first.error.responseCode,
        reason: first.reason,
      },
      'SMTP transport error: messages re-queued',
    );
  }

  private async queueRetries(retries: Retry[]): Promise<void> {
    if (retries.length === 0) return;
    const campaignId = this.job.campaignId;
    await this.parts.queues.deliveries.addBulk(
      retries.map((r) => ({
        name: 'retry',
        data: { campaignId, fromId: r.id, toId: r.id },
        opts: { jobId: retryJobId(r.id, r.attempt), delay: r.delay },
      })),
    );
  }

  private async autoPause(consecutive: number, results: WindowResults): Promise<void> {
    const campaignId = this.job.campaignId;
    const firstError = results.firstTransportError?.error.message ?? '';
    const reason = `paused after ${consecutive} consecutive transport errors: ${firstError}`.slice(
      0,
      500,
    );
    const paused = await this.retrying(() =>
      this.parts.campaigns.transition(campaignId, ['running'], 'paused', { reason }),
    );
    if (paused) {
      this.log.error(
        { event: 'campaign_auto_paused', campaignId, reason },
        'campaign paused itself',
      );
    }
  }

  /** The last deferred outcomes are written, and this run's in-flight record removed. */
  private async end(): Promise<void> {
    const outcomes = this.deferred;
    this.deferred = [];
    if (outcomes.length > 0) {
      await this.write(outcomes, () => this.parts.ledger.record(outcomes, this.claim));
    }
    this.parts.inFlight.endRun(this.job.campaignId, this.claim).catch((error: unknown) => {
      this.log.warn(
        { event: 'in_flight_write_failed', err: error },
        'in-flight marker not removed',
      );
    });
  }

  /** Markers of rows whose outcome the ledger now holds; a failed delete only leaves garbage. */
  private forget(outcomes: Outcome[]): void {
    this.parts.inFlight
      .forget(
        this.job.campaignId,
        outcomes.map((o) => o.id),
      )
      .catch((error: unknown) => {
        this.log.warn(
          { event: 'in_flight_write_failed', err: error },
          'in-flight markers not removed',
        );
      });
  }
}
