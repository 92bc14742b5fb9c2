// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests.
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { problemSchema } from './schemas/common.js';

export const json = (description: string, schema: z.ZodType): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const noContent: ResponseConfig = { description: 'Done; no content' };

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Malformed or invalid request (see `errors`)',
  401: 'Missing, unknown or revoked token',
  403: 'The token or user lacks the scope (or, with a session, the CSRF token is missing)',
  429: 'Too many attempts (see Retry-After)',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Semantically invalid',
};

export function problems(...statuses: number[]): Record<number, ResponseConfig> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: PROBLEM_TEXT[s] ?? 'Problem',
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  );
}

export const secured = (scope: string) => ({
  security: [{ bearer: [] }, { session: [] }] as Record<string, string[]>[],
  description:
    scope === 'signed-in'
      ? 'Any signed-in user or token.'
      : `Scope: \`${scope}\` (or \`admin\`). With the session cookie, a write also needs ` +
        'the `X-CSRF-Token` header.',
});

/** One admin route of the document, as the route tables of each router list them. */
export interface RouteDoc {
  method: RouteConfig['method'];
  /** The path after /api/v1, with `{id}`-style parameters. */
  path: string;
  scope: string;
  summary?: string;
  request?: RouteConfig['request'];
  /** The success status and its answer. */
  ok: [number, ResponseConfig];
  /** The problem statuses the route can answer. */
  problems: number[];
}

export function documentRoutes(registry: OpenAPIRegistry, tag: string, routes: RouteDoc[]): void {
  for (const r of routes) {
    registry.registerPath({
      method: r.method,
      path: `/api/v1${r.path}`,
      tags: [tag],
      ...secured(r.scope),
      ...(r.summary ? { summary: r.summary } : {}),
      ...(r.request ? { request: r.request } : {}),
      responses: { [r.ok[0]]: r.ok[1], ...problems(...r.problems) },
    });
  }
}

export function buildOpenApi(document: ((registry: OpenAPIRegistry) => void)[], version: string) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  registry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'bulletin_session',
    description: 'The session of a signed-in user (POST /api/v1/session)',
  });
  for (const doc of document) doc(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Bulletin admin API',
      version,
      description:
        'Errors are RFC 9457 problem details. Lists are paginated with `?after=<cursor>&limit=<n>`.',
    },
    servers: [{ url: '/' }],
  });
}
