// The public pages (docs/contract.md §4.2): no admin auth, HTML rendered here, a strict CSP, no
// JavaScript needed. A link whose token is forged, tampered with, meant for another page or
// names a subscriber who is gone always gets the same 404 page.
//
// POST /unsubscribe/:token is also the RFC 8058 one-click target: it accepts urlencoded and
// multipart bodies, sets no cookie, never redirects, answers 200 and is idempotent.
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Container } from '../../container.js';
import type { PublicLinkPurpose, Visitor } from '../../services/public-links.service.js';
import type { RequestOrigin } from '../../services/public-subscriptions.service.js';
import { formFields, isOneClick, readRawBody } from './body.js';
import { html } from './html.js';
import { PUBLIC_CSP, sendError, sendNotFound, sendPage } from './layout.js';
import {
  HONEYPOT_FIELD,
  confirmedPage,
  erasedPage,
  preferencesPage,
  savedNotice,
  subscribePage,
  subscribeReceivedPage,
  unsubscribePage,
  unsubscribedPage,
  type Page,
  type PreferencesState,
} from './pages.js';
import { SUBSCRIBE_LIMIT, TOKEN_LIMIT, formRateLimit } from './rate-limit.js';
import { dataLinkSentPage, eraseConfirmPage } from './data-pages.js';
import { ICON_PATH, STYLESHEET_PATH, serveIcon, serveStylesheet } from './styles.js';

const PATHS = [
  '/subscribe',
  '/confirm',
  '/unsubscribe',
  '/preferences',
  '/my-data',
  '/erase',
  '/assets',
];

const show = (res: Response, page: Page, status = 200) =>
  sendPage(res, status, page.title, page.body);

function origin(req: Request): RequestOrigin {
  return { ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 500) };
}

export function publicRouter(container: Container): express.Router {
  const {
    links,
    publicSubscriptions: subscriptions,
    publicPreferences: preferences,
    dataRequests,
  } = container.services;
  const log = container.log;
  const router = express.Router();

  // Marks the request as a public page's (see the error handler) and sets the page headers
  // also on answers that are not pages (the data download, errors from the body reader).
  router.use(PATHS, (_req, res, next) => {
    res.locals.publicPage = true;
    res.locals.org = container.config.org;
    res.set('Content-Security-Policy', PUBLIC_CSP);
    next();
  });

  // Counts only refused links (unknown, forged): guessing is slowed, real clicks never are.
  const tokenLimit = formRateLimit(container.redis, container.config.queuePrefix, TOKEN_LIMIT);
  router.get(STYLESHEET_PATH, serveStylesheet);
  router.get(ICON_PATH, serveIcon);

  /** The visitor named by the token, or the 404 page (the same for every kind of bad link). */
  const visitorOf = async (req: Request, res: Response, purpose: PublicLinkPurpose) => {
    const visitor = await links.resolve(String(req.params.token), purpose);
    if (!visitor) sendNotFound(res);
    return visitor;
  };
  const preferencesPath = (v: Visitor) =>
    links.path('preferences', v.subscriber.uuid, v.campaignUuid);

  // ---- subscribe -----------------------------------------------------------------------------

  router.get('/subscribe', async (_req, res) => {
    show(res, subscribePage(await subscriptions.publicLists()));
  });

  router.post(
    '/subscribe',
    formRateLimit(container.redis, container.config.queuePrefix, SUBSCRIBE_LIMIT),
    readRawBody,
    async (req, res) => {
      const fields = formFields(req);
      const values = {
        email: fields.get('email') ?? '',
        name: fields.get('name') ?? '',
        lists: fields.getAll('lists'),
      };
      if ((fields.get(HONEYPOT_FIELD) ?? '') !== '') {
        // A bot filled the hidden field: it gets the usual answer and nothing happens.
        req.log.info({ event: 'subscribe_honeypot' }, 'subscribe form honeypot filled');
        show(res, subscribeReceivedPage(values.email.trim()));
        return;
      }
      const outcome = await subscriptions.subscribe(values, origin(req));
      if (!outcome.ok) {
        show(res, subscribePage(await subscriptions.publicLists(), values, outcome.errors), 400);
        return;
      }
      show(res, subscribeReceivedPage(values.email.trim()));
    },
  );

  // ---- confirm -------------------------------------------------------------------------------

  router.get('/confirm/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'confirm');
    if (!visitor) return;
    const result = await subscriptions.confirm(visitor, origin(req));
    if (!result) return sendNotFound(res);
    show(res, confirmedPage(result, links.path('preferences', visitor.subscriber.uuid)));
  });

  // ---- unsubscribe ---------------------------------------------------------------------------

  // A GET never unsubscribes: link scanners and previews open links too.
  router.get('/unsubscribe/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'unsubscribe');
    if (!visitor) return;
    const targets = await preferences.unsubscribeTargets(visitor);
    show(
      res,
      unsubscribePage(visitor.subscriber.email, visitor.token, targets, preferencesPath(visitor)),
    );
  });

  router.post('/unsubscribe/:token', tokenLimit, readRawBody, async (req, res) => {
    const visitor = await visitorOf(req, res, 'unsubscribe');
    if (!visitor) return;
    // Any POST to a genuine link unsubscribes (losing an unsubscribe is worse than a body that
    // is not quite RFC 8058); the body only tells a mail client's button from our page's.
    const via = isOneClick(formFields(req)) ? 'one-click' : 'page';
    const left = await preferences.unsubscribe(visitor, origin(req), via);
    if (left === undefined) return sendNotFound(res);
    req.log.info(
      { event: 'unsubscribed', via, subscriberId: visitor.subscriber.id, lists: left.length },
      'unsubscribe',
    );
    show(res, unsubscribedPage(visitor.subscriber.email, left, preferencesPath(visitor)));
  });

  // ---- preferences ---------------------------------------------------------------------------

  const preferencesState = async (
    visitor: Visitor,
    extra: Partial<PreferencesState> = {},
  ): Promise<PreferencesState> => ({
    email: visitor.subscriber.email,
    name: visitor.subscriber.name,
    token: visitor.token,
    lists: await preferences.lists(visitor.subscriber.id),
    ...extra,
  });

  router.get('/preferences/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'preferences');
    if (!visitor) return;
    show(res, preferencesPage(await preferencesState(visitor)));
  });

  router.post('/preferences/:token', tokenLimit, readRawBody, async (req, res) => {
    const visitor = await visitorOf(req, res, 'preferences');
    if (!visitor) return;
    const fields = formFields(req);
    switch (fields.get('action')) {
      case 'save': {
        const outcome = await preferences.save(
          visitor,
          { name: fields.get('name'), lists: fields.getAll('lists') },
          origin(req),
        );
        if (!outcome.ok) {
          const state = await preferencesState(visitor, { errors: outcome.errors });
          show(res, preferencesPage({ ...state, name: fields.get('name') ?? state.name }), 400);
          return;
        }
        const fresh = await links.resolve(visitor.token, 'preferences');
        if (!fresh) return sendNotFound(res);
        show(res, preferencesPage(await preferencesState(fresh, { notice: savedNotice(outcome) })));
        return;
      }
      case 'unsubscribe-all': {
        await preferences.unsubscribeAll(visitor, origin(req));
        const notice = html`<p>
          You are unsubscribed from all lists: you will receive no more messages from us. Tick a
          list and save to subscribe again.
        </p>`;
        show(res, preferencesPage(await preferencesState(visitor, { notice })));
        return;
      }
      case 'export': {
        // The page's link travels in every newsletter: the download link goes to the address.
        await dataRequests.request(visitor, 'my-data');
        const page = dataLinkSentPage(
          visitor.subscriber.email,
          'my-data',
          preferencesPath(visitor),
        );
        show(res, page);
        return;
      }
      case 'erase': {
        if (fields.get('confirm') !== 'erase') {
          const errors = [{ path: 'confirm', message: 'Tick the box to confirm the erasure.' }];
          show(res, preferencesPage(await preferencesState(visitor, { errors })), 400);
          return;
        }
        await dataRequests.request(visitor, 'erase');
        show(res, dataLinkSentPage(visitor.subscriber.email, 'erase', preferencesPath(visitor)));
        return;
      }
      default:
        sendError(res, 400);
    }
  });

  // ---- the links mailed by "download my data" and "erase me" (an hour each) ----------------

  router.get('/my-data/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'my-data');
    if (!visitor) return;
    const data = await preferences.exportData(visitor);
    if (!data) return sendNotFound(res);
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', 'attachment; filename="my-data.json"')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(data, null, 2));
  });

  // A GET shows the confirmation (mail scanners follow links); only the button's POST erases.
  router.get('/erase/:token', tokenLimit, async (req, res) => {
    const visitor = await visitorOf(req, res, 'erase');
    if (!visitor) return;
    show(res, eraseConfirmPage(visitor.subscriber.email, visitor.token));
  });

  router.post('/erase/:token', tokenLimit, readRawBody, async (req, res) => {
    const visitor = await visitorOf(req, res, 'erase');
    if (!visitor) return;
    if (formFields(req).get('confirm') !== 'erase') {
      show(res, eraseConfirmPage(visitor.subscriber.email, visitor.token), 400);
      return;
    }
    if (!(await preferences.erase(visitor))) return sendNotFound(res);
    show(res, erasedPage());
  });

  // Bare paths without a token, and tokens with a "/" in them (the standard base64 alphabet, a
  // traversal attempt): the same page as a bad token, not the API's JSON 404.
  router.all(
    [
      '/confirm{/*rest}',
      '/unsubscribe{/*rest}',
      '/preferences{/*rest}',
      '/my-data{/*rest}',
      '/erase{/*rest}',
    ],
    (_req, res) => sendNotFound(res),
  );

  // Errors of the public pages become pages; everyone else's go on to the JSON error handler.
  const pageErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (!res.locals.publicPage || res.headersSent) return next(error);
    const status = (error as { status?: number; statusCode?: number }).status ?? 500;
    if (status >= 500) log.error({ err: error, event: 'public_page_failed' }, 'public page failed');
    else req.log.info({ err: error }, 'public page request refused');
    sendError(res, status >= 400 && status < 600 ? status : 500);
  };
  router.use(pageErrors);
  return router;
}
