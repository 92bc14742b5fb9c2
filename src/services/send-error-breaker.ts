// The consecutive-error breaker behind a campaign's auto-pause (docs/campaigns.md): windows whose
// every message met a transport error (authentication refused, connection refused) add to one
// count per campaign, shared by every worker process through Redis; any accepted message ends
// the run. When the count reaches MAX_SEND_ERRORS the breaker trips, once, and starts again.
import type { Redis } from 'ioredis';

export class SendErrorBreaker {
  /** When this process last reset a campaign's count, by campaign. */
  private readonly resetAt = new Map<number, number>();
  /** Campaigns whose count this process raised since it last reset it. */
  private readonly raised = new Set<number>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly threshold: number,
  ) {}

  private key(campaignId: number): string {
    return `${this.prefix}:senderrors:${campaignId}`;
  }

  /**
   * A window failed whole, with `errors` transport errors. Returns the consecutive count when
   * this window tripped the breaker (the count is then cleared), undefined otherwise.
   */
  async failed(campaignId: number, errors: number): Promise<number | undefined> {
    const consecutive = await this.redis.incrby(this.key(campaignId), errors);
    this.raised.add(campaignId);
    if (consecutive < this.threshold) return undefined;
    await this.redis.del(this.key(campaignId));
    this.raised.delete(campaignId);
    return consecutive;
  }

  /**
   * A message was accepted: the run of errors is over. Resetting the shared count costs a Redis
   * round trip, so while all goes well it is done at most once a second per campaign; always at
   * once after this process raised the count itself. (Another process's errors may then outlive
   * one of our successes by up to a second.)
   */
  async succeeded(campaignId: number): Promise<void> {
    const now = Date.now();
    const raised = this.raised.delete(campaignId);
    if (!raised && now - (this.resetAt.get(campaignId) ?? 0) < 1000) return;
    this.resetAt.set(campaignId, now);
    if (this.resetAt.size > 100) this.resetAt.clear();
    await this.redis.del(this.key(campaignId));
  }
}
