// Natural batching ("group commit"): items handed in while a batch is being handled form the
// next batch. One item alone is handled at once, with no timer and no added wait; under load
// the batches grow with the load, so a storm of small requests becomes a few statements.

/** What `handle` answers for one item: its value, or the error its caller should see. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class GroupBatch<T, R> {
  private queue: Waiting<T, R>[] = [];
  private running: Promise<void> | undefined;

  constructor(
    /** Handles one batch; answers one result per item, in order. */
    private readonly handle: (items: T[]) => Promise<Settled<R>[]>,
    private readonly maxBatch = 1000,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.running ??= this.drain().finally(() => {
        this.running = undefined;
      });
    });
  }

  /** Waits until every item handed in so far has been handled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let results: Settled<R>[];
      try {
        results = await this.handle(batch.map((w) => w.item));
      } catch (error) {
        results = batch.map(() => ({ ok: false, error }));
      }
      batch.forEach((w, i) => {
        const r = results[i] ?? { ok: false, error: new Error('no result for a batched item') };
        if (r.ok) w.resolve(r.value);
        else w.reject(r.error);
      });
    }
  }
}
