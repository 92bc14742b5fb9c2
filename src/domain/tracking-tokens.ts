// Signed tokens of the engagement links (docs/engagement.md): a click names the delivery and
// the index of the link in the campaign's snapshot, an open and a web view name the delivery,
// a sample view (test sends, previews) names the campaign. Same key ring and MAC as the
// subscription links (links.ts), other purpose bytes: no token serves another purpose.
import { mac, verifiedBytes, type SigningKey } from './links.js';

export type TrackingPurpose = 'click' | 'open' | 'view' | 'sample';

const PURPOSE_BYTE: Record<TrackingPurpose, number> = { click: 10, open: 11, view: 12, sample: 13 };
const ID_BYTES = 6; // up to 2^48 deliveries
const MAX_ID = 2 ** 48 - 1;

export interface TrackingPayload {
  purpose: TrackingPurpose;
  /** The delivery (click, open, view) or the campaign (sample). */
  id: number;
  /** The link's index in the snapshot (click only). */
  link?: number | undefined;
}

function bytesOf(p: TrackingPayload): Buffer {
  if (!Number.isSafeInteger(p.id) || p.id < 1 || p.id > MAX_ID) throw new Error('bad token id');
  const withLink = p.purpose === 'click';
  const data = Buffer.alloc(1 + ID_BYTES + (withLink ? 2 : 0));
  data[0] = PURPOSE_BYTE[p.purpose];
  data.writeUIntBE(p.id, 1, ID_BYTES);
  if (withLink) {
    if (!Number.isInteger(p.link) || p.link! < 0 || p.link! > 0xffff) throw new Error('bad link');
    data.writeUInt16BE(p.link!, 1 + ID_BYTES);
  }
  return data;
}

export function signTracking(key: SigningKey, payload: TrackingPayload): string {
  const data = bytesOf(payload);
  return `${key.id}.${Buffer.concat([data, mac(key, data)]).toString('base64url')}`;
}

/** The payload of a genuine token of this purpose; undefined for anything else, alike. */
export function verifyTracking(
  keys: readonly SigningKey[],
  token: string,
  purpose: TrackingPurpose,
): TrackingPayload | undefined {
  const data = verifiedBytes(keys, token, 80);
  if (!data || data[0] !== PURPOSE_BYTE[purpose]) return undefined;
  const withLink = purpose === 'click';
  if (data.length !== 1 + ID_BYTES + (withLink ? 2 : 0)) return undefined;
  const id = data.readUIntBE(1, ID_BYTES);
  return withLink ? { purpose, id, link: data.readUInt16BE(1 + ID_BYTES) } : { purpose, id };
}
