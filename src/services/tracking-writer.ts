// Opens and clicks under load (docs/engagement.md, "Under load"). Each request waits for its
// event to be stored before it answers, so an answered click is never lost, not even on
// SIGTERM (the server drains its requests, then `close` waits for the writes). Lookups and
// writes are batched naturally (lib/group-batch.ts): a storm of clicks becomes a few large
// statements instead of a query and a transaction per click.
//
// After each written batch, the human clicks of messages with two or more links are checked
// for a burst (every link followed within BURST_SECONDS): one query for the batch, the rule
// in the domain (machine-traffic.ts).
import { BURST_SECONDS, isBurst } from '../domain/machine-traffic.js';
import type { Pool } from '../db/pool.js';
import {
  EngagementRepository,
  type TrackedDelivery,
  type TrackingEvent,
} from '../db/repositories/engagement.repository.js';
import { GroupBatch, type Settled } from '../lib/group-batch.js';

interface Write {
  event: TrackingEvent;
  /** How many links the message has (clicks only). */
  linkCount: number;
}

export class TrackingWriter {
  private readonly repo: EngagementRepository;
  private readonly writes: GroupBatch<Write, void>;
  private readonly lookups: GroupBatch<number, TrackedDelivery | undefined>;

  constructor(pool: Pool) {
    this.repo = new EngagementRepository(pool);
    this.writes = new GroupBatch((batch) => this.writeBatch(batch));
    this.lookups = new GroupBatch(async (ids) => {
      const found = await this.repo.deliveries(ids);
      return ids.map((id) => ({ ok: true, value: found.get(id) }));
    });
  }

  /** The delivery a token names (looked up with the others arriving meanwhile). */
  delivery(id: number): Promise<TrackedDelivery | undefined> {
    return this.lookups.add(id);
  }

  /** Resolves once the event is stored (and its message checked for a burst). */
  write(event: TrackingEvent, linkCount = 0): Promise<void> {
    return this.writes.add({ event, linkCount });
  }

  /** Waits for every event handed in so far to be written. */
  async close(): Promise<void> {
    await this.lookups.idle();
    await this.writes.idle();
  }

  private async writeBatch(batch: Write[]): Promise<Settled<void>[]> {
    try {
      await this.repo.recordMany(batch.map((w) => w.event));
    } catch {
      // One bad event (its subscriber erased a moment ago) must not fail the others: each on
      // its own, so only that request sees the error.
      return Promise.all(batch.map((w) => this.writeOne(w)));
    }
    await this.markBursts(batch).catch(() => undefined);
    return batch.map(() => ({ ok: true, value: undefined }));
  }

  private async writeOne(w: Write): Promise<Settled<void>> {
    try {
      await this.repo.recordMany([w.event]);
    } catch (error) {
      return { ok: false, error };
    }
    await this.markBursts([w]).catch(() => undefined);
    return { ok: true, value: undefined };
  }

  /**
   * Marks as a burst every message of the batch whose links were all clicked in the window
   * (from BURST_SECONDS before the batch's first click: a batch spans milliseconds).
   */
  private async markBursts(batch: Write[]): Promise<void> {
    const candidates = new Map<number, number>();
    let earliest = Infinity;
    for (const { event, linkCount } of batch) {
      if (event.type !== 'clicked' || event.machine || linkCount < 2) continue;
      candidates.set(event.delivery.id, linkCount);
      earliest = Math.min(earliest, event.at.getTime());
    }
    if (candidates.size === 0) return;
    const since = new Date(earliest - BURST_SECONDS * 1000);
    const clicked = await this.repo.linksClickedSinceMany([...candidates.keys()], since);
    const bursts = [...candidates].filter(([id, links]) =>
      isBurst(links, clicked.get(id) ?? new Set()),
    );
    if (bursts.length > 0)
      await this.repo.markBursts(
        bursts.map(([id]) => id),
        since,
      );
  }
}
