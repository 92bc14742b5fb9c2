// `bulletin user create`: makes an account directly in the database (DATABASE_URL), for the
// first admin or when nobody can sign in. It prints a one-time set-password link (72 hours),
// also mailed to the address. The container is the service's own, so the link is signed with
// the same SECRET_KEY the server checks it with.
import { InvalidArgumentError, type Command } from 'commander';
import { ROLES } from '../../domain/roles.js';
import { CliError } from '../errors.js';
import { io, serviceConfig } from '../runtime.js';

function rolesArg(value: string): string[] {
  const roles = value
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as string[]).includes(r));
  if (roles.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`must be a comma-separated subset of: ${ROLES.join(', ')}`);
  }
  return roles;
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('accounts of the people who sign in');
  user
    .command('create')
    .description('create a user in the database and print a one-time set-password link')
    .requiredOption('--email <address>', 'their email address (they sign in with it)')
    .requiredOption('--name <name>', 'their name')
    .option('--roles <list>', `comma-separated roles (${ROLES.join(', ')})`, rolesArg, ['admin'])
    .action(async (options: { email: string; name: string; roles: string[] }) => {
      const config = serviceConfig();
      const { migrate } = await import('../../db/migrate.js');
      const { createContainer } = await import('../../container.js');
      const { createLogger } = await import('../../lib/logger.js');
      const { AppError } = await import('../../domain/errors.js');
      const log = createLogger('warn');
      await migrate(config.databaseUrl, log);
      const container = await createContainer(config, log);
      try {
        const { user: created, setPasswordUrl } = await container.services.users.create({
          email: options.email,
          name: options.name,
          roles: options.roles,
        });
        io.out.write(
          `Created user ${created.id} <${created.email}> with roles ${created.roles.join(', ')}.\n\n` +
            `  Set the password (one time, within 72 hours):\n\n    ${setPasswordUrl}\n\n`,
        );
      } catch (error) {
        if (error instanceof AppError) {
          const fields = error.details.errors?.map((e) => `${e.path} ${e.message}`).join('; ');
          throw new CliError(fields ? `${error.message}: ${fields}` : error.message);
        }
        throw error;
      } finally {
        await container.close();
      }
    });
}
