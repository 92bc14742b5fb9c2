// GET /view/<token> (docs/engagement.md): the recipient's own message, with nothing tracked;
// and the slow path of the engagement links: a click token the fast path (tracking.routes.ts)
// refused is counted against the public links' limit and gets the 404 page, and an open token
// of another shape still gets the image.
import type { PublicKit } from './kit.js';
import { MESSAGE_CSP, sendNotFound } from './layout.js';
import { PIXEL } from './tracking.routes.js';

/** A refused click token (the fast path passed it on): counted, then the 404 page. */
export function refusedClickRoutes(kit: PublicKit): void {
  kit.router.get('/l/:token', kit.tokenLimit, (_req, res) => sendNotFound(res));
  // Always the image: a mail client shows no broken picture, a prober learns nothing.
  kit.router.get('/o/:token', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('image/gif').send(PIXEL);
  });
}

/** /view: the recipient's own message, with nothing tracked. */
export function viewRoutes(kit: PublicKit): void {
  const { router, services, tokenLimit } = kit;
  const { engagement } = services;

  router.get('/view/:token', tokenLimit, async (req, res) => {
    const found = await engagement.view(String(req.params.token));
    if (!found) return sendNotFound(res);
    let html = found.html;
    if (!html) {
      // A sample view (a test send's link): the campaign with sample values.
      const c = found.campaign;
      if (!c.template_id) return sendNotFound(res);
      html = (
        await services.templates.preview(c.template_id, {
          content: c.content ?? '',
          contentType: c.content_type,
          campaign: { subject: c.subject, name: c.name },
        })
      ).html;
    }
    res
      .set('Content-Security-Policy', MESSAGE_CSP)
      .set('Cache-Control', 'no-store')
      .set('X-Robots-Tag', 'noindex, nofollow')
      .type('text/html; charset=utf-8')
      .send(html);
  });
}
