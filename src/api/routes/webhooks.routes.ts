// Provider webhooks (docs/contract.md §4.3): verify, normalise, store, acknowledge. Nothing here
// changes a subscriber: the events worker applies what was stored. Each route answers 404
// while its credential is unset, and reads the raw body itself (signatures cover raw bytes).
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { PayloadError, type WebhookSource } from '../../domain/webhook-events.js';
import { genericWebhook } from '../webhooks/generic.js';
import { mailgunWebhook } from '../webhooks/mailgun.js';
import { postmarkWebhook } from '../webhooks/postmark.js';
import { sendgridWebhook } from '../webhooks/sendgrid.js';
import { sesWebhook } from '../webhooks/ses.js';
import type { WebhookHandler } from '../webhooks/verify.js';
import { WEBHOOK_LIMIT, formRateLimit } from '../public/rate-limit.js';

/** SendGrid posts batches of events; 5 MiB holds thousands of them. */
export const WEBHOOK_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

export function webhooksRouter(container: Container): express.Router {
  const { config, log, metrics, redis, services } = container;
  const hooks = config.webhooks;
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT_BYTES });

  // Only refused requests count (bad signature or body): a provider's real traffic never does.
  const refusals = formRateLimit(redis, config.queuePrefix, WEBHOOK_LIMIT, (_req, _res, next) =>
    next(new AppError('rate_limited', 'Too many refused webhook requests; try again later')),
  );
  const mount = (source: WebhookSource, handler: WebhookHandler | undefined) => {
    const notConfigured: RequestHandler = (req, _res, next) => {
      // Indistinguishable from an unknown path: an unset credential means "no such webhook".
      if (!handler) throw new AppError('not_found', `No route for ${req.method} ${req.path}`);
      next();
    };
    // A configured webhook's refusals exist as a series from the start, for rate() and alerts.
    if (handler) metrics.webhookRejected.inc({ source }, 0);
    router.post(
      `/webhooks/${source}`,
      refusals,
      notConfigured,
      raw,
      async (req: Request, res: Response) => {
        const outcome = await verified(source, handler!, req, res);
        let result;
        try {
          result = await services.webhookEvents.ingest(source, outcome.normalised);
        } catch (error) {
          await outcome.rollback?.().catch(() => undefined);
          throw error;
        }
        // Only now, with the events committed, is the provider told it may forget them.
        res.status(200).json({ ...result, ...outcome.reply });
      },
    );
  };

  const verified = async (
    source: WebhookSource,
    handler: WebhookHandler,
    req: Request,
    res: Response,
  ) => {
    try {
      return await handler(req, res);
    } catch (error) {
      if (error instanceof PayloadError) throw new AppError('malformed_request', error.message);
      if (
        error instanceof AppError &&
        (error.code === 'unauthorized' || error.code === 'forbidden')
      ) {
        metrics.webhookRejected.inc({ source });
        req.log?.warn(
          { event: 'webhook_refused', source, code: error.code, detail: error.message },
          'webhook refused',
        );
      }
      throw error;
    }
  };

  mount('generic', hooks.genericSecret ? genericWebhook(hooks.genericSecret) : undefined);
  mount(
    'mailgun',
    hooks.mailgunSigningKey
      ? mailgunWebhook(hooks.mailgunSigningKey, redis, config.queuePrefix)
      : undefined,
  );
  mount('sendgrid', hooks.sendgridPublicKey ? sendgridWebhook(hooks.sendgridPublicKey) : undefined);
  mount(
    'ses',
    hooks.sesTopicArns.length > 0
      ? sesWebhook(hooks.sesTopicArns, services.snsVerifier, log)
      : undefined,
  );
  mount(
    'postmark',
    hooks.postmarkUser && hooks.postmarkPassword
      ? postmarkWebhook(hooks.postmarkUser, hooks.postmarkPassword)
      : undefined,
  );
  return router;
}
