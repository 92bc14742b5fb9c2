// Development tool: when SMTP_URL is unset, outgoing mail is written as .eml files and listed
// here, behind admin auth (basic auth with an `admin` token as the password, or Bearer): the
// mails hold signed links that act for their recipients. It answers 404 in production and
// whenever real SMTP is configured, so it can never show real recipients' mail.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { listOutbox } from '../../mail/transport.js';
import { browserAuth } from '../middleware/browser-auth.js';

/** What outboxFileName() produces; anything else (../, slashes, NUL) is not a file of ours. */
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,250}\.eml$/;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function outboxRouter({ config, services }: Container): Router {
  const router = Router();
  // On each route, so no spelling of the path reaches a page without it.
  const admin = browserAuth(services.tokens, 'admin', 'Bulletin outbox');
  const enabled: RequestHandler = (_req, _res, next) => {
    if (config.nodeEnv === 'production' || config.smtpUrl) {
      throw new AppError('not_found', 'The outbox exists only in development, without SMTP_URL');
    }
    next();
  };

  router.get('/dev/outbox', enabled, admin, async (_req, res) => {
    const entries = await listOutbox(config);
    const rows = entries
      .map(
        (e) =>
          `<li><a href="/dev/outbox/${encodeURIComponent(e.file)}">${escapeHtml(e.file)}</a> ` +
          `<small>${e.size} bytes, ${e.modifiedAt.toISOString()}</small></li>`,
      )
      .join('\n');
    res
      .type('html')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Outbox</title></head>' +
          '<body><h1>Outbox</h1><p>Messages written instead of sent (SMTP_URL is unset). ' +
          `Newest first.</p>${entries.length ? `<ol>${rows}</ol>` : '<p>No messages yet.</p>'}` +
          '</body></html>',
      );
  });

  router.get('/dev/outbox/:file', enabled, admin, async (req, res) => {
    const file = String(req.params.file);
    if (!FILE.test(file) || file.includes('..') || path.basename(file) !== file) {
      throw new AppError('not_found', 'No such message');
    }
    let eml: Buffer;
    try {
      eml = await readFile(path.join(config.outboxDir, file));
    } catch {
      throw new AppError('not_found', 'No such message');
    }
    res.type('text/plain; charset=utf-8').send(eml);
  });

  return router;
}
