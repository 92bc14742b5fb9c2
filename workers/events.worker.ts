// Applies stored webhook events with the bounce/complaint/unsubscribe policy. A job carries
// event ids only; each event is applied in its own transaction, at most once (the row lock
// and applied_at make a duplicate job harmless). Every SWEEP_EVERY_MS one 'sweep' job re-queues
// events that were stored but never queued (Redis down at the time, or its data lost).
import { Worker } from 'bullmq';
import type { Container } from '../src/container.js';
import { QUEUE_NAMES, type EventsJob } from '../src/queue/queues.js';

export const SWEEP_EVERY_MS = 60_000;

export function createEventsWorker(container: Container): Worker<EventsJob> {
  const { config, log, redis, queues, services } = container;
  const worker = new Worker<EventsJob>(
    QUEUE_NAMES.events,
    async (job) => {
      if (job.name === 'sweep') return { requeued: await services.webhookEvents.sweep() };
      let applied = 0;
      for (const id of job.data.eventIds) {
        if ((await services.feedback.applyStored(id)) === 'applied') applied++;
      }
      log.debug({ jobId: job.id, count: job.data.eventIds.length, applied }, 'events applied');
      return { applied };
    },
    { connection: redis, prefix: config.queuePrefix, concurrency: 4, autorun: false },
  );
  // One scheduler per deployment (the id is fixed): every worker process upserts the same one.
  queues.events
    .upsertJobScheduler(
      'events-sweep',
      { every: SWEEP_EVERY_MS },
      { name: 'sweep', data: { eventIds: [] } },
    )
    .catch((error: unknown) =>
      log.warn({ event: 'events_sweep_schedule_failed', err: error }, 'events sweep not scheduled'),
    );
  return worker;
}
