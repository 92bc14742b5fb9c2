// The engagement links in mail (docs/engagement.md): GET|HEAD /l/<token> records a click and
// redirects to the original URL its token names (only ever a URL of that campaign's
// snapshot), GET|HEAD /o/<token> records an open and answers a 1×1 image.
//
// A click storm is thousands of these a second, so they are answered by the app's first
// middleware, before the request log, the admin routers and the body handling (they carry no
// body): the same security headers (helmet's, taken once), their metrics, and nothing else.
// A refused click token goes on to the public router, where it is counted against the
// public links' rate limit and gets the 404 page; an error gets the public error page.
import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { Container } from '../../container.js';
import type { TrackingHit } from '../../services/engagement.service.js';
import { PUBLIC_CSP, sendError } from './layout.js';

/** The smallest transparent GIF (43 bytes). */
export const PIXEL = Buffer.from(
  'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7',
  'base64',
);

/** `/l/<token>` or `/o/<token>`, with any query string; the token is checked by the service. */
const TRACKING_PATH = /^\/([lo])\/([\w.-]{1,200})(?:\?.*)?$/;

/** The headers helmet sets on every answer, read once from a stand-in response. */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const stand = {
    setHeader: (name: string, value: string) => (headers[name] = String(value)),
    removeHeader: () => undefined,
  };
  helmet()({} as never, stand as never, () => undefined);
  return headers;
}

const hitOf = (method: string, userAgent: string | undefined): TrackingHit => ({
  method,
  userAgent: userAgent?.slice(0, 500),
});

export function trackingFastPath(container: Container): RequestHandler {
  const { engagement } = container.services;
  const base = {
    ...helmetHeaders(),
    'Content-Security-Policy': PUBLIC_CSP,
    'Cache-Control': 'no-store',
  };
  // The pixel is fetched by webmail pages of other origins: helmet's same-origin resource
  // policy would have browsers refuse to show it (and the open would still be counted).
  const pixelHeaders = {
    ...base,
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'Content-Type': 'image/gif',
    'Content-Length': String(PIXEL.length),
  };
  const observe = (method: string, route: string, status: number, start: bigint) =>
    container.metrics.observeHttp(
      method,
      route,
      status,
      Number(process.hrtime.bigint() - start) / 1e9,
    );

  return (req, res, next) => {
    const match =
      req.method === 'GET' || req.method === 'HEAD' ? TRACKING_PATH.exec(req.url) : null;
    if (!match) return next();
    const start = process.hrtime.bigint();
    const [, kind, token] = match as unknown as [string, 'l' | 'o', string];
    const hit = hitOf(req.method, req.headers['user-agent']);
    const answer =
      kind === 'o'
        ? engagement.open(token, hit).then(() => {
            res.writeHead(200, pixelHeaders).end(req.method === 'HEAD' ? undefined : PIXEL);
            observe(req.method, '/o/:token', 200, start);
          })
        : engagement.click(token, hit).then((url) => {
            // Refused: on to the public router's limit and 404 page.
            if (!url) return next();
            res.writeHead(302, { ...base, Location: url, 'Content-Length': '0' }).end();
            observe(req.method, '/l/:token', 302, start);
          });
    answer.catch((error: unknown) => failed(container, res, error));
  };
}

function failed(container: Container, res: Response, error: unknown): void {
  container.log.error({ err: error, event: 'tracking_failed' }, 'open or click not recorded');
  if (res.headersSent) return void res.destroy();
  res.locals.publicPage = true;
  res.locals.org = container.config.org;
  res.set('Content-Security-Policy', PUBLIC_CSP);
  sendError(res, 503);
}
