// What every public page's answer carries, wherever its router is mounted: the public CSP,
// the locals the error handler and the page frame read, and errors rendered as pages.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Container } from '../../container.js';
import type { Logger } from '../../lib/logger.js';
import { PUBLIC_CSP, sendError } from './layout.js';

/** The public pages' CSP and locals (the error handler's cue), also on answers that are not pages. */
export function publicPageHeaders(container: Container): RequestHandler {
  return (_req, res, next) => {
    res.locals.publicPage = true;
    res.locals.org = container.config.org;
    res.set('Content-Security-Policy', PUBLIC_CSP);
    next();
  };
}

/** Errors of the public pages become pages; everyone else's go on to the JSON error handler. */
export function publicPageErrors(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (!res.locals.publicPage || res.headersSent) return next(error);
    const status = (error as { status?: number; statusCode?: number }).status ?? 500;
    if (status >= 500) log.error({ err: error, event: 'public_page_failed' }, 'public page failed');
    else req.log.info({ err: error }, 'public page request refused');
    sendError(res, status >= 400 && status < 600 ? status : 500);
  };
}
