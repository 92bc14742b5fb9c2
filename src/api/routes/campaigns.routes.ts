import type { Request, Router } from 'express';
import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import type { CampaignRow } from '../../db/repositories/campaigns.repository.js';
import { presentCampaign, presentDelivery } from '../presenters.js';
import { parse } from '../middleware/validate.js';
import { principal } from '../middleware/auth.js';
import { documentRoutes, json, jsonBody, noContent, type RouteDoc } from '../openapi.js';
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
import { archivePageUrl } from '../../domain/campaign-input.js';

const id = (req: Request) => parse(idParam, req.params).id;

/** A campaign as the API answers it: the row, its counts and its approval. */
export function campaignView({ services, config }: Container) {
  return async (c: CampaignRow) => ({
    ...presentCampaign(c, await services.campaignReport.report(c)),
    archiveUrl:
      c.archive && c.archive_slug ? archivePageUrl(config.publicUrl, c.archive_slug) : null,
    approval: services.approvals.present(c),
  });
}

export function campaignsRouter(container: Container): Router {
  const router = new ApiRoutes();
  const { campaigns } = container.services;
  const show = campaignView(container);
  const write = { scope: 'campaigns:write' } as const;
  const read = { scope: 'read' } as const;

  router.post('/campaigns', write, async (req, res) => {
    const body = parse(campaignCreate, req.body);
    const created = await campaigns.create(
      {
        content: null,
        contentType: 'markdown',
        fromName: null,
        fromEmail: null,
        replyTo: null,
        data: {},
        ...body,
      },
      principal(res).actor,
    );
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
    const patch = parse(campaignPatch, req.body);
    res.json(await show(await campaigns.update(campaignId, patch, principal(res).actor)));
  });
  router.delete('/campaigns/:id', write, async (req, res) => {
    await campaigns.delete(id(req));
    res.status(204).end();
  });

  addSendingRoutes(router, container, show);
  return router.router;
}

/** Preflight, test, schedule, the lifecycle actions and the ledger of one campaign. */
function addSendingRoutes(
  router: ApiRoutes,
  { services }: Container,
  show: (c: CampaignRow) => Promise<unknown>,
): void {
  const { campaigns, campaignReport, testSend } = services;
  const send = { scope: 'campaigns:send' } as const;
  const read = { scope: 'read' } as const;
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
}

const one = { params: idParam };
const theCampaign: [number, ResponseConfig] = [200, json('The campaign', campaignSchema)];

const CAMPAIGN_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/campaigns',
    scope: 'campaigns:write',
    request: { body: jsonBody(campaignCreate) },
    ok: [201, json('The campaign', campaignSchema)],
    problems: [400, 401, 403, 422],
  },
  {
    method: 'get',
    path: '/campaigns',
    scope: 'read',
    request: { query: campaignQuery },
    ok: [200, json('A page of campaigns', pageOf(campaignSchema))],
    problems: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/campaigns/{id}',
    scope: 'read',
    request: one,
    ok: [200, json('The campaign with stats, progress, rate and ETA', campaignSchema)],
    problems: [400, 401, 403, 404],
  },
  {
    method: 'patch',
    path: '/campaigns/{id}',
    scope: 'campaigns:write',
    request: { ...one, body: jsonBody(campaignPatch) },
    ok: theCampaign,
    problems: [400, 401, 403, 404, 409, 422],
  },
  {
    method: 'delete',
    path: '/campaigns/{id}',
    scope: 'campaigns:write',
    request: one,
    ok: [204, noContent],
    problems: [400, 401, 403, 404, 409],
  },
  {
    method: 'get',
    path: '/campaigns/{id}/preflight',
    scope: 'read',
    request: one,
    ok: [200, json('The preflight report', preflightSchema)],
    problems: [400, 401, 403, 404],
  },
  {
    method: 'post',
    path: '/campaigns/{id}/test',
    scope: 'campaigns:send',
    request: { ...one, body: jsonBody(testBody) },
    ok: [
      200,
      json(
        'Sent test mails',
        z.object({ sent: z.array(z.object({ email: z.string(), messageId: z.string() })) }),
      ),
    ],
    problems: [400, 401, 403, 404, 422],
  },
  {
    method: 'post',
    path: '/campaigns/{id}/schedule',
    scope: 'campaigns:send',
    request: { ...one, body: jsonBody(scheduleBody) },
    ok: [200, json('The scheduled campaign', campaignSchema)],
    problems: [400, 401, 403, 404, 409, 422],
  },
  ...(['send', 'pause', 'resume', 'cancel', 'retry'] as const).map((action): RouteDoc => ({
    method: 'post',
    path: `/campaigns/{id}/${action}`,
    scope: 'campaigns:send',
    request: one,
    ok: theCampaign,
    problems: [400, 401, 403, 404, 409, 422],
  })),
  {
    method: 'get',
    path: '/campaigns/{id}/deliveries',
    scope: 'read',
    request: { ...one, query: deliveriesQuery },
    ok: [200, json('The ledger', pageOf(deliverySchema))],
    problems: [400, 401, 403, 404],
  },
];

export function documentCampaigns(registry: OpenAPIRegistry): void {
  documentRoutes(registry, 'Campaigns', CAMPAIGN_ROUTES);
}
