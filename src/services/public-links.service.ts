// Turns the signed token of a public link into the subscriber (and campaign) it names, and signs
// new links. A forged token, a token for another page and a token whose subscriber is gone all
// come back as `undefined`, so the pages cannot tell them apart either.
import { signLink, TIMED_PURPOSES, verifyLink, type SigningKey } from '../domain/links.js';
import {
  signTracking,
  verifyTracking,
  type TrackingPayload,
  type TrackingPurpose,
} from '../domain/tracking-tokens.js';
import type { Pool } from '../db/pool.js';
import { CampaignsRepository } from '../db/repositories/campaigns.repository.js';
import {
  SubscribersRepository,
  type SubscriberRow,
} from '../db/repositories/subscribers.repository.js';

export type PublicLinkPurpose = 'unsubscribe' | 'preferences' | 'confirm' | 'my-data' | 'erase';

/** How long a mailed "download my data" or "erase me" link works. */
export const DATA_LINK_TTL_SECONDS = 3600;

export interface LinkCampaign {
  id: number;
  uuid: string;
  name: string;
}

/** Whoever followed a genuine link: the subscriber it names, and the campaign it came in. */
export interface Visitor {
  subscriber: SubscriberRow;
  /** Undefined when the link names no campaign, or the campaign was deleted since. */
  campaign: LinkCampaign | undefined;
  /** The campaign uuid the link carries, even when that campaign no longer exists. */
  campaignUuid: string | undefined;
  token: string;
}

/** Looked up when a token is not genuine, so both cases cost a database round trip. */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Base64url decoding ignores a trailing partial character and the unused low bits of the last
 * one, so `token + 'x'` would decode to the same bytes. Only the one spelling we issue counts.
 */
function canonical(token: string): boolean {
  const body = token.slice(token.indexOf('.') + 1);
  return Buffer.from(body, 'base64url').toString('base64url') === body;
}

export class PublicLinks {
  constructor(
    private readonly pool: Pool,
    private readonly publicUrl: string,
    private readonly keys: () => readonly SigningKey[],
  ) {}

  async resolve(token: string, purpose: PublicLinkPurpose): Promise<Visitor | undefined> {
    let payload = canonical(token) ? verifyLink(this.keys(), token, purpose) : undefined;
    // An expired timed link is as unknown as a forged one.
    const age = Math.floor(Date.now() / 1000) - (payload?.issuedAt ?? 0);
    if (TIMED_PURPOSES.has(purpose) && (age < -60 || age > DATA_LINK_TTL_SECONDS)) {
      payload = undefined;
    }
    const subscriber = await new SubscribersRepository(this.pool).findByUuid(
      payload?.subscriberUuid ?? NIL_UUID,
    );
    if (!payload || !subscriber) return undefined;
    let campaign: LinkCampaign | undefined;
    if (payload.campaignUuid) {
      campaign = await new CampaignsRepository(this.pool).summaryByUuid(payload.campaignUuid);
    }
    return { subscriber, campaign, campaignUuid: payload.campaignUuid, token };
  }

  token(purpose: PublicLinkPurpose, subscriberUuid: string, campaignUuid?: string): string {
    const key = this.keys()[0];
    if (!key) throw new Error('no signing key');
    return signLink(key, { purpose, subscriberUuid, ...(campaignUuid ? { campaignUuid } : {}) });
  }

  /** The token of a VERP return path: bounce reports name the message by it. */
  bounceToken(subscriberUuid: string, campaignUuid: string): string {
    const key = this.keys()[0];
    if (!key) throw new Error('no signing key');
    return signLink(key, { purpose: 'bounce', subscriberUuid, campaignUuid });
  }

  /** The URL of an engagement link: a click, the open pixel, a web view (tracking-tokens.ts). */
  trackingUrl(payload: TrackingPayload): string {
    const key = this.keys()[0];
    if (!key) throw new Error('no signing key');
    const path = { click: 'l', open: 'o', view: 'view', sample: 'view' }[payload.purpose];
    return `${this.publicUrl}/${path}/${signTracking(key, payload)}`;
  }

  /** The payload of a genuine engagement token of this purpose (undefined otherwise). */
  verifyTracking(token: string, purpose: TrackingPurpose): TrackingPayload | undefined {
    return verifyTracking(this.keys(), token, purpose);
  }

  /** The path of a page on this site (what the pages link to). */
  path(purpose: PublicLinkPurpose, subscriberUuid: string, campaignUuid?: string): string {
    return `/${purpose}/${this.token(purpose, subscriberUuid, campaignUuid)}`;
  }

  /** The absolute URL (what mail links to). */
  url(purpose: PublicLinkPurpose, subscriberUuid: string, campaignUuid?: string): string {
    return `${this.publicUrl}${this.path(purpose, subscriberUuid, campaignUuid)}`;
  }
}
