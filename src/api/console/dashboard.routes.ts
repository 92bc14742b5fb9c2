// The dashboard: what is sending or about to, the last results, the lists, and whether
// PostgreSQL, Redis and SMTP answer. One query per kind of thing, never one per row.
import express, { type Response, type Router } from 'express';
import type { Container } from '../../container.js';
import type { CampaignRow } from '../../db/repositories/campaigns.repository.js';
import type { CampaignReport } from '../../services/campaign-report.service.js';
import type { ReadyReport } from '../../services/health.service.js';
import type { ListWithCounts } from '../../services/lists.service.js';
import { html } from '../public/html.js';
import { consolePage } from './layout.js';
import { moment, shortDate, statusBadge } from './widgets.js';

type Shown = { campaign: CampaignRow; report: CampaignReport };

function campaignRows(rows: Shown[], empty: string) {
  if (rows.length === 0) return html`<p>${empty}</p>`;
  return html`<ul class="cards">
    ${rows.map(({ campaign: c, report: r }) => {
      const percent = Math.round(r.progress * 100);
      return html`<li>
        <a href="/admin/campaigns/${c.id}">${c.name}</a> ${statusBadge(c.status)}
        ${c.status === 'scheduled' && c.send_at ? html`<span>${moment(c.send_at, c.timezone)}</span>` : ''}
        <div
          role="progressbar"
          aria-label="${c.name}: sent"
          aria-valuemin="0"
          aria-valuemax="100"
          aria-valuenow="${percent}"
        >
          <progress max="100" value="${percent}" aria-hidden="true"></progress>
        </div>
        <span class="hint"
          >${r.stats.sent} of ${r.stats.recipients} sent · ${r.stats.failed} failed ·
          ${r.stats.bounced} bounced</span
        >
      </li>`;
    })}
  </ul>`;
}

function dashboard(active: Shown[], recent: Shown[], lists: ListWithCounts[], health: ReadyReport) {
  return html`<h1>Dashboard</h1>
    <div class="grid">
      <section aria-labelledby="now">
        <h2 id="now">Sending and scheduled</h2>
        ${campaignRows(active, 'Nothing is sending or scheduled.')}
      </section>
      <section aria-labelledby="recent">
        <h2 id="recent">Last results</h2>
        ${
          recent.length === 0
            ? html`<p>No campaign has finished yet.</p>`
            : html`<table class="data">
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">Finished</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Failed</th>
                    <th scope="col">Bounced</th>
                    <th scope="col">Unsubscribed</th>
                  </tr>
                </thead>
                <tbody>
                  ${recent.map(
                    ({ campaign: c, report: r }) =>
                      html`<tr>
                        <td><a href="/admin/campaigns/${c.id}">${c.name}</a></td>
                        <td>${shortDate(c.finished_at)}</td>
                        <td>${r.stats.sent}</td>
                        <td>${r.stats.failed}</td>
                        <td>${r.stats.bounced}</td>
                        <td>${r.stats.unsubscribed}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
      <section aria-labelledby="lists-h">
        <h2 id="lists-h">Lists</h2>
        <ul>
          ${lists.map((l) => html`<li><a href="/admin/lists/${l.id}">${l.name}</a>: ${l.counts.confirmed} confirmed</li>`)}
        </ul>
        ${lists.length === 0 ? html`<p>No lists yet: <a href="/admin/lists">create one</a>.</p>` : ''}
      </section>
      <section aria-labelledby="health-h">
        <h2 id="health-h">Health</h2>
        <ul class="health">
          ${(['postgres', 'redis', 'smtp'] as const).map((k) => html`<li>${{ postgres: 'PostgreSQL', redis: 'Redis', smtp: 'SMTP' }[k]}: <strong>${health.checks[k].ok ? 'up' : 'down'}</strong>${health.checks[k].error ? html` <span class="hint">${health.checks[k].error}</span>` : ''}</li>`)}
        </ul>
      </section>
    </div>`;
}

export function consoleDashboardRouter(container: Container): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const { campaigns, campaignReport, lists, health } = container.services;
  const withReports = (rows: CampaignRow[]) =>
    Promise.all(
      rows.map(async (campaign) => ({ campaign, report: await campaignReport.report(campaign) })),
    );

  router.get('/admin', async (_req, res: Response) => {
    const [running, paused, scheduled, recent, listRows, ready] = await Promise.all([
      campaigns.page(undefined, 20, 'running'),
      campaigns.page(undefined, 20, 'paused'),
      campaigns.page(undefined, 20, 'scheduled'),
      campaigns.lastFinished(5),
      lists.page(undefined, 50),
      health.ready(),
    ]);
    consolePage(res, {
      title: 'Dashboard',
      section: 'Dashboard',
      body: dashboard(
        await withReports([...running, ...paused, ...scheduled]),
        await withReports(recent),
        listRows,
        ready,
      ),
    });
  });
  return router;
}
