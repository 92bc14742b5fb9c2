// Queue visibility for operators (docs/contract.md §4.1): counts per state, failed jobs, retry and
// discard. Reading needs `read` or `ops`; acting on jobs needs `ops`.
import type { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { decodeCursor, encodeCursor } from '../../domain/cursor.js';
import { validation } from '../../domain/errors.js';
import { parse } from '../middleware/validate.js';
import { json, noContent, problems, secured } from '../openapi.js';
import { ApiRoutes } from './api-routes.js';
import { DEFAULT_LIMIT } from '../pagination.js';
import { pageOf, pageQuery, z } from '../schemas/common.js';
import {
  failedJobSchema,
  jobParams,
  queueCountsSchema,
  queueNameParam,
} from '../schemas/queues.schemas.js';

export function queuesRouter({ services }: Container): Router {
  const router = new ApiRoutes();
  const { queues } = services;
  const read = { scope: ['read', 'ops'] } as const;
  const act = { scope: 'ops' } as const;

  router.get('/queues', read, async (_req, res) => {
    res.json({ data: await queues.counts() });
  });

  router.get('/queues/:name/failed', { ...read, query: pageQuery }, async (req, res) => {
    const { name } = parse(queueNameParam, req.params);
    const query = parse(pageQuery, req.query);
    let offset = 0;
    if (query.after) {
      const decoded = decodeCursor(query.after);
      if (decoded === undefined)
        throw validation([{ path: 'after', message: 'is not a valid cursor' }]);
      offset = decoded;
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    // BullMQ ranges are inclusive: [offset, offset + limit] is limit + 1 jobs.
    const jobs = await queues.failed(name, offset, limit);
    const more = jobs.length > limit;
    res.json({
      data: jobs.slice(0, limit),
      next: more ? encodeCursor(offset + limit) : null,
    });
  });

  router.post('/queues/:name/jobs/:id/retry', act, async (req, res) => {
    const { name, id } = parse(jobParams, req.params);
    await queues.retry(name, id);
    req.log.info({ event: 'job_retried', queue: name, jobId: id }, 'failed job retried');
    res.json({ id, queue: name, state: 'waiting' });
  });

  router.delete('/queues/:name/jobs/:id', act, async (req, res) => {
    const { name, id } = parse(jobParams, req.params);
    await queues.discard(name, id);
    req.log.info({ event: 'job_discarded', queue: name, jobId: id }, 'failed job discarded');
    res.status(204).end();
  });

  return router.router;
}

export function documentQueues(registry: OpenAPIRegistry): void {
  const tags = ['Queues'];
  registry.registerPath({
    method: 'get',
    path: '/api/v1/queues',
    tags,
    ...secured('read` or `ops'),
    responses: {
      200: json('Jobs per state in every queue', z.object({ data: z.array(queueCountsSchema) })),
      ...problems(401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/queues/{name}/failed',
    tags,
    ...secured('read` or `ops'),
    request: { params: queueNameParam, query: pageQuery },
    responses: {
      200: json('Failed jobs, newest first', pageOf(failedJobSchema)),
      ...problems(400, 401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/queues/{name}/jobs/{id}/retry',
    tags,
    ...secured('ops'),
    request: { params: jobParams },
    responses: {
      200: json(
        'The job is waiting again',
        z.object({ id: z.string(), queue: z.string(), state: z.literal('waiting') }),
      ),
      ...problems(400, 401, 403, 404, 409),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/queues/{name}/jobs/{id}',
    tags,
    ...secured('ops'),
    request: { params: jobParams },
    responses: { 204: noContent, ...problems(400, 401, 403, 404, 409) },
  });
}
