// Scrape-time read of campaign progress: one set-based query over the ledger for every running
// or paused campaign (the (campaign_id, status, id) index answers it), never one per campaign.
import type { CampaignProgress } from '../../metrics/metrics.js';
import type { Queryable } from '../pool.js';

export async function campaignProgress(db: Queryable): Promise<CampaignProgress[]> {
  const { rows } = await db.query<{ id: number; total: number; remaining: number }>(
    `SELECT c.id, count(d.id)::int AS total,
            count(d.id) FILTER (WHERE d.status IN ('queued', 'sending'))::int AS remaining
     FROM campaigns c LEFT JOIN deliveries d ON d.campaign_id = c.id
     WHERE c.status IN ('running', 'paused')
     GROUP BY c.id`,
  );
  // The campaign GET's formula (CampaignReportService.report): done = neither queued nor sending;
  // an empty ledger (audience not drawn yet) is 0 while the campaign runs.
  return rows.map((r) => ({
    campaignId: r.id,
    progress: r.total === 0 ? 0 : (r.total - r.remaining) / r.total,
  }));
}
