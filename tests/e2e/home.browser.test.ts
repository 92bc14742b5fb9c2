// The front door in a real browser: `/` leads to the console, `/api/docs` is an
// interactive API reference served from here (not one request leaves the machine), and the
// documentation pages render from docs/.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let served: Served;
let browser: Browser;
beforeAll(async () => {
  ctx = await createTestContext({ ORG_NAME: 'The Example Secretariat' });
  served = await serve(ctx.app);
  browser = await launchBrowser();
  mkdirSync('tmp', { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await ctx?.close();
});

describe('the front door', () => {
  it('/ leads to the console (its sign-in page), and /docs lists the documentation', async () => {
    const page = await browser.context.newPage();
    const seen = watchPage(page);
    expect((await page.goto(`${served.url}/`))?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.goto(`${served.url}/docs`);
    await expect.poll(() => page.getByRole('heading', { name: 'Documentation' }).count()).toBe(1);
    expect(await page.getByText('The Example Secretariat').count()).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'operations', exact: true }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).first().textContent())
      .toMatch(/Operating Bulletin|operat/i);
    // A link between pages leads to the other page here.
    expect(await page.locator('a[href^="/docs/"]').count()).toBeGreaterThan(0);
    expect(seen.errors).toEqual([]);
  });

  it('/api/docs renders every path of the OpenAPI document, with nothing from elsewhere', async () => {
    const foreign: string[] = [];
    const origin = new URL(served.url).origin;
    const context = (await launchBrowser()).context;
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:')) await route.continue();
      else {
        foreign.push(url);
        await route.abort();
      }
    });
    const page = await context.newPage();
    const seen = watchPage(page);
    expect((await page.goto(`${served.url}/api/docs`))?.status()).toBe(200);
    await expect
      .poll(() => page.getByText('/api/v1/campaigns/{id}/send', { exact: true }).count(), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: /Authorize/ }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'tmp/api-docs.png' });
    expect(foreign).toEqual([]);
    expect(seen.errors).toEqual([]);
    await context.close();
  });

  it('unknown and traversing docs pages are the 404 page', async () => {
    for (const url of ['/docs/nope', '/docs/..%2Fpackage.json', '/docs/README']) {
      const res = await ctx.http.get(url);
      expect(res.status, url).toBe(404);
      expect(res.text).not.toContain('"name": "bulletin"');
    }
  });
});
