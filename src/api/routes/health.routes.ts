// GET /health (liveness) and GET /ready (PostgreSQL, Redis and the mail transport answer).
// Anyone may ask /ready which dependency is down; only an authenticated caller (an API token
// with the `ops` scope, or METRICS_TOKEN) is told why, since error texts name hosts and ports.
import { Router, type Request } from 'express';
import type { Container } from '../../container.js';
import { hasScope } from '../../domain/scopes.js';
import { bearerToken } from '../middleware/auth.js';
import { metricsTokenMatches } from './metrics.routes.js';

export function healthRouter({ services, config }: Container): Router {
  const router = Router();
  const detailed = async (req: Request): Promise<boolean> => {
    const token = bearerToken(req.get('authorization'));
    if (!token) return false;
    if (metricsTokenMatches(config.metricsToken, token)) return true;
    const principal = await services.tokens.authenticate(token);
    return principal !== undefined && hasScope(principal.scopes, 'ops');
  };

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (req, res) => {
    const [report, showErrors] = await Promise.all([services.health.ready(), detailed(req)]);
    const checks = showErrors
      ? report.checks
      : Object.fromEntries(Object.entries(report.checks).map(([name, c]) => [name, { ok: c.ok }]));
    res
      .status(report.ok ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: report.ok ? 'ready' : 'unavailable', ok: report.ok, checks });
  });
  return router;
}
