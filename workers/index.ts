// Starts every BullMQ worker kind of this process and stops them gracefully: close() lets
// active jobs finish (bounded by SHUTDOWN_TIMEOUT_MS in main.ts) and takes no new ones. The
// scheduler (scheduler.ts) and the bounce receiver are started beside them by the composition
// root (main.ts).
import type { Worker } from 'bullmq';
import type { Container } from '../src/container.js';
import { createCampaignWorker } from './campaign.worker.js';
import { createDeliveryWorker } from './delivery.worker.js';
import { createEventsWorker } from './events.worker.js';
import { createImportWorker } from './import.worker.js';

export interface RunningWorkers {
  workers: Worker[];
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
  log.info({ event: 'workers_started', queues: workers.map((w) => w.name) }, 'workers started');
  return {
    workers,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
