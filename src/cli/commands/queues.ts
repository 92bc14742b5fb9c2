// `bulletin queues`: job counts per BullMQ queue, for operators.
import type { Command } from 'commander';
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
          ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED', 'COMPLETED', 'PAUSED'],
          data.map((q) => [
            q.name,
            q.waiting,
            q.active,
            q.delayed,
            q.failed,
            q.completed,
            typeof q.paused === 'boolean' ? (q.paused ? 'yes' : 'no') : q.paused,
          ]),
        ),
      );
    });
}
