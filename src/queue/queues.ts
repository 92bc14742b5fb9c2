// Queue names and job payloads. Jobs carry ids only: a worker reloads the rows, so a job that
// waited in Redis never acts on stale data.
import { Queue, type ConnectionOptions } from 'bullmq';

export const QUEUE_NAMES = { imports: 'imports' } as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface ImportJob {
  importId: number;
}

export interface Queues {
  imports: Queue<ImportJob>;
  all(): Queue[];
  close(): Promise<void>;
}

export function createQueues(
  connection: ConnectionOptions,
  prefix: string,
  onError: (queue: string, error: Error) => void,
): Queues {
  const imports = new Queue<ImportJob>(QUEUE_NAMES.imports, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
  // An 'error' event without a listener would be thrown; route it to the logger instead.
  imports.on('error', (error) => onError(QUEUE_NAMES.imports, error));
  return {
    imports,
    all: () => [imports],
    close: async () => {
      await imports.close();
    },
  };
}

/** Deterministic job ids: enqueuing the same work twice is harmless. */
export const importJobId = (importId: number) => `import-${importId}`;
