// The campaign's report on its console page (docs/engagement.md): the totals, a timeline chart
// and a bar per link, drawn as SVG on the server (no script, nothing loaded from elsewhere),
// each chart followed by its numbers as a table for screen readers and for copying.
import type { EngagementReport } from '../../services/engagement-report.service.js';
import { html, type SafeHtml } from '../public/html.js';

const W = 640;
const H = 200;
const SERIES = [
  ['sent', 'Sent', 'series-sent'],
  ['opened', 'Opened', 'series-opened'],
  ['clicked', 'Clicked', 'series-clicked'],
  ['unsubscribed', 'Unsubscribed', 'series-unsubscribed'],
] as const;

const percent = (n: number, of: number) => (of > 0 ? `${Math.round((n / of) * 1000) / 10}%` : '—');
const time = (iso: string) => iso.slice(0, 16).replace('T', ' ');
/** A link's address without the scheme, cut to what fits beside a bar. */
const shortUrl = (url: string) => {
  const bare = url.replace(/^https?:\/\//, '');
  return bare.length > 80 ? `${bare.slice(0, 79)}…` : bare;
};

/** Each series as running totals: the lines only rise, and sparse buckets still read well. */
function runningTotals(r: EngagementReport): Record<(typeof SERIES)[number][0], number[]> {
  const totals = { sent: [], opened: [], clicked: [], unsubscribed: [] } as Record<
    (typeof SERIES)[number][0],
    number[]
  >;
  for (const [key] of SERIES) {
    let sum = 0;
    for (const b of r.timeline) totals[key].push((sum += b[key]));
  }
  return totals;
}

function timelineChart(r: EngagementReport): SafeHtml {
  const t = r.timeline;
  if (t.length === 0) return html`<p>Nothing has happened yet.</p>`;
  const totals = runningTotals(r);
  const max = Math.max(1, ...SERIES.map(([k]) => totals[k].at(-1)!));
  const base = H - 30;
  const x = (i: number) => (t.length === 1 ? W / 2 : 40 + (i * (W - 60)) / (t.length - 1));
  const y = (v: number) => base - (v / max) * (base - 12);
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="timeline-caption">
      <line class="axis" x1="36" y1="${base}" x2="${W - 10}" y2="${base}" />
      <text class="tick" x="2" y="${y(max) + 4}">${max}</text>
      <text class="tick" x="2" y="${base + 4}">0</text>
      <text class="tick" x="${x(0)}" y="${H - 8}" text-anchor="start">${time(t[0]!.at)}</text>
      ${
        t.length > 1
          ? html`<text class="tick" x="${x(t.length - 1)}" y="${H - 8}" text-anchor="end">
              ${time(t.at(-1)!.at)} UTC
            </text>`
          : ''
      }
      ${SERIES.map(
        ([key, , cls]) =>
          html`<g class="${cls}">
            <polyline
              points="${totals[key].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"
            />
            ${totals[key].map((v, i) => html`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" />`)}
          </g>`,
      )}
    </svg>
    <figcaption id="timeline-caption">
      Running totals from the start:
      ${SERIES.map(([, label, cls]) => html`<span class="key ${cls}">${label}</span> `)} (each point
      is ten minutes in the first six hours, then an hour; the table has each period's own numbers)
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
  const ROW = 40;
  const width = (clicks: number) => (clicks / max) * (W - 60);
  // Each bar under its link's address (cut to fit), the count at its end.
  return html`<svg
      class="bars"
      viewBox="0 0 ${W} ${r.links.length * ROW}"
      role="img"
      aria-labelledby="links-h"
    >
      ${r.links.map(
        (l, i) =>
          html`<text class="tick" x="0" y="${i * ROW + 12}">${shortUrl(l.url)}</text>
            <rect
              class="bar"
              x="0"
              y="${i * ROW + 18}"
              height="16"
              width="${Math.max(1, width(l.clicks)).toFixed(1)}"
            />
            <text class="tick" x="${(width(l.clicks) + 6).toFixed(1)}" y="${i * ROW + 31}"
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
