// Runs CSV imports. The job carries only the import id; the runner reloads the row, claims it
// with a conditional update, resumes after the last committed batch and records the outcome.
import { Worker } from 'bullmq';
import type { Container } from '../src/container.js';
import { QUEUE_NAMES, type ImportJob } from '../src/queue/queues.js';

export function createImportWorker(container: Container): Worker<ImportJob> {
  const { config, log, redis, services } = container;
  return new Worker<ImportJob>(
    QUEUE_NAMES.imports,
    async (job) => {
      try {
        const outcome = await services.importRunner.run(job.data.importId);
        log.debug({ jobId: job.id, importId: job.data.importId, outcome }, 'import job ended');
        return { outcome };
      } catch (error) {
        // On the last attempt, record the failure on the import so it does not stay 'running'.
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          await services.imports.giveUp(job.data.importId, (error as Error).message);
        }
        throw error;
      }
    },
    {
      connection: redis,
      prefix: config.queuePrefix,
      // Imports are I/O bound on PostgreSQL; two at a time keeps the pool free for the API.
      concurrency: 2,
      autorun: false,
    },
  );
}
