// POST /webhooks/postmark: HTTP basic auth with POSTMARK_WEBHOOK_USER / _PASSWORD (set them in
// the webhook URL in Postmark: https://user:password@host/webhooks/postmark).
import { secretsEqual } from '../../domain/tokens.js';
import { parseJson } from '../../domain/webhook-events.js';
import { normalisePostmark, parseBasicAuth, quoteLargeIds } from '../../domain/webhook-postmark.js';
import * as verify from './verify.js';

export function postmarkWebhook(user: string, password: string): verify.WebhookHandler {
  return (req, res) => {
    res.setHeader('WWW-Authenticate', 'Basic realm="bulletin-webhooks", charset="UTF-8"');
    const given = parseBasicAuth(req.get('authorization'));
    // Both halves are always compared (constant time each), so timing tells nothing about
    // which one was wrong.
    const userOk = secretsEqual(given?.user ?? '', user);
    const passwordOk = secretsEqual(given?.password ?? '', password);
    if (!given || !userOk || !passwordOk) {
      throw verify.unauthorized('Send the webhook credentials with HTTP basic auth');
    }
    res.removeHeader('WWW-Authenticate');
    const body = parseJson(quoteLargeIds(verify.rawBody(req).toString('utf8')));
    return Promise.resolve({ normalised: normalisePostmark(body) });
  };
}
