// Builds the Express app for one process from its container. Nothing listens here: main.ts
// (or a test) decides when and where.
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../lib/logger.js';
import type { Container } from '../container.js';
import { AppError, validation } from '../domain/errors.js';
import { MAX_BODY_DEPTH, tooDeep } from '../domain/json-depth.js';
import { authenticate, csrfGuard } from './middleware/auth.js';
import { AUDIT_SERVICE } from './middleware/audit-trail.js';
import { signInRouter, sessionRouter } from './routes/session.routes.js';
import { documentAccounts, usersRouter } from './routes/users.routes.js';
import { approvalsRouter, documentApprovals } from './routes/approvals.routes.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { buildOpenApi } from './openapi.js';
import { documentImports, importsRouter } from './routes/imports.routes.js';
import { documentLists, listsRouter } from './routes/lists.routes.js';
import { documentSubscribers, subscribersRouter } from './routes/subscribers.routes.js';
import { documentTokens, tokensRouter } from './routes/tokens.routes.js';
import { healthRouter } from './routes/health.routes.js';
import { metricsRouter } from './routes/metrics.routes.js';
import { httpMetrics } from './middleware/http-metrics.js';
import { trackingFastPath } from './public/tracking.routes.js';
import { documentTemplates, templatesRouter } from './routes/templates.routes.js';
import { outboxRouter } from './routes/outbox.routes.js';
import { webhooksRouter } from './routes/webhooks.routes.js';
import { campaignsRouter, documentCampaigns } from './routes/campaigns.routes.js';
import { documentReports, reportsRouter } from './routes/reports.routes.js';
import { publicRouter } from './public/public.routes.js';
import { documentQueues, queuesRouter } from './routes/queues.routes.js';
import { queueBoardRouter } from './admin/queue-board.js';
import { accountPagesRouter } from './admin/account-pages.js';
import { homeRouter } from './routes/home.routes.js';
import { consoleRouter } from './console/console.routes.js';
import { EXACT_ROUTING } from './routes/api-routes.js';
import { redactUrl } from '../lib/mask.js';
import { bodyTimeout } from './middleware/body-timeout.js';

const VERSION = '0.1.0';

/**
 * The CSV upload route: its body is a file, not JSON, and it may take long to arrive. One
 * predicate for the app and the API router (baseUrl + path is the full path in both).
 */
const isUpload = (req: express.Request) =>
  req.method === 'POST' && /^\/api\/v1\/lists\/[^/]+\/imports$/.test(req.baseUrl + req.path);

/** Write requests with a body must send JSON; CSV uploads have their own route. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding');
  if (
    ['POST', 'PUT', 'PATCH'].includes(req.method) &&
    hasBody &&
    !isUpload(req) &&
    !req.is('application/json')
  ) {
    throw new AppError('unsupported_media_type', 'Send the body as Content-Type: application/json');
  }
  next();
};

/**
 * Refuses a body nested deeper than MAX_BODY_DEPTH before any validator walks it recursively
 * (a JSON.stringify size check on 10,000 levels of attributes overflowed the stack: a 500).
 */
const limitNesting: RequestHandler = (req, _res, next) => {
  const path = tooDeep(req.body, MAX_BODY_DEPTH);
  if (path) {
    throw validation(
      [{ path: String(path[0]), message: `nests deeper than ${MAX_BODY_DEPTH} levels` }],
      `The body nests deeper than ${MAX_BODY_DEPTH} levels`,
    );
  }
  next();
};

/** One log line per request, under the request's id (a sane X-Request-Id, or a new one). */
function requestLog(log: Logger) {
  return pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
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
        // Public URLs carry signed tokens in the path: redacted by shape, whatever the route.
        url: redactUrl(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/**
 * A JSON body parser: UTF-8 without a byte order mark (docs/api.md: the parser would drop one
 * silently; a client sending one is misconfigured and should hear it), and no invalid bytes
 * (the decoder would turn them into U+FFFD and store them as text).
 */
function jsonParser(limit: number): RequestHandler {
  return express.json({
    limit,
    strict: true,
    verify: (_req, _res, buf) => {
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        throw new AppError(
          'malformed_request',
          'The body starts with a byte order mark: send UTF-8 JSON without one',
        );
      }
      if (!isUtf8(buf)) throw new AppError('malformed_request', 'The body is not valid UTF-8');
    },
  });
}

/** Sign-in bodies are small: an unauthenticated client never gets the full JSON limit. */
const SIGN_IN_BODY_LIMIT = 8192;

/**
 * /api/v1: sign-in first (its own small parser), then authentication (bearer token or session
 * cookie), JSON bodies (UTF-8, no BOM, bounded depth), CSRF for cookie writes, the routers.
 */
function adminApi(container: Container): express.Router {
  const { config, services } = container;
  const api = express.Router(EXACT_ROUTING);
  api.use(
    signInRouter(container, express.Router().use(requireJson, jsonParser(SIGN_IN_BODY_LIMIT))),
  );
  api.use(authenticate(services.tokens, services.sessions));
  api.use(requireJson);
  api.use(jsonParser(config.jsonBodyLimitBytes));
  api.use(limitNesting);
  api.use(csrfGuard);
  api.use((_req, res, next) => {
    res.locals[AUDIT_SERVICE] = services.audit;
    next();
  });
  api.use(sessionRouter(container));
  api.use(usersRouter(container));
  api.use(listsRouter(container));
  api.use(importsRouter(container));
  api.use(subscribersRouter(container));
  api.use(tokensRouter(container));
  api.use(templatesRouter(container));
  api.use(campaignsRouter(container));
  api.use(reportsRouter(container));
  api.use(approvalsRouter(container));
  api.use(queuesRouter(container));
  return api;
}

export function createApp(container: Container): express.Express {
  const { config, log } = container;
  const app = express();
  app.disable('x-powered-by');
  // The client address is the socket's unless TRUST_PROXY names the proxies in front: with a
  // blanket trust, anyone could rotate X-Forwarded-For past rate limits and into consent records.
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');
  // Paths match exactly as documented (see docs/security.md): no other letter case, no
  // trailing slash.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  // Opens and clicks first, on a lean path of their own (a storm is thousands a second).
  app.use(trackingFastPath(container));
  app.use(requestLog(log));
  app.use(helmet());
  // A client that trickles its body is cut off (uploads get HTTP_UPLOAD_TIMEOUT_MS instead).
  app.use(bodyTimeout(config.http.requestTimeoutMs, isUpload));

  // Before the request metrics: a scrape is not counted. Own bearer token, outside /api/v1.
  app.use(metricsRouter(container));
  app.use(httpMetrics(container.metrics));

  app.use(healthRouter(container));
  // Development only, admin auth: 404 in production or with SMTP_URL (see outbox.routes.ts).
  app.use(outboxRouter(container));
  // Provider webhooks: own auth (signatures, basic auth) and raw bodies, outside /api/v1.
  app.use(webhooksRouter(container));

  // The admin console at /admin (`/` leads there), sign-in at /admin/login.
  app.use(consoleRouter(container));
  // `/docs` and the interactive API reference at `/api/docs`.
  app.use(homeRouter(container));

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
        documentReports,
        documentApprovals,
        documentQueues,
        documentAccounts,
      ],
      VERSION,
    );
    res.json(openapi);
  });

  app.use('/api/v1', adminApi(container));

  // Bull Board: browser-friendly basic auth with an ops token, outside /api/v1.
  app.use(queueBoardRouter(container));

  // The setup and set-password pages: reached by a one-time link, before anyone can sign in.
  app.use(accountPagesRouter(container));

  // Public pages (subscribe, confirm, unsubscribe, preferences): HTML with their own stricter
  // CSP, no admin auth, outside /api/v1.
  app.use(publicRouter(container));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
