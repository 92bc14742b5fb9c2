// Delivers batches of a campaign. Each run of a job claims ledger rows as `<jobId>#<run>`, so a
// re-run of the same job (after a crash) recognises the rows its dead predecessor left
// 'sending' and resolves them from their in-flight markers instead of sending them again.
import { DelayedError, Worker } from 'bullmq';
import type { Container } from '../src/container.js';
import { QUEUE_NAMES, type DeliveryJob } from '../src/queue/queues.js';

/** How long a delivery job's lock lasts without renewal, and how often stalled jobs are sought. */
export const DELIVERY_LOCK_MS = 20_000;
export const DELIVERY_STALLED_INTERVAL_MS = 10_000;

export function createDeliveryWorker(container: Container): Worker<DeliveryJob> {
  const { config, log, redis, services } = container;
  let closing = false;
  const worker = new Worker<DeliveryJob>(
    QUEUE_NAMES.deliveries,
    async (job, token) => {
      // Every line this job logs names it and its campaign.
      const jobLog = log.child({
        queue: job.queueName,
        jobId: job.id,
        campaignId: job.data.campaignId,
      });
      const outcome = await services.delivery.processBatch(
        job.data,
        job.id!,
        () => closing,
        jobLog,
      );
      jobLog.debug({ outcome }, 'delivery job ended');
      if (outcome === 'stopped' && token) {
        // Shutting down mid-range: hand the rest of the range back to the queue for any worker.
        await job.moveToDelayed(Date.now() + 500, token);
        throw new DelayedError();
      }
      return { outcome };
    },
    {
      connection: redis,
      prefix: config.queuePrefix,
      concurrency: config.workerConcurrency,
      autorun: false,
      // A worker killed mid-batch leaves its job stalled; another worker must pick it up again
      // (and again) rather than BullMQ failing it after one stall.
      maxStalledCount: 1000,
      // Notice a dead worker's job within ~30 s (lock expiry + one stalled check), not a minute.
      lockDuration: DELIVERY_LOCK_MS,
      stalledInterval: DELIVERY_STALLED_INTERVAL_MS,
    },
  );
  // On SIGTERM the job finishes its current window, records it, and stops; the rest of its
  // range goes back to the queue (above), so no recipient waits for this process to return.
  // BullMQ says 'closing' as close() begins, before it waits for the jobs under way.
  worker.on('closing', () => {
    closing = true;
  });
  return worker;
}
