import type { Request, Router } from 'express';
import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import type { ConsentContext } from '../../db/repositories/subscribers.repository.js';
import { parse } from '../middleware/validate.js';
import { pageParams, pageResult } from '../pagination.js';
import { presentSubscriber } from '../presenters.js';
import { idParam, pageOf, pageQuery, z } from '../schemas/common.js';
import { DEFAULT_LIMIT } from '../pagination.js';
import { validation } from '../../domain/errors.js';
import {
  HistoryRepository,
  type HistoryCursor,
  type HistoryEntry,
} from '../../db/repositories/history.repository.js';
import {
  subscriberCreate,
  subscriberPatch,
  subscriberQuery,
  subscriberSchema,
  subscriptionChange,
} from '../schemas/subscribers.schemas.js';
import { documentRoutes, json, jsonBody, noContent, type RouteDoc } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';

export const apiConsent = (req: Request): ConsentContext => ({
  source: 'api',
  ip: req.ip,
  userAgent: req.get('user-agent')?.slice(0, 500),
});

export function subscribersRouter(container: Container): Router {
  const { services } = container;
  const router = new ApiRoutes();
  const write = { scope: 'subscribers:write' } as const;
  const read = { scope: 'read' } as const;

  router.post('/subscribers', write, async (req, res) => {
    const body = parse(subscriberCreate, req.body);
    const subscriber = await services.subscribers.create(body, apiConsent(req));
    res
      .status(201)
      .location(`/api/v1/subscribers/${subscriber.id}`)
      .json(presentSubscriber(subscriber));
  });

  router.get('/subscribers', { scope: 'read', query: subscriberQuery }, async (req, res) => {
    const query = parse(subscriberQuery, req.query);
    const { after, limit, fetch } = pageParams(query);
    const rows = await services.subscribers.page({
      after,
      limit: fetch,
      listId: query.list,
      subscriptionStatus: query.subscriptionStatus,
      status: query.status,
      q: query.q,
    });
    res.json(pageResult(rows, limit, presentSubscriber));
  });

  router.get('/subscribers/:id', read, async (req, res) => {
    const { id } = parse(idParam, req.params);
    res.json(presentSubscriber(await services.subscribers.get(id)));
  });

  router.patch('/subscribers/:id', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const body = parse(subscriberPatch, req.body);
    res.json(presentSubscriber(await services.subscribers.update(id, body, apiConsent(req))));
  });

  router.delete('/subscribers/:id', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    await services.subscribers.delete(id);
    res.status(204).end();
  });

  router.put('/subscribers/:id/lists', write, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const body = parse(subscriptionChange, req.body);
    res.json(presentSubscriber(await services.subscribers.changeLists(id, body, apiConsent(req))));
  });

  router.get('/subscribers/:id/events', { scope: 'read', query: pageQuery }, async (req, res) => {
    const { id } = parse(idParam, req.params);
    const query = parse(pageQuery, req.query);
    await services.subscribers.get(id);
    const limit = query.limit ?? DEFAULT_LIMIT;
    let after: HistoryCursor | undefined;
    if (query.after) {
      after = decodeHistoryCursor(query.after);
      if (!after) throw validation([{ path: 'after', message: 'is not a valid cursor' }]);
    }
    const rows = await new HistoryRepository(container.pool).page(id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    res.json({
      data: page.map(presentHistory),
      next:
        rows.length > limit && last
          ? Buffer.from(JSON.stringify({ us: last.at_us, kind: last.kind, id: last.id })).toString(
              'base64url',
            )
          : null,
    });
  });

  return router.router;
}

function decodeHistoryCursor(cursor: string): HistoryCursor | undefined {
  try {
    const value = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as Partial<HistoryCursor>;
    if (
      typeof value.us === 'string' &&
      /^\d{1,20}$/.test(value.us) &&
      (value.kind === 'event' || value.kind === 'consent') &&
      Number.isSafeInteger(value.id)
    ) {
      return { us: value.us, kind: value.kind, id: value.id! };
    }
  } catch {
    // fall through: not a cursor we made
  }
  return undefined;
}

const presentHistory = (h: HistoryEntry) => ({
  kind: h.kind,
  id: h.id,
  at: h.at.toISOString(),
  type: h.type,
  ...(h.kind === 'event'
    ? { bounceType: h.bounce_type, source: h.source, campaignId: h.campaign_id, reason: h.reason }
    : { status: h.status, source: h.source, listId: h.list_id, ip: h.ip, userAgent: h.user_agent }),
});

const theSubscriber: [number, ResponseConfig] = [200, json('The subscriber', subscriberSchema)];
const historyEntry = z
  .object({
    kind: z.enum(['event', 'consent']),
    id: z.number().int(),
    at: z.string(),
    type: z.string(),
  })
  .passthrough();

const SUBSCRIBER_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/subscribers',
    scope: 'subscribers:write',
    request: { body: jsonBody(subscriberCreate) },
    ok: [201, json('The subscriber', subscriberSchema)],
    problems: [400, 401, 403, 409, 422],
  },
  {
    method: 'get',
    path: '/subscribers',
    scope: 'read',
    request: { query: subscriberQuery },
    ok: [200, json('A page of subscribers', pageOf(subscriberSchema))],
    problems: [400, 401, 403],
  },
  {
    method: 'get',
    path: '/subscribers/{id}',
    scope: 'read',
    request: { params: idParam },
    ok: theSubscriber,
    problems: [400, 401, 403, 404],
  },
  {
    method: 'patch',
    path: '/subscribers/{id}',
    scope: 'subscribers:write',
    request: { params: idParam, body: jsonBody(subscriberPatch) },
    ok: theSubscriber,
    problems: [400, 401, 403, 404, 409],
  },
  {
    method: 'delete',
    path: '/subscribers/{id}',
    scope: 'subscribers:write',
    request: { params: idParam },
    ok: [204, noContent],
    problems: [400, 401, 403, 404],
  },
  {
    method: 'get',
    path: '/subscribers/{id}/events',
    scope: 'read',
    summary: 'The subscriber’s history: feedback events and consent records, oldest first',
    request: { params: idParam, query: pageQuery },
    ok: [200, json('A page of history entries', pageOf(historyEntry))],
    problems: [400, 401, 403, 404],
  },
  {
    method: 'put',
    path: '/subscribers/{id}/lists',
    scope: 'subscribers:write',
    request: { params: idParam, body: jsonBody(subscriptionChange) },
    ok: theSubscriber,
    problems: [400, 401, 403, 404, 422],
  },
];

export function documentSubscribers(registry: OpenAPIRegistry): void {
  documentRoutes(registry, 'Subscribers', SUBSCRIBER_ROUTES);
}
