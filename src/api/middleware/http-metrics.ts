// Counts and times every HTTP request by its route pattern (`/api/v1/lists/:id`), never by its
// URL: ids and the signed tokens of public links must not become label values, and the number of
// series must stay bounded. A request no route answered (404s, auth refusals before routing,
// static files) is `unmatched`, unless its router set `res.locals.metricsRoute`.
import type { RequestHandler } from 'express';
import type { Metrics } from '../../metrics/metrics.js';

export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    // The router sets req.route when it dispatches to a route, with req.baseUrl then holding the
    // mount path. Both are gone or changed by the time the response finishes (an error unwinds
    // the routers), so the pattern is taken at that moment.
    let route: string | undefined;
    let current: unknown;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set(value: { path?: unknown } | undefined) {
        current = value;
        if (value && value.path !== undefined) route = joinRoute(req.baseUrl, value.path);
      },
    });
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // Sub-apps without express routes (Bull Board's static files) name themselves.
      const fallback = (res.locals as { metricsRoute?: string }).metricsRoute ?? 'unmatched';
      metrics.observeHttp(req.method, route ?? fallback, res.statusCode, seconds);
    };
    // 'close' also covers a client that went away before the answer was complete.
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

function joinRoute(base: string, path: unknown): string {
  const pattern = Array.isArray(path) ? path.map(String).join('|') : String(path);
  const joined = base + pattern;
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined || '/';
}
