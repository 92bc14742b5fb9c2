// Coalesces a costly read (a scrape, a readiness probe) so a flood of callers costs one.
/**
 * A read shared by every caller: concurrent callers wait for the one in flight, and its result
 * is reused for `ttlMs` after it settles (a failure is not kept: the next scrape tries again).
 */
export function sharedRead<T>(read: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return Promise.resolve(last.value);
    inFlight ??= read()
      .then((value) => {
        last = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
