// Draws a campaign's audience into the ledger once, with set-based SQL in subscriber-id chunks
// (never OFFSET), then queues one delivery job per range of ledger rows. Both steps are safe to
// repeat: the ledger is unique per (campaign, subscriber) and job ids are deterministic.
import { inTransaction, type Pool } from '../db/pool.js';
import { CampaignsRepository } from '../db/repositories/campaigns.repository.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import { batchJobId, type Queues } from '../queue/queues.js';

export const DRAW_CHUNK = 50_000;
/** Draw statements run at once. */
export const DRAW_PARALLELISM = 2;
export const BATCH_SIZE = 200;

export class AudienceService {
  constructor(
    private readonly pool: Pool,
    private readonly queues: Queues,
    private readonly log: Logger,
    /** Where the queued-batches marker lives: the queues' Redis and key prefix. */
    private readonly marker: { redis: Pick<Redis, 'set' | 'exists'>; prefix: string },
    private readonly batchSize = BATCH_SIZE,
  ) {}

  /**
   * Draws (if not yet drawn) and queues the batches of a running campaign. The status is read
   * again before every chunk: a campaign cancelled or paused during its draw stops drawing (a
   * resume queues the draw again; its chunks already written are kept, the rest is drawn).
   */
  async drawAndQueue(campaignId: number, generation: number): Promise<'queued' | 'not-running'> {
    const campaigns = new CampaignsRepository(this.pool);
    const campaign = await campaigns.findById(campaignId);
    if (!campaign || campaign.status !== 'running') return 'not-running';
    const ledger = new DeliveriesRepository(this.pool);
    if (!campaign.audience_drawn_at) {
      const started = Date.now();
      const range = await ledger.subscriberIdRange();
      if (range) {
        const chunks: [number, number][] = [];
        for (let from = range.min - 1; from < range.max; from += DRAW_CHUNK) {
          chunks.push([from, Math.min(from + DRAW_CHUNK, range.max)]);
        }
        // Chunks are independent (each an idempotent INSERT … ON CONFLICT DO NOTHING): two run
        // at once, one PostgreSQL backend each, since one backend uses one core.
        let next = 0;
        let drawn = 0;
        let stopped = false;
        await Promise.all(
          Array.from({ length: DRAW_PARALLELISM }, async () => {
            while (next < chunks.length && !stopped) {
              const [from, to] = chunks[next++]!;
              if ((await campaigns.statusOf(campaignId)) !== 'running') {
                stopped = true;
                break;
              }
              await inTransaction(this.pool, (tx) =>
                new DeliveriesRepository(tx).drawChunk(campaignId, from, to),
              );
              drawn++;
            }
          }),
        );
        if (stopped) {
          this.log.info(
            { event: 'audience_draw_stopped', campaignId, chunks: drawn, of: chunks.length },
            'the campaign stopped running: audience draw stopped',
          );
          return 'not-running';
        }
      }
      const recipients = await ledger.count(campaignId);
      await campaigns.markAudienceDrawn(campaignId, recipients);
      this.log.info(
        { event: 'audience_drawn', campaignId, recipients, ms: Date.now() - started },
        'audience drawn',
      );
    }
    await this.queueBatches(campaignId, generation);
    // An empty audience (or one already fully sent) finishes here.
    await campaigns.finishIfDone(campaignId);
    return 'queued';
  }

  async queueBatches(campaignId: number, generation: number): Promise<number> {
    const ranges = await new DeliveriesRepository(this.pool).queuedRanges(
      campaignId,
      this.batchSize,
    );
    for (let i = 0; i < ranges.length; i += 1000) {
      await this.queues.deliveries.addBulk(
        ranges.slice(i, i + 1000).map((r) => ({
          name: 'batch',
          data: { campaignId, fromId: r.fromId, toId: r.toId },
          opts: { jobId: batchJobId(campaignId, generation, r.fromId) },
        })),
      );
    }
    await this.markQueued(campaignId, generation);
    return ranges.length;
  }

  /**
   * Redis now holds this campaign's work (its draw job, or its batches): if the key disappears
   * (Redis lost its data), the scheduler's sweep queues the work again from PostgreSQL.
   */
  async markQueued(campaignId: number, generation: number): Promise<void> {
    await this.marker.redis.set(
      queuedMarkerKey(this.marker.prefix, campaignId),
      String(generation),
    );
  }

  /** Whether Redis still holds the marker that this campaign's work was queued. */
  async workKnown(campaignId: number): Promise<boolean> {
    return (await this.marker.redis.exists(queuedMarkerKey(this.marker.prefix, campaignId))) === 1;
  }
}

const queuedMarkerKey = (prefix: string, campaignId: number) =>
  `${prefix}:campaign-queued:${campaignId}`;
