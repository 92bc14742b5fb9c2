// POST /webhooks/generic: Bulletin-Signature over "<t>.<raw body>" with WEBHOOK_SECRET.
import { validation } from '../../domain/errors.js';
import { parseJson } from '../../domain/webhook-events.js';
import {
  GENERIC_TOLERANCE_SECONDS,
  genericBodySchema,
  normaliseGeneric,
  parseSignatureHeader,
} from '../../domain/webhook-generic.js';
import { fieldErrors } from '../middleware/validate.js';
import * as verify from './verify.js';

export function genericWebhook(secret: string, now = () => Date.now()): verify.WebhookHandler {
  return (req) => {
    const header = parseSignatureHeader(req.get('bulletin-signature'));
    if (!header) {
      throw verify.unauthorized('Send Bulletin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>');
    }
    const body = verify.rawBody(req);
    const expected = verify.hmacSha256(secret, `${header.timestamp}.`, body);
    // Every candidate is compared (no early exit), each in constant time.
    const matches = header.signatures.map((sig) => verify.macEquals(expected, sig));
    if (!matches.includes(true)) throw verify.unauthorized('The signature does not match');
    const fresh = verify.timestampFresh(
      header.timestamp,
      now(),
      GENERIC_TOLERANCE_SECONDS,
      GENERIC_TOLERANCE_SECONDS,
    );
    if (!fresh) throw verify.unauthorized('The signature timestamp is more than 5 minutes away');
    const parsed = parseJson(body.toString('utf8'));
    const result = genericBodySchema.safeParse(parsed);
    if (!result.success) throw validation(fieldErrors(result.error));
    return Promise.resolve({ normalised: normaliseGeneric(result.data, parsed) });
  };
}
