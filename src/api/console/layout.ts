// The console's frame: the navigation every signed-in page carries (links named as the
// contract says, and a Sign out button), a skip link, and the page's own content.
import type { Response } from 'express';
import { html, type SafeHtml } from '../public/html.js';
import { ICON_PATH } from '../public/styles.js';
import { can, csrfField, NAV, who, type Section } from './kit.js';

export const CONSOLE_CSS_PATH = '/admin/assets/console.css';
export const CONSOLE_JS_PATH = '/admin/assets/console.js';

export interface ConsolePage {
  title: string;
  section: Section;
  body: SafeHtml;
}

function navigation(res: Response, section: Section): SafeHtml {
  const user = who(res).user;
  const links = NAV.map(
    ([name, href]) =>
      html`<li>
        <a href="${href}" ${name === section ? html` aria-current="page"` : ''}>${name}</a>
      </li>`,
  );
  return html`<nav aria-label="Console">
    <ul class="nav">
      ${links}
      ${can(res, 'admin') ? html`<li><a href="/admin/users" ${section === 'Users' ? html` aria-current="page"` : ''}>Users and tokens</a></li>` : ''}
    </ul>
    <div class="who">
      <a href="/admin/account">${user.name}</a>
      <form method="post" action="/admin/logout">
        ${csrfField(res)}<button type="submit" class="link">Sign out</button>
      </form>
    </div>
  </nav>`;
}

/** The document around a page: the head both kinds of page share, and their body. */
function htmlDocument(
  res: Response,
  title: string,
  head: SafeHtml,
  body: SafeHtml,
  status: number,
) {
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .send(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <meta name="robots" content="noindex, nofollow" />
            <title>${title} · Bulletin</title>
            <link rel="stylesheet" href="${CONSOLE_CSS_PATH}" />
            <link rel="icon" type="image/svg+xml" href="${ICON_PATH}" />
            ${head}
          </head>
          ${body}
        </html>`.value,
    );
}

export function consolePage(res: Response, page: ConsolePage, status = 200): void {
  htmlDocument(
    res,
    page.title,
    html`<meta name="csrf-token" content="${who(res).session!.csrfToken}" />
      <script type="module" src="${CONSOLE_JS_PATH}"></script>`,
    html`<body>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/admin">Bulletin</a>
        ${navigation(res, page.section)}
      </header>
      <main id="main" tabindex="-1">${page.body}</main>
      <footer class="bottom">
        <a href="/api/docs">API reference</a> · <a href="/docs">Documentation</a>
      </footer>
    </body>`,
    status,
  );
}

/** A page outside the signed-in frame (sign-in, second factor). */
export function barePage(res: Response, title: string, body: SafeHtml, status = 200): void {
  htmlDocument(
    res,
    title,
    html``,
    html`<body class="bare">
      <main id="main">${body}</main>
    </body>`,
    status,
  );
}
