// `bulletin queues`: job counts per BullMQ queue, for operators.
import type { Command } from 'commander';
import { JOB_STATES } from '../../domain/jobs.js';
import { json, table } from '../format.js';
import { apiClient, io } from '../runtime.js';
import { queues as queuesSchema } from '../schemas.js';

export function registerQueuesCommand(program: Command): void {
  program
    .command('queues')
    .description('job counts per queue (waiting, active, delayed, failed, completed, paused)')
    .option('--json', 'print the raw JSON')
    .action(async (options: { json?: boolean }) => {
      const { data } = await apiClient().get('/api/v1/queues', queuesSchema);
      if (options.json) return void io.out.write(json(data));
      io.out.write(
        table(
          ['QUEUE', ...JOB_STATES.map((state) => state.toUpperCase())],
          data.map((q) => [q.name, ...JOB_STATES.map((state) => shown(q[state]))]),
        ),
      );
    });
}

/** A count as it is; a paused flag (older servers answer one) as yes or no. */
function shown(value: number | boolean): string | number {
  return typeof value === 'boolean' ? (value ? 'yes' : 'no') : value;
}
