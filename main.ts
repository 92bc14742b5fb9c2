// Process entry: `node main.ts [all|api|worker]`. Loads config, migrates, builds the
// container and starts the role. SIGTERM/SIGINT drain gracefully; a second signal exits at once.
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './src/config.js';
import { createContainer, type Container } from './src/container.js';
import { migrate } from './src/db/migrate.js';
import { createLogger, prettyDestination, type Logger } from './src/lib/logger.js';
import { createApp } from './src/api/app.js';
import { createOpsApp } from './src/api/ops-app.js';
import { listen } from './src/api/http-server.js';
import { startWorkers, type RunningWorkers } from './workers/index.js';
import { startScheduler } from './workers/scheduler.js';
import { startConfiguredBounceReceiver } from './workers/bounce.js';
import type { BounceReceiver } from './src/mail/inbound/bounce-receiver.js';

type Role = 'all' | 'api' | 'worker';

/** A start-up failure an operator can act on from its message alone: printed without a stack. */
class StartupError extends Error {}

function parseRole(arg: string | undefined): Role {
  if (arg === undefined || arg === 'all') return 'all';
  if (arg === 'api' || arg === 'worker') return arg;
  process.stderr.write(`Unknown role "${arg}": use all, api or worker.\n`);
  process.exit(2);
}

/** What this process has started so far; shutdown closes exactly that. */
interface Running {
  container?: Container;
  workers?: RunningWorkers;
  scheduler?: { close(): void };
  bounceReceiver?: BounceReceiver | undefined;
  server?: Server;
  /** /health, /ready and /metrics on METRICS_PORT. */
  opsServer?: Server;
}

async function main(): Promise<void> {
  const role = parseRole(process.argv[2]);
  const config = configOrExit();
  // JSON lines, except for a developer watching a terminal (docs/operations.md, logs).
  const pretty = process.stdout.isTTY && config.nodeEnv !== 'production';
  const log = pretty
    ? createLogger(config.logLevel, { role }, prettyDestination())
    : createLogger(config.logLevel, { role });
  const running: Running = {};

  // Signals are handled from the first moment, not once start-up is over: an orchestrator that
  // stops a slow-starting process must not kill workers that already hold jobs. A signal during
  // start-up lets the current step finish (bounded by SHUTDOWN_TIMEOUT_MS), then drains.
  let stopping = false;
  let startingUp = true;
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
    if (!startingUp) void drain(running, log);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // Each step runs to its end; a signal that came in meanwhile stops before the next one.
  const steps: (() => Promise<void>)[] = [
    () => migrateOrExplain(config, log),
    async () => {
      running.container = await createContainer(config, log);
      // Printed even when a signal came in meanwhile: the hash is stored, so this is the only
      // chance to see it.
      printGeneratedToken(running.container);
      // The process that serves the setup page prints its link, before it listens.
      if (role !== 'worker') await printSetupLink(running.container);
    },
    async () => {
      // Every role, so a worker-only process (no API server) can be probed and scraped too.
      if (config.metricsPort !== undefined)
        running.opsServer = await startOpsServer(running.container!);
    },
    async () => {
      if (role !== 'worker') running.server = await startApiServer(running.container!);
    },
    // Workers start after the port is bound: a start that fails on PORT then holds no jobs.
    async () => {
      if (role !== 'api') await startWorkerRole(running);
    },
  ];
  for (const step of steps) {
    await step();
    if (stopping) return drain(running, log);
  }
  startingUp = false;
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

async function migrateOrExplain(config: Config, log: Logger): Promise<void> {
  try {
    await migrate(config.databaseUrl, log);
  } catch (error) {
    throw new StartupError(
      `cannot prepare the database at DATABASE_URL (${redactUrl(config.databaseUrl)}): ` +
        describeError(error),
    );
  }
}

function printGeneratedToken(container: Container): void {
  if (!container.secrets.generatedAdminToken) return;
  // On stdout, outside the logger (which would redact it).
  process.stdout.write(
    `\n  Bulletin generated an admin token (shown once; only its hash is stored):\n\n` +
      `    ${container.secrets.generatedAdminToken}\n\n` +
      `  Use it as "Authorization: Bearer <token>", or set ADMIN_TOKEN to choose your own.\n\n`,
  );
}

/** While no account exists, a one-time link to make the first admin (docs/accounts.md). */
async function printSetupLink(container: Container): Promise<void> {
  const url = await container.services.users.setupLinkIfNoUser();
  if (!url) return;
  // On stdout, outside the logger (which would redact it): it works once.
  process.stdout.write(
    `\n  No account exists yet. Create the first admin account here (works once, 24 hours):\n\n` +
      `    ${url}\n\n` +
      `  Or run: npx bulletin user create --email you@example.org --name "Your Name"\n\n`,
  );
}

/** The port a server really bound: PORT=0 asks the kernel for a free one. */
function boundPort(server: Server, configured: number): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : configured;
}

async function startOpsServer(container: Container): Promise<Server> {
  const { config, log } = container;
  const port = config.metricsPort!;
  const server = await listen(createOpsApp(container), port, config).catch((error: unknown) => {
    throw new StartupError(`cannot listen on METRICS_PORT ${port}: ${describeError(error)}`);
  });
  const bound = boundPort(server, port);
  log.info(
    { event: 'metrics_listening', host: config.host, port: bound },
    `metrics and health on ${config.host}:${bound}`,
  );
  return server;
}

async function startApiServer(container: Container): Promise<Server> {
  const { config, log } = container;
  // Express 5 hands a listen error (EADDRINUSE, EACCES) to this callback rather than throwing.
  const server = await listen(createApp(container), config.port, config).catch((error: unknown) => {
    throw new StartupError(`cannot listen on PORT ${config.port}: ${describeError(error)}`);
  });
  const port = boundPort(server, config.port);
  log.info(
    { event: 'listening', host: config.host, port, url: config.publicUrl },
    `Bulletin listening on ${config.host}:${port}`,
  );
  if (!config.smtpUrl) {
    log.info(
      { event: 'outbox', dir: config.outboxDir },
      'SMTP_URL is unset: mail goes to the development outbox',
    );
  }
  return server;
}

async function startWorkerRole(running: Running): Promise<void> {
  const container = running.container!;
  running.workers = startWorkers(container);
  running.scheduler = startScheduler(container);
  running.bounceReceiver = startConfiguredBounceReceiver(container);
  await container.reconcile();
}

/** Stops taking work, lets in-flight requests and jobs finish, closes connections, exits 0. */
async function drain(running: Running, log: Logger): Promise<void> {
  try {
    const { server, opsServer, workers, scheduler, bounceReceiver, container } = running;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    }
    scheduler?.close();
    await Promise.all([workers?.close(), bounceReceiver?.close()]);
    // Scrapes and probes keep answering while the workers drain; closed before the
    // connections it reads from.
    if (opsServer) {
      await new Promise<void>((resolve) => {
        opsServer.close(() => resolve());
        opsServer.closeIdleConnections();
      });
    }
    await container?.close();
    log.info({ event: 'stopped' }, 'stopped');
    process.exit(0);
  } catch (error) {
    log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}

function describeError(error: unknown): string {
  // pg reports a refused connection to every address of a host as an AggregateError.
  const errors = error instanceof AggregateError ? error.errors : [error];
  return errors
    .map((e: unknown) => {
      const { code, message } = (e ?? {}) as { code?: string; message?: string };
      return message
        ? code && !message.includes(code)
          ? `${code} ${message}`
          : message
        : String(e);
    })
    .join('; ');
}

/** The URL without its password, for messages. */
function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

main().catch((error: unknown) => {
  const detail =
    error instanceof StartupError ? error.message : ((error as Error).stack ?? String(error));
  process.stderr.write(`Bulletin failed to start: ${detail}\n`);
  process.exit(1);
});
