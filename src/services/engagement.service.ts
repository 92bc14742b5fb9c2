// Opens, clicks and web views (docs/engagement.md). A click redirects only to the original URL
// its token's index names in that campaign's snapshot; every open and click is stored, and a
// machine's (a proxy, a scanner, a prefetch, a burst) is marked so and kept out of the
// unique counts. A delivery whose subscriber was erased still redirects, and records nothing.
import { machineReason } from '../domain/machine-traffic.js';
import { locationOf, OPEN_PIXEL } from '../domain/tracked-links.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { CampaignsRepository, type CampaignRow } from '../db/repositories/campaigns.repository.js';
import {
  EngagementRepository,
  RetentionRepository,
  type TrackedDelivery,
} from '../db/repositories/engagement.repository.js';
import { Personalizer } from '../mail/render.js';
import type { CampaignMessageBuilder } from './campaign-message.builder.js';
import type { PublicLinks } from './public-links.service.js';
import { TrackingWriter } from './tracking-writer.js';

export interface TrackingHit {
  method: string;
  userAgent: string | undefined;
}

/** Campaigns whose links are kept in memory; a campaign's links never change once it starts. */
const LINK_CACHE_SIZE = 50;

export class EngagementService {
  private readonly repo: EngagementRepository;
  private readonly writer: TrackingWriter;
  private readonly linkCache = new Map<string, Promise<string[] | null>>();

  constructor(
    private readonly pool: Pool,
    private readonly links: PublicLinks,
    private readonly messages: CampaignMessageBuilder,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.repo = new EngagementRepository(pool);
    this.writer = new TrackingWriter(pool);
  }

  /** The URL a click token leads to (recorded first), or undefined for a token that is not genuine. */
  async click(token: string, hit: TrackingHit): Promise<string | undefined> {
    const payload = this.links.verifyTracking(token, 'click');
    const delivery = payload && (await this.writer.delivery(payload.id));
    const links = delivery && (await this.campaignLinks(delivery));
    const url = links?.[payload!.link!];
    if (!delivery || !url) return undefined;
    if (delivery.subscriber_id !== null) {
      await this.record(delivery, 'clicked', payload.link!, hit, links.length);
    }
    return url;
  }

  /** Records an open for a genuine token; answers whether it was one. */
  async open(token: string, hit: TrackingHit): Promise<boolean> {
    const payload = this.links.verifyTracking(token, 'open');
    const delivery = payload && (await this.writer.delivery(payload.id));
    if (!delivery) return false;
    if (delivery.subscriber_id !== null) await this.record(delivery, 'opened', null, hit, 0);
    return true;
  }

  /** Waits for the opens and clicks handed to the writer (before the pool closes). */
  close(): Promise<void> {
    return this.writer.close();
  }

  private record(
    delivery: TrackedDelivery,
    type: 'opened' | 'clicked',
    link: number | null,
    hit: TrackingHit,
    linkCount: number,
  ): Promise<void> {
    const at = this.clock();
    const kind = type === 'opened' ? 'open' : 'click';
    const reason = machineReason({ kind, ...hit, sentAt: delivery.sent_at, at });
    return this.writer.write(
      { type, delivery, link, machine: reason !== undefined, machineReason: reason ?? null, at },
      linkCount,
    );
  }

  /**
   * The campaign's tracked links as redirect targets, read once per campaign start (the
   * snapshot is fixed then).
   */
  private campaignLinks(delivery: TrackedDelivery): Promise<string[] | null> {
    const key = `${delivery.campaign_id}:${delivery.campaign_started_at?.getTime() ?? 0}`;
    let links = this.linkCache.get(key);
    if (!links) {
      if (this.linkCache.size >= LINK_CACHE_SIZE) this.linkCache.clear();
      links = this.repo
        .snapshotLinks(delivery.campaign_id)
        .then((found) => found && found.map(locationOf));
      links.catch(() => this.linkCache.delete(key));
      this.linkCache.set(key, links);
    }
    return links;
  }

  /**
   * Removes raw opens and clicks older than `days` days, campaign by campaign, keeping their
   * counts in the campaign (docs/engagement.md, retention). Answers how many events went.
   */
  async applyRetention(days: number): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - days * 86_400_000);
    let removed = 0;
    for (const id of await new RetentionRepository(this.pool).campaignsWithEventsBefore(
      cutoff,
      100,
    )) {
      removed += await inTransaction(this.pool, (tx) =>
        new RetentionRepository(tx).fold(id, cutoff),
      );
    }
    return removed;
  }

  /**
   * "View in browser": the recipient's own message from a web-view token, with the original
   * links and no pixel (nothing is tracked on that page). A sample token (test sends) shows the
   * campaign with sample values. Undefined when the token or the delivery is not there.
   */
  async view(token: string): Promise<{ campaign: CampaignRow; html: string } | undefined> {
    const own = this.links.verifyTracking(token, 'view');
    const sample = own ? undefined : this.links.verifyTracking(token, 'sample');
    const campaigns = new CampaignsRepository(this.pool);
    if (own) {
      const recipient = await this.repo.recipient(own.id);
      const delivery = recipient && (await this.repo.deliveries([own.id])).get(own.id);
      const campaign = delivery && (await campaigns.findById(delivery.campaign_id));
      if (!recipient || !campaign?.snapshot) return undefined;
      return { campaign, html: this.render(campaign, this.messages.vars(campaign, recipient)) };
    }
    const campaign = sample && (await campaigns.findById(sample.id));
    return campaign ? { campaign, html: '' } : undefined;
  }

  private render(campaign: CampaignRow, vars: ReturnType<CampaignMessageBuilder['vars']>) {
    const snapshot = campaign.snapshot!;
    const personalizer = new Personalizer({
      ...snapshot,
      html: snapshot.html.replace(OPEN_PIXEL, ''),
    });
    return personalizer.render({ ...vars, tracked_links: snapshot.links ?? [], open_pixel_url: '' })
      .html;
  }
}
