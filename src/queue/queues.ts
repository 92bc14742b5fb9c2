// Queue names and job payloads. Jobs carry ids only: a worker reloads the rows, so a job that
// waited in Redis never acts on stale data.
import { Queue, type ConnectionOptions } from 'bullmq';

export const QUEUE_NAMES = {
  imports: 'imports',
  campaigns: 'campaigns',
  deliveries: 'deliveries',
  events: 'events',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface ImportJob {
  importId: number;
}

/** Draw a running campaign's audience into the ledger, then queue its delivery batches. */
export interface CampaignJob {
  campaignId: number;
  generation: number;
}

/** Deliver the queued ledger rows of one campaign with ids in [fromId, toId]. */
export interface DeliveryJob {
  campaignId: number;
  fromId: number;
  toId: number;
}

/** Apply stored webhook events (ids only); the job named 'sweep' re-queues forgotten ones. */
export interface EventsJob {
  eventIds: number[];
}

export interface Queues {
  imports: Queue<ImportJob>;
  campaigns: Queue<CampaignJob>;
  deliveries: Queue<DeliveryJob>;
  events: Queue<EventsJob>;
  all(): Queue[];
  close(): Promise<void>;
}

export function createQueues(
  connection: ConnectionOptions,
  prefix: string,
  onError: (queue: string, error: Error) => void,
): Queues {
  const keep = {
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
  const queue = <T>(name: string, attempts: number, delay: number) =>
    new Queue<T>(name, {
      connection,
      prefix,
      defaultJobOptions: { attempts, backoff: { type: 'exponential', delay }, ...keep },
    });
  const imports = queue<ImportJob>(QUEUE_NAMES.imports, 5, 2000);
  const campaigns = queue<CampaignJob>(QUEUE_NAMES.campaigns, 10, 1000);
  // A batch job fails only on infrastructure errors (PostgreSQL, Redis); per-recipient SMTP
  // failures are outcomes in the ledger, retried through their own delayed jobs.
  const deliveries = queue<DeliveryJob>(QUEUE_NAMES.deliveries, 10, 1000);
  const events = queue<EventsJob>(QUEUE_NAMES.events, 10, 1000);
  const all = [imports, campaigns, deliveries, events];
  // An 'error' event without a listener would be thrown; route it to the logger instead.
  for (const queue of all) queue.on('error', (error) => onError(queue.name, error));
  return {
    imports,
    campaigns,
    deliveries,
    events,
    all: () => all,
    close: async () => {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}

/** Deterministic job ids: enqueuing the same work twice is harmless. */
export const importJobId = (importId: number) => `import-${importId}`;
export const drawJobId = (campaignId: number, generation: number) =>
  `draw-${campaignId}-g${generation}`;
export const batchJobId = (campaignId: number, generation: number, fromId: number) =>
  `batch-${campaignId}-g${generation}-${fromId}`;
export const retryJobId = (deliveryId: number, attempt: number) =>
  `retry-${deliveryId}-a${attempt}`;
export const eventsJobId = (firstId: number, lastId: number) => `events-${firstId}-${lastId}`;

export { JOB_STATES, type JobState } from '../domain/jobs.js';
