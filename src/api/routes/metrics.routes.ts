// GET /metrics: the Prometheus text of this process. Open unless METRICS_TOKEN is set; then a
// bearer token compared in constant time (both sides hashed first, so lengths never differ).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether `given` is METRICS_TOKEN (false when none is set), in constant time. */
export function metricsTokenMatches(expected: string | undefined, given: string): boolean {
  return expected !== undefined && timingSafeEqual(digest(given), digest(expected));
}

export function metricsRouter({ config, metrics }: Container): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (config.metricsToken !== undefined) {
      const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
      if (!match || !metricsTokenMatches(config.metricsToken, match[1]!)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="bulletin-metrics"');
        throw new AppError('unauthorized', 'Send Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    const body = await metrics.render();
    res.set('Content-Type', metrics.contentType).set('Cache-Control', 'no-store').send(body);
  });
  return router;
}
