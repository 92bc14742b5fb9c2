import type { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { parse } from '../middleware/validate.js';
import { pageParams, pageResult } from '../pagination.js';
import { presentList } from '../presenters.js';
import { idParam, pageOf, pageQuery } from '../schemas/common.js';
import { listCreate, listPatch, listSchema } from '../schemas/lists.schemas.js';
import { json, jsonBody, noContent, problems, secured } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';

export function listsRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const write = { scope: 'subscribers:write' } as const;
  const read = { scope: 'read' } as const;

  router.post('/lists', write, async (req, res) => {
    const body = parse(listCreate, req.body);
    const list = await services.lists.create(body);
    res.status(201).location(`/api/v1/lists/${list.id}`).json(presentList(list));
  });

  router.get('/lists', { scope: 'read', query: pageQuery }, async (req, res) => {
    const { after, limit, fetch } = pageParams(parse(pageQuery, req.query));
    res.json(pageResult(await services.lists.page(after, fetch), limit, presentList));
  });

  router.get('/lists/:id', read, async (req, res) => {
    const { id } = parse(idParam, req.params);
    res.json(presentList(await services.lists.get(id)));
  });

  router.patch('/lists/:id', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const body = parse(listPatch, req.body);
    res.json(presentList(await services.lists.update(id, body)));
  });

  router.delete('/lists/:id', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    await services.lists.delete(id);
    res.status(204).end();
  });

  return router.router;
}

export function documentLists(registry: OpenAPIRegistry): void {
  const tags = ['Lists'];
  registry.registerPath({
    method: 'post',
    path: '/api/v1/lists',
    tags,
    ...secured('subscribers:write'),
    request: { body: jsonBody(listCreate) },
    responses: { 201: json('The list', listSchema), ...problems(400, 401, 403) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/lists',
    tags,
    ...secured('read'),
    request: { query: pageQuery },
    responses: { 200: json('A page of lists', pageOf(listSchema)), ...problems(400, 401, 403) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/lists/{id}',
    tags,
    ...secured('read'),
    request: { params: idParam },
    responses: { 200: json('The list', listSchema), ...problems(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/lists/{id}',
    tags,
    ...secured('subscribers:write'),
    request: { params: idParam, body: jsonBody(listPatch) },
    responses: { 200: json('The list', listSchema), ...problems(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/lists/{id}',
    tags,
    ...secured('subscribers:write'),
    request: { params: idParam },
    responses: { 204: noContent, ...problems(400, 401, 403, 404, 409) },
  });
}
