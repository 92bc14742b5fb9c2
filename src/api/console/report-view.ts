// The campaign's report on its console page (docs/engagement.md): the totals, a timeline chart
// and a bar per link, drawn as SVG on the server (no script, nothing loaded from elsewhere),
// each chart followed by its numbers as a table for screen readers and for copying.
import type { EngagementReport } from '../../services/engagement-report.service.js';
import { html, type SafeHtml } from '../public/html.js';

const W = 640;
const H = 180;
const SERIES = [
  ['sent', 'Sent', 'series-sent'],
  ['opened', 'Opened', 'series-opened'],
  ['clicked', 'Clicked', 'series-clicked'],
  ['unsubscribed', 'Unsubscribed', 'series-unsubscribed'],
] as const;

const percent = (n: number, of: number) => (of > 0 ? `${Math.round((n / of) * 1000) / 10}%` : '—');
const time = (iso: string) => iso.slice(0, 16).replace('T', ' ');

function timelineChart(r: EngagementReport): SafeHtml {
  const t = r.timeline;
  if (t.length === 0) return html`<p>Nothing has happened yet.</p>`;
  const max = Math.max(1, ...t.flatMap((b) => SERIES.map(([k]) => b[k])));
  const x = (i: number) => (t.length === 1 ? W / 2 : 30 + (i * (W - 40)) / (t.length - 1));
  const y = (v: number) => H - 20 - (v / max) * (H - 40);
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="timeline-caption">
      <line class="axis" x1="30" y1="${H - 20}" x2="${W - 10}" y2="${H - 20}" />
      <text class="tick" x="2" y="${y(max) + 4}">${max}</text>
      <text class="tick" x="2" y="${H - 16}">0</text>
      ${SERIES.map(
        ([key, , cls]) =>
          html`<g class="${cls}">
            <polyline
              points="${t.map((b, i) => `${x(i).toFixed(1)},${y(b[key]).toFixed(1)}`).join(' ')}"
            />
            ${t.map((b, i) => html`<circle cx="${x(i).toFixed(1)}" cy="${y(b[key]).toFixed(1)}" r="3" />`)}
          </g>`,
      )}
    </svg>
    <figcaption id="timeline-caption">
      Over time, from the start:
      ${SERIES.map(([, label, cls]) => html`<span class="key ${cls}">${label}</span> `)} (each point
      is ten minutes in the first six hours, then an hour)
    </figcaption>
  </figure>`;
}

function timelineTable(r: EngagementReport): SafeHtml {
  return html`<details>
    <summary>The timeline as a table</summary>
    <table class="data">
      <caption class="visually-hidden">
        Timeline (UTC)
      </caption>
      <thead>
        <tr>
          <th scope="col">From (UTC)</th>
          ${SERIES.map(([, label]) => html`<th scope="col">${label}</th>`)}
          <th scope="col">Bounced</th>
        </tr>
      </thead>
      <tbody>
        ${r.timeline.map(
          (b) =>
            html`<tr>
              <th scope="row">${time(b.at)}</th>
              ${SERIES.map(([k]) => html`<td>${b[k]}</td>`)}
              <td>${b.bounced}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </details>`;
}

function linkBars(r: EngagementReport): SafeHtml {
  if (r.links.length === 0) return html`<p>No tracked links.</p>`;
  const max = Math.max(1, ...r.links.map((l) => l.clicks));
  const rows = r.links.length;
  return html`<svg
      class="bars"
      viewBox="0 0 ${W} ${rows * 26}"
      role="img"
      aria-labelledby="links-h"
    >
      ${r.links.map(
        (l, i) =>
          html`<rect
              class="bar"
              x="0"
              y="${i * 26 + 4}"
              height="16"
              width="${Math.max(1, (l.clicks / max) * (W - 60)).toFixed(1)}"
            />
            <text
              class="tick"
              x="${((l.clicks / max) * (W - 60) + 6).toFixed(1)}"
              y="${i * 26 + 17}"
              >${l.clicks}</text
            >`,
      )}
    </svg>
    <table class="data">
      <thead>
        <tr>
          <th scope="col">Link</th>
          <th scope="col">Clicks</th>
          <th scope="col">Readers who clicked</th>
        </tr>
      </thead>
      <tbody>
        ${r.links.map(
          (l) =>
            html`<tr>
              <td class="url">${l.url}</td>
              <td>${l.clicks}</td>
              <td>${l.unique}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

export function reportSection(
  campaignId: number,
  r: EngagementReport,
  tracked: { opens: boolean; clicks: boolean },
): SafeHtml {
  return html`<section aria-labelledby="report-h" class="report">
    <h2 id="report-h">Report</h2>
    <dl class="facts">
      <dt>Sent</dt>
      <dd>${r.sent}</dd>
      <dt>Bounced</dt>
      <dd>${r.bounced.hard} hard, ${r.bounced.soft} soft</dd>
      <dt>Complaints</dt>
      <dd>${r.complained}</dd>
      <dt>Unsubscribed</dt>
      <dd>${r.unsubscribed} (${percent(r.unsubscribed, r.sent)})</dd>
      <dt>Opened by people</dt>
      <dd>
        ${tracked.opens ? html`${r.opened.unique} (${percent(r.opened.unique, r.sent)}); ${r.opened.machine} by machines` : 'not tracked'}
      </dd>
      <dt>Clicked by people</dt>
      <dd>
        ${tracked.clicks ? html`${r.clicked.unique} (${percent(r.clicked.unique, r.sent)}); ${r.clicked.machine} by machines` : 'not tracked'}
      </dd>
    </dl>
    <p class="hint">
      People are counted once each; mail proxies, link scanners and prefetches are counted apart (<a
        href="/docs/engagement"
        >how</a
      >).
      <a href="/api/v1/campaigns/${campaignId}/report.csv">Download the report (CSV)</a>
    </p>
    <h3>Over time</h3>
    ${timelineChart(r)} ${timelineTable(r)}
    <h3 id="links-h">Clicks per link</h3>
    ${linkBars(r)}
  </section>`;
}
