// Operations: queue depths, failed jobs (retry, discard), the Bull Board link, health, and the
// audit log, for the `ops` and `admin` roles. The same services as /api/v1/queues and /audit.
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import { AppError } from '../../domain/errors.js';
import { decodeCursor, page } from '../../domain/cursor.js';
import { presentAudit } from '../account-presenters.js';
import { readRawBody } from '../public/body.js';
import { html, type SafeHtml } from '../public/html.js';
import { audited, can, checkedForm } from './kit.js';
import { consolePage } from './layout.js';
import { actionButton, shortDate } from './widgets.js';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'] as const;

type Counts = Awaited<ReturnType<Container['services']['queues']['counts']>>;
type Failed = {
  name: string;
  jobs: Awaited<ReturnType<Container['services']['queues']['failed']>>;
}[];
type Ready = Awaited<ReturnType<Container['services']['health']['ready']>>;
type AuditPage = ReturnType<
  typeof page<Awaited<ReturnType<Container['services']['audit']['page']>>[number]>
>;

function overview(counts: Counts): SafeHtml {
  return html`<h1>Operations</h1>
    <p>
      <a href="/admin/queues">Open the queue dashboard (Bull Board)</a> ·
      <a href="/metrics">Metrics</a>
    </p>
    <section aria-labelledby="queues-h">
      <h2 id="queues-h">Queues</h2>
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Queue</th>
            ${STATES.map((s) => html`<th scope="col">${s}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${counts.map(
            (q) =>
              html`<tr>
                <th scope="row">${q.name}</th>
                ${STATES.map((s) => html`<td>${q[s]}</td>`)}
              </tr>`,
          )}
        </tbody>
      </table>
    </section> `;
}

function failedSection(res: Response, failed: Failed): SafeHtml {
  return html`<section aria-labelledby="failed-h">
    <h2 id="failed-h">Failed jobs</h2>
    ${failed.length === 0 ? html`<p>No failed jobs.</p>` : ''}
    ${failed.map(
      (q) =>
        html`<h3>${q.name}</h3>
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Failed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              ${q.jobs.map(
                (j) =>
                  html`<tr>
                    <td>${j.id} ${j.name}</td>
                    <td>${j.failedReason}</td>
                    <td>${j.attemptsMade}</td>
                    <td>${j.failedAt ?? ''}</td>
                    <td>
                      ${actionButton(res, `/admin/operations/jobs/${q.name}/${j.id}/retry`, 'Retry')}
                      ${actionButton(res, `/admin/operations/jobs/${q.name}/${j.id}/discard`, 'Discard', 'danger')}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`,
    )}
  </section> `;
}

function healthAndAudit(ready: Ready, rows: AuditPage): SafeHtml {
  return html`<section aria-labelledby="health-h">
      <h2 id="health-h">Health</h2>
      <ul>
        ${(['postgres', 'redis', 'smtp'] as const).map((k) => html`<li>${k}: <strong>${ready.checks[k].ok ? 'up' : 'down'}</strong> ${ready.checks[k].error ?? ''}</li>`)}
      </ul>
    </section>
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <table class="data">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">On</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          ${rows.data.map(presentAudit).map(
            (a) =>
              html`<tr>
                <td>${shortDate(new Date(a.at))}</td>
                <td>${a.actor.name} (${a.actor.type})</td>
                <td>${a.action}</td>
                <td>${a.entity.type}${a.entity.id ? ` ${a.entity.id}` : ''}</td>
                <td><code>${JSON.stringify(a.detail)}</code></td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${rows.next ? html`<p><a href="/admin/operations?after=${rows.next}">Older entries</a></p>` : ''}
    </section>`;
}

export function consoleOperationsRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { queues, audit, health } = container.services;

  router.get('/admin/operations', async (req, res) => {
    if (!can(res, 'ops'))
      throw new AppError('forbidden', 'Operations are for the ops and admin roles');
    const [counts, ready] = await Promise.all([queues.counts(), health.ready()]);
    const failed = await Promise.all(
      counts
        .filter((q) => q.failed > 0)
        .map(async (q) => ({ name: q.name, jobs: await queues.failed(q.name, 0, 20) })),
    );
    const after = typeof req.query.after === 'string' ? decodeCursor(req.query.after) : undefined;
    const rows = page(await audit.page({}, after, 51), 50);
    consolePage(res, {
      title: 'Operations',
      section: 'Operations',
      body: html`${overview(counts)}${failedSection(res, failed)}${healthAndAudit(ready, rows)}`,
    });
  });

  for (const action of ['retry', 'discard'] as const) {
    router.post(`/admin/operations/jobs/:queue/:job/${action}`, readRawBody, async (req, res) => {
      checkedForm(req, res);
      if (!can(res, 'ops'))
        throw new AppError('forbidden', 'Operations are for the ops and admin roles');
      const name = String(req.params.queue);
      const job = String(req.params.job);
      if (!queues.names().includes(name)) throw new AppError('not_found', `No queue ${name}`);
      await (action === 'retry' ? queues.retry(name, job) : queues.discard(name, job));
      await audited(
        container,
        res,
        `queue.jobs.${action}`,
        { type: 'queue', id: `${name}:${job}` },
        { console: true },
      );
      res.redirect(303, '/admin/operations');
    });
  }
  return router;
}
