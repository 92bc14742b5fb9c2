// Bull Board at /admin/queues: a browser dashboard of every queue, behind admin auth a browser
// can use (HTTP basic auth whose password is a token with the `ops` or `admin` scope; any user
// name), or a Bearer token for scripts. Everything it loads is served from here: the board's
// page links Google Fonts, which we replace with the same fonts from @fontsource packages.
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Express, type RequestHandler, Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Container } from '../../container.js';
import { browserAuth } from '../middleware/browser-auth.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

const require = createRequire(import.meta.url);
const fontDir = (pkg: string) => path.dirname(require.resolve(pkg));

const GOOGLE_FONTS_LINK = /<link[^>]+href="https:\/\/fonts\.googleapis\.com[^"]*"[^>]*>/;
// Relative to the board's <base href>, like the board's own static files.
const LOCAL_FONTS = ['sans/400.css', 'sans/500.css', 'sans/600.css', 'mono/400.css', 'mono/500.css']
  .map((file) => `<link href="fonts/${file}" rel="stylesheet">`)
  .join('');

export function queueBoardRouter({ queues, services }: Container): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.all().map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Bulletin queues' } },
  });
  const board = serverAdapter.getRouter() as Express;
  localiseFonts(board);

  const router = Router();
  router.use(QUEUE_BOARD_PATH, (_req, res, next) => {
    // One label for the board's pages, API calls and files in the HTTP metrics.
    res.locals.metricsRoute = `${QUEUE_BOARD_PATH}/*`;
    next();
  });
  router.use(
    QUEUE_BOARD_PATH,
    browserAuth(services.tokens, services.sessions, 'ops', 'Bulletin queues'),
  );
  router.use(QUEUE_BOARD_PATH, jsonPostsOnly);
  router.use(
    `${QUEUE_BOARD_PATH}/fonts/sans`,
    express.static(fontDir('@fontsource/ibm-plex-sans'), { immutable: true, maxAge: '30d' }),
  );
  router.use(
    `${QUEUE_BOARD_PATH}/fonts/mono`,
    express.static(fontDir('@fontsource/ibm-plex-mono'), { immutable: true, maxAge: '30d' }),
  );
  router.use(QUEUE_BOARD_PATH, board);
  return router;
}

/** Wraps the board's view engine so its page links our font files instead of Google's. */
function localiseFonts(board: Express): void {
  // Express keeps registered engines by extension; the board registers EJS in setViewsPath.
  const engines = (board as unknown as { engines: Record<string, RenderFn | undefined> }).engines;
  const ejs = engines['.ejs'];
  if (!ejs) throw new Error('Bull Board no longer registers an EJS view engine');
  board.engine('ejs', (file, options, done) =>
    ejs(file, options, (error, html) =>
      done(error, html === undefined ? html : html.replace(GOOGLE_FONTS_LINK, LOCAL_FONTS)),
    ),
  );
}

type RenderFn = (
  file: string,
  options: object,
  done: (error: Error | null, html?: string) => void,
) => void;

/**
 * Browsers resend remembered basic auth with a form posted from any site, so a page elsewhere
 * could make a signed-in operator's browser add a job (the board's POST .../add answered 200 to
 * a urlencoded form, with an empty job). Another site can only send GET, HEAD, or a POST that is
 * a form or text/plain without a CORS preflight (which we never grant): a POST here must be JSON.
 */
const jsonPostsOnly: RequestHandler = (req, res, next) => {
  if (req.method === 'POST' && !req.is('application/json')) {
    res.status(415).type('text/plain').send('Send the body as Content-Type: application/json.\n');
    return;
  }
  next();
};
