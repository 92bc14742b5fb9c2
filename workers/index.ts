// Starts every worker kind of this process and stops them gracefully: close() lets active jobs
// finish (bounded by SHUTDOWN_TIMEOUT_MS in main.ts) and takes no new ones.
import type { Worker } from 'bullmq';
import type { Container } from '../src/container.js';
import { STALE_SENDING_MS } from '../src/domain/campaign.js';
import { startBounceReceiver, type BounceReceiver } from '../src/mail/inbound/bounce-receiver.js';
import { createCampaignWorker } from './campaign.worker.js';
import { createDeliveryWorker } from './delivery.worker.js';
import { createEventsWorker } from './events.worker.js';
import { createImportWorker } from './import.worker.js';

/** How often a worker process looks for scheduled campaigns whose time has come. */
const SCHEDULER_INTERVAL_MS = 5000;

export interface RunningWorkers {
  workers: Worker[];
  /** The DSN/ARF receiver, when BOUNCE_DOMAIN and BOUNCE_SMTP_PORT are set. */
  bounceReceiver?: BounceReceiver | undefined;
  close(): Promise<void>;
}

export function startWorkers(container: Container): RunningWorkers {
  const { log } = container;
  const workers: Worker[] = [
    createImportWorker(container),
    createCampaignWorker(container),
    createDeliveryWorker(container),
    createEventsWorker(container),
  ];
  for (const worker of workers) {
    worker.on('failed', (job, error) =>
      log.warn(
        {
          event: 'job_failed',
          queue: worker.name,
          jobId: job?.id,
          campaignId: (job?.data as { campaignId?: number } | undefined)?.campaignId,
          attemptsMade: job?.attemptsMade,
          err: error,
        },
        'job failed',
      ),
    );
    // A job whose lock lapsed (its process died or hung) is handed to another run.
    worker.on('stalled', (jobId) =>
      log.warn({ event: 'job_stalled', queue: worker.name, jobId }, 'job stalled: it runs again'),
    );
    worker.on('error', (error) =>
      log.error({ event: 'worker_error', queue: worker.name, err: error }, 'worker error'),
    );
    void worker
      .run()
      .catch((error: unknown) =>
        log.error({ event: 'worker_stopped', queue: worker.name, err: error }, 'worker stopped'),
      );
  }
  // Scheduled campaigns start from PostgreSQL's send_at, not from a delayed job in Redis: a
  // schedule survives Redis losing its data and restarts of every process.
  let ticking = false;
  const scheduler = setInterval(() => {
    if (ticking) return;
    ticking = true;
    const { campaigns } = container.services;
    campaigns
      .startDue()
      .then(() => campaigns.sweep(STALE_SENDING_MS))
      .catch((error: unknown) =>
        log.error({ event: 'scheduler_error', err: error }, 'scheduler tick failed'),
      )
      .finally(() => {
        ticking = false;
      });
  }, SCHEDULER_INTERVAL_MS);
  const { bounceDomain, bounceSmtpPort } = container.config;
  const bounceReceiver =
    bounceDomain && bounceSmtpPort
      ? startBounceReceiver({
          domain: bounceDomain,
          port: bounceSmtpPort,
          host: container.config.host,
          keys: () => container.signingKeys,
          pool: container.pool,
          feedback: container.services.feedback,
          log,
        })
      : undefined;
  log.info({ event: 'workers_started', queues: workers.map((w) => w.name) }, 'workers started');
  return {
    workers,
    bounceReceiver,
    close: async () => {
      clearInterval(scheduler);
      await Promise.all([...workers.map((w) => w.close()), bounceReceiver?.close()]);
    },
  };
}
