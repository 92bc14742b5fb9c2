// What a refused request must leave unchanged: every row of every table that requests can
// touch, as one comparable snapshot (row counts plus a digest of each table's content).
import type { TestContext } from './context.js';

const TABLES = [
  'lists',
  'subscribers',
  'subscriptions',
  'consent_records',
  'templates',
  'campaigns',
  'deliveries',
  'events',
  'api_tokens',
  'imports',
];

export async function stateOf(ctx: TestContext): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await ctx.db.query<{ n: number; digest: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${table} t`,
    );
    snapshot[table] = `${rows[0]!.n}:${rows[0]!.digest ?? ''}`;
  }
  return snapshot;
}
