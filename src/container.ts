// The composition root: builds the pools, queues, transport and services for one process.
// Nothing else in the code base opens a connection, and importing a module starts nothing.
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createPool, type Pool } from './db/pool.js';
import { ImportsRepository } from './db/repositories/imports.repository.js';
import { ListsRepository } from './db/repositories/lists.repository.js';
import { SettingsRepository } from './db/repositories/settings.repository.js';
import { TokensRepository } from './db/repositories/tokens.repository.js';
import { TemplatesRepository } from './db/repositories/templates.repository.js';
import type { Logger } from './lib/logger.js';
import { createMailTransport, type MailTransport } from './mail/transport.js';
import { createQueues, type Queues } from './queue/queues.js';
import { ExportsService } from './services/exports.service.js';
import { HealthService } from './services/health.service.js';
import { InFlight } from './queue/in-flight.js';
import { DataRequestsService } from './services/data-requests.service.js';
import { QueuesService } from './services/queues.service.js';
import { ImportRunner } from './services/import-runner.service.js';
import { ImportsService } from './services/imports.service.js';
import { ListsService } from './services/lists.service.js';
import { loadSecrets, type Secrets } from './services/secrets.service.js';
import { SubscribersService } from './services/subscribers.service.js';
import { TokensService } from './services/tokens.service.js';
import { TemplatesService } from './services/templates.service.js';
import { AudienceService } from './services/audience.service.js';
import { CampaignReportService } from './services/campaign-report.service.js';
import { CampaignsService } from './services/campaigns.service.js';
import { DeliveryService } from './services/delivery.service.js';
import { FeedbackService } from './services/feedback.service.js';
import { EngagementService } from './services/engagement.service.js';
import { ArchiveService } from './services/archive.service.js';
import { EngagementReportService } from './services/engagement-report.service.js';
import { CampaignMessageBuilder } from './services/campaign-message.builder.js';
import { TestSendService } from './services/test-send.service.js';
import { WebhookEventsService } from './services/webhook-events.service.js';
import { SnsVerifier } from './api/webhooks/ses.js';
import { PublicLinks } from './services/public-links.service.js';
import { PublicPreferencesService } from './services/public-preferences.service.js';
import { PublicSubscriptionsService } from './services/public-subscriptions.service.js';
import { signingKey, type SigningKey } from './domain/links.js';
import { createRateLimiter } from './queue/rate-limiter.js';
import { STALE_SENDING_MS } from './domain/campaign.js';
import { Metrics } from './metrics/metrics.js';
import { campaignProgress } from './db/repositories/campaign-progress.repository.js';
import { instrumentTransport } from './metrics/transport.js';
import { ApprovalsService } from './services/approvals.service.js';
import { AuditService } from './services/audit.service.js';
import { SessionsService, type Clock } from './services/sessions.service.js';
import { TwoFactorService } from './services/two-factor.service.js';
import { UsersService } from './services/users.service.js';

export interface Container {
  config: Config;
  log: Logger;
  pool: Pool;
  redis: Redis;
  queues: Queues;
  transport: MailTransport;
  /** This process's Prometheus metrics, in a registry of their own. */
  metrics: Metrics;
  secrets: Secrets;
  /** Verification keys for signed links: the current one first. */
  signingKeys: SigningKey[];
  services: {
    lists: ListsService;
    subscribers: SubscribersService;
    tokens: TokensService;
    imports: ImportsService;
    exports: ExportsService;
    health: HealthService;
    queues: QueuesService;
    importRunner: ImportRunner;
    templates: TemplatesService;
    feedback: FeedbackService;
    webhookEvents: WebhookEventsService;
    /** SNS signature checks; tests build an app with one whose certificate fetcher is fake. */
    snsVerifier: SnsVerifier;
    audience: AudienceService;
    campaigns: CampaignsService;
    campaignReport: CampaignReportService;
    testSend: TestSendService;
    engagement: EngagementService;
    engagementReport: EngagementReportService;
    archive: ArchiveService;
    delivery: DeliveryService;
    links: PublicLinks;
    publicSubscriptions: PublicSubscriptionsService;
    publicPreferences: PublicPreferencesService;
    dataRequests: DataRequestsService;
    audit: AuditService;
    sessions: SessionsService;
    twoFactor: TwoFactorService;
    users: UsersService;
    approvals: ApprovalsService;
  };
  /** Re-queues work that PostgreSQL says is pending (after Redis lost it). */
  reconcile(): Promise<void>;
  close(): Promise<void>;
}

type ServiceParts = Omit<Container, 'services' | 'reconcile' | 'close'> & { clock: Clock };

export interface ContainerOptions {
  /** The time sessions, links and approvals are judged by (tests move it). */
  clock?: Clock;
}

/** Accounts, sessions, the audit log and the two-person rule (docs/accounts.md). */
function createAccountServices(parts: ServiceParts) {
  const { config, log, pool, transport, signingKeys, clock } = parts;
  const audit = new AuditService(pool);
  const twoFactor = new TwoFactorService(pool, `${config.org.name} Bulletin`);
  const sessions = new SessionsService(pool, config, twoFactor, clock);
  const secrets = () => signingKeys.map((k) => k.secret);
  const users = new UsersService(pool, config, transport, sessions, secrets, log, clock);
  const approvals = new ApprovalsService(pool, config, transport, audit, log, clock);
  return { audit, twoFactor, sessions, users, approvals };
}

/** Every service of the process, each built once, sharing the process's connections. */
function createServices(parts: ServiceParts): Container['services'] {
  const { config, log, pool, redis, queues, transport, metrics, secrets, signingKeys } = parts;
  const accounts = createAccountServices(parts);
  const imports = new ImportsService(pool, queues, config.importMaxBytes);

  const feedback = new FeedbackService(pool, config);
  const audience = new AudienceService(pool, queues, log, { redis, prefix: config.queuePrefix });
  const inFlight = new InFlight(redis, config.queuePrefix);
  const campaigns = new CampaignsService(
    pool,
    queues,
    audience,
    log,
    inFlight,
    metrics,
    accounts.approvals,
    {
      tracking: { opens: config.tracking.opens, clicks: config.tracking.clicks },
      publicUrl: config.publicUrl,
    },
  );
  const links = new PublicLinks(pool, config.publicUrl, () => signingKeys);
  const services = {
    webhookEvents: new WebhookEventsService(pool, queues, log, metrics),
    snsVerifier: new SnsVerifier(),
    lists: new ListsService(new ListsRepository(pool)),
    subscribers: new SubscribersService(pool),
    tokens: new TokensService(new TokensRepository(pool), secrets.adminTokenHash),
    imports,
    exports: new ExportsService(pool),
    health: new HealthService(pool, redis, transport),
    queues: new QueuesService(queues),
    importRunner: new ImportRunner(pool, log),
    templates: new TemplatesService(new TemplatesRepository(pool), config, (id, actor) =>
      accounts.approvals.templateEdited(id, actor),
    ),
    feedback,
    audience,
    campaigns,
    campaignReport: new CampaignReportService(pool, campaigns, config.publicUrl, config.org),
    testSend: new TestSendService(pool, config, transport, campaigns, links),
    engagement: new EngagementService(
      pool,
      links,
      new CampaignMessageBuilder(config, links),
      parts.clock,
    ),
    engagementReport: new EngagementReportService(pool),
    archive: new ArchiveService(pool, config.publicUrl, config.org),
    delivery: new DeliveryService({
      pool,
      redis,
      config,
      transport,
      limiter: createRateLimiter(redis, config.queuePrefix, config.sendRate),
      queues,
      feedback,
      links,
      log,
      metrics,
      inFlight,
    }),
    links,
    publicSubscriptions: new PublicSubscriptionsService(pool, config, transport, links, log),
    publicPreferences: new PublicPreferencesService(pool, log),
    dataRequests: new DataRequestsService(config, transport, links, redis, log),
    ...accounts,
  };
  return services;
}

export async function createContainer(
  config: Config,
  log: Logger,
  options: ContainerOptions = {},
): Promise<Container> {
  const pool = createPool(config.databaseUrl);
  // BullMQ wants no per-command retry limit on its connections; commands wait for Redis.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (error) => log.warn({ event: 'redis_error', err: error }, 'redis error'));
  const queues = createQueues(redis, config.queuePrefix, (queue, error) =>
    log.warn({ event: 'queue_error', queue, err: error }, 'queue error'),
  );
  const metrics = new Metrics({
    queues: () => queues.all(),
    campaignProgress: () => campaignProgress(pool),
    cacheMs: config.metricsCacheMs,
    onCollectError: (collector, error) =>
      log.warn({ event: 'metrics_collect_failed', collector, err: error }, 'metrics read failed'),
  });
  const transport = instrumentTransport(createMailTransport(config), metrics);
  const secrets = await loadSecrets(config, new SettingsRepository(pool));
  const signing = signingKey(secrets.secretKey);
  // The current key signs; former ones (SECRET_KEY_PREVIOUS) still verify.
  const signingKeys = [signing, ...config.previousSecretKeys.map(signingKey)];
  const parts = { config, log, pool, redis, queues, transport, metrics, secrets, signingKeys };
  const services = createServices({ ...parts, clock: options.clock ?? (() => new Date()) });
  const imports = services.imports;

  return {
    ...parts,
    services,
    async reconcile() {
      // Claims older than this belong to no live job (a window's SMTP work is far shorter).
      await services.campaigns.reconcile(STALE_SENDING_MS);
      await imports.dropStaleUploads();
      const pending = await new ImportsRepository(pool).pending();
      for (const id of pending) await imports.enqueue(id);
      if (pending.length > 0)
        log.info({ event: 'imports_requeued', count: pending.length }, 'imports re-queued');
    },
    async close() {
      // A confirmation mail accepted by a form post is sent before the transport closes.
      await services.publicSubscriptions.settled();
      // Opens and clicks already answered are written before the pool closes.
      await services.engagement.close();
      // With Redis unreachable, closing the queues would wait for a connection that never
      // comes: drop the connection first so shutdown stays bounded.
      if (redis.status !== 'ready') redis.disconnect();
      await queues.close().catch(() => undefined);
      transport.close();
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      await pool.end();
    },
  };
}
