// The actions on one campaign's page, each a form post: test, approval, schedule, send and the
// lifecycle. Each calls the service the API route calls and records the same audit action.
import type { Request, Response, Router } from 'express';
import type { Container } from '../../container.js';
import { parse } from '../middleware/validate.js';
import { readRawBody } from '../public/body.js';
import { approveBody, rejectBody } from '../schemas/accounts.schemas.js';
import { scheduleBody, testBody } from '../schemas/campaigns.schemas.js';
import { campaignId, type CampaignView } from './campaigns.routes.js';
import type { Scope } from '../../domain/scopes.js';
import { textOf, audited, checkedForm, fieldErrors, need, who } from './kit.js';

type Action = (req: Request, res: Response, id: number) => Promise<string | undefined>;

export function addCampaignActions(router: Router, container: Container, view: CampaignView): void {
  const { campaigns, testSend, approvals, users } = container.services;

  /** A form post that runs `run`, audits it, and lands back on the campaign's page. */
  const act = (path: string, action: string, scope: Scope, run: Action) =>
    router.post(`/admin/campaigns/:id/${path}`, readRawBody, async (req, res) => {
      const id = campaignId(req);
      const form = checkedForm(req, res);
      need(res, scope);
      res.locals.form = form;
      try {
        const notice = await run(req, res, id);
        await audited(container, res, action, { type: 'campaign', id }, { console: true });
        if (notice) return view(req, res, { notice });
        res.redirect(303, `/admin/campaigns/${id}`);
      } catch (error) {
        const errors = fieldErrors(error, 'campaign');
        const status = (error as { code?: string }).code === 'forbidden' ? 403 : 400;
        await view(req, res, { errors, status });
      }
    });
  const form = (res: Response) => res.locals.form as ReturnType<typeof checkedForm>;

  act('test', 'campaign.test', 'campaigns:send', async (_req, res, id) => {
    const emails = (form(res).get('emails') ?? '').split(/[,;\s]+/).filter(Boolean);
    const { emails: checked } = parse(testBody, { emails });
    const sent = await testSend.send(await campaigns.get(id), checked);
    await users.rememberTestAddresses(who(res).user.id, checked);
    return `Test sent to ${sent.map((s) => s.email).join(', ')}.`;
  });
  act('approval-request', 'campaign.approval-request', 'campaigns:write', async (_req, res, id) => {
    await approvals.request(id, who(res).actor);
    return 'Approval requested: every approver got a mail with a link to this page.';
  });
  act('approve', 'campaign.approve', 'campaigns:approve', async (_req, res, id) => {
    const note = textOf(form(res), 'note').trim();
    parse(approveBody, note ? { note } : {});
    await approvals.decide(id, who(res), 'approved', note || null);
    return undefined;
  });
  act('reject', 'campaign.reject', 'campaigns:approve', async (_req, res, id) => {
    const { reason } = parse(rejectBody, { reason: textOf(form(res), 'note') });
    await approvals.decide(id, who(res), 'rejected', reason);
    return undefined;
  });
  act('schedule', 'campaign.schedule', 'campaigns:send', async (_req, res, id) => {
    const f = form(res);
    const body = parse(scheduleBody, {
      sendAt: `${f.get('date') ?? ''}T${f.get('time') ?? ''}`,
      timezone: f.get('timezone')?.trim() || undefined,
    });
    await campaigns.schedule(id, body.sendAt, body.timezone);
    return undefined;
  });
  act('send', 'campaign.send', 'campaigns:send', (_req, _res, id) =>
    campaigns.start(id).then(() => undefined),
  );
  act('pause', 'campaign.pause', 'campaigns:send', (_req, _res, id) =>
    campaigns.pause(id).then(() => undefined),
  );
  act('resume', 'campaign.resume', 'campaigns:send', (_req, _res, id) =>
    campaigns.resume(id).then(() => undefined),
  );
  act('cancel', 'campaign.cancel', 'campaigns:send', (_req, _res, id) =>
    campaigns.cancel(id).then(() => undefined),
  );
  act('retry', 'campaign.retry', 'campaigns:send', (_req, _res, id) =>
    campaigns.retry(id).then(() => undefined),
  );
}
