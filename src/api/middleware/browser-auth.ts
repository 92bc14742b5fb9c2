// Admin auth a browser can use for pages outside /api/v1 (the queue board, the development
// outbox): a signed-in user's session cookie, HTTP basic auth whose password is an API token
// (any user name), or a Bearer token for scripts. The scope is checked here, on every request
// below the mount point. A cookie-authenticated write must come from our own pages: the
// browser's Sec-Fetch-Site (or Origin) says so; SameSite=Lax already keeps other sites' forms
// from carrying the cookie.
import type { Request, RequestHandler } from 'express';
import { hasScope, type Scope } from '../../domain/scopes.js';
import type { TokensService } from '../../services/tokens.service.js';
import type { SessionsService } from '../../services/sessions.service.js';
import { bearerToken, sessionCookie, TOKEN_CHARS } from './auth.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether an unsafe request comes from our own pages (always true for safe methods). */
function sameOrigin(req: Request): boolean {
  if (SAFE.has(req.method)) return true;
  const site = req.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = req.get('origin');
  return origin === undefined || origin === `${req.protocol}://${req.get('host')}`;
}

export function browserAuth(
  tokens: TokensService,
  sessions: SessionsService,
  scope: Scope,
  realm: string,
): RequestHandler {
  return async (req, res, next) => {
    const secret = credential(req.get('authorization'));
    const cookie = secret ? undefined : sessionCookie(req);
    const principal = secret
      ? await tokens.authenticate(secret)
      : cookie
        ? await sessions.authenticate(cookie)
        : undefined;
    res.set('Cache-Control', 'no-store');
    if (principal?.session && !sameOrigin(req)) {
      res.status(403).type('text/plain').send('Cross-site requests are refused.\n');
      return;
    }
    if (!principal) {
      const scopes = scope === 'admin' ? '"admin"' : `"${scope}" or "admin"`;
      res
        .status(401)
        .set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
        .type('text/plain')
        .send(
          `Sign in with any user name and an API token with the ${scopes} scope as the password.\n`,
        );
      return;
    }
    if (!hasScope(principal.scopes, scope)) {
      const who = principal.user ? 'Your roles do not give' : 'This token lacks';
      res.status(403).type('text/plain').send(`${who} the "${scope}" scope.\n`);
      return;
    }
    next();
  };
}

/** The token from `Basic base64(user:token)` or `Bearer token`. */
function credential(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = bearerToken(header);
  if (bearer) return bearer;
  const basic = /^Basic ([A-Za-z0-9+/=]{1,1400})$/.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  return TOKEN_CHARS.test(password) ? password : undefined;
}
