// Commands that work on the database directly, for operators on a machine that reaches
// PostgreSQL: they read the service's configuration (DATABASE_URL…), not BULLETIN_TOKEN.
//
// Their modules (pg, node-pg-migrate, and for the demo the whole container with MJML) load only
// when such a command runs: the API commands start in a fraction of the time.
import type { Command } from 'commander';
import { io, serviceConfig } from '../runtime.js';

export function registerDatabaseCommands(program: Command): void {
  program
    .command('migrate')
    .description('create the database if missing and apply pending migrations')
    .action(async () => {
      const cfg = serviceConfig();
      const { migrate } = await import('../../db/migrate.js');
      const { createLogger } = await import('../../lib/logger.js');
      const applied = await migrate(cfg.databaseUrl, createLogger('warn'));
      io.out.write(
        applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${applied.join(', ')}\n`,
      );
    });

  program
    .command('demo')
    .description('create a demo list, subscribers, the newsletter template and a campaign')
    .option('--send', 'start the campaign at once (a running worker delivers it)')
    .action(async (options: { send?: boolean }) => {
      const { runDemo } = await import('../demo.js');
      await runDemo(serviceConfig(), options.send ?? false, (line) => io.out.write(`${line}\n`));
    });
}
