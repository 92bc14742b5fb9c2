// The audience draw right after an import (docs/performance.md): imports leave fresh planner
// statistics behind, the draw's plan reads only each chunk's rows whatever the statistics say,
// and a campaign cancelled during its draw stops drawing.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { createCampaign, createList, createTemplate } from '../helpers/campaigns.js';
import {
  DRAW_CHUNK_SQL,
  DRAW_PLAN_SETTINGS,
} from '../../src/db/repositories/deliveries.repository.js';
import { DRAW_CHUNK } from '../../src/services/audience.service.js';

const ctx = contextSuite();

const lastAnalyze = async (table: string) =>
  (
    await ctx.db.query<{ last: Date | null; mods: number }>(
      `SELECT greatest(last_analyze, last_autoanalyze) AS last, n_mod_since_analyze::int AS mods
       FROM pg_stat_user_tables WHERE relname = $1`,
      [table],
    )
  ).rows[0]!;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

describe('the audience draw', () => {
  it('an import ends with ANALYZE of the tables it wrote', async () => {
    const list = await createList(ctx, 'Imported');
    const csv = [
      'email,name',
      ...Array.from({ length: 3000 }, (_, i) => `imp${i}@draw.test,R ${i}`),
    ];
    const workers = ctx.startWorkers();
    try {
      const res = await ctx
        .api()
        .post(`/api/v1/lists/${list}/imports`)
        .set('Content-Type', 'text/csv')
        .send(`${csv.join('\n')}\n`);
      expect(res.status).toBe(202);
      await waitFor(async () => {
        const r = await ctx.api().get(`/api/v1/imports/${res.body.id}`);
        return r.body.status === 'done';
      });
    } finally {
      await workers.close();
    }
    for (const table of ['subscribers', 'subscriptions']) {
      const stats = await lastAnalyze(table);
      expect(stats.last, table).not.toBeNull();
      expect(stats.mods, table).toBe(0);
    }
  });

  it('reads only the chunk through the indexes, even on statistics from an empty database', async () => {
    // Statistics say "empty", then 20,000 rows arrive without an ANALYZE: the state a busy
    // server (or autovacuum off) leaves right after a bulk load.
    await ctx.db.query('TRUNCATE deliveries, subscriptions, subscribers, consent_records CASCADE');
    await ctx.db.query('ANALYZE subscribers, subscriptions');
    const list = await createList(ctx, 'Stale');
    await ctx.db.query(
      `INSERT INTO subscribers (email) SELECT 'stale' || g || '@draw.test' FROM generate_series(1, 20000) g`,
    );
    await ctx.db.query(
      `INSERT INTO subscriptions (list_id, subscriber_id, status) SELECT $1, id, 'confirmed' FROM subscribers`,
      [list],
    );
    const campaign = await createCampaign(ctx, {
      templateId: await createTemplate(ctx),
      listIds: [list],
    });
    const { rows: range } = await ctx.db.query<{ min: number }>(
      'SELECT min(id)::int AS min FROM subscribers',
    );
    const client = await ctx.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(DRAW_PLAN_SETTINGS);
      const sql = DRAW_CHUNK_SQL.replace(/\$1/g, String(campaign.id))
        .replace(/\$2/g, String(range[0]!.min - 1))
        .replace(/\$3/g, String(range[0]!.min - 1 + DRAW_CHUNK));
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
      );
      const plan = nodes(rows[0]!['QUERY PLAN'][0].Plan);
      const scans = plan.filter(
        (n) => n['Relation Name'] === 'subscriptions' || n['Relation Name'] === 'subscribers',
      );
      expect(scans.map((n) => n['Node Type']).filter((t) => t === 'Seq Scan')).toEqual([]);
      // The chunk's id range is in the condition of the subscriptions index: the list is not
      // read whole for every chunk.
      const listIndex = plan.find((n) => n['Index Name']?.startsWith('subscriptions_'));
      expect(listIndex?.['Index Cond']).toMatch(/subscriber_id > /);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    const drawn = await ctx.container.services.audience.drawAndQueue(campaign.id, 1);
    expect(drawn).toBe('not-running'); // a draft: nothing drawn
  });

  it('stops drawing when the campaign is cancelled during its draw', async () => {
    const list = await createList(ctx, 'Cancelled during draw');
    const count = 6 * DRAW_CHUNK;
    await ctx.db.query(
      `INSERT INTO subscribers (email) SELECT 'cancel' || g || '@draw.test' FROM generate_series(1, $1::int) g`,
      [count],
    );
    await ctx.db.query(
      `INSERT INTO subscriptions (list_id, subscriber_id, status)
       SELECT $1, id, 'confirmed' FROM subscribers WHERE email LIKE 'cancel%'`,
      [list],
    );
    await ctx.db.query('ANALYZE subscribers, subscriptions');
    const campaign = await createCampaign(ctx, {
      templateId: await createTemplate(ctx),
      listIds: [list],
    });
    // No workers: the draw runs here, where the test can watch it.
    const started = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
    const drawing = ctx.container.services.audience.drawAndQueue(
      campaign.id,
      started.body.generation ?? 1,
    );
    const ledgerRows = async () =>
      (
        await ctx.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1',
          [campaign.id],
        )
      ).rows[0]!.n;
    await waitFor(async () => (await ledgerRows()) > 0, { intervalMs: 10 });
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/cancel`).expect(200);
    expect(await drawing).toBe('not-running');
    const rows = await ledgerRows();
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(count);
    const { rows: c } = await ctx.db.query(
      'SELECT status, audience_drawn_at FROM campaigns WHERE id = $1',
      [campaign.id],
    );
    expect(c[0]).toEqual({ status: 'cancelled', audience_drawn_at: null });
  }, 60_000);
});
