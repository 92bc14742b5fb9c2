// What a refused request must leave unchanged: every row of every table that requests can
// touch, as one comparable snapshot (row counts plus a digest of each table's content).
import { beforeAll, beforeEach } from 'vitest';
import { createCampaign, createList, createTemplate } from './campaigns.js';
import type { TestContext } from './context.js';
import { contextSuite } from './suite.js';

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
  'users',
  'account_links',
  'audit_log',
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

/**
 * A file's adversarial world: its context and one list, template, campaign and subscriber to
 * aim at (`ids`), and before each test a snapshot of the whole state (`state.before`), to compare
 * with after a refused request.
 */
export function adversarialSuite(
  env: Record<string, string>,
  name: string,
  email: string,
): {
  ctx: TestContext;
  ids: { listId: number; templateId: number; campaignId: number; subscriberId: number };
  state: { before: Record<string, string> };
} {
  const ctx = contextSuite(env);
  const ids = { listId: 0, templateId: 0, campaignId: 0, subscriberId: 0 };
  const state = { before: {} as Record<string, string> };
  beforeAll(async () => {
    ids.listId = await createList(ctx, name);
    ids.templateId = await createTemplate(ctx);
    ids.campaignId = (
      await createCampaign(ctx, { templateId: ids.templateId, listIds: [ids.listId] })
    ).id;
    const s = await ctx.api().post('/api/v1/subscribers').send({ email });
    ids.subscriberId = s.body.id as number;
  });
  beforeEach(async () => {
    state.before = await stateOf(ctx);
  });
  return { ctx, ids, state };
}
