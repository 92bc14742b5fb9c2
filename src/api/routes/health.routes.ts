import { Router } from 'express';
import type { Container } from '../../container.js';

export function healthRouter({ services }: Container): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await services.health.ready();
    res
      .status(report.ok ? 200 : 503)
      .json({ status: report.ok ? 'ready' : 'unavailable', ...report });
  });
  return router;
}
