import type { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { principal } from '../middleware/auth.js';
import { parse } from '../middleware/validate.js';
import { pageParams, pageResult } from '../pagination.js';
import { presentTemplate, presentTemplateSummary } from '../presenters.js';
import { idParam, pageOf, pageQuery } from '../schemas/common.js';
import {
  templateCreate,
  templatePatch,
  templatePreviewRequest,
  templatePreviewSchema,
  templateSchema,
  templateSummarySchema,
} from '../schemas/templates.schemas.js';
import { json, jsonBody, noContent, problems, secured } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';

export function templatesRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const write = { scope: 'templates:write' } as const;
  const read = { scope: 'read' } as const;

  router.post('/templates', write, async (req, res) => {
    const body = parse(templateCreate, req.body);
    const template = await services.templates.create(body);
    res.status(201).location(`/api/v1/templates/${template.id}`).json(presentTemplate(template));
  });

  router.get('/templates', { scope: 'read', query: pageQuery }, async (req, res) => {
    const { after, limit, fetch } = pageParams(parse(pageQuery, req.query));
    res.json(
      pageResult(await services.templates.page(after, fetch), limit, presentTemplateSummary),
    );
  });

  router.get('/templates/:id', read, async (req, res) => {
    const { id } = parse(idParam, req.params);
    res.json(presentTemplate(await services.templates.get(id)));
  });

  router.patch('/templates/:id', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const body = parse(templatePatch, req.body);
    res.json(presentTemplate(await services.templates.update(id, body, principal(res).actor)));
  });

  router.delete('/templates/:id', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    await services.templates.delete(id);
    res.status(204).end();
  });

  // A preview changes nothing, but it renders arbitrary content: it needs the write scope.
  router.post('/templates/:id/preview', { ...write, audit: false }, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const body = parse(templatePreviewRequest, req.body ?? {});
    res.json(await services.templates.preview(id, body));
  });

  return router.router;
}

export function documentTemplates(registry: OpenAPIRegistry): void {
  const tags = ['Templates'];
  registry.registerPath({
    method: 'post',
    path: '/api/v1/templates',
    tags,
    ...secured('templates:write'),
    request: { body: jsonBody(templateCreate) },
    responses: {
      201: json('The template, with warnings', templateSchema),
      ...problems(400, 401, 403, 422),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/templates',
    tags,
    ...secured('read'),
    request: { query: pageQuery },
    responses: {
      200: json('A page of templates (without their MJML)', pageOf(templateSummarySchema)),
      ...problems(400, 401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/templates/{id}',
    tags,
    ...secured('read'),
    request: { params: idParam },
    responses: { 200: json('The template', templateSchema), ...problems(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/templates/{id}',
    tags,
    ...secured('templates:write'),
    request: { params: idParam, body: jsonBody(templatePatch) },
    responses: {
      200: json('The template, with warnings', templateSchema),
      ...problems(400, 401, 403, 404, 422),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/templates/{id}',
    tags,
    ...secured('templates:write'),
    request: { params: idParam },
    responses: { 204: noContent, ...problems(400, 401, 403, 404, 409) },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/templates/{id}/preview',
    tags,
    ...secured('templates:write'),
    request: { params: idParam, body: { ...jsonBody(templatePreviewRequest), required: false } },
    responses: {
      200: json('The message as a sample recipient would get it', templatePreviewSchema),
      ...problems(400, 401, 403, 404, 422),
    },
  });
}
