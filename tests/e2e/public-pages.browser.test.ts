// The public pages in a real browser (Debian's chromium): the forms work without JavaScript,
// the stylesheet loads under the CSP, and a hostile name stays text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let served: Served;
beforeAll(async () => {
  ctx = await createTestContext();
  served = await serve(ctx.app);
});
afterAll(async () => {
  await served?.close();
  await ctx?.close();
});

async function list(name: string, optin = 'single') {
  const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
    "INSERT INTO lists (name, optin, visibility) VALUES ($1, $2, 'public') RETURNING id, uuid",
    [name, optin],
  );
  return rows[0]!;
}

async function person(email: string, name: string, listIds: number[] = []) {
  const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
    'INSERT INTO subscribers (email, name) VALUES ($1, $2) RETURNING id, uuid',
    [email, name],
  );
  const s = rows[0]!;
  for (const listId of listIds) {
    await ctx.db.query(
      "INSERT INTO subscriptions (list_id, subscriber_id, status) VALUES ($1, $2, 'confirmed')",
      [listId, s.id],
    );
  }
  return s;
}

async function statuses(subscriberId: number): Promise<Record<number, string>> {
  const { rows } = await ctx.db.query<{ list_id: number; status: string }>(
    'SELECT list_id, status FROM subscriptions WHERE subscriber_id = $1',
    [subscriberId],
  );
  return Object.fromEntries(rows.map((r) => [r.list_id, r.status]));
}

const links = () => ctx.container.services.links;

describe('without JavaScript', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ javaScriptEnabled: false });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the preference page changes lists and name, and the change is stored', async () => {
    const a = await list('Browser A');
    const b = await list('Browser B', 'double');
    const s = await person('prefs@browser.test', 'Before', [a.id]);
    const page = await browser.context.newPage();
    const seen = watchPage(page);
    await page.goto(`${served.url}${links().path('preferences', s.uuid)}`);
    expect(await page.title()).toBe('Your preferences');
    expect(await page.getByLabel('Browser A').isChecked()).toBe(true);
    expect(await page.getByLabel('Browser B').isChecked()).toBe(false);

    await page.getByLabel('Browser A').uncheck();
    await page.getByLabel('Browser B').check();
    await page.getByLabel('Name').fill('After');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Your preferences are saved.').waitFor();

    expect(await statuses(s.id)).toEqual({ [a.id]: 'unsubscribed', [b.id]: 'confirmed' });
    const { rows } = await ctx.db.query('SELECT name FROM subscribers WHERE id = $1', [s.id]);
    expect(rows[0].name).toBe('After');
    // The page shows the stored state after the post.
    expect(await page.getByLabel('Browser A').isChecked()).toBe(false);
    expect(await page.getByLabel('Browser B').isChecked()).toBe(true);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("the unsubscribe page's button unsubscribes (opening the page does not)", async () => {
    const a = await list('Button list');
    const s = await person('button@browser.test', 'Reader', [a.id]);
    const page = await browser.context.newPage();
    await page.goto(`${served.url}${links().path('unsubscribe', s.uuid)}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Unsubscribe');
    expect(await statuses(s.id)).toEqual({ [a.id]: 'confirmed' });

    const response = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    expect((await response).status()).toBe(200);
    await page.getByText('You are unsubscribed').waitFor();
    expect(await statuses(s.id)).toEqual({ [a.id]: 'unsubscribed' });
    expect((await browser.context.cookies()).length).toBe(0);
    await page.close();
  });

  it('the subscribe form works, with the honeypot out of sight', async () => {
    const a = await list('Form list');
    const page = await browser.context.newPage();
    await page.goto(`${served.url}/subscribe`);
    const honeypot = await page.locator('#website').boundingBox();
    expect(honeypot === null || honeypot.x + honeypot.width <= 0).toBe(true);
    await page.getByLabel('Email address').fill('form@browser.test');
    await page.getByLabel('Form list').check();
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('heading', { name: 'Thank you' }).waitFor();
    const { rows } = await ctx.db.query(
      `SELECT x.status FROM subscriptions x JOIN subscribers s ON s.id = x.subscriber_id
       WHERE s.email_key = 'form@browser.test' AND x.list_id = $1`,
      [a.id],
    );
    expect(rows).toEqual([{ status: 'confirmed' }]);
    await page.close();
  });
});

describe('with JavaScript on', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ javaScriptEnabled: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows a hostile name as text and runs no script', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const a = await list('XSS list');
    const s = await person('xss@browser.test', hostile, [a.id]);
    const page = await browser.context.newPage();
    const seen = watchPage(page);
    for (const purpose of ['preferences', 'unsubscribe'] as const) {
      await page.goto(`${served.url}${links().path(purpose, s.uuid)}`);
      expect(await page.locator('img').count()).toBe(0);
    }
    await page.goto(`${served.url}${links().path('preferences', s.uuid)}`);
    expect(await page.locator('.subscriber-name').textContent()).toBe(hostile);
    expect(await page.getByLabel('Name').inputValue()).toBe(hostile);

    // Saving it back keeps it text too.
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Your preferences are saved.').waitFor();
    expect(await page.locator('img').count()).toBe(0);
    const { rows } = await ctx.db.query('SELECT name FROM subscribers WHERE id = $1', [s.id]);
    expect(rows[0].name).toBe(hostile);

    // The stylesheet applied (the CSP allows it): the honeypot class is off-screen.
    await page.goto(`${served.url}/subscribe`);
    const box = await page.locator('#website').boundingBox();
    expect(box === null || box.x + box.width <= 0).toBe(true);
    await page.waitForTimeout(200);
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});
