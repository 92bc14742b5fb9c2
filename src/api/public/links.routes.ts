// The links in mail: GET /confirm/:token (double opt-in), GET /unsubscribe/:token (a page with a
// button; a GET never unsubscribes) and POST /unsubscribe/:token, which is also the RFC 8058
// one-click target: urlencoded or multipart, no cookie, no redirect, 200, idempotent.
import { formFields, isOneClick, readRawBody } from './body.js';
import { origin, show, type PublicKit } from './kit.js';
import { sendNotFound } from './layout.js';
import { confirmedPage, unsubscribePage, unsubscribedPage } from './pages.js';

export function linkRoutes(kit: PublicKit): void {
  const { router, services, tokenLimit, visitorOf, preferencesPath } = kit;
  const { links, publicSubscriptions: subscriptions, publicPreferences: preferences } = services;
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
}
