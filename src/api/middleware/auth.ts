import type { RequestHandler, Response } from 'express';
import { AppError } from '../../domain/errors.js';
import type { Principal, TokensService } from '../../services/tokens.service.js';

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

/** Bearer authentication for /api/v1. Unknown, malformed and revoked tokens look alike. */
export function authenticate(tokens: TokensService): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    res.setHeader('WWW-Authenticate', 'Bearer realm="bulletin"');
    if (!token) throw new AppError('unauthorized', 'Send Authorization: Bearer <token>');
    const found = await tokens.authenticate(token);
    if (!found) throw new AppError('unauthorized', 'The token is not valid or was revoked');
    res.removeHeader('WWW-Authenticate');
    res.locals.principal = found;
    next();
  };
}
