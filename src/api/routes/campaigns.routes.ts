import type { Request, Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import type { CampaignRow } from '../../db/repositories/campaigns.repository.js';
import { presentCampaign, presentDelivery } from '../presenters.js';
import { parse } from '../middleware/validate.js';
import { json, jsonBody, noContent, problems, secured } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';
import { pageParams, pageResult } from '../pagination.js';
import { idParam, pageOf, z } from '../schemas/common.js';
import {
  campaignCreate,
  campaignPatch,
  campaignQuery,
  campaignSchema,
  deliveriesQuery,
  deliverySchema,
  preflightSchema,
  scheduleBody,
  testBody,
} from '../schemas/campaigns.schemas.js';

export function campaignsRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const { campaigns, campaignReport, testSend } = services;
  const show = async (c: CampaignRow) => presentCampaign(c, await campaignReport.report(c));
  const id = (req: Request) => parse(idParam, req.params).id;

  const write = { scope: 'campaigns:write' } as const;
  const send = { scope: 'campaigns:send' } as const;
  const read = { scope: 'read' } as const;

  router.post('/campaigns', write, async (req, res) => {
    const body = parse(campaignCreate, req.body);
    const created = await campaigns.create({
      content: null,
      contentType: 'markdown',
      fromName: null,
      fromEmail: null,
      replyTo: null,
      data: {},
      ...body,
    });
    res
      .status(201)
      .location(`/api/v1/campaigns/${created.id}`)
      .json(await show(created));
  });

  router.get('/campaigns', { scope: 'read', query: campaignQuery }, async (req, res) => {
    const query = parse(campaignQuery, req.query);
    const { after, limit, fetch } = pageParams(query);
    const rows = await campaigns.page(after, fetch, query.status);
    const page = pageResult(rows, limit, (c) => c);
    res.json({ data: await Promise.all(page.data.map(show)), next: page.next });
  });

  router.get('/campaigns/:id', read, async (req, res) =>
    res.json(await show(await campaigns.get(id(req)))),
  );
  router.patch('/campaigns/:id', write, async (req, res) => {
    const campaignId = id(req);
    res.json(await show(await campaigns.update(campaignId, parse(campaignPatch, req.body))));
  });
  router.delete('/campaigns/:id', write, async (req, res) => {
    await campaigns.delete(id(req));
    res.status(204).end();
  });

  router.get('/campaigns/:id/preflight', read, async (req, res) => {
    res.json(await campaignReport.preflight(await campaigns.get(id(req))));
  });
  router.post('/campaigns/:id/test', send, async (req, res) => {
    const campaign = await campaigns.get(id(req));
    const { emails } = parse(testBody, req.body);
    res.json({ sent: await testSend.send(campaign, emails) });
  });
  router.post('/campaigns/:id/schedule', send, async (req, res) => {
    const campaignId = id(req);
    const { sendAt, timezone } = parse(scheduleBody, req.body);
    res.json(await show(await campaigns.schedule(campaignId, sendAt, timezone)));
  });
  for (const action of ['send', 'pause', 'resume', 'cancel', 'retry'] as const) {
    router.post(`/campaigns/:id/${action}`, send, async (req, res) => {
      const campaignId = id(req);
      const run = {
        send: (n: number) => campaigns.start(n),
        pause: (n: number) => campaigns.pause(n),
        resume: (n: number) => campaigns.resume(n),
        cancel: (n: number) => campaigns.cancel(n),
        retry: (n: number) => campaigns.retry(n),
      }[action];
      res.json(await show(await run(campaignId)));
    });
  }

  router.get(
    '/campaigns/:id/deliveries',
    { scope: 'read', query: deliveriesQuery },
    async (req, res) => {
      const campaignId = id(req);
      const query = parse(deliveriesQuery, req.query);
      await campaigns.get(campaignId);
      const { after, limit, fetch } = pageParams(query);
      res.json(
        pageResult(
          await campaigns.deliveries(campaignId, after, fetch, query.status),
          limit,
          presentDelivery,
        ),
      );
    },
  );

  return router.router;
}

export function documentCampaigns(registry: OpenAPIRegistry): void {
  const tags = ['Campaigns'];
  const one = { params: idParam };
  registry.registerPath({
    method: 'post',
    path: '/api/v1/campaigns',
    tags,
    ...secured('campaigns:write'),
    request: { body: jsonBody(campaignCreate) },
    responses: { 201: json('The campaign', campaignSchema), ...problems(400, 401, 403, 422) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/campaigns',
    tags,
    ...secured('read'),
    request: { query: campaignQuery },
    responses: {
      200: json('A page of campaigns', pageOf(campaignSchema)),
      ...problems(400, 401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/campaigns/{id}',
    tags,
    ...secured('read'),
    request: one,
    responses: {
      200: json('The campaign with stats, progress, rate and ETA', campaignSchema),
      ...problems(400, 401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/v1/campaigns/{id}',
    tags,
    ...secured('campaigns:write'),
    request: { ...one, body: jsonBody(campaignPatch) },
    responses: {
      200: json('The campaign', campaignSchema),
      ...problems(400, 401, 403, 404, 409, 422),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/campaigns/{id}',
    tags,
    ...secured('campaigns:write'),
    request: one,
    responses: { 204: noContent, ...problems(400, 401, 403, 404, 409) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/campaigns/{id}/preflight',
    tags,
    ...secured('read'),
    request: one,
    responses: {
      200: json('The preflight report', preflightSchema),
      ...problems(400, 401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/campaigns/{id}/test',
    tags,
    ...secured('campaigns:send'),
    request: { ...one, body: jsonBody(testBody) },
    responses: {
      200: json(
        'Sent test mails',
        z.object({ sent: z.array(z.object({ email: z.string(), messageId: z.string() })) }),
      ),
      ...problems(400, 401, 403, 404, 422),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/campaigns/{id}/schedule',
    tags,
    ...secured('campaigns:send'),
    request: { ...one, body: jsonBody(scheduleBody) },
    responses: {
      200: json('The scheduled campaign', campaignSchema),
      ...problems(400, 401, 403, 404, 409, 422),
    },
  });
  for (const action of ['send', 'pause', 'resume', 'cancel', 'retry']) {
    registry.registerPath({
      method: 'post',
      path: `/api/v1/campaigns/{id}/${action}`,
      tags,
      ...secured('campaigns:send'),
      request: one,
      responses: {
        200: json('The campaign', campaignSchema),
        ...problems(400, 401, 403, 404, 409, 422),
      },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/api/v1/campaigns/{id}/deliveries',
    tags,
    ...secured('read'),
    request: { ...one, query: deliveriesQuery },
    responses: { 200: json('The ledger', pageOf(deliverySchema)), ...problems(400, 401, 403, 404) },
  });
}
