// Draws a started campaign's audience into the ledger and queues its delivery batches.
import { Worker } from 'bullmq';
import type { Container } from '../src/container.js';
import { QUEUE_NAMES, type CampaignJob } from '../src/queue/queues.js';

export function createCampaignWorker(container: Container): Worker<CampaignJob> {
  const { config, log, redis, services } = container;
  return new Worker<CampaignJob>(
    QUEUE_NAMES.campaigns,
    async (job) => {
      const outcome = await services.audience.drawAndQueue(
        job.data.campaignId,
        job.data.generation,
      );
      log
        .child({ queue: job.queueName, jobId: job.id, campaignId: job.data.campaignId })
        .debug({ outcome }, 'draw job ended');
      return { outcome };
    },
    { connection: redis, prefix: config.queuePrefix, concurrency: 1, autorun: false },
  );
}
