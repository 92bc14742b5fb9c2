// The scheduler tick of a worker process: scheduled campaigns start from PostgreSQL's send_at,
// not from a delayed job in Redis, so a schedule survives Redis losing its data and restarts of
// every process; and the sweep recovers what Redis lost (docs/reliability.md).
import type { Container } from '../src/container.js';
import { STALE_SENDING_MS } from '../src/domain/campaign.js';

/** How often a worker process looks for scheduled campaigns whose time has come. */
export const SCHEDULER_INTERVAL_MS = 5000;

/** Expired sessions are refused at once; their rows are deleted about once a minute. */
const SESSION_CLEANUP_EVERY_TICKS = 12;
/** Raw tracking events past TRACKING_RETENTION_DAYS: folded away every ten minutes. */
const RETENTION_EVERY_TICKS = 120;

export function startScheduler(container: Container): { close(): void } {
  const { log } = container;
  let ticking = false;
  let ticks = 0;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    const { campaigns } = container.services;
    campaigns
      .startDue()
      .then(() => campaigns.sweep(STALE_SENDING_MS))
      .then(async () => {
        const tick = ticks++;
        if (tick % SESSION_CLEANUP_EVERY_TICKS === 0) {
          await container.services.sessions.deleteExpired();
        }
        if (tick % RETENTION_EVERY_TICKS === 0) {
          const removed = await container.services.engagement.applyRetention(
            container.config.tracking.retentionDays,
          );
          if (removed > 0)
            log.info({ event: 'tracking_retention', removed }, 'old tracking events removed');
        }
      })
      .catch((error: unknown) =>
        log.error({ event: 'scheduler_error', err: error }, 'scheduler tick failed'),
      )
      .finally(() => {
        ticking = false;
      });
  }, SCHEDULER_INTERVAL_MS);
  return { close: () => clearInterval(timer) };
}
