// Stores verified, normalised webhook events and queues them for the events worker
// (docs/contract.md §4.3: verify, normalise, store, acknowledge; a worker applies). The webhook
// answers 2xx only after this transaction committed, so an acknowledged event is never lost:
// if queueing fails afterwards, the periodic sweep finds the event still unapplied.
import { inTransaction, type Pool } from '../db/pool.js';
import { EventsRepository } from '../db/repositories/events.repository.js';
import type { Normalised, NormalisedEvent, WebhookSource } from '../domain/webhook-events.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { eventsJobId, type Queues } from '../queue/queues.js';

/** Ids per job: BullMQ's cost is per job, and each id is its own short transaction. */
export const EVENTS_PER_JOB = 200;
/** An unapplied event older than this was lost between PostgreSQL and Redis. */
export const SWEEP_AFTER_MS = 2 * 60_000;
const SWEEP_LIMIT = 10_000;

export interface IngestResult {
  /** Provider events in the request. */
  received: number;
  /** Events stored now. */
  stored: number;
  /** Events stored by an earlier request (a retry or a replay): nothing changes. */
  duplicates: number;
  /** Provider events Bulletin does not act on (opens, deferrals, …). */
  ignored: number;
}

/** Delivered events are recorded for the account but change nobody. */
const needsApplying = (e: NormalisedEvent) => e.type !== 'delivered';

export class WebhookEventsService {
  constructor(
    private readonly pool: Pool,
    private readonly queues: Queues,
    private readonly log: Logger,
    // Optional: a test may build this service on its own.
    private readonly metrics?: Metrics,
  ) {}

  async ingest(source: WebhookSource, normalised: Normalised): Promise<IngestResult> {
    const now = new Date();
    const { stored, pending, storedTypes } = await inTransaction(this.pool, async (tx) => {
      const events = new EventsRepository(tx);
      let stored = 0;
      const storedTypes: NormalisedEvent['type'][] = [];
      const pending = new Set<number>();
      for (const e of normalised.events) {
        const target = await events.resolveTarget({
          messageId: e.messageId,
          email: e.email,
          campaignUuid: e.campaign && 'uuid' in e.campaign ? e.campaign.uuid : null,
          campaignId: e.campaign && 'id' in e.campaign ? e.campaign.id : null,
        });
        const id = await events.insert({
          type: e.type,
          bounceType: e.bounceType,
          source,
          providerEventId: e.providerEventId,
          campaignId: target.campaignId,
          subscriberId: target.subscriberId,
          email: e.email,
          reason: e.reason,
          payload: e.payload,
          // A clock ahead of ours must not keep a soft bounce inside the window for longer.
          occurredAt: e.occurredAt && e.occurredAt < now ? e.occurredAt : now,
        });
        if (id !== undefined) {
          stored++;
          storedTypes.push(e.type);
          if (needsApplying(e)) pending.add(id);
          else await events.markApplied(id);
        } else if (needsApplying(e)) {
          // Already stored: if it still waits (its job was lost), queue it again.
          const waiting = await events.unappliedId(source, e.providerEventId);
          if (waiting !== undefined) pending.add(waiting);
        }
      }
      return { stored, pending: [...pending], storedTypes };
    });
    // After the commit: a rolled-back request stored nothing, and a replay is not counted.
    for (const type of storedTypes) this.metrics?.webhookEvents.inc({ source, type });
    const result: IngestResult = {
      received: normalised.events.length + normalised.ignored,
      stored,
      duplicates: normalised.events.length - stored,
      ignored: normalised.ignored,
    };
    this.log.info({ event: 'webhook_events_stored', source, ...result }, 'webhook events stored');
    try {
      await this.enqueue(pending);
    } catch (error) {
      // Stored is what the provider needs to hear about; the sweep queues these later.
      this.log.error(
        { event: 'webhook_enqueue_failed', source, count: pending.length, err: error },
        'could not queue stored webhook events; the sweep will',
      );
    }
    return result;
  }

  /** Queues stored events for the worker, in jobs of EVENTS_PER_JOB ids. */
  async enqueue(ids: number[], suffix = ''): Promise<void> {
    if (ids.length === 0) return;
    const sorted = [...ids].sort((a, b) => a - b);
    const jobs = [];
    for (let i = 0; i < sorted.length; i += EVENTS_PER_JOB) {
      const eventIds = sorted.slice(i, i + EVENTS_PER_JOB);
      jobs.push({
        name: 'apply',
        data: { eventIds },
        opts: { jobId: eventsJobId(eventIds[0]!, eventIds.at(-1)!) + suffix },
      });
    }
    await this.queues.events.addBulk(jobs);
  }

  /**
   * Queues events that have waited unapplied for a while (Redis lost their job, or queueing
   * failed after the commit). Applying is idempotent, so a duplicate job costs one query. The
   * job id changes every sweep period, so a job that failed for good does not block a retry.
   */
  async sweep(nowMs = Date.now()): Promise<number> {
    const ids = await new EventsRepository(this.pool).unappliedBefore(
      new Date(nowMs - SWEEP_AFTER_MS),
      SWEEP_LIMIT,
    );
    if (ids.length > 0) {
      await this.enqueue(ids, `-s${Math.floor(nowMs / SWEEP_AFTER_MS)}`);
      this.log.warn(
        { event: 'webhook_events_requeued', count: ids.length },
        'unapplied events re-queued',
      );
    }
    return ids.length;
  }
}
