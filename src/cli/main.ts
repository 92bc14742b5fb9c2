// `npx bulletin <command>`. Commands that change the database directly (migrate, demo, and
// token create without BULLETIN_TOKEN) are for operators on a machine that can reach
// PostgreSQL; the rest talk to the HTTP API at BULLETIN_URL with BULLETIN_TOKEN.
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { registerCampaignCommands } from './commands/campaigns.js';
import { registerDatabaseCommands } from './commands/database.js';
import { registerImportCommand } from './commands/imports.js';
import { registerQueuesCommand } from './commands/queues.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUserCommands } from './commands/users.js';
import { CliError, EXIT } from './errors.js';
import { io } from './runtime.js';

const program = new Command('bulletin')
  .description('Bulletin newsletter service: operator commands')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nAPI commands use BULLETIN_URL (default http://localhost:3000) and BULLETIN_TOKEN.\n',
  );

registerDatabaseCommands(program);
registerTokenCommands(program);
registerUserCommands(program);
registerImportCommand(program);
registerCampaignCommands(program);
registerQueuesCommand(program);

function report(error: unknown): number {
  if (error instanceof ConfigError) {
    io.err.write(`${error.message}\n`);
    return EXIT.config;
  }
  if (error instanceof CliError) {
    io.err.write(`bulletin: ${error.message}\n`);
    for (const line of error.details) io.err.write(`  ${line}\n`);
    return error.exitCode;
  }
  io.err.write(`bulletin: ${(error as Error).message}\n`);
  return EXIT.failure;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exit(report(error));
});
