// The campaign report in the console, in Debian's chromium (docs/engagement.md): a campaign
// written with tracking chosen in the editor, sent, read and clicked, then its page shows
// the totals, the timeline chart and the per-link bars with their tables; axe finds nothing
// serious, and the CSV link downloads the same numbers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { createUser } from '../helpers/accounts.js';
import { expectAccessible, realErrors, screenshot, signInPage } from '../helpers/console.js';
import { mailSuite } from '../helpers/suite.js';
import { ageSend } from '../helpers/campaigns.js';

const SHOTS = Boolean(process.env.SCREENSHOTS);
const BROWSER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const suite = mailSuite();
let served: Served;
let browser: Browser;

beforeAll(async () => {
  served = await serve(suite.ctx.app);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe('the report', () => {
  it('is chosen in the editor, then shown with charts and tables after the send', async () => {
    const officer = await createUser(suite.ctx, ['sender'], { name: 'Rita Reporter' });
    await suite.audience(4, 'Report readers');
    const page = await signInPage(browser.context, served.url, officer.email);
    const seen = watchPage(page);
    await page.goto(`${served.url}/admin/campaigns/new`);
    await page.getByLabel('Name', { exact: true }).fill('Autumn 2027');
    await page.getByLabel('Subject').fill('Autumn news');
    await page
      .getByRole('group', { name: 'Lists' })
      .getByLabel(/Report readers/)
      .check();
    await page
      .getByLabel('Content')
      .fill(
        'Read [the agenda](https://example.org/agenda) and [the minutes](https://example.org/minutes).',
      );
    await page.getByLabel('Track opens').check();
    await page.getByLabel('Track clicks').check();
    await page.getByLabel('Show in the public archive').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Autumn 2027' }).waitFor();
    const id = Number(new URL(page.url()).pathname.split('/').at(-1));
    const api = await suite.ctx.api().get(`/api/v1/campaigns/${id}`).expect(200);
    expect(api.body).toMatchObject({
      tracking: { opens: true, clicks: true },
      archive: true,
      archiveSlug: 'autumn-2027',
    });

    await suite.ctx.api().post(`/api/v1/campaigns/${id}/send`).expect(200);
    expect(await suite.finished(id)).toBe(true);
    await ageSend(suite.ctx, id);
    const mails = suite.sink.messages.filter((m) => m.subject === 'Autumn news');
    expect(mails).toHaveLength(4);
    // Two readers follow the agenda, one of them twice.
    for (const m of [mails[0]!, mails[0]!, mails[1]!]) {
      const link = /href="([^"]*\/l\/[^"]+)"/.exec(m.html)![1]!;
      await suite.ctx.http.get(new URL(link).pathname).set('User-Agent', BROWSER_AGENT).expect(302);
    }

    await page.goto(`${served.url}/admin/campaigns/${id}`);
    const report = page.getByRole('region', { name: 'Report' });
    await report.getByText('Clicked by people').waitFor();
    const clicked = report.getByRole('definition').filter({ hasText: 'by machines' }).last();
    expect((await clicked.innerText()).trim()).toBe('2 (50%); 0 by machines');
    const links = report.getByRole('table').last();
    expect(await links.getByRole('row').allInnerTexts()).toEqual([
      expect.stringMatching(/Link\s+Clicks\s+Readers who clicked/),
      expect.stringMatching(/https:\/\/example\.org\/agenda\s+3\s+2/),
      expect.stringMatching(/https:\/\/example\.org\/minutes\s+0\s+0/),
    ]);
    expect(await report.getByRole('img').count()).toBe(2);
    await expectAccessible(page, 'campaign report');
    await screenshot(page, '06-report', SHOTS);
    const csv = await page.request.get(`${served.url}/api/v1/campaigns/${id}/report.csv`);
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toContain('clicked_unique,2');
    expect(realErrors(seen.errors)).toEqual([]);
    await page.close();
  }, 120_000);
});
