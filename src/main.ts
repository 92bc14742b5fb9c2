// Process entry: `node src/main.ts [all|api|worker]`. Loads config, migrates, builds the
// container and starts the role. SIGTERM/SIGINT drain gracefully; a second signal exits at once.
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createContainer, type Container } from './container.js';
import { migrate } from './db/migrate.js';
import { createLogger } from './lib/logger.js';
import { createApp } from './api/app.js';
import { startWorkers, type RunningWorkers } from '../workers/index.js';

type Role = 'all' | 'api' | 'worker';

function parseRole(arg: string | undefined): Role {
  if (arg === undefined || arg === 'all') return 'all';
  if (arg === 'api' || arg === 'worker') return arg;
  process.stderr.write(`Unknown role "${arg}": use all, api or worker.\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const role = parseRole(process.argv[2]);
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const log = createLogger(config.logLevel, { role });
  await migrate(config.databaseUrl, log);
  const container: Container = await createContainer(config, log);

  if (container.secrets.generatedAdminToken) {
    // Printed once, on stdout, outside the logger (which would redact it).
    process.stdout.write(
      `\n  Bulletin generated an admin token (shown once; only its hash is stored):\n\n` +
        `    ${container.secrets.generatedAdminToken}\n\n` +
        `  Use it as "Authorization: Bearer <token>", or set ADMIN_TOKEN to choose your own.\n\n`,
    );
  }

  let server: Server | undefined;
  let workers: RunningWorkers | undefined;
  if (role !== 'api') {
    workers = startWorkers(container);
    await container.reconcile();
  }
  if (role !== 'worker') {
    const app = createApp(container);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(config.port, () => resolve(s));
    });
    log.info(
      { event: 'listening', port: config.port, url: config.publicUrl },
      `Bulletin listening on port ${config.port}`,
    );
    if (!config.smtpUrl) {
      log.info(
        { event: 'outbox', dir: config.outboxDir },
        'SMTP_URL is unset: mail goes to the development outbox',
      );
    }
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ event: 'shutdown_forced', signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ event: 'shutdown', signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ event: 'shutdown_timeout' }, 'shutdown took too long: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    void (async () => {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
        });
      }
      await workers?.close();
      await container.close();
      log.info({ event: 'stopped' }, 'stopped');
      process.exit(0);
    })().catch((error: unknown) => {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Bulletin failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
