// Small pieces the console's pages share: a one-button form, a moment in time (in its zone,
// in UTC and, by the page script, in the viewer's zone), a status word.
import type { Response } from 'express';
import { DateTime } from 'luxon';
import { html, type SafeHtml } from '../public/html.js';
import { csrfField } from './kit.js';

export function actionButton(res: Response, action: string, label: string, cls = ''): SafeHtml {
  return html`<form method="post" action="${action}" class="inline">
    ${csrfField(res)}<button type="submit" ${cls ? html` class="${cls}"` : ''}>${label}</button>
  </form>`;
}

/**
 * A moment as people read it: in its own zone and in UTC; the page script adds the viewer's
 * zone from the `datetime` attribute. With `relative`, only the time left ("12 minutes").
 */
export function moment(at: Date, zone: string | null, relative = false): SafeHtml {
  if (relative) {
    const minutes = Math.max(1, Math.round((at.getTime() - Date.now()) / 60_000));
    return html`${minutes < 90 ? `${minutes} min` : `${Math.round(minutes / 60)} h`}`;
  }
  const utc = DateTime.fromJSDate(at, { zone: 'utc' });
  const local = zone ? utc.setZone(zone) : utc;
  const format = 'd LLL yyyy, HH:mm';
  return html`<time datetime="${utc.toISO()}" data-local-time
    >${local.toFormat(format)}
    ${zone ?? 'UTC'}${zone && zone !== 'UTC' ? html` (${utc.toFormat(format)} UTC)` : ''}</time
  >`;
}

export const statusBadge = (status: string) =>
  html`<span class="badge badge-${status}">${status}</span>`;

export const shortDate = (at: Date | null) =>
  at ? DateTime.fromJSDate(at, { zone: 'utc' }).toFormat('d LLL yyyy HH:mm') + ' UTC' : '—';
