import type { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { parse } from '../middleware/validate.js';
import { pageParams, pageResult } from '../pagination.js';
import { presentToken } from '../presenters.js';
import { idParam, pageOf, pageQuery } from '../schemas/common.js';
import { tokenCreate, tokenCreated, tokenSchema } from '../schemas/tokens.schemas.js';
import { json, jsonBody, noContent, problems, secured } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';

export function tokensRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const admin = { scope: 'admin' } as const;

  router.post('/tokens', admin, async (req, res) => {
    const body = parse(tokenCreate, req.body);
    const created = await services.tokens.create(body.name.trim(), body.scopes);
    res
      .status(201)
      .location(`/api/v1/tokens/${created.id}`)
      .set('Cache-Control', 'no-store')
      .json({ ...presentToken(created), token: created.token });
  });

  router.get('/tokens', { scope: 'admin', query: pageQuery }, async (req, res) => {
    const { after, limit, fetch } = pageParams(parse(pageQuery, req.query));
    res.json(pageResult(await services.tokens.page(after, fetch), limit, presentToken));
  });

  router.delete('/tokens/:id', admin, async (req, res) => {
    const { id } = parse(idParam, req.params);
    await services.tokens.revoke(id);
    res.status(204).end();
  });

  return router.router;
}

export function documentTokens(registry: OpenAPIRegistry): void {
  const tags = ['Tokens'];
  registry.registerPath({
    method: 'post',
    path: '/api/v1/tokens',
    tags,
    ...secured('admin'),
    request: { body: jsonBody(tokenCreate) },
    responses: { 201: json('The token, shown once', tokenCreated), ...problems(400, 401, 403) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/tokens',
    tags,
    ...secured('admin'),
    request: { query: pageQuery },
    responses: {
      200: json('A page of tokens (never the secret)', pageOf(tokenSchema)),
      ...problems(400, 401, 403),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/tokens/{id}',
    tags,
    ...secured('admin'),
    request: { params: idParam },
    responses: { 204: noContent, ...problems(400, 401, 403, 404) },
  });
}
