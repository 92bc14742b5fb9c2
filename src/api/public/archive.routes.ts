// The public archive (docs/engagement.md): GET /archive (newest first, 20 to a page),
// GET /archive/<slug> (one newsletter in the public pages' frame; the message itself in a
// frame of its own, /archive/<slug>/message, because its inline styles need their own CSP) and
// GET /archive/feed.xml (Atom). Cacheable: nothing on them is personal.
import type { Router } from 'express';
import type { Container } from '../../container.js';
import { ARCHIVE_SLUG } from '../../domain/campaign-input.js';
import { html } from './html.js';
import { MESSAGE_CSP, sendNotFound, sendOpenPage } from './layout.js';

const FEED = html`<link
  rel="alternate"
  type="application/atom+xml"
  title="The newsletter archive"
  href="/archive/feed.xml"
/>`;
const day = (d: Date) => d.toISOString().slice(0, 10);

export function archiveRoutes(router: Router, { services }: Container): void {
  const { archive } = services;

  router.get('/archive', async (req, res) => {
    const page = Math.max(1, Math.min(10_000, Number(req.query.page) || 1));
    const { entries, more } = await archive.list(page);
    sendOpenPage(
      res,
      'Newsletter archive',
      html`<h1>Newsletter archive</h1>
        ${entries.length === 0 ? html`<p>Nothing has been published here yet.</p>` : ''}
        <ol class="archive">
          ${entries.map(
            (e) =>
              html`<li>
                <a href="/archive/${e.slug}">${e.subject}</a>
                <time datetime="${e.sentAt.toISOString()}">${day(e.sentAt)}</time>
              </li>`,
          )}
        </ol>
        <p>
          ${page > 1 ? html`<a href="/archive?page=${page - 1}">Newer</a> · ` : ''}
          ${more ? html`<a href="/archive?page=${page + 1}">Older newsletters</a> · ` : ''}
          <a href="/archive/feed.xml">Atom feed</a> · <a href="/subscribe">Subscribe</a>
        </p>`,
      FEED,
    );
  });

  router.get('/archive/feed.xml', async (_req, res) => {
    res
      .status(200)
      .set('Cache-Control', 'public, max-age=300')
      .type('application/atom+xml; charset=utf-8')
      .send(await archive.feed());
  });

  router.get('/archive/:slug', async (req, res) => {
    const slug = String(req.params.slug);
    const found = ARCHIVE_SLUG.test(slug) ? await archive.message(slug) : undefined;
    if (!found) return sendNotFound(res);
    sendOpenPage(
      res,
      found.subject,
      html`<p><a href="/archive">Newsletter archive</a></p>
        <h1>${found.subject}</h1>
        <p>
          Sent <time datetime="${found.sentAt.toISOString()}">${day(found.sentAt)}</time> ·
          <a href="/subscribe">Subscribe</a>
        </p>
        <iframe
          class="archived-message"
          title="${found.subject}"
          src="/archive/${found.slug}/message"
          sandbox
        ></iframe>`,
      FEED,
    );
  });

  router.get('/archive/:slug/message', async (req, res) => {
    const slug = String(req.params.slug);
    const found = ARCHIVE_SLUG.test(slug) ? await archive.message(slug) : undefined;
    if (!found) return sendNotFound(res);
    res
      .status(200)
      .set('Content-Security-Policy', MESSAGE_CSP)
      .set('Cache-Control', 'public, max-age=300')
      .type('text/html; charset=utf-8')
      .send(found.html);
  });
}
