// POST /webhooks/mailgun: HMAC-SHA256(MAILGUN_SIGNING_KEY, timestamp + token), each token
// accepted once (remembered in Redis for longer than the timestamp window).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseJson } from '../../domain/webhook-events.js';
import {
  MAILGUN_TOLERANCE_SECONDS,
  normaliseMailgun,
  readMailgunSignature,
} from '../../domain/webhook-mailgun.js';
import * as verify from './verify.js';

const MAX_FUTURE_SECONDS = 300;
/** A token must be remembered for as long as its timestamp could still pass the check. */
export const MAILGUN_TOKEN_TTL_SECONDS = MAILGUN_TOLERANCE_SECONDS + MAX_FUTURE_SECONDS + 60;

export function mailgunWebhook(
  signingKey: string,
  redis: Redis,
  keyPrefix: string,
  now = () => Date.now(),
): verify.WebhookHandler {
  return async (req) => {
    const body = parseJson(verify.rawBody(req).toString('utf8'));
    const signature = readMailgunSignature(body);
    if (!signature)
      throw verify.unauthorized('The signature block (timestamp, token, signature) is missing');
    const expected = verify.hmacSha256(signingKey, signature.timestamp, signature.token);
    // A subaccount event also carries the HMAC under the parent account's key: either may be
    // the one configured. Both are compared, each in constant time.
    const own = verify.macEquals(expected, signature.signature);
    const parent = signature.parentSignature
      ? verify.macEquals(expected, signature.parentSignature)
      : false;
    if (!own && !parent) throw verify.unauthorized('The signature does not match');
    if (
      !verify.timestampFresh(
        Number(signature.timestamp),
        now(),
        MAILGUN_TOLERANCE_SECONDS,
        MAX_FUTURE_SECONDS,
      )
    ) {
      throw verify.unauthorized('The signature timestamp is too old or in the future');
    }
    // Parsed before the token is spent: a malformed payload leaves the token usable.
    const normalised = normaliseMailgun(body);
    const tokenKey = `${keyPrefix}:webhooks:mailgun-token:${createHash('sha256').update(signature.token).digest('hex')}`;
    const fresh = await redis.set(tokenKey, '1', 'EX', MAILGUN_TOKEN_TTL_SECONDS, 'NX');
    if (fresh !== 'OK')
      throw verify.unauthorized('This token was already used: a replayed request');
    return {
      normalised,
      // Storing failed: Mailgun retries with the same token, which must then be accepted.
      rollback: async () => {
        await redis.del(tokenKey);
      },
    };
  };
}
