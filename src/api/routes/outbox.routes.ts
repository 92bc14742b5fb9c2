// Development tool: when SMTP_URL is unset, outgoing mail is written as .eml files and listed
// here, behind admin auth (basic auth with an `admin` token as the password, or Bearer): the
// mails hold signed links that act for their recipients. It answers 404 in production and
// whenever real SMTP is configured, so it can never show real recipients' mail.
//
//   /dev/outbox?page=N          date, recipient and subject of each message, newest first
//   /dev/outbox/<file>           the message as sent (text/plain)
//   /dev/outbox/<file>/html      its HTML part, rendered, in a sandbox (no script, no fetching)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import PostalMime from 'postal-mime';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { outboxPage, type OutboxEntry } from '../../mail/transport.js';
import { browserAuth } from '../middleware/browser-auth.js';
import { html, type SafeHtml } from '../public/html.js';

/** What outboxFileName() produces; anything else (../, slashes, NUL) is not a file of ours. */
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,250}\.eml$/;
const PER_PAGE = 50;

/** The rendered HTML part may show images written into it, and nothing else runs or loads. */
const HTML_PART_CSP =
  "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; form-action 'none'";

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem;color:#1f2933}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #dde3e9;vertical-align:top}
th{font-weight:600}nav a{margin-right:1rem}.muted{color:#4a5561}`;

function fileOf(value: unknown): string {
  const file = String(value);
  if (!FILE.test(file) || file.includes('..') || path.basename(file) !== file) {
    throw new AppError('not_found', 'No such message');
  }
  return file;
}

async function readMessage(dir: string, file: string): Promise<Buffer> {
  try {
    return await readFile(path.join(dir, file));
  } catch {
    throw new AppError('not_found', 'No such message');
  }
}

/** One line of the list: date, recipients, subject, and links to the message. */
async function outboxRow(dir: string, entry: OutboxEntry): Promise<SafeHtml> {
  const parsed = await PostalMime.parse(await readMessage(dir, entry.file)).catch(() => undefined);
  const to = parsed?.to?.map((a) => a.address ?? '').join(', ') ?? '';
  const href = `/dev/outbox/${encodeURIComponent(entry.file)}`;
  return html`<tr>
    <td>${parsed?.date ?? entry.modifiedAt.toISOString()}</td>
    <td>${to}</td>
    <td>${parsed?.subject ?? '(no subject)'}</td>
    <td>
      ${parsed?.html ? html`<a href="${href}/html">view</a> · ` : ''}<a href="${href}">source</a>
    </td>
  </tr>`;
}

function outboxList(page: number, pages: number, total: number, rows: SafeHtml[]): SafeHtml {
  const nav = html`<nav aria-label="Pages">
    ${page > 1 ? html`<a href="/dev/outbox?page=${page - 1}">Newer</a>` : ''}
    <span class="muted">Page ${page} of ${pages}</span>
    ${page < pages ? html`<a href="/dev/outbox?page=${page + 1}">Older</a>` : ''}
  </nav>`;
  const table = html`<table>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">To</th>
          <th scope="col">Subject</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${nav}`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Outbox</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <h1>Outbox</h1>
        <p>
          ${total} ${total === 1 ? 'message' : 'messages'} written instead of sent (SMTP_URL is
          unset), newest first.
        </p>
        ${total === 0 ? html`<p>No messages yet.</p>` : table}
      </body>
    </html>`;
}

export function outboxRouter({ config, services }: Container): Router {
  const router = Router();
  const dir = config.outboxDir;
  // On each route, so no spelling of the path reaches a page without it.
  const admin = browserAuth(services.tokens, services.sessions, 'admin', 'Bulletin outbox');
  const enabled: RequestHandler = (_req, _res, next) => {
    if (config.nodeEnv === 'production' || config.smtpUrl) {
      throw new AppError('not_found', 'The outbox exists only in development, without SMTP_URL');
    }
    next();
  };

  router.get('/dev/outbox', enabled, admin, async (req, res) => {
    const raw = typeof req.query.page === 'string' ? req.query.page : '1';
    const page = /^[1-9][0-9]{0,6}$/.test(raw) ? Number(raw) : 1;
    const { total, entries } = await outboxPage(config, (page - 1) * PER_PAGE, PER_PAGE);
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    const rows = await Promise.all(entries.map((e) => outboxRow(dir, e)));
    // The page's own style block is the only inline content it has.
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('html')
      .send(outboxList(page, pages, total, rows).value);
  });

  router.get('/dev/outbox/:file', enabled, admin, async (req, res) => {
    res.type('text/plain; charset=utf-8').send(await readMessage(dir, fileOf(req.params.file)));
  });

  router.get('/dev/outbox/:file/html', enabled, admin, async (req, res) => {
    const parsed = await PostalMime.parse(await readMessage(dir, fileOf(req.params.file)));
    if (!parsed.html) throw new AppError('not_found', 'This message has no HTML part');
    res.set('Content-Security-Policy', HTML_PART_CSP).type('html').send(parsed.html);
  });

  return router;
}
