// What operators see of the BullMQ queues: counts per state, failed jobs, retry and discard.
// Jobs carry ids only (queue.ts), so showing their data reveals no subscriber.
import type { Job, Queue } from 'bullmq';
import { AppError, notFound } from '../domain/errors.js';
import { JOB_STATES, type JobState, type Queues } from '../queue/queues.js';

export { JOB_STATES, type JobState };

export type QueueCounts = { name: string; isPaused: boolean } & Record<JobState, number>;

export interface FailedJob {
  id: string;
  name: string;
  data: unknown;
  failedReason: string;
  attemptsMade: number;
  createdAt: string;
  failedAt: string | null;
}

export class QueuesService {
  constructor(private readonly queues: Queues) {}

  names(): string[] {
    return this.queues.all().map((q) => q.name);
  }

  /**
   * BullMQ 6 has no separate paused list: a paused queue keeps its jobs in the wait list. We
   * report them as `paused` (and `waiting` as 0) so an operator sees why nothing moves.
   * Prioritized jobs are waiting too.
   */
  async counts(): Promise<QueueCounts[]> {
    return Promise.all(
      this.queues.all().map(async (queue) => {
        const [c, isPaused] = await Promise.all([
          queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
          queue.isPaused(),
        ]);
        const waiting = (c.waiting ?? 0) + (c.prioritized ?? 0);
        return {
          name: queue.name,
          isPaused,
          waiting: isPaused ? 0 : waiting,
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
          completed: c.completed ?? 0,
          paused: isPaused ? waiting : 0,
        };
      }),
    );
  }

  /** Failed jobs, newest first, from `offset`; fetches one extra to tell if there is more. */
  async failed(name: string, offset: number, limit: number): Promise<FailedJob[]> {
    const jobs = await this.queue(name).getFailed(offset, offset + limit);
    return jobs.filter((job): job is Job => Boolean(job)).map(presentFailed);
  }

  /** Moves a failed job back to waiting; its worker re-runs it (handlers are idempotent). */
  async retry(name: string, id: string): Promise<void> {
    const job = await this.failedJob(name, id);
    await job.retry('failed');
  }

  /**
   * Removes a failed job from Redis. PostgreSQL stays the source of truth: rows of a running
   * campaign that the job did not send are still `queued`, and resuming the campaign (or a
   * worker's start) re-queues them, so discarding never loses a recipient.
   */
  async discard(name: string, id: string): Promise<void> {
    const job = await this.failedJob(name, id);
    await job.remove();
  }

  private async failedJob(name: string, id: string): Promise<Job> {
    const job = await this.queue(name).getJob(id);
    if (!job) throw notFound(`Job in queue "${name}"`, id);
    const state = await job.getState();
    if (state !== 'failed') {
      throw new AppError('conflict', `Job ${id} is ${state}, not failed`);
    }
    return job;
  }

  private queue(name: string): Queue {
    const queue = this.queues.all().find((q) => q.name === name);
    if (!queue) throw notFound('Queue', name);
    return queue;
  }
}

function presentFailed(job: Job): FailedJob {
  return {
    id: job.id ?? '',
    name: job.name,
    data: job.data,
    failedReason: job.failedReason ?? '',
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
