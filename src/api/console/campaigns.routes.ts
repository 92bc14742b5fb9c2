// The campaign pages (docs/console.md): list, editor, the page of one campaign and its actions.
// Every action goes through the services the API uses, with the API's own validators, and is
// audited under the same action names; a refused action shows its messages on the page.
import express, { type Request, type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import { checkAddresses } from '../../domain/campaign-input.js';
import { AppError, validation, type FieldError } from '../../domain/errors.js';
import type { CampaignRow } from '../../db/repositories/campaigns.repository.js';
import { parse } from '../middleware/validate.js';
import type { FormFields } from '../public/body.js';
import { readRawBody } from '../public/body.js';
import { html } from '../public/html.js';
import { campaignCreate, campaignPatch } from '../schemas/campaigns.schemas.js';
import { idParam } from '../schemas/common.js';
import { campaignPage } from './campaign-page.js';
import { campaignForm, confirmSendPage, formValues, livePanel } from './campaign-views.js';
import { addCampaignActions } from './campaign-actions.js';
import { textOf, audited, can, checkedForm, fieldErrors, need, who } from './kit.js';
import { consolePage } from './layout.js';
import { messagePreview } from './preview.js';
import { shortDate, statusBadge } from './widgets.js';

export const campaignId = (req: Request) => parse(idParam, req.params).id;

/** The editor's fields as the API's body: the same validator decides. */
export function campaignBody(form: FormFields) {
  const orNull = (name: string) => (form.get(name)?.trim() ? form.get(name)!.trim() : null);
  const errors: FieldError[] = [];
  const templateId = Number(form.get('templateId') ?? '');
  const listIds = form.getAll('listIds').map(Number);
  if (!templateId) errors.push({ path: 'templateId', message: 'choose a template' });
  if (listIds.length === 0) errors.push({ path: 'listIds', message: 'choose at least one list' });
  const body = {
    name: form.get('name') ?? '',
    subject: form.get('subject') ?? '',
    templateId,
    listIds,
    content: textOf(form, 'content'),
    contentType: form.get('contentType') === 'mjml' ? ('mjml' as const) : ('markdown' as const),
    fromName: orNull('fromName'),
    fromEmail: orNull('fromEmail'),
    replyTo: orNull('replyTo'),
    tracking: { opens: form.get('trackOpens') === 'on', clicks: form.get('trackClicks') === 'on' },
    archive: form.get('archive') === 'on',
    archiveSlug: orNull('archiveSlug'),
  };
  // Every mistake at once: the schema's and the sender addresses' (which the service checks
  // only after the schema passes). The editor's own words for template and lists come first.
  const checks: [() => unknown, string][] = [
    [() => parse(campaignCreate, body), 'name'],
    [() => checkAddresses(body), 'fromEmail'],
  ];
  for (const [check, fallback] of checks) {
    try {
      check();
    } catch (error) {
      const seen = new Set(errors.map((e) => e.path));
      errors.push(...fieldErrors(error, fallback).filter((e) => !seen.has(e.path)));
    }
  }
  if (errors.length) throw validation(errors);
  return body;
}

export interface CampaignView {
  (
    req: Request,
    res: Response,
    extra?: { errors?: FieldError[]; notice?: string; status?: number },
  ): Promise<void>;
}

/** Renders the page of the campaign named by the request's id. */
export function campaignViewer(container: Container): CampaignView {
  const { campaigns, campaignReport, approvals, lists, templates, users } = container.services;
  return async (req, res, extra = {}) => {
    const c = await campaigns.get(campaignId(req));
    const [report, preflight, listRows, template, me, engagement] = await Promise.all([
      campaignReport.report(c),
      ['draft', 'scheduled'].includes(c.status)
        ? campaignReport.preflight(c)
        : { ok: true, audience: c.recipients, problems: [], warnings: [] },
      lists.page(undefined, 1000),
      c.template_id ? templates.get(c.template_id).catch(() => undefined) : undefined,
      users.get(who(res).user.id),
      c.started_at ? container.services.engagementReport.report(c) : undefined,
    ]);
    consolePage(
      res,
      {
        title: c.name,
        section: 'Campaigns',
        body: campaignPage(res, {
          campaign: c,
          report,
          engagement,
          approval: approvals.present(c),
          preflight,
          listNames: c.list_ids.map(
            (id) => listRows.find((l) => l.id === id)?.name ?? `list ${id}`,
          ),
          templateName: template?.name ?? null,
          testAddresses: me.test_addresses.join(', '),
          errors: extra.errors ?? [],
          notice: extra.notice,
          requireApproval: container.config.requireApproval,
        }),
      },
      extra.status ?? 200,
    );
  };
}

async function editorPage(
  container: Container,
  res: Response,
  action: string,
  values: ReturnType<typeof formValues>,
  errors: FieldError[] = [],
) {
  const [lists, templates] = await Promise.all([
    container.services.lists.page(undefined, 1000),
    container.services.templates.page(undefined, 1000),
  ]);
  // A new campaign starts in the only template there is, if there is only one.
  const only = templates.length === 1 && action.endsWith('new') && errors.length === 0;
  if (only && values.templateId === null) values = { ...values, templateId: templates[0]!.id };
  consolePage(
    res,
    {
      title: action.endsWith('new') ? 'New campaign' : `Edit ${values.name}`,
      section: 'Campaigns',
      body: html`<p class="crumbs"><a href="/admin/campaigns">Campaigns</a></p>
        <h1>${action.endsWith('new') ? 'New campaign' : `Edit “${values.name}”`}</h1>
        ${campaignForm(res, { action, values, lists, templates, errors })}`,
    },
    errors.length ? 400 : 200,
  );
}

const PAGE = 50;

function listPage(res: Response, rows: CampaignRow[], next: number | undefined) {
  return html`<div class="heading-row">
      <h1>Campaigns</h1>
      ${can(res, 'campaigns:write') ? html`<a class="button" href="/admin/campaigns/new">New campaign</a>` : ''}
    </div>
    ${
      rows.length === 0
        ? html`<p>No campaigns yet.</p>`
        : html`<table class="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Recipients</th>
                <th scope="col">Scheduled</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              ${rows.map(
                (c) =>
                  html`<tr>
                    <td><a href="/admin/campaigns/${c.id}">${c.name}</a></td>
                    <td>${statusBadge(c.status)}</td>
                    <td>${c.recipients}</td>
                    <td>${shortDate(c.send_at)}</td>
                    <td>${shortDate(c.updated_at)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${next ? html`<p><a href="/admin/campaigns?before=${next}">Older campaigns</a></p>` : ''}`;
}

async function campaignList(container: Container, req: Request, res: Response) {
  const before = Number(req.query.before) || undefined;
  // One row more than the page shows tells whether an older page exists.
  const rows = await container.services.campaigns.newestFirst(before, PAGE + 1);
  const shown = rows.slice(0, PAGE);
  const next = rows.length > PAGE ? shown.at(-1)?.id : undefined;
  consolePage(res, { title: 'Campaigns', section: 'Campaigns', body: listPage(res, shown, next) });
}

export function consoleCampaignsRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { campaigns } = container.services;

  router.get('/admin/campaigns', (req, res) => campaignList(container, req, res));

  router.get('/admin/campaigns/new', async (_req, res) => {
    if (!can(res, 'campaigns:write'))
      throw new AppError('forbidden', 'Your roles do not let you write campaigns');
    const { opens, clicks } = container.config.tracking;
    await editorPage(
      container,
      res,
      '/admin/campaigns/new',
      formValues(undefined, { opens, clicks }),
    );
  });

  router.post('/admin/campaigns/new', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    if (!can(res, 'campaigns:write'))
      throw new AppError('forbidden', 'Your roles do not let you write campaigns');
    try {
      const body = campaignBody(form);
      const created = await campaigns.create({ ...body, data: {} }, who(res).actor);
      await audited(
        container,
        res,
        'campaign.create',
        { type: 'campaign', id: created.id },
        { fields: Object.keys(body), console: true },
      );
      res.redirect(303, `/admin/campaigns/${created.id}`);
    } catch (error) {
      await editorPage(
        container,
        res,
        '/admin/campaigns/new',
        valuesOf(form),
        fieldErrors(error, 'name'),
      );
    }
  });

  router.get('/admin/campaigns/:id/edit', async (req, res) => {
    need(res, 'campaigns:write');
    const c = await campaigns.get(campaignId(req));
    await editorPage(container, res, `/admin/campaigns/${c.id}/edit`, formValues(c));
  });

  router.post('/admin/campaigns/:id/edit', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    const id = campaignId(req);
    if (!can(res, 'campaigns:write'))
      throw new AppError('forbidden', 'Your roles do not let you write campaigns');
    try {
      const body = parse(campaignPatch, campaignBody(form));
      await campaigns.update(id, body, who(res).actor);
      await audited(
        container,
        res,
        'campaign.update',
        { type: 'campaign', id },
        { fields: Object.keys(body), console: true },
      );
      res.redirect(303, `/admin/campaigns/${id}`);
    } catch (error) {
      await editorPage(
        container,
        res,
        `/admin/campaigns/${id}/edit`,
        valuesOf(form),
        fieldErrors(error, 'name'),
      );
    }
  });

  addCampaignsRoutesMore(router, container);
  return router;
}

function addCampaignsRoutesMore(router: Router, container: Container): void {
  const { campaigns, campaignReport, approvals } = container.services;
  const view = campaignViewer(container);

  router.get('/admin/campaigns/:id', (req, res) => view(req, res));

  router.get('/admin/campaigns/:id/live', async (req, res) => {
    const c = await campaigns.get(campaignId(req));
    res
      .type('text/html; charset=utf-8')
      .send(livePanel(res, c, await campaignReport.report(c), approvals.present(c)).value);
  });

  router.get('/admin/campaigns/:id/confirm-send', async (req, res) => {
    need(res, 'campaigns:send');
    const c = await campaigns.get(campaignId(req));
    const { audience } = await campaignReport.preflight(c);
    consolePage(res, {
      title: `Send ${c.name}`,
      section: 'Campaigns',
      body: confirmSendPage(res, c, audience),
    });
  });

  router.get('/admin/campaigns/:id/message', async (req, res) => {
    const c = await campaigns.get(campaignId(req));
    await messagePreview(container, res, {
      templateId: c.template_id,
      content: c.content ?? '',
      contentType: c.content_type,
      subject: c.subject,
      name: c.name,
    });
  });

  router.post('/admin/campaigns/preview', readRawBody, async (req, res) => {
    const form = checkedForm(req, res);
    need(res, 'read');
    await messagePreview(container, res, {
      templateId: Number(form.get('templateId')) || null,
      content: textOf(form, 'content'),
      contentType: form.get('contentType') === 'mjml' ? 'mjml' : 'markdown',
      subject: form.get('subject') ?? '',
      name: form.get('name') ?? '',
    });
  });

  addCampaignActions(router, container, view);
}

function valuesOf(form: FormFields): ReturnType<typeof formValues> {
  return {
    name: form.get('name') ?? '',
    subject: form.get('subject') ?? '',
    templateId: Number(form.get('templateId')) || null,
    listIds: form.getAll('listIds').map(Number),
    content: textOf(form, 'content'),
    contentType: form.get('contentType') === 'mjml' ? 'mjml' : 'markdown',
    fromName: form.get('fromName') ?? '',
    fromEmail: form.get('fromEmail') ?? '',
    replyTo: form.get('replyTo') ?? '',
    trackOpens: form.get('trackOpens') === 'on',
    trackClicks: form.get('trackClicks') === 'on',
    archive: form.get('archive') === 'on',
    archiveSlug: form.get('archiveSlug')?.trim() ?? '',
  };
}
