// GET /metrics: the Prometheus text of this process. Open unless METRICS_TOKEN is set; then a
// bearer token compared in constant time (both sides hashed first, so lengths never differ).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRouter({ config, metrics }: Container): Router {
  const router = Router();
  const expected = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  router.get('/metrics', async (req, res) => {
    if (expected) {
      const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="bulletin-metrics"');
        throw new AppError('unauthorized', 'Send Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    const body = await metrics.render();
    res.set('Content-Type', metrics.contentType).set('Cache-Control', 'no-store').send(body);
  });
  return router;
}
