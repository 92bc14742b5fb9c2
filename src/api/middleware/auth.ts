import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../../domain/errors.js';
import type { Principal } from '../../services/principal.js';
import { SessionsService } from '../../services/sessions.service.js';
import type { TokensService } from '../../services/tokens.service.js';

export const SESSION_COOKIE = 'bulletin_session';

export function principal(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The characters an API token may hold: anything else is refused before any lookup. */
export const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]{1,512}$/;

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
  return token !== undefined && TOKEN_CHARS.test(token) ? token : undefined;
}

/** The value of the session cookie, or undefined (no cookie parser: one name, one shape). */
export function sessionCookie(req: Request): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * Authentication for /api/v1: a bearer token, or a signed-in user's session cookie (docs/
 * accounts.md). A request with an Authorization header is judged by it alone. Unknown,
 * malformed, revoked and expired credentials look alike.
 */
export function authenticate(tokens: TokensService, sessions: SessionsService): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    res.setHeader('WWW-Authenticate', 'Bearer realm="bulletin"');
    let found: Principal | undefined;
    if (header !== undefined) {
      const token = bearerToken(header);
      if (!token) throw new AppError('unauthorized', 'Send Authorization: Bearer <token>');
      found = await tokens.authenticate(token);
      if (!found) throw new AppError('unauthorized', 'The token is not valid or was revoked');
    } else {
      const cookie = sessionCookie(req);
      found = cookie ? await sessions.authenticate(cookie) : undefined;
      if (!found) {
        throw new AppError('unauthorized', 'Sign in, or send Authorization: Bearer <token>');
      }
    }
    res.removeHeader('WWW-Authenticate');
    res.locals.principal = found;
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF (docs/accounts.md): a state-changing request authenticated by the session cookie must
 * carry the session's token, in `X-CSRF-Token` or a `_csrf` field of the body. Bearer requests
 * need none (a browser never adds an Authorization header by itself). Runs after the body is
 * parsed; the `_csrf` field is removed before any validator sees the body.
 */
export const csrfGuard: RequestHandler = (req, res, next) => {
  const session = principal(res).session;
  const body = req.body as Record<string, unknown> | undefined;
  const field = body && typeof body === 'object' && !Array.isArray(body) ? body._csrf : undefined;
  if (field !== undefined) delete body!._csrf;
  if (!session || SAFE_METHODS.has(req.method)) return next();
  const given = req.get('x-csrf-token') ?? field;
  if (!SessionsService.csrfMatches(given, session.csrfToken)) {
    throw new AppError(
      'csrf',
      "Send the session's CSRF token (from sign-in) in the X-CSRF-Token header or a _csrf field",
    );
  }
  next();
};
