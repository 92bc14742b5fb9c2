// `npx bulletin demo`: one organisation throughout, and a public double opt-in list for /subscribe.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { contextSuite } from '../helpers/suite.js';

const ctx = contextSuite({
  ORG_NAME: 'The Example Secretariat',
  ORG_ADDRESS: '1 Example Street, Geneva',
});

describe('the demo', () => {
  it('creates a campaign sent as the organisation, and a public double opt-in list', async () => {
    const lines: string[] = [];
    await runDemo(ctx.config, false, (line) => lines.push(line));
    expect(lines[0]).toMatch(
      /^Created list \d+ with 5 subscribers, template \d+ and campaign \d+\.$/,
    );
    expect(lines[1]).toMatch(
      /public with double opt-in: subscribe at http:\/\/localhost:3000\/subscribe/,
    );
    const { rows: lists } = await ctx.db.query(
      'SELECT name, optin, visibility FROM lists ORDER BY id',
    );
    expect(lists).toEqual([
      { name: 'Quarterly newsletter (demo)', optin: 'single', visibility: 'public' },
      { name: 'News and events (demo)', optin: 'double', visibility: 'public' },
    ]);
    const { rows } = await ctx.db.query<{ id: number }>('SELECT id FROM campaigns');
    const campaign = (await ctx.api().get(`/api/v1/campaigns/${rows[0]!.id}`)).body;
    expect(campaign.fromName).toBe('The Example Secretariat');
    const preflight = (await ctx.api().get(`/api/v1/campaigns/${rows[0]!.id}/preflight`)).body;
    expect(preflight).toMatchObject({ ok: true, audience: 5, renderError: null });
    const page = await ctx.http.get('/subscribe');
    expect(page.text).toContain('News and events (demo)');
    expect(page.text).toContain('The Example Secretariat');
  });
});
