// The engagement links in mail (docs/engagement.md): GET|HEAD /l/<token> records a click and
// redirects to the original URL its token names (only ever a URL of that campaign's
// snapshot; anything else is the 404 page), GET|HEAD /o/<token> records an open and answers a
// 1×1 image, GET /view/<token> shows the recipient their own message, with nothing tracked.
import type { Request } from 'express';
import type { TrackingHit } from '../../services/engagement.service.js';
import type { PublicKit } from './kit.js';
import { MESSAGE_CSP, sendNotFound } from './layout.js';

/** The smallest transparent GIF (43 bytes). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const hitOf = (req: Request): TrackingHit => ({
  method: req.method,
  userAgent: req.get('user-agent')?.slice(0, 500),
});

export function engagementRoutes(kit: PublicKit): void {
  const { router, services, tokenLimit } = kit;
  const { engagement } = services;

  router.get('/l/:token', tokenLimit, async (req, res) => {
    const url = await engagement.click(String(req.params.token), hitOf(req));
    if (!url) return sendNotFound(res);
    res.set('Cache-Control', 'no-store').redirect(302, url);
  });

  // Always the image: a mail client shows no broken picture, a prober learns nothing.
  router.get('/o/:token', async (req, res) => {
    await engagement.open(String(req.params.token), hitOf(req));
    res.set('Cache-Control', 'no-store').type('image/gif').send(PIXEL);
  });

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
