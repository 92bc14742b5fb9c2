// The console's lists of campaigns read one page at a time (docs/console.md): the campaigns
// page shows the newest 50 and links to older ones; the dashboard's last results are the five
// campaigns that finished last, whatever their ids. A refused campaign form shows each error
// next to its field and saves nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { personWith, type Person } from '../helpers/accounts.js';
import { createCampaign, createList, createTemplate } from '../helpers/campaigns.js';

let ctx: TestContext;
let viewer: Person;
let editor: Person;
const ids: number[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  viewer = await personWith(ctx, ['viewer']);
  editor = await personWith(ctx, ['editor']);
  const listId = await createList(ctx, 'Members');
  const templateId = await createTemplate(ctx);
  for (let i = 1; i <= 57; i++)
    ids.push(
      (await createCampaign(ctx, { name: `Edition ${i}`, listIds: [listId], templateId })).id,
    );
});
afterAll(async () => {
  await ctx?.close();
});

const page = async (url: string) => {
  const res = await ctx.http.get(url).set('Cookie', viewer.cookie).redirects(0);
  expect(res.status).toBe(200);
  return res.text;
};
const namesIn = (html: string) => [...html.matchAll(/>(Edition \d+)<\/a>/g)].map((m) => m[1]);

describe('the campaigns page', () => {
  it('shows the newest 50 first, then the older ones behind "Older campaigns"', async () => {
    const first = await page('/admin/campaigns');
    const expected = Array.from({ length: 50 }, (_, i) => `Edition ${57 - i}`);
    expect(namesIn(first)).toEqual(expected);
    const older = /href="(\/admin\/campaigns\?before=\d+)">Older campaigns</.exec(first)?.[1];
    expect(older).toBe(`/admin/campaigns?before=${ids[7]}`);

    const second = await page(older!);
    expect(namesIn(second)).toEqual([
      'Edition 7',
      'Edition 6',
      'Edition 5',
      'Edition 4',
      'Edition 3',
      'Edition 2',
      'Edition 1',
    ]);
    expect(second).not.toContain('Older campaigns');
  });
});

describe('the dashboard', () => {
  it('lists as last results the five campaigns that finished last', async () => {
    // Finished in an order unlike their ids: edition 3 last, then 40, 12, 55, 1, 20 (too old).
    const finishedOrder = [20, 1, 55, 12, 40, 3];
    for (const [i, n] of finishedOrder.entries())
      await ctx.db.query(
        `UPDATE campaigns SET status = 'finished', started_at = $2, finished_at = $2 WHERE id = $1`,
        [ids[n - 1], new Date(Date.UTC(2026, 0, 1 + i))],
      );
    const html = await page('/admin');
    const recent = /<section aria-labelledby="recent">([\s\S]*?)<\/section>/.exec(html)?.[1];
    expect(recent, 'the last results section').toBeDefined();
    expect(namesIn(recent!)).toEqual([
      'Edition 3',
      'Edition 40',
      'Edition 12',
      'Edition 55',
      'Edition 1',
    ]);
  });
});

describe('the campaign editor', () => {
  it('shows every error next to its field, keeps what was typed, and saves nothing', async () => {
    const before = await ctx.db.query('SELECT count(*)::int AS n FROM campaigns');
    const form = new URLSearchParams({
      _csrf: editor.csrf,
      name: '',
      subject: 'Kept {{ subscriber.name }}',
      content: 'Kept *content*',
      fromEmail: 'not an address',
    });
    const res = await ctx.http
      .post('/admin/campaigns/new')
      .set('Cookie', editor.cookie)
      .type('form')
      .send(form.toString());
    expect(res.status).toBe(400);
    for (const id of ['name', 'templateId', 'fromEmail'])
      expect(res.text, id).toMatch(new RegExp(`id="${id}"[^>]*aria-invalid="true"`));
    expect(res.text).toContain('id="templateId-error">choose a template');
    expect(res.text).toContain('choose at least one list');
    expect(res.text).toContain('value="Kept {{ subscriber.name }}"');
    expect(res.text).toContain('Kept *content*');
    const after = await ctx.db.query('SELECT count(*)::int AS n FROM campaigns');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
