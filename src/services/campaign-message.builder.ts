// Builds one campaign message for one recipient: the per-recipient Liquid render of the
// campaign's snapshot (compiled once per campaign and cached), signed links, the §6 headers.
import type { Config } from '../config.js';
import type { Sender } from '../domain/sender.js';
import type { PublicLinks } from './public-links.service.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import type { Recipient } from '../db/repositories/deliveries.repository.js';
import { formatListId, newMessageId, type OutgoingMessage } from '../mail/message.js';
import { Personalizer } from '../mail/render.js';
import type { MergeVars } from '../mail/types.js';
import { archivePageUrl } from '../domain/campaign-input.js';

export class CampaignMessageBuilder {
  private readonly personalizers = new Map<string, Personalizer>();

  constructor(
    private readonly config: Config,
    /** The one place public links are built (the pages use it too). */
    private readonly links: PublicLinks,
  ) {}

  build(
    campaign: CampaignRow,
    personalizer: Personalizer,
    r: Recipient,
    from: Sender,
  ): OutgoingMessage {
    const unsubscribeUrl = this.links.url('unsubscribe', r.uuid, campaign.uuid);
    // The HTML part comes quoted-printable already: its static runs were encoded once.
    const rendered = personalizer.renderForMime(this.vars(campaign, r, unsubscribeUrl));
    // The list this recipient is on (the campaign's first one they are confirmed on), named:
    // RFC 2919 lets mail clients show and filter by the phrase.
    const firstList = r.list_id ?? campaign.list_ids[0] ?? 0;
    return {
      from: { ...(from.name ? { name: from.name } : {}), address: from.address },
      to: { ...(r.name ? { name: r.name } : {}), address: r.email },
      ...(campaign.reply_to ? { replyTo: campaign.reply_to } : {}),
      subject: rendered.subject,
      html: '',
      htmlEncoded: rendered.htmlEncoded,
      text: rendered.text,
      messageId: newMessageId(from.domain),
      listUnsubscribe: {
        url: unsubscribeUrl,
        ...(this.config.unsubscribeMailto ? { mailto: this.config.unsubscribeMailto } : {}),
      },
      oneClick: true,
      listId: formatListId(r.list_name ?? '', firstList, from.domain),
      bulk: true,
      feedbackId: `${campaign.id}:${firstList}:newsletter:bulletin`,
      campaignUuid: campaign.uuid,
      ...(this.config.bounceDomain
        ? {
            returnPath: `bounce+${this.links.bounceToken(r.uuid, campaign.uuid)}@${this.config.bounceDomain}`,
          }
        : {}),
    };
  }

  /** Everything the recipient's message is rendered with (the mail and its web view). */
  vars(campaign: CampaignRow, r: Recipient, unsubscribeUrl?: string): MergeVars {
    const link = (purpose: 'unsubscribe' | 'preferences') =>
      this.links.url(purpose, r.uuid, campaign.uuid);
    return {
      subscriber: { email: r.email, name: r.name, uuid: r.uuid, attributes: r.attributes },
      campaign: {
        name: campaign.name,
        subject: campaign.snapshot!.subject,
        uuid: campaign.uuid,
        data: campaign.data,
      },
      list: { name: r.list_name ?? '' },
      org: { name: this.config.org.name, address: this.config.org.address ?? '' },
      unsubscribe_url: unsubscribeUrl ?? link('unsubscribe'),
      preferences_url: link('preferences'),
      ...this.engagement(campaign, r.delivery_id),
    };
  }

  /**
   * The recipient's engagement links: the web copy (the archive page when archived, else this
   * delivery's own view; a sample view for tests, which have no delivery), and the tracked
   * links and pixel when the snapshot has them. One HMAC per link: nothing else per recipient.
   */
  private engagement(campaign: CampaignRow, deliveryId: number) {
    const snapshot = campaign.snapshot!;
    const archive_url =
      campaign.archive && campaign.archive_slug
        ? archivePageUrl(this.config.publicUrl, campaign.archive_slug)
        : this.links.trackingUrl(
            deliveryId > 0
              ? { purpose: 'view', id: deliveryId }
              : { purpose: 'sample', id: campaign.id },
          );
    if (deliveryId <= 0) return { archive_url };
    return {
      archive_url,
      ...(snapshot.tracking?.clicks && snapshot.links?.length
        ? {
            tracked_links: snapshot.links.map((_, link) =>
              this.links.trackingUrl({ purpose: 'click', id: deliveryId, link }),
            ),
          }
        : {}),
      ...(snapshot.tracking?.opens
        ? { open_pixel_url: this.links.trackingUrl({ purpose: 'open', id: deliveryId }) }
        : {}),
    };
  }

  personalizer(campaign: CampaignRow): Personalizer {
    const cacheKey = `${campaign.id}:${campaign.started_at?.getTime() ?? 0}`;
    let p = this.personalizers.get(cacheKey);
    if (!p) {
      p = new Personalizer(campaign.snapshot!);
      if (this.personalizers.size > 20) this.personalizers.clear();
      this.personalizers.set(cacheKey, p);
    }
    return p;
  }
}
