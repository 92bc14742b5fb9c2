// The operations endpoints on their own port (METRICS_PORT): /health, /ready and /metrics, so
// a worker-only process, which has no API server, can be probed and scraped too.
import express from 'express';
import type { Container } from '../container.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { healthRouter } from './routes/health.routes.js';
import { metricsRouter } from './routes/metrics.routes.js';

export function createOpsApp(container: Container): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRouter(container));
  app.use(metricsRouter(container));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
