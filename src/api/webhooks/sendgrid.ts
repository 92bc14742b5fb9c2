// POST /webhooks/sendgrid: ECDSA P-256/SHA-256 signature (base64 DER) over timestamp + raw
// body, verified with SENDGRID_WEBHOOK_PUBLIC_KEY (base64 DER SubjectPublicKeyInfo, as the
// SendGrid console shows it; a PEM block is accepted too).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseJson } from '../../domain/webhook-events.js';
import { normaliseSendgrid, SENDGRID_TOLERANCE_SECONDS } from '../../domain/webhook-sendgrid.js';
import * as verify from './verify.js';

export const SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

export function sendgridPublicKey(configured: string): KeyObject {
  const value = configured.trim();
  const key = value.includes('-----BEGIN')
    ? createPublicKey(value)
    : createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec') {
    throw new Error('SENDGRID_WEBHOOK_PUBLIC_KEY is not an elliptic-curve public key');
  }
  return key;
}

export function sendgridWebhook(publicKey: string, now = () => Date.now()): verify.WebhookHandler {
  // Built on first use: a mistyped key answers 500 (and is logged) without stopping the API.
  let key: KeyObject | undefined;
  return (req) => {
    key ??= sendgridPublicKey(publicKey);
    const signature = req.get(SIGNATURE_HEADER);
    const timestamp = req.get(TIMESTAMP_HEADER);
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) {
      throw verify.unauthorized(`Send the ${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER} headers`);
    }
    const body = verify.rawBody(req);
    const valid = verify.signatureValid(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), body]),
      key,
      Buffer.from(signature, 'base64'),
    );
    if (!valid) throw verify.unauthorized('The signature does not match');
    if (!verify.timestampFresh(Number(timestamp), now(), SENDGRID_TOLERANCE_SECONDS)) {
      throw verify.unauthorized('The signature timestamp is more than 5 minutes away');
    }
    return Promise.resolve({ normalised: normaliseSendgrid(parseJson(body.toString('utf8'))) });
  };
}
