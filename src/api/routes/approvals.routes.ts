// The two-person rule's routes (docs/approval.md): ask for approval (editors), approve or
// reject (signed-in approvers only; the service refuses tokens and self-approval).
import type { Request, RequestHandler, Router } from 'express';
import { AppError } from '../../domain/errors.js';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Container } from '../../container.js';
import { principal } from '../middleware/auth.js';
import { parse } from '../middleware/validate.js';
import { documentRoutes, json, jsonBody, type RouteDoc } from '../openapi.js';
import { approveBody, rejectBody } from '../schemas/accounts.schemas.js';
import { campaignSchema } from '../schemas/campaigns.schemas.js';
import { idParam } from '../schemas/common.js';
import { ApiRoutes } from './api-routes.js';
import { campaignView } from './campaigns.routes.js';

const id = (req: Request) => parse(idParam, req.params).id;

/** Approving is a person's decision: every token is refused before the body is read. */
const personOnly: RequestHandler = (_req, res, next) => {
  if (!principal(res).user) {
    throw new AppError('forbidden', 'Approving needs a signed-in person; API tokens cannot');
  }
  next();
};

export function approvalsRouter(container: Container): Router {
  const router = new ApiRoutes();
  const { approvals } = container.services;
  const show = campaignView(container);
  const approve = { scope: 'campaigns:approve' } as const;

  router.post('/campaigns/:id/approval-request', { scope: 'campaigns:write' }, async (req, res) => {
    res.json(await show(await approvals.request(id(req), principal(res).actor)));
  });
  router.post('/campaigns/:id/approve', approve, personOnly, async (req, res) => {
    const campaignId = id(req);
    const { note } = parse(approveBody, req.body ?? {});
    res.json(
      await show(await approvals.decide(campaignId, principal(res), 'approved', note ?? null)),
    );
  });
  router.post('/campaigns/:id/reject', approve, personOnly, async (req, res) => {
    const campaignId = id(req);
    const { reason } = parse(rejectBody, req.body);
    res.json(await show(await approvals.decide(campaignId, principal(res), 'rejected', reason)));
  });
  return router.router;
}

const one = { params: idParam };
const theCampaign = json('The campaign with its approval', campaignSchema);

/** The three routes differ only in path, scope, summary and body. */
const approvalRoute = (
  action: string,
  scope: string,
  summary: string,
  body?: Parameters<typeof jsonBody>[0],
): RouteDoc => ({
  method: 'post',
  path: `/campaigns/{id}/${action}`,
  scope,
  summary,
  request: body ? { ...one, body: jsonBody(body) } : one,
  ok: [200, theCampaign],
  problems: [400, 401, 403, 404, 409],
});

const APPROVAL_ROUTES: RouteDoc[] = [
  approvalRoute(
    'approval-request',
    'campaigns:write',
    'Ask for approval: mails every approver a link to the campaign',
  ),
  approvalRoute(
    'approve',
    'campaigns:approve',
    'Approve (a signed-in approver, not the requester or last editor)',
    approveBody,
  ),
  approvalRoute('reject', 'campaigns:approve', 'Reject with a reason (as for approve)', rejectBody),
];

export function documentApprovals(registry: OpenAPIRegistry): void {
  documentRoutes(registry, 'Approval', APPROVAL_ROUTES);
}
