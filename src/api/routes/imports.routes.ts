import type { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { parse } from '../middleware/validate.js';
import { presentImport } from '../presenters.js';
import { idParam, z } from '../schemas/common.js';
import { importQuery, importSchema } from '../schemas/imports.schemas.js';
import { subscriptionStatus } from '../schemas/subscribers.schemas.js';
import { json, problems, secured } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];
const exportQuery = z.strictObject({ subscriptionStatus: subscriptionStatus.optional() });

export function importsRouter({ services }: Container): Router {
  const router = new ApiRoutes();

  router.post(
    '/lists/:id/imports',
    { scope: 'subscribers:write', query: importQuery },
    async (req, res) => {
      const { id } = parse(idParam, req.params);
      const { mode } = parse(importQuery, req.query);
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!CSV_TYPES.includes(type)) {
        throw new AppError('unsupported_media_type', 'Send the file as Content-Type: text/csv', {
          errors: [
            { path: 'Content-Type', message: `must be text/csv, got "${type || 'nothing'}"` },
          ],
        });
      }
      const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity') {
        // The body is stored and parsed as it arrives; a compressed file would be read as garbage.
        throw new AppError('unsupported_media_type', 'Send the file uncompressed', {
          errors: [{ path: 'Content-Encoding', message: `"${encoding}" is not supported` }],
        });
      }
      const length = req.get('content-length');
      const declared = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
      const imp = await services.imports.receive(id, mode ?? 'upsert', req, declared);
      res.status(202).location(`/api/v1/imports/${imp.id}`).json(presentImport(imp));
    },
  );

  router.get('/imports/:id', { scope: 'read' }, async (req, res) => {
    const { id } = parse(idParam, req.params);
    res.json(presentImport(await services.imports.get(id)));
  });

  router.get('/lists/:id/export.csv', { scope: 'read', query: exportQuery }, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const { subscriptionStatus: status } = parse(exportQuery, req.query);
    const csv = await services.exports.listCsv(id, status);
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="list-${id}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    await csv.writeTo(res);
  });

  return router.router;
}

export function documentImports(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/lists/{id}/imports',
    tags: ['Imports'],
    ...secured('subscribers:write'),
    summary: 'Import subscribers from CSV into a list',
    request: {
      params: idParam,
      query: importQuery,
      body: {
        required: true,
        description:
          'CSV with a header row; `email` is required, `name` optional, every other column becomes an attribute. Comma, semicolon or tab separated; UTF-8, BOM allowed.',
        content: { 'text/csv': { schema: z.string() } },
      },
    },
    responses: {
      202: json('The import, queued', importSchema),
      ...problems(400, 401, 403, 404, 413, 415, 422),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/imports/{id}',
    tags: ['Imports'],
    ...secured('read'),
    request: { params: idParam },
    responses: {
      200: json('Progress and per-line errors', importSchema),
      ...problems(400, 401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/lists/{id}/export.csv',
    tags: ['Imports'],
    ...secured('read'),
    request: { params: idParam, query: exportQuery },
    responses: {
      200: {
        description: 'Streamed CSV (formula cells neutralised)',
        content: { 'text/csv': { schema: z.string() } },
      },
      ...problems(400, 401, 403, 404),
    },
  });
}
