// `/api/docs` is an interactive reference
// (Swagger UI, served from this process) over /api/v1/openapi.json; `/docs/<page>` shows the
// operator's and API documentation of this installation, rendered from docs/*.md.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import MarkdownIt from 'markdown-it';
import type { Container } from '../../container.js';
import { packageRoot } from '../../lib/paths.js';
import { html, SafeHtml } from '../public/html.js';
import { sendNotFound, sendPage } from '../public/layout.js';

const require = createRequire(import.meta.url);
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const DOCS_DIR = path.join(packageRoot(), 'docs');
/** A docs page name: what docs/ holds, nothing else (no dots, no slashes). */
const PAGE = /^[a-z][a-z0-9-]{0,40}$/;

// Raw HTML in the docs is not rendered: they are text for people, and the pages keep the CSP.
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Bulletin API reference</title>
    <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/api/docs/init.js"></script>
  </body>
</html>
`;

const SWAGGER_INIT = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
  validatorUrl: null,
});
`;

/** The pages of docs/, read once: they change with a release, not while the process runs. */
function readDocPages(): Promise<string[]> {
  return readdir(DOCS_DIR)
    .catch(() => [] as string[])
    .then((files) =>
      files
        .filter((f) => f.endsWith('.md'))
        .map((f) => f.slice(0, -3))
        .filter((name) => PAGE.test(name))
        .sort(),
    );
}

function show(res: Response, title: string, body: SafeHtml, org: Container['config']['org']): void {
  res.locals.org = org;
  sendPage(res, 200, title, body);
}

export function homeRouter({ config }: Container): Router {
  const router = Router();
  let pagesRead: Promise<string[]> | undefined;
  const docPages = () => (pagesRead ??= readDocPages());

  router.get('/docs', async (_req, res) => {
    const pages = await docPages();
    show(
      res,
      'Documentation',
      html`<h1>Documentation</h1>
        <ul>
          ${pages.map((p) => html`<li><a href="/docs/${p}">${p}</a></li>`)}
        </ul>`,
      config.org,
    );
  });

  router.get('/docs/:page', async (req, res) => {
    const name = String(req.params.page).replace(/\.md$/, '');
    if (!PAGE.test(name) || !(await docPages()).includes(name)) return sendNotFound(res);
    const source = await readFile(path.join(DOCS_DIR, `${name}.md`), 'utf8');
    // Links between the pages (`operations.md`, `docs/api.md#errors`) lead to their pages here.
    const rendered = markdown
      .render(source)
      .replace(/href="(?:\.\.\/)?(?:docs\/)?([a-z][a-z0-9-]*)\.md(#[^"]*)?"/g, 'href="/docs/$1$2"');
    // markdown-it escapes the text and renders no raw HTML: its output is safe as it is.
    show(res, name, html`<article class="doc">${new SafeHtml(rendered)}</article>`, config.org);
  });

  router.get('/api/docs', (_req, res) => {
    res.type('html').set('Cache-Control', 'no-cache').send(SWAGGER_PAGE);
  });
  router.get('/api/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(SWAGGER_INIT);
  });
  router.use(
    '/api/docs/assets',
    express.static(SWAGGER_DIR, { index: false, maxAge: '1d', fallthrough: false }),
  );
  return router;
}
