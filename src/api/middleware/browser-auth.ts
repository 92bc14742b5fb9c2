// Admin auth a browser can use for pages outside /api/v1 (the queue board, the development
// outbox): HTTP basic auth whose password is an API token (any user name), or a Bearer token
// for scripts. The scope is checked here, on every request below the mount point.
import type { RequestHandler } from 'express';
import { hasScope, type Scope } from '../../domain/scopes.js';
import type { TokensService } from '../../services/tokens.service.js';
import { bearerToken, TOKEN_CHARS } from './auth.js';

export function browserAuth(tokens: TokensService, scope: Scope, realm: string): RequestHandler {
  return async (req, res, next) => {
    const secret = credential(req.get('authorization'));
    const principal = secret ? await tokens.authenticate(secret) : undefined;
    res.set('Cache-Control', 'no-store');
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
      res.status(403).type('text/plain').send(`This token lacks the "${scope}" scope.\n`);
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
