// Sends the batches of a campaign: the heart of the exactly-once promise (docs/contract.md §5).
//
// A batch job owns a range of ledger ids. Each run of it (src/services/batch-run.ts) works in
// small windows: claim a few due, queued rows ('queued' → 'sending', with the run's claim
// `<jobId>#<run>`), re-check in the same statement that each subscriber may still be mailed,
// send, classify the answers, and write the outcomes. Each SMTP transaction begins only after
// an in-flight marker in Redis says so (src/queue/in-flight.ts), at most SMTP_POOL_SIZE at once
// per process. If the process dies, the next run of the same job resolves the dead run's rows
// from those markers: begun and unanswered → 'unknown' (never re-sent by itself), accepted →
// 'sent', never begun → 'queued' again.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { PublicLinks } from './public-links.service.js';
import type { Pool } from '../db/pool.js';
import { CampaignsRepository } from '../db/repositories/campaigns.repository.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import { Gate } from '../lib/gate.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { CampaignMessageBuilder } from './campaign-message.builder.js';
import type { MailTransport } from '../mail/transport.js';
import type { RateLimiter } from '../queue/rate-limiter.js';
import type { DeliveryJob, Queues } from '../queue/queues.js';
import type { FeedbackService } from './feedback.service.js';
import type { InFlight } from '../queue/in-flight.js';
import { MessageSender } from './message-sender.js';
import { BatchRun, type BatchOutcome, type BatchRunParts } from './batch-run.js';
import { SendErrorBreaker } from './send-error-breaker.js';

export type { BatchOutcome };

export interface DeliveryDeps {
  pool: Pool;
  redis: Redis;
  config: Config;
  transport: MailTransport;
  limiter: RateLimiter;
  queues: Queues;
  feedback: FeedbackService;
  links: PublicLinks;
  log: Logger;
  metrics: Metrics;
  inFlight: InFlight;
}

export class DeliveryService {
  /**
   * Windows claimed and in flight in this process, across its WORKER_CONCURRENCY jobs. More
   * than a few per SMTP connection only queue inside nodemailer's pool: they cost memory and
   * CPU, and leave more rows `sending` (hence `unknown` after a crash) for no throughput.
   */
  static readonly WINDOWS_IN_FLIGHT = 4;

  private readonly parts: BatchRunParts;
  private readonly log: Logger;

  constructor(deps: DeliveryDeps) {
    const { config } = deps;
    const messages = new CampaignMessageBuilder(config, deps.links);
    this.log = deps.log;
    this.parts = {
      db: deps.pool,
      campaigns: new CampaignsRepository(deps.pool),
      ledger: new DeliveriesRepository(deps.pool),
      inFlight: deps.inFlight,
      sender: new MessageSender(
        messages,
        deps.limiter,
        deps.transport,
        deps.inFlight,
        config.smtpPoolSize,
      ),
      messages,
      feedback: deps.feedback,
      queues: deps.queues,
      breaker: new SendErrorBreaker(deps.redis, config.queuePrefix, config.maxSendErrors),
      metrics: deps.metrics,
      config,
      windows: new Gate(DeliveryService.WINDOWS_IN_FLIGHT),
      // How many messages of one job are in flight at once.
      windowSize: Math.max(1, config.smtpPoolSize),
    };
  }

  processBatch(
    job: DeliveryJob,
    jobId: string,
    shouldStop: () => boolean = () => false,
    /** The job's child logger (jobId, campaignId); the service's own otherwise. */
    log: Logger = this.log,
  ): Promise<BatchOutcome> {
    return new BatchRun(this.parts, job, jobId, shouldStop, log).run();
  }
}
