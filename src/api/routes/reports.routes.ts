// A campaign's report (docs/engagement.md): GET /campaigns/:id/report as JSON and
// /campaigns/:id/report.csv as a download, from the same numbers.
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Container } from '../../container.js';
import { parse } from '../middleware/validate.js';
import { json, problems, secured } from '../openapi.js';
import { idParam, z } from '../schemas/common.js';
import { reportSchema } from '../schemas/reports.schemas.js';
import { ApiRoutes } from './api-routes.js';

export function reportsRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const read = { scope: 'read' } as const;
  const reportOf = async (id: number) =>
    services.engagementReport.report(await services.campaigns.get(id));

  router.get('/campaigns/:id/report', read, async (req, res) => {
    res.json(await reportOf(parse(idParam, req.params).id));
  });

  router.get('/campaigns/:id/report.csv', read, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const csv = services.engagementReport.csv(await reportOf(id));
    res
      .status(200)
      .set('Content-Type', 'text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="campaign-${id}-report.csv"`)
      .set('Cache-Control', 'no-store')
      .send(csv);
  });
  return router.router;
}

export function documentReports(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/v1/campaigns/{id}/report',
    tags: ['Campaigns'],
    ...secured('read'),
    summary:
      'Sends, bounces, complaints, unsubscribes, human and machine opens and clicks, links, timeline',
    request: { params: idParam },
    responses: { 200: json('The report', reportSchema), ...problems(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/campaigns/{id}/report.csv',
    tags: ['Campaigns'],
    ...secured('read'),
    summary: 'The report as CSV: totals, links and timeline, each with a header row',
    request: { params: idParam },
    responses: {
      200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
      ...problems(400, 401, 403, 404),
    },
  });
}
