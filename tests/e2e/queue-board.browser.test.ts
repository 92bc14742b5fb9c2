// Bull Board at /admin/queues in a real browser: basic auth with an ops token, every queue
// listed, and not one request leaving the machine (the fonts are served locally).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { createTestContext, TEST_ADMIN_TOKEN, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let served: Served;
beforeAll(async () => {
  ctx = await createTestContext();
  served = await serve(ctx.app);
  // Something to see: a waiting job in the imports queue.
  await ctx.container.queues.imports.add('import', { importId: 424242 });
});
afterAll(async () => {
  await served?.close();
  await ctx?.close();
});

describe('the queue dashboard', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({
      httpCredentials: { username: 'operator', password: TEST_ADMIN_TOKEN },
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('opens with basic auth, lists every queue and loads nothing from elsewhere', async () => {
    const foreign: string[] = [];
    const local: string[] = [];
    const origin = new URL(served.url).origin;
    await browser.context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:')) {
        local.push(url);
        await route.continue();
      } else {
        foreign.push(url);
        await route.abort();
      }
    });
    const page = await browser.context.newPage();
    const seen = watchPage(page);
    const response = await page.goto(`${served.url}/admin/queues`);
    expect(response?.status()).toBe(200);
    for (const name of ['imports', 'campaigns', 'deliveries', 'events']) {
      await expect
        .poll(() => page.getByText(name, { exact: true }).count(), { timeout: 15_000 })
        .toBeGreaterThan(0);
    }
    // The overview shows the waiting import job once the board's API answered.
    await page.getByText('imports', { exact: true }).first().click();
    await expect
      .poll(() => page.getByText(/Waiting/i).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: 'tmp/queue-board.png' }).catch(() => undefined);
    expect(foreign).toEqual([]);
    // The fonts came from here.
    expect(local.some((u) => /\/admin\/queues\/fonts\/sans\/.*\.css$/.test(u))).toBe(true);
    expect(seen.errors).toEqual([]);
  });
});

describe('without the right credentials', () => {
  it('asks for basic auth and shows nothing', async () => {
    const res = await ctx.http.get('/admin/queues').expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm="Bulletin queues"/);
    expect(res.text).not.toContain('__UI_CONFIG__');
    await ctx.http.get('/admin/queues/api/queues').expect(401);
    const wrong = Buffer.from('operator:not-a-token').toString('base64');
    await ctx.http.get('/admin/queues').set('Authorization', `Basic ${wrong}`).expect(401);
  });

  it('refuses a token without the ops scope', async () => {
    const created = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: 'reader', scopes: ['read'] })
      .expect(201);
    const basic = Buffer.from(`x:${created.body.token}`).toString('base64');
    await ctx.http.get('/admin/queues').set('Authorization', `Basic ${basic}`).expect(403);
  });

  it('accepts an ops token as basic auth or bearer, and the page links no foreign host', async () => {
    const basic = Buffer.from(`anyone:${TEST_ADMIN_TOKEN}`).toString('base64');
    const page = await ctx.http
      .get('/admin/queues')
      .set('Authorization', `Basic ${basic}`)
      .expect(200);
    expect(page.text).not.toMatch(/https?:\/\//);
    const api = await ctx.http
      .get('/admin/queues/api/queues')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .expect(200);
    expect(JSON.stringify(api.body)).toContain('deliveries');
  });
});
