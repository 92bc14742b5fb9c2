// `bulletin token create|list|revoke`. `create` goes through the API when BULLETIN_TOKEN is set;
// without it, it writes to the database directly: that is how the first token is made on a
// fresh install, by an operator who can reach PostgreSQL (DATABASE_URL).
import { InvalidArgumentError, type Command } from 'commander';
import { TOKEN_SCOPES as SCOPES, type Scope } from '../../domain/scopes.js';
import { generateApiToken } from '../../domain/tokens.js';
import { positiveInt } from '../args.js';
import { clean, json, table } from '../format.js';
import { apiClient, cliConfig, io, serviceConfig } from '../runtime.js';
import { createdToken, page, token as tokenSchema } from '../schemas.js';

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

const shownOnce = (id: number, scopes: string[], secret: string) =>
  `Token ${id} (${scopes.join(', ')}) — shown once, store it now:\n${secret}\n`;

async function createInDatabase(name: string, scopes: Scope[]): Promise<void> {
  const cfg = serviceConfig();
  // Loaded here only: the API commands need no database driver.
  const [{ migrate }, { createPool }, { TokensRepository }] = await Promise.all([
    import('../../db/migrate.js'),
    import('../../db/pool.js'),
    import('../../db/repositories/tokens.repository.js'),
  ]);
  await migrate(cfg.databaseUrl);
  const pool = createPool(cfg.databaseUrl, 1);
  try {
    const { token: secret, hash, prefix } = generateApiToken();
    const row = await new TokensRepository(pool).create(name, hash, prefix, scopes);
    io.out.write(shownOnce(row.id, row.scopes, secret));
  } finally {
    await pool.end();
  }
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens');

  token
    .command('create')
    .description(
      'create an API token (prints it once): through the API when BULLETIN_TOKEN is set, ' +
        'else directly in the database (DATABASE_URL), to bootstrap the first one',
    )
    .requiredOption('--name <name>', 'what the token is for')
    .option('--scopes <list>', `comma-separated scopes (${SCOPES.join(', ')})`, scopesArg, [
      'admin',
    ] as Scope[])
    .action(async (options: { name: string; scopes: Scope[] }) => {
      const config = cliConfig();
      if (!config.token) return createInDatabase(options.name, options.scopes);
      const created = await apiClient(config).post('/api/v1/tokens', createdToken, {
        name: options.name,
        scopes: options.scopes,
      });
      io.out.write(shownOnce(created.id, created.scopes, created.token));
    });

  token
    .command('list')
    .description('list API tokens (never their secrets)')
    .option('--json', 'print the raw JSON')
    .action(async (options: { json?: boolean }) => {
      const tokens = await apiClient().all('/api/v1/tokens', page(tokenSchema));
      if (options.json) return void io.out.write(json(tokens));
      if (tokens.length === 0) return void io.out.write('No tokens.\n');
      io.out.write(
        table(
          ['ID', 'NAME', 'PREFIX', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
          tokens.map((t) => [
            t.id,
            t.name,
            t.prefix,
            t.scopes.join(','),
            t.createdAt,
            t.lastUsedAt ?? '-',
            t.revokedAt ?? '-',
          ]),
        ),
      );
    });

  token
    .command('revoke')
    .description('revoke an API token at once')
    .argument('<id>', 'token id (see token list)', positiveInt)
    .action(async (id: number) => {
      await apiClient().delete(`/api/v1/tokens/${id}`);
      io.out.write(`Token ${clean(id)} revoked.\n`);
    });
}
