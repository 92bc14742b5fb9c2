// Prometheus metrics of one process (docs/contract.md §4.4), in a registry of its own: the global
// default registry would mix the metrics of every container a test process builds. Counters
// are incremented where the outcome is recorded; queue depths and campaign progress are read
// at scrape time, so they are never stale and cost nothing between scrapes. docs/metrics.md
// says what each one means.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sharedRead } from '../lib/shared-read.js';
import { JOB_STATES } from '../queue/queues.js';

/** One per ledger status a send can end in, plus `retried`: re-queued for a later attempt. */
export const MESSAGE_RESULTS = [
  'sent',
  'failed',
  'bounced',
  'unknown',
  'suppressed',
  'retried',
] as const;
export type MessageResult = (typeof MESSAGE_RESULTS)[number];

export const QUEUE_STATES = JOB_STATES;

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** What a BullMQ queue offers for the queue gauge (an interface, so tests need no Redis). */
export interface JobCountsSource {
  name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

export interface CampaignProgress {
  campaignId: number;
  /** 0..1: the share of the ledger no longer queued or sending. */
  progress: number;
}

export interface MetricsSources {
  queues?: () => readonly JobCountsSource[];
  /** Progress of the campaigns that are running or paused. */
  campaignProgress?: () => Promise<CampaignProgress[]>;
  /** A scrape-time read slower than this is abandoned: Redis or PostgreSQL down must not hang /metrics. */
  collectTimeoutMs?: number;
  /**
   * How long a scrape-time read of PostgreSQL or Redis is reused (METRICS_CACHE_MS). Scrapes
   * come every 15 s or so; a flood of them must not become a flood of queries.
   */
  cacheMs?: number;
  onCollectError?: (collector: string, error: unknown) => void;
}

export class Metrics {
  readonly registry = new Registry();
  readonly messages: Counter<'result'>;
  readonly smtpSendSeconds: Histogram<'outcome'>;
  readonly webhookEvents: Counter<'source' | 'type'>;
  readonly webhookRejected: Counter<'source'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly collectErrors: Counter<'collector'>;

  constructor(sources: MetricsSources = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.messages = new Counter({
      name: 'bulletin_messages_total',
      help: 'Campaign messages by outcome recorded in the delivery ledger by this process (retried = re-queued after a transient failure)',
      labelNames: ['result'],
      registers,
    });
    // Every result exists from the start: rate() and alerts need a series before the first one.
    for (const result of MESSAGE_RESULTS) this.messages.inc({ result }, 0);

    this.smtpSendSeconds = new Histogram({
      name: 'bulletin_smtp_send_seconds',
      help: 'Duration of each SMTP transaction (message handed to the transport until the server answered)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.smtpSendSeconds.zero({ outcome: 'ok' });
    this.smtpSendSeconds.zero({ outcome: 'error' });

    this.webhookEvents = new Counter({
      name: 'bulletin_webhook_events_total',
      help: 'Provider webhook events stored for the first time (replays are not counted)',
      labelNames: ['source', 'type'],
      registers,
    });
    this.webhookRejected = new Counter({
      name: 'bulletin_webhook_rejected_total',
      help: 'Webhook requests refused for a bad signature or credentials',
      labelNames: ['source'],
      registers,
    });

    this.httpRequests = new Counter({
      name: 'bulletin_http_requests_total',
      help: 'HTTP requests answered, by route pattern (unmatched = no route) and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpRequestSeconds = new Histogram({
      name: 'bulletin_http_request_duration_seconds',
      help: 'HTTP request duration, by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    this.collectErrors = new Counter({
      name: 'bulletin_metrics_collect_errors_total',
      help: 'Scrape-time reads that failed or timed out (their gauges are left out of that scrape)',
      labelNames: ['collector'],
      registers,
    });

    this.addScrapeGauges(sources, registers);
  }

  /** Gauges read at scrape time from Redis and PostgreSQL, each bounded and cached. */
  private addScrapeGauges(sources: MetricsSources, registers: Registry[]): void {
    const timeoutMs = sources.collectTimeoutMs ?? 5000;
    const cacheMs = sources.cacheMs ?? 5000;
    // Reads first, then reset and set with no await in between: two concurrent scrapes never
    // see a half-filled gauge.
    const collecting = async <T>(collector: string, read: () => Promise<T>) => {
      try {
        return await withTimeout(read(), timeoutMs, collector);
      } catch (error) {
        this.collectErrors.inc({ collector });
        sources.onCollectError?.(collector, error);
        return undefined;
      }
    };
    const collectErrors = this.collectErrors;
    for (const collector of ['queues', 'campaign_progress']) collectErrors.inc({ collector }, 0);

    const queues = sources.queues;
    const queueCounts = sharedRead(
      () =>
        Promise.all(
          (queues?.() ?? []).map(async (q) => ({
            queue: q.name,
            counts: await q.getJobCounts(...QUEUE_STATES),
          })),
        ),
      cacheMs,
    );
    new Gauge({
      name: 'bulletin_queue_jobs',
      help: 'BullMQ jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const counts = queues ? await collecting('queues', queueCounts) : [];
        this.reset();
        for (const { queue, counts: byState } of counts ?? []) {
          for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
        }
      },
    });

    const progress = sources.campaignProgress
      ? sharedRead(sources.campaignProgress, cacheMs)
      : undefined;
    new Gauge({
      name: 'bulletin_campaign_progress',
      help: 'Share (0..1) of a running or paused campaign ledger that is done (not queued or sending)',
      labelNames: ['campaign'],
      registers,
      async collect() {
        const rows = progress ? await collecting('campaign_progress', progress) : [];
        this.reset();
        for (const row of rows ?? []) this.set({ campaign: String(row.campaignId) }, row.progress);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private rendering: Promise<string> | undefined;

  /**
   * The Prometheus text exposition of every metric. Concurrent scrapes share one rendering, and
   * the database and Redis figures in it are reused for `cacheMs`.
   */
  render(): Promise<string> {
    this.rendering ??= this.registry.metrics().finally(() => {
      this.rendering = undefined;
    });
    return this.rendering;
  }

  /** Counts outcomes just written to the ledger. */
  countMessages(results: Iterable<MessageResult>): void {
    const counts = new Map<MessageResult, number>();
    for (const result of results) counts.set(result, (counts.get(result) ?? 0) + 1);
    for (const [result, n] of counts) this.messages.inc({ result }, n);
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    // Node accepts a few dozen methods; anything unusual shares one label value.
    const labels = {
      method: HTTP_METHODS.has(method) ? method : 'OTHER',
      route,
      status: String(status),
    };
    this.httpRequests.inc(labels);
    this.httpRequestSeconds.observe(labels, seconds);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
