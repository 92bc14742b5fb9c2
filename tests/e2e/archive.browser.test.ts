// The public archive and "view in browser" as readers use them, in Debian's chromium
// (docs/engagement.md): a newsletter sent with the shipped template and `archive`, found from
// the archive's list and read there at a laptop's and a phone's width, without JavaScript;
// axe finds nothing serious on the archive's pages; the reader's own "read in your browser"
// link shows their message with its original links and nothing tracked.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { packageRoot } from '../../src/lib/paths.js';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/console.js';
import { mailSuite } from '../helpers/suite.js';

const suite = mailSuite();
const WIDTHS = [
  { name: 'laptop', width: 1024, height: 768 },
  { name: 'phone', width: 390, height: 844 },
];
let served: Served;
let plain: Browser;
let scripted: Browser;
let personal: string[];
/** The mails of the archived campaign and of a members-only one (not archived). */
let archivedMail: { html: string; to: string };
let membersMail: { html: string; to: string };

beforeAll(async () => {
  served = await serve(suite.ctx.app);
  const mjml = readFileSync(path.join(packageRoot(), 'templates', 'newsletter.mjml'), 'utf8');
  const t = await suite.ctx.api().post('/api/v1/templates').send({ name: 'Quarterly', mjml });
  const readers = await suite.audience(2, 'Archive browser');
  const { rows } = await suite.ctx.db.query<{ name: string; email: string; uuid: string }>(
    'SELECT name, email, uuid::text AS uuid FROM subscribers WHERE id = ANY($1)',
    [readers.ids],
  );
  personal = rows.flatMap((r) => [r.name, r.email, r.uuid]);
  const body = {
    templateId: t.body.id,
    content:
      'Dear {{ subscriber.name }}, the reading room opens in March. ' +
      'See [the floor plan](https://example.org/plan).',
    tracking: { opens: true, clicks: true },
  };
  for (const more of [
    { name: 'Winter 2026', subject: 'Winter 2026', archive: true, archiveSlug: 'winter-2026' },
    { name: 'Members', subject: 'For members only' },
  ]) {
    const campaign = await suite.send([readers.list], { ...body, ...more });
    expect(await suite.finished(campaign.id)).toBe(true);
  }
  const mailOf = (subject: string) => suite.sink.messages.find((m) => m.subject === subject)!;
  archivedMail = mailOf('Winter 2026');
  membersMail = mailOf('For members only');
  plain = await launchBrowser({ javaScriptEnabled: false });
  scripted = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await plain?.close();
  await scripted?.close();
  await served?.close();
});

/** The page is as wide as the window: nothing to scroll sideways. */
async function fitsWidth(page: Page): Promise<boolean> {
  const { scroll, client } = await page.evaluate<{ scroll: number; client: number }>(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  );
  return scroll <= client;
}

describe('the archive in a browser', () => {
  for (const size of WIDTHS) {
    it(`is read from the list to the newsletter at ${size.name} width, without JavaScript`, async () => {
      const page = await plain.context.newPage();
      await page.setViewportSize({ width: size.width, height: size.height });
      const seen = watchPage(page);
      await page.goto(`${served.url}/archive`);
      expect(await page.title()).toContain('Newsletter archive');
      await page.getByRole('link', { name: 'Winter 2026' }).click();
      await page.getByRole('heading', { level: 1, name: 'Winter 2026' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/archive/winter-2026');

      const frame = page.frameLocator('iframe[title="Winter 2026"]');
      await frame.getByText(/the reading room opens in March/).waitFor();
      await frame.getByText('This is the archive copy of our newsletter').waitFor();
      const plan = frame.getByRole('link', { name: 'the floor plan' });
      expect(await plan.getAttribute('href')).toBe('https://example.org/plan');
      const box = await page.locator('iframe.archived-message').boundingBox();
      // The message is 600 px wide (MJML's default): the frame gives it that, or the window.
      expect(box!.width).toBeGreaterThanOrEqual(Math.min(600, size.width - 40));
      expect(box!.x + box!.width).toBeLessThanOrEqual(size.width);
      expect(await fitsWidth(page)).toBe(true);

      const text = (await page.content()) + (await page.frames()[1]!.content());
      for (const value of personal) expect(text).not.toContain(value);
      await page.getByRole('link', { name: 'Newsletter archive' }).click();
      await page.getByRole('link', { name: 'Atom feed' }).waitFor();
      expect(await fitsWidth(page)).toBe(true);
      expect(seen.errors).toEqual([]);
      await page.close();
    });
  }

  it('has nothing serious for axe on the list and the newsletter page', async () => {
    const page = await scripted.context.newPage();
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.goto(`${served.url}/archive`);
      await expectAccessible(page, `archive list at ${size.name} width`);
      await page.goto(`${served.url}/archive/winter-2026`);
      await expectAccessible(page, `archived newsletter at ${size.name} width`);
    }
    await page.close();
  });

  it("is where an archived mail's browser link leads", async () => {
    const page = await plain.context.newPage();
    await page.goto(local(browserLink(archivedMail.html)));
    expect(new URL(page.url()).pathname).toBe('/archive/winter-2026');
    await page.getByRole('heading', { level: 1, name: 'Winter 2026' }).waitFor();
    await page.close();
  });
});

describe('view in browser', () => {
  it("shows a reader their own message from their mail's link, with nothing tracked", async () => {
    const count = async () =>
      (await suite.ctx.db.query("SELECT count(*)::int AS n FROM events WHERE source = 'tracking'"))
        .rows[0].n as number;
    const before = await count();
    const page = await plain.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(local(browserLink(membersMail.html)));
    const name = /Dear ([^,]+),/.exec(membersMail.html)![1]!;
    await page.getByText(`Dear ${name}, the reading room opens in March`).waitFor();
    await page.getByText(`You receive this newsletter at ${membersMail.to}`).waitFor();
    const plan = page.getByRole('link', { name: 'the floor plan' });
    expect(await plan.getAttribute('href')).toBe('https://example.org/plan');
    expect(await page.locator('img[src*="/o/"]').count()).toBe(0);
    expect(await page.locator('a[href*="/l/"]').count()).toBe(0);
    expect(await count()).toBe(before);
    await page.close();
  });
});

/** The "Read this issue in your browser" link of a delivered mail. */
function browserLink(html: string): string {
  const link = /href="([^"]+)"[^>]*>Read this issue in your browser/.exec(html)?.[1];
  expect(link).toBeDefined();
  return link!.replaceAll('&amp;', '&');
}

/** The same path on the server this test serves. */
const local = (url: string) => `${served.url}${new URL(url).pathname}`;
