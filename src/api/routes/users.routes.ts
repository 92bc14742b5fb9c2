// Accounts, for admins (docs/accounts.md). The audit log is readable by admins and operators.
import type { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { presentAudit, presentUser } from '../account-presenters.js';
import { parse } from '../middleware/validate.js';
import { documentRoutes, json, jsonBody, noContent, type RouteDoc } from '../openapi.js';
import { pageParams, pageResult } from '../pagination.js';
import {
  auditEntrySchema,
  auditQuery,
  enrolmentSchema,
  passwordChangeBody,
  sessionSchema,
  signInBody,
  totpConfirmBody,
  totpOffBody,
  userCreate,
  userCreated,
  userPatch,
  userSchema,
} from '../schemas/accounts.schemas.js';
import { idParam, pageOf, pageQuery, z } from '../schemas/common.js';
import { ApiRoutes } from './api-routes.js';

/** `user:3` → { type, id }; `token:bootstrap` → the ADMIN_TOKEN (id null). */
function actorFilter(text: string | undefined) {
  if (!text) return undefined;
  const [type, id] = text.split(':') as [string, string | undefined];
  if (id === undefined) return { type };
  return { type, id: id === 'bootstrap' ? null : Number(id) };
}

export function usersRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const admin = { scope: 'admin' } as const;
  const { users, audit } = services;

  router.post('/users', admin, async (req, res) => {
    const { user, setPasswordUrl } = await users.create(parse(userCreate, req.body));
    res
      .status(201)
      .location(`/api/v1/users/${user.id}`)
      .set('Cache-Control', 'no-store')
      .json({ ...presentUser(user), ...(setPasswordUrl ? { setPasswordUrl } : {}) });
  });
  router.get('/users', { scope: 'admin', query: pageQuery }, async (req, res) => {
    const { after, limit, fetch } = pageParams(parse(pageQuery, req.query));
    res.json(pageResult(await users.page(after, fetch), limit, presentUser));
  });
  router.get('/users/:id', admin, async (req, res) => {
    res.json(presentUser(await users.get(parse(idParam, req.params).id)));
  });
  router.patch('/users/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params);
    res.json(presentUser(await users.update(id, parse(userPatch, req.body))));
  });
  router.delete('/users/:id', admin, async (req, res) => {
    await users.delete(parse(idParam, req.params).id);
    res.status(204).end();
  });
  router.post('/users/:id/password-link', admin, async (req, res) => {
    const setPasswordUrl = await users.resetLink(parse(idParam, req.params).id);
    res.set('Cache-Control', 'no-store').json({ setPasswordUrl });
  });

  router.get('/audit', { scope: 'ops', query: auditQuery }, async (req, res) => {
    const query = parse(auditQuery, req.query);
    const { after, limit, fetch } = pageParams(query);
    const actor = actorFilter(query.actor);
    const [entityType, ...entityId] = query.entity?.split(':') ?? [];
    const rows = await audit.page(
      {
        actor,
        entity: entityType ? { type: entityType, id: entityId.join(':') || undefined } : undefined,
      },
      after,
      fetch,
    );
    res.json(pageResult(rows, limit, presentAudit));
  });

  return router.router;
}

const one = { params: idParam };

const ACCOUNT_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/users',
    scope: 'admin',
    request: { body: jsonBody(userCreate) },
    ok: [201, json('The user; a set-password link when no password was given', userCreated)],
    problems: [400, 401, 403, 409],
  },
  {
    method: 'get',
    path: '/users',
    scope: 'admin',
    request: { query: pageQuery },
    ok: [200, json('A page of users', pageOf(userSchema))],
    problems: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/users/{id}',
    scope: 'admin',
    request: one,
    ok: [200, json('The user', userSchema)],
    problems: [400, 401, 403, 404],
  },
  {
    method: 'patch',
    path: '/users/{id}',
    scope: 'admin',
    summary: 'Edit a user; disabling, new roles or a new password end their sessions',
    request: { ...one, body: jsonBody(userPatch) },
    ok: [200, json('The user', userSchema)],
    problems: [400, 401, 403, 404, 409],
  },
  {
    method: 'delete',
    path: '/users/{id}',
    scope: 'admin',
    request: one,
    ok: [204, noContent],
    problems: [400, 401, 403, 404, 409],
  },
  {
    method: 'post',
    path: '/users/{id}/password-link',
    scope: 'admin',
    summary: 'A new one-time set-password link (72 h), also mailed',
    request: one,
    ok: [200, json('The link', z.object({ setPasswordUrl: z.string() }))],
    problems: [400, 401, 403, 404],
  },
  {
    method: 'get',
    path: '/audit',
    scope: 'ops',
    summary: 'The audit log, newest first (admin or ops)',
    request: { query: auditQuery },
    ok: [200, json('A page of audit entries', pageOf(auditEntrySchema))],
    problems: [400, 401, 403],
  },
];

const SESSION_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/session',
    scope: 'signed-in',
    summary: 'Who am I: the user (or token) and their scopes',
    ok: [200, json('The session', sessionSchema)],
    problems: [401],
  },
  {
    method: 'delete',
    path: '/session',
    scope: 'signed-in',
    summary: 'Sign out: the session ends on the server',
    ok: [204, noContent],
    problems: [401, 403],
  },
  {
    method: 'post',
    path: '/session/password',
    scope: 'signed-in',
    summary: 'Change my password: every session ends; this browser gets a new one',
    request: { body: jsonBody(passwordChangeBody) },
    ok: [200, json('The new session', sessionSchema)],
    problems: [400, 401, 403],
  },
  {
    method: 'post',
    path: '/session/totp',
    scope: 'signed-in',
    summary: 'Start two-factor enrolment: the secret and its QR code, shown once',
    ok: [200, json('The enrolment', enrolmentSchema)],
    problems: [401, 403, 409],
  },
  {
    method: 'post',
    path: '/session/totp/confirm',
    scope: 'signed-in',
    summary: 'Turn two-factor sign-in on with a first code; the recovery codes, shown once',
    request: { body: jsonBody(totpConfirmBody) },
    ok: [200, json('Ten recovery codes', z.object({ recoveryCodes: z.array(z.string()) }))],
    problems: [400, 401, 403, 409],
  },
  {
    method: 'post',
    path: '/session/totp/disable',
    scope: 'signed-in',
    summary: 'Turn two-factor sign-in off (with the password)',
    request: { body: jsonBody(totpOffBody) },
    ok: [204, noContent],
    problems: [400, 401, 403, 409],
  },
];

export function documentAccounts(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/session',
    tags: ['Session'],
    summary: 'Sign in: sets the bulletin_session cookie',
    request: { body: jsonBody(signInBody) },
    responses: {
      200: json('Signed in', z.object({ user: userSchema, csrfToken: z.string() })),
      401: { description: 'Wrong address, password or code (one answer for all)' },
      429: { description: 'Too many failures for this address; see Retry-After' },
    },
  });
  documentRoutes(registry, 'Session', SESSION_ROUTES);
  documentRoutes(registry, 'Users', ACCOUNT_ROUTES);
}
