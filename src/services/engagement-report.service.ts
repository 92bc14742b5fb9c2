// The campaign's report (docs/engagement.md): what happened to its mail and what readers did,
// as the API's JSON, as a CSV download and as the console's charts. Opens and clicks are
// people (unique, machines apart); counts kept from events past the retention are added in.
import { stringify } from 'csv-stringify/sync';
import { neutralizeFormula } from '../domain/text.js';
import type { Pool } from '../db/pool.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import { DeliveriesRepository } from '../db/repositories/deliveries.repository.js';
import { EngagementRepository } from '../db/repositories/engagement.repository.js';
import { EventsRepository } from '../db/repositories/events.repository.js';

export interface EngagementReport {
  sent: number;
  bounced: { hard: number; soft: number };
  complained: number;
  unsubscribed: number;
  opened: { unique: number; machine: number };
  clicked: { unique: number; machine: number };
  links: { url: string; clicks: number; unique: number }[];
  timeline: {
    at: string;
    sent: number;
    opened: number;
    clicked: number;
    unsubscribed: number;
    bounced: number;
  }[];
}

/** Counts kept in `campaigns.retained_counts` when raw events were removed. */
const kept = (c: CampaignRow, key: string) => Number(c.retained_counts?.[key] ?? 0);

export class EngagementReportService {
  constructor(private readonly pool: Pool) {}

  async report(campaign: CampaignRow): Promise<EngagementReport> {
    const engagement = new EngagementRepository(this.pool);
    const [status, events, counts, links, timeline] = await Promise.all([
      new DeliveriesRepository(this.pool).statusCounts(campaign.id),
      new EventsRepository(this.pool).campaignCounts(campaign.id),
      engagement.counts(campaign.id),
      engagement.linkCounts(campaign.id),
      campaign.started_at ? engagement.timeline(campaign.id, campaign.started_at) : [],
    ]);
    const urls = campaign.snapshot?.links ?? [];
    const byIndex = new Map(links.map((l) => [l.link_index, l]));
    return {
      sent: status.sent,
      bounced: {
        hard: counts.bounced.hard + kept(campaign, 'bounced.hard'),
        soft: counts.bounced.soft + kept(campaign, 'bounced.soft'),
      },
      complained: events.complaint ?? 0,
      unsubscribed: events.unsubscribe ?? 0,
      opened: {
        unique: counts.opened.unique + kept(campaign, 'opened.unique'),
        machine: counts.opened.machine + kept(campaign, 'opened.machine'),
      },
      clicked: {
        unique: counts.clicked.unique + kept(campaign, 'clicked.unique'),
        machine: counts.clicked.machine + kept(campaign, 'clicked.machine'),
      },
      links: urls.map((url, i) => ({
        url,
        clicks: (byIndex.get(i)?.clicks ?? 0) + kept(campaign, `links.${i}.clicks`),
        unique: (byIndex.get(i)?.unique ?? 0) + kept(campaign, `links.${i}.unique`),
      })),
      timeline: timeline.map((t) => ({ ...t, at: t.at.toISOString() })),
    };
  }

  /** The report as CSV: the totals, the links, then the timeline, each with its header row. */
  csv(r: EngagementReport): string {
    const rows: (string | number)[][] = [
      ['metric', 'value'],
      ['sent', r.sent],
      ['bounced_hard', r.bounced.hard],
      ['bounced_soft', r.bounced.soft],
      ['complained', r.complained],
      ['unsubscribed', r.unsubscribed],
      ['opened_unique', r.opened.unique],
      ['opened_machine', r.opened.machine],
      ['clicked_unique', r.clicked.unique],
      ['clicked_machine', r.clicked.machine],
      [],
      ['url', 'clicks', 'unique'],
      ...r.links.map((l) => [l.url, l.clicks, l.unique]),
      [],
      ['at', 'sent', 'opened', 'clicked', 'unsubscribed', 'bounced'],
      ...r.timeline.map((t) => [t.at, t.sent, t.opened, t.clicked, t.unsubscribed, t.bounced]),
    ];
    return stringify(rows.map((row) => row.map((cell) => neutralizeFormula(String(cell)))));
  }
}
