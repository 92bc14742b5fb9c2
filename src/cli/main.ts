// `npx bulletin <command>`. Commands that change the database directly (migrate, token create)
// are for operators on a machine that can reach PostgreSQL; the rest talk to the HTTP API.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { TokensRepository } from '../db/repositories/tokens.repository.js';
import { SCOPES, type Scope } from '../domain/scopes.js';
import { generateApiToken } from '../domain/tokens.js';
import { createLogger } from '../lib/logger.js';
import { runDemo } from './demo.js';

function config(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

function scopesArg(value: string): Scope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `scopes must be a comma-separated subset of: ${SCOPES.join(', ')}`,
    );
  }
  return scopes as Scope[];
}

const program = new Command('bulletin')
  .description('Bulletin newsletter service: operator commands')
  .showHelpAfterError();

program
  .command('migrate')
  .description('create the database if missing and apply pending migrations')
  .action(async () => {
    const cfg = config();
    const applied = await migrate(cfg.databaseUrl, createLogger('warn'));
    process.stdout.write(
      applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${applied.join(', ')}\n`,
    );
  });

const token = program.command('token').description('API tokens');
token
  .command('create')
  .description('create an API token directly in the database (prints it once)')
  .requiredOption('--name <name>', 'what the token is for')
  .option('--scopes <list>', `comma-separated scopes (${SCOPES.join(', ')})`, scopesArg, [
    'admin',
  ] as Scope[])
  .action(async (options: { name: string; scopes: Scope[] }) => {
    const cfg = config();
    await migrate(cfg.databaseUrl);
    const pool = createPool(cfg.databaseUrl, 1);
    try {
      const { token: secret, hash, prefix } = generateApiToken();
      const row = await new TokensRepository(pool).create(
        options.name,
        hash,
        prefix,
        options.scopes,
      );
      process.stdout.write(
        `Token ${row.id} (${row.scopes.join(', ')}) — shown once, store it now:\n${secret}\n`,
      );
    } finally {
      await pool.end();
    }
  });

program
  .command('demo')
  .description('create a demo list, subscribers, the newsletter template and a campaign')
  .option('--send', 'start the campaign at once (a running worker delivers it)')
  .action(async (options: { send?: boolean }) => {
    await runDemo(config(), options.send ?? false, (line) => process.stdout.write(`${line}\n`));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`bulletin: ${(error as Error).message}\n`);
  process.exit(1);
});
