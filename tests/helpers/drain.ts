// "Nothing happened" is only proven once the work a request could have started has run: wait
// until every queue of the context has nothing waiting or running (delayed jobs, such as the
// events worker's periodic sweep, are not work in progress), twice in a row, then assert.
import { waitFor, type TestContext } from './context.js';

export async function drained(ctx: TestContext, timeoutMs = 15_000): Promise<void> {
  let idleOnce = false;
  await waitFor(
    async () => {
      const counts = await Promise.all(
        ctx.container.queues
          .all()
          .map((q) => q.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children')),
      );
      const idle = counts.every((c) => Object.values(c).every((n) => n === 0));
      // Twice: a job that finished may have queued the next one in between.
      const done = idle && idleOnce;
      idleOnce = idle;
      return done;
    },
    { timeoutMs, intervalMs: 25 },
  );
}
