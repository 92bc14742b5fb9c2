// The admin console at /admin (docs/console.md): server-rendered pages behind a session, plain
// forms for every action (each checked for the session's CSRF token), and one small script for
// what must happen without a reload (live progress, the import, previews). `/` leads here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type Router } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { packageRoot } from '../../lib/paths.js';
import { STATUS } from '../middleware/errors.js';
import { html } from '../public/html.js';
import { consoleAccountRouter } from './account.routes.js';
import { consoleCampaignsRouter } from './campaigns.routes.js';
import { consoleDashboardRouter } from './dashboard.routes.js';
import { CONSOLE_CSP, consoleAuth } from './kit.js';
import { barePage, consolePage, CONSOLE_CSS_PATH, CONSOLE_JS_PATH } from './layout.js';
import { consoleListsRouter } from './lists.routes.js';
import { loginRouter } from './login.routes.js';
import { consoleOperationsRouter } from './operations.routes.js';
import { consoleSubscribersRouter } from './subscribers.routes.js';
import { consoleTemplatesRouter } from './templates.routes.js';
import { consoleUsersRouter } from './users.routes.js';

const ASSETS = path.join(packageRoot(), 'src', 'api', 'console', 'assets');

/** The stylesheet and the script, read once; revalidated by the browser (ETag). */
function assets(router: Router): void {
  const css = readFileSync(path.join(ASSETS, 'console.css'), 'utf8');
  const js = readFileSync(path.join(ASSETS, 'console.js'), 'utf8');
  router.get(CONSOLE_CSS_PATH, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('text/css').send(css);
  });
  router.get(CONSOLE_JS_PATH, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/javascript').send(js);
  });
}

/** Errors under /admin become pages, in the frame when someone is signed in. */
const consoleErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) return next(error);
  const known = error instanceof AppError ? error : undefined;
  const status = known ? STATUS[known.code] : 500;
  if (!known) req.log.error({ err: error, event: 'console_failed' }, 'console page failed');
  const message = known?.message ?? 'Something went wrong on our side; the error was logged.';
  const title =
    status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong';
  const body = html`<h1>${title}</h1>
    <p role="alert">${message}</p>
    <p><a href="/admin">Back to the dashboard</a></p>`;
  res.set('Content-Security-Policy', CONSOLE_CSP);
  if (res.locals.principal) consolePage(res, { title, section: 'Dashboard', body }, status);
  else barePage(res, title, body, status);
};

export function consoleRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  router.get('/', (_req, res) => res.redirect(302, '/admin'));
  assets(router);
  router.use(loginRouter(container));
  const signedIn = express.Router({ caseSensitive: true, strict: true });
  // The queue board and the account-link pages below /admin have guards of their own.
  signedIn.use((req, _res, next) => {
    const inConsole = req.path === '/admin' || req.path.startsWith('/admin/');
    const ownGuard = /^\/admin\/(queues|setup|password|assets|login|logout)(\/|$)/.test(req.path);
    next(inConsole && !ownGuard ? undefined : 'router');
  });
  signedIn.use(consoleAuth(container));
  signedIn.use(consoleDashboardRouter(container));
  signedIn.use(consoleCampaignsRouter(container));
  signedIn.use(consoleListsRouter(container));
  signedIn.use(consoleSubscribersRouter(container));
  signedIn.use(consoleTemplatesRouter(container));
  signedIn.use(consoleOperationsRouter(container));
  signedIn.use(consoleUsersRouter(container));
  signedIn.use(consoleAccountRouter(container));
  signedIn.use((_req, _res, next) =>
    next(new AppError('not_found', 'There is no such page in the console')),
  );
  router.use(signedIn);
  router.use(consoleErrors);
  return router;
}
