// Signed tokens for the links in mail (unsubscribe, preferences, confirm) and the VERP return
// path. Compact binary: purpose, subscriber uuid and optional campaign uuid, then a truncated
// HMAC-SHA256. The key id in front lets SECRET_KEY rotate: old links verify with the old key.
// A forged, tampered or unknown token all verify to `undefined`, the same way.
import { createHmac, timingSafeEqual, createHash } from 'node:crypto';

export type LinkPurpose =
  'unsubscribe' | 'preferences' | 'confirm' | 'bounce' | 'my-data' | 'erase';

const PURPOSE_BYTE: Record<LinkPurpose, number> = {
  unsubscribe: 1,
  preferences: 2,
  confirm: 3,
  bounce: 4,
  'my-data': 5,
  erase: 6,
};

/**
 * Links that act with the subscriber's own powers beyond their subscriptions (download their
 * data, erase them) carry the time they were issued and expire: they are mailed to the address
 * when asked for, so that a forwarded newsletter does not hand those powers on.
 */
export const TIMED_PURPOSES: ReadonlySet<LinkPurpose> = new Set(['my-data', 'erase']);
const BYTE_PURPOSE = new Map(Object.entries(PURPOSE_BYTE).map(([k, v]) => [v, k as LinkPurpose]));
export const MAC_BYTES = 16;

export interface LinkPayload {
  purpose: LinkPurpose;
  subscriberUuid: string;
  campaignUuid?: string | undefined;
  /** Unix seconds; timed purposes only (see TIMED_PURPOSES). */
  issuedAt?: number | undefined;
}

export interface SigningKey {
  id: string;
  secret: string;
}

/** A short, stable id for a secret: the first 6 base64url characters of its SHA-256. */
export function keyId(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 6);
}

export function signingKey(secret: string): SigningKey {
  return { id: keyId(secret), secret };
}

const uuidBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const bytesUuid = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The truncated HMAC-SHA256 of a token's bytes, under the key and its id. */
export function mac(key: SigningKey, data: Buffer): Buffer {
  return createHmac('sha256', key.secret)
    .update(key.id)
    .update(data)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function signLink(key: SigningKey, payload: LinkPayload): string {
  if (
    !UUID.test(payload.subscriberUuid) ||
    (payload.campaignUuid && !UUID.test(payload.campaignUuid))
  ) {
    throw new Error('signLink needs uuids');
  }
  const parts = [Buffer.from([PURPOSE_BYTE[payload.purpose]]), uuidBytes(payload.subscriberUuid)];
  if (TIMED_PURPOSES.has(payload.purpose)) {
    const at = Buffer.alloc(4);
    at.writeUInt32BE(payload.issuedAt ?? Math.floor(Date.now() / 1000));
    parts.push(at);
  } else if (payload.campaignUuid) parts.push(uuidBytes(payload.campaignUuid));
  const data = Buffer.concat(parts);
  return `${key.id}.${Buffer.concat([data, mac(key, data)]).toString('base64url')}`;
}

/**
 * The signed bytes of a genuine token: its key is one we know, its MAC matches (compared in
 * constant time, and computed even for an unknown key id so that timing tells key ids apart
 * no better), and it is spelled canonically. Undefined for anything else, alike.
 */
export function verifiedBytes(
  keys: readonly SigningKey[],
  token: string,
  maxChars = 120,
): Buffer | undefined {
  const match = /^([A-Za-z0-9_-]{6})\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!match || match[2]!.length < 20 || match[2]!.length > maxChars) return undefined;
  const key = keys.find((k) => k.id === match[1]);
  const raw = Buffer.from(match[2]!, 'base64url');
  // base64url decoding ignores stray characters and slack bits: only the canonical spelling of
  // the bytes is the genuine token, so "token + 'x'" is as unknown as any other forgery.
  const canonical = raw.toString('base64url') === match[2];
  const data = raw.subarray(0, Math.max(0, raw.length - MAC_BYTES));
  const given = raw.subarray(raw.length - MAC_BYTES);
  const expected = mac(key ?? { id: '', secret: 'unknown-key' }, data);
  const genuine =
    given.length === MAC_BYTES &&
    timingSafeEqual(given, expected) &&
    key !== undefined &&
    canonical;
  return genuine ? data : undefined;
}

/** Verifies with whichever known key the token names; undefined for anything not genuine. */
export function verifyLink(
  keys: readonly SigningKey[],
  token: string,
  purpose: LinkPurpose,
): LinkPayload | undefined {
  const data = verifiedBytes(keys, token);
  if (!data || BYTE_PURPOSE.get(data[0]!) !== purpose) return undefined;
  if (TIMED_PURPOSES.has(purpose)) {
    if (data.length !== 21) return undefined;
    return {
      purpose,
      subscriberUuid: bytesUuid(data.subarray(1, 17)),
      issuedAt: data.readUInt32BE(17),
    };
  }
  if (data.length !== 17 && data.length !== 33) return undefined;
  return {
    purpose,
    subscriberUuid: bytesUuid(data.subarray(1, 17)),
    ...(data.length === 33 ? { campaignUuid: bytesUuid(data.subarray(17, 33)) } : {}),
  };
}
