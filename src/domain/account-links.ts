// One-time account links (set a password, make the first account). The token is random and
// HMAC-signed with SECRET_KEY: a forged one is refused before any lookup; only its SHA-256 is
// stored, with its expiry and the moment it was used (docs/accounts.md).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashToken } from './tokens.js';

export type AccountLinkPurpose = 'set-password' | 'setup';

/** Set-password links hold 72 hours; the setup link as long as no account exists (a day). */
export const ACCOUNT_LINK_TTL_HOURS: Record<AccountLinkPurpose, number> = {
  'set-password': 72,
  setup: 24,
};

const SHAPE = /^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{22}$/;

function sign(secret: string, purpose: AccountLinkPurpose, body: string): Buffer {
  return createHmac('sha256', secret)
    .update(`account-link:${purpose}:${body}`)
    .digest()
    .subarray(0, 16);
}

/** A new token and the hash under which it is stored. */
export function issueAccountToken(
  secret: string,
  purpose: AccountLinkPurpose,
): { token: string; hash: Buffer } {
  const body = randomBytes(24).toString('base64url');
  const token = `${body}.${sign(secret, purpose, body).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

/** The stored hash of a token whose signature holds under one of the keys, else undefined. */
export function verifyAccountToken(
  secrets: readonly string[],
  purpose: AccountLinkPurpose,
  token: string,
): Buffer | undefined {
  if (!SHAPE.test(token)) return undefined;
  const [body, mac] = token.split('.') as [string, string];
  const given = Buffer.from(mac, 'base64url');
  let valid = false;
  for (const secret of secrets) {
    if (timingSafeEqual(given, sign(secret, purpose, body))) valid = true;
  }
  return valid ? hashToken(token) : undefined;
}
