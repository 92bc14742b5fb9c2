// Builds the Express app for one process from its container. Nothing listens here: main.ts
// (or a test) decides when and where.
import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Container } from '../container.js';
import { AppError } from '../domain/errors.js';
import { authenticate } from './middleware/auth.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { buildOpenApi } from './openapi.js';
import { documentImports, importsRouter } from './routes/imports.routes.js';
import { documentLists, listsRouter } from './routes/lists.routes.js';
import { documentSubscribers, subscribersRouter } from './routes/subscribers.routes.js';
import { documentTokens, tokensRouter } from './routes/tokens.routes.js';
import { healthRouter } from './routes/health.routes.js';
import { metricsRouter } from './routes/metrics.routes.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { documentTemplates, templatesRouter } from './routes/templates.routes.js';
import { outboxRouter } from './routes/outbox.routes.js';
import { webhooksRouter } from './routes/webhooks.routes.js';
import { campaignsRouter, documentCampaigns } from './routes/campaigns.routes.js';
import { publicRouter } from './public/public.routes.js';
import { documentQueues, queuesRouter } from './routes/queues.routes.js';
import { queueBoardRouter } from './admin/queue-board.js';

const VERSION = '0.1.0';

/** Write requests with a body must send JSON; CSV uploads have their own route. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding');
  if (
    ['POST', 'PUT', 'PATCH'].includes(req.method) &&
    hasBody &&
    !/\/imports$/.test(req.path) &&
    !req.is('application/json')
  ) {
    throw new AppError('unsupported_media_type', 'Send the body as Content-Type: application/json');
  }
  next();
};

export function createApp(container: Container): express.Express {
  const { config, log } = container;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id =
          typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) =>
        // A 503 is /ready reporting a dependency down: worth a warning, not an error per probe.
        error || (res.statusCode >= 500 && res.statusCode !== 503)
          ? 'error'
          : res.statusCode >= 400
            ? 'info'
            : 'debug',
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          // Public URLs carry signed tokens in the path; logs keep only the route shape.
          url: req.url.replace(/(\/(?:unsubscribe|confirm|preferences)\/)[^/?]+/, '$1[token]'),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(helmet());

  // Before the request metrics: a scrape is not counted. Own bearer token, outside /api/v1.
  app.use(metricsRouter(container));
  app.use(httpMetrics(container.metrics));

  app.use(healthRouter(container));
  // Development only, no auth: 404 in production or with SMTP_URL (see outbox.routes.ts).
  app.use(outboxRouter(container));
  // Provider webhooks: own auth (signatures, basic auth) and raw bodies, outside /api/v1.
  app.use(webhooksRouter(container));

  let openapi: unknown;
  app.get('/api/v1/openapi.json', (_req, res) => {
    openapi ??= buildOpenApi(
      [
        documentLists,
        documentSubscribers,
        documentImports,
        documentTokens,
        documentTemplates,
        documentCampaigns,
        documentQueues,
      ],
      VERSION,
    );
    res.json(openapi);
  });

  const api = express.Router();
  api.use(authenticate(container.services.tokens));
  api.use(requireJson);
  api.use(express.json({ limit: config.jsonBodyLimitBytes, strict: true }));
  api.use(listsRouter(container));
  api.use(importsRouter(container));
  api.use(subscribersRouter(container));
  api.use(tokensRouter(container));
  api.use(templatesRouter(container));
  api.use(campaignsRouter(container));
  api.use(queuesRouter(container));
  app.use('/api/v1', api);

  // Bull Board: browser-friendly basic auth with an ops token, outside /api/v1.
  app.use(queueBoardRouter(container));

  // Public pages (subscribe, confirm, unsubscribe, preferences): HTML with their own stricter
  // CSP, no admin auth, outside /api/v1.
  app.use(publicRouter(container));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
