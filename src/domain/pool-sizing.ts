// How many SMTP transactions a worker process runs at once (docs/operations.md, "Tuning for
// your relay"). SMTP_POOL_SIZE is the ceiling; a relay that refuses connections with 421 (too
// many connections from one client, or busy) makes the pool smaller, and it grows back one
// connection at a time while messages keep being accepted: additive increase, multiplicative
// decrease, as TCP does. A storm of 421s from connections opened together counts once a
// second, so the pool is not cut to nothing by one crowded moment; and it grows only after
// GROW_AFTER_MS without a refusal, so a relay with a hard limit sees a probe past it a few
// times a minute, not every few messages (each refused message waits for its retry).

export const SHRINK_FACTOR = 0.75;
export const SHRINK_INTERVAL_MS = 1000;
export const GROW_AFTER_MS = 10_000;

export class PoolSizer {
  private current: number;
  private acceptedSinceChange = 0;
  private lastShrinkAt = -Infinity;

  constructor(private readonly ceiling: number) {
    this.current = Math.max(1, ceiling);
  }

  get size(): number {
    return this.current;
  }

  /**
   * A message was accepted: once the last refusal is GROW_AFTER_MS old, one connection more
   * per pool's worth of accepted messages. Answers whether the size changed.
   */
  accepted(now: number): boolean {
    if (this.current >= this.ceiling || now - this.lastShrinkAt < GROW_AFTER_MS) return false;
    if (++this.acceptedSinceChange < this.current) return false;
    this.current++;
    this.acceptedSinceChange = 0;
    return true;
  }

  /** The relay refused a connection (421): a quarter fewer, at most once a second. */
  refused(now: number): boolean {
    if (now - this.lastShrinkAt < SHRINK_INTERVAL_MS) return false;
    this.lastShrinkAt = now;
    const next = Math.max(1, Math.floor(this.current * SHRINK_FACTOR));
    this.acceptedSinceChange = 0;
    if (next === this.current) return false;
    this.current = next;
    return true;
  }
}

/** A 421 is the relay saying "not now, not this many": the signal to use fewer connections. */
export const isConnectionRefusal = (error: { responseCode?: number | undefined }) =>
  error.responseCode === 421;
