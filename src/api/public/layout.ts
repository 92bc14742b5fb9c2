// The frame every public page shares, and the pages that say something went wrong. No script
// anywhere: everything works with plain forms, and the CSP forbids scripts outright.
import type { Response } from 'express';
import { html, type SafeHtml } from './html.js';
import { ICON_PATH, STYLESHEET_PATH } from './styles.js';

/** Scripts, plugins, frames and foreign origins are all refused; forms post only here. */
export const PUBLIC_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** A message in a browser: its own inline styles and images, nothing that runs or submits. */
export const MESSAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src 'self' data: https:",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Who sends the newsletters (ORG_NAME, ORG_ADDRESS): named on every public page. */
export interface Organisation {
  name: string;
  address: string | undefined;
}

export function layout(
  title: string,
  body: SafeHtml,
  org: Organisation,
  /** Public content (the archive): indexed, with extra head elements (its feed). */
  open?: { head: SafeHtml },
): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${open ? open.head : html`<meta name="robots" content="noindex, nofollow" />`}
        <title>${title}</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
        <link rel="icon" type="image/svg+xml" href="${ICON_PATH}" />
      </head>
      <body>
        <header class="org">${org.name}</header>
        <main>${body}</main>
        <footer class="org-footer">
          <p>${org.name}${org.address ? html` · ${org.address}` : ''}</p>
        </footer>
      </body>
    </html> `;
}

/** The organisation the public router put on the response (see public.routes.ts). */
function orgOf(res: Response): Organisation {
  return (res.locals.org as Organisation | undefined) ?? { name: 'Bulletin', address: undefined };
}

/** The archive's pages: the same frame and CSP (frames from this site allowed), cacheable. */
export function sendOpenPage(res: Response, title: string, body: SafeHtml, head: SafeHtml): void {
  res
    .status(200)
    .set('Content-Security-Policy', `${PUBLIC_CSP}; frame-src 'self'`)
    .set('Cache-Control', 'public, max-age=300')
    .type('text/html; charset=utf-8')
    .send(layout(title, body, orgOf(res), { head }).value);
}

/** Sends a page. Pages behind tokens show personal data: never cached, never indexed. */
export function sendPage(res: Response, status: number, title: string, body: SafeHtml): void {
  res
    .status(status)
    .set('Content-Security-Policy', PUBLIC_CSP)
    .set('Cache-Control', 'no-store')
    .set('X-Robots-Tag', 'noindex, nofollow')
    .type('text/html; charset=utf-8')
    .send(layout(title, body, orgOf(res)).value);
}

/**
 * The one answer for a link that is forged, tampered with, meant for another page, or names a
 * subscriber who no longer exists: nothing in it depends on which.
 */
export function sendNotFound(res: Response): void {
  sendPage(
    res,
    404,
    'Page not found',
    html`<h1>Page not found</h1>
      <p>
        This link does not work. It may be incomplete: if you copied it from a message, make sure
        you copied all of it.
      </p>`,
  );
}

export function sendError(res: Response, status: number): void {
  if (status === 404) return sendNotFound(res);
  const [title, text] =
    status === 429
      ? [
          'Too many requests',
          'You have sent this form too many times. Please wait a while and try again.',
        ]
      : status === 413
        ? ['Too much data', 'The form sent more data than this page accepts.']
        : status >= 400 && status < 500
          ? ['Bad request', 'This page could not understand the request.']
          : ['Something went wrong', 'Something went wrong on our side. Please try again later.'];
  sendPage(
    res,
    status,
    title,
    html`<h1>${title}</h1>
      <p>${text}</p>`,
  );
}
