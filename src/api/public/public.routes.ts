// The public pages (docs/contract.md §4.2): no admin auth, HTML rendered here, a strict CSP, no
// JavaScript needed. A link whose token is forged, tampered with, meant for another page or
// names a subscriber who is gone always gets the same 404 page. One module per page:
// subscribe.routes.ts, links.routes.ts (confirm, unsubscribe and one-click),
// preferences.routes.ts, data.routes.ts (the mailed data and erasure links).
import express from 'express';
import { publicPageErrors, publicPageHeaders } from './page-headers.js';
import type { Container } from '../../container.js';
import { dataRoutes } from './data.routes.js';
import { publicKit } from './kit.js';
import { sendNotFound } from './layout.js';
import { linkRoutes } from './links.routes.js';
import { refusedClickRoutes, viewRoutes } from './view.routes.js';
import { archiveRoutes } from './archive.routes.js';
import { preferencesRoutes } from './preferences.routes.js';
import { TOKEN_LIMIT, formRateLimit } from './rate-limit.js';
import { ICON_PATH, STYLESHEET_PATH, serveIcon, serveStylesheet } from './styles.js';
import { subscribeRoutes } from './subscribe.routes.js';

const PATHS = [
  '/subscribe',
  '/confirm',
  '/unsubscribe',
  '/preferences',
  '/my-data',
  '/erase',
  '/assets',
  '/l',
  '/o',
  '/view',
  '/archive',
];

export function publicRouter(container: Container): express.Router {
  const log = container.log;
  const router = express.Router();

  // Marks the request as a public page's (see the error handler) and sets the page headers
  // also on answers that are not pages (the data download, errors from the body reader).
  router.use(PATHS, publicPageHeaders(container));
  router.get(STYLESHEET_PATH, serveStylesheet);
  router.get(ICON_PATH, serveIcon);

  // Counts only refused links (unknown, forged): guessing is slowed, real clicks never are.
  const tokenLimit = formRateLimit(container.redis, container.config.queuePrefix, TOKEN_LIMIT);
  const kit = publicKit(container, router, tokenLimit);
  subscribeRoutes(kit, container);
  linkRoutes(kit);
  preferencesRoutes(kit);
  dataRoutes(kit);
  viewRoutes(kit);
  refusedClickRoutes(kit);
  archiveRoutes(router, container);

  // Bare paths without a token, and tokens with a "/" in them (the standard base64 alphabet, a
  // traversal attempt): the same page as a bad token, not the API's JSON 404.
  router.all(
    [
      '/confirm{/*rest}',
      '/unsubscribe{/*rest}',
      '/preferences{/*rest}',
      '/my-data{/*rest}',
      '/erase{/*rest}',
      '/l{/*rest}',
      '/o{/*rest}',
      '/view{/*rest}',
      '/archive{/*rest}',
    ],
    (_req, res) => sendNotFound(res),
  );

  router.use(publicPageErrors(log));
  return router;
}
