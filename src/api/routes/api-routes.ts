// Every admin route declares, on the route itself, the scope it needs and the query parameters
// it takes. Nothing is decided from the spelling of a path: the check runs as the route's own
// first handler, so whatever spelling Express lets reach the route (letter case, a trailing
// slash, an encoded character) passes the same check. Routing is also strict and
// case-sensitive, so such spellings are simply not found. See docs/security.md.
import { Router, type RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError, validation } from '../../domain/errors.js';
import { hasScope, type Scope } from '../../domain/scopes.js';
import { principal } from '../middleware/auth.js';
import { auditTrail } from '../middleware/audit-trail.js';

/** Paths are matched exactly as documented: `/campaigns/1/SEND` and `/lists/` are not found. */
export const EXACT_ROUTING = { caseSensitive: true, strict: true } as const;

export interface RouteAccess {
  /**
   * The scope the route needs; with several, any one of them opens it (`admin` opens all).
   * `signed-in`: any authenticated principal (a user's own session routes, who am I).
   */
  scope: Scope | readonly Scope[] | 'signed-in';
  /** The query parameters the route takes; any other one is a 400. None when absent. */
  query?: z.ZodObject;
  /** false for a POST that changes nothing (a preview): it is not written to the audit log. */
  audit?: false;
}

/** A scope check that names its scopes, so tests can read every route's guard from the stack. */
export type ScopeGuard = RequestHandler & {
  readonly scopes: readonly Scope[];
  readonly signedIn?: boolean;
};

export function scopeGuard(scope: RouteAccess['scope']): ScopeGuard {
  if (scope === 'signed-in') {
    const open: RequestHandler = (_req, _res, next) => next();
    return Object.assign(open, { scopes: [] as Scope[], signedIn: true });
  }
  const scopes: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
  const guard: RequestHandler = (_req, res, next) => {
    const { scopes: granted, user } = principal(res);
    if (user?.mustEnrolSecondFactor) {
      throw new AppError(
        'forbidden',
        'Turn on two-factor sign-in first (POST /api/v1/session/totp): it is required for admins',
      );
    }
    if (!scopes.some((s) => hasScope(granted, s))) {
      const who = user ? 'Your roles do not give' : 'This token lacks';
      throw new AppError(
        'forbidden',
        scopes.length === 1
          ? `${who} the "${scopes[0]}" scope`
          : `${who} any of the scopes: ${scopes.join(', ')}`,
      );
    }
    next();
  };
  return Object.assign(guard, { scopes });
}

/** Refuses query parameters the route does not take: a misspelt filter must not match all. */
export function queryGuard(schema: z.ZodObject | undefined): RequestHandler {
  const known = new Set(schema ? Object.keys(schema.shape) : []);
  return (req, _res, next) => {
    const unknown = Object.keys(req.query as object).filter((key) => !known.has(key));
    if (unknown.length > 0) {
      const takes = known.size ? `; this route takes ${[...known].join(', ')}` : '';
      throw validation(
        unknown.map((key) => ({
          path: key,
          message: `is not a query parameter of this route${takes}`,
        })),
        `Unknown query parameter: ${unknown.join(', ')}`,
      );
    }
    next();
  };
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** An admin router whose every route states its scope and query parameters. */
export class ApiRoutes {
  readonly router = Router(EXACT_ROUTING);

  get(path: string, access: RouteAccess, ...handlers: RequestHandler[]): this {
    return this.add('get', path, access, handlers);
  }
  post(path: string, access: RouteAccess, ...handlers: RequestHandler[]): this {
    return this.add('post', path, access, handlers);
  }
  put(path: string, access: RouteAccess, ...handlers: RequestHandler[]): this {
    return this.add('put', path, access, handlers);
  }
  patch(path: string, access: RouteAccess, ...handlers: RequestHandler[]): this {
    return this.add('patch', path, access, handlers);
  }
  delete(path: string, access: RouteAccess, ...handlers: RequestHandler[]): this {
    return this.add('delete', path, access, handlers);
  }

  private add(method: Method, path: string, access: RouteAccess, handlers: RequestHandler[]) {
    const audited = method === 'get' || access.audit === false ? [] : [auditTrail(method, path)];
    this.router[method](
      path,
      scopeGuard(access.scope),
      queryGuard(access.query),
      ...audited,
      ...handlers,
    );
    return this;
  }
}
