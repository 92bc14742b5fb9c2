// The console as people with other needs use it, in Debian's chromium: the first account and
// an invited person's password chosen on a phone-width screen, every page at 1024 px, a
// campaign written and tested with the keyboard alone (the focus visible at every stop), a
// template fixed from the errors on its lines, and a subscriber edited, unsubscribed,
// blocklisted and deleted. Found by accessible names only; axe on every state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { createUser, USER_PASSWORD } from '../helpers/accounts.js';
import {
  consolePages,
  expectAccessible,
  realErrors,
  screenshot,
  signInPage,
} from '../helpers/console.js';
import { mailSuite } from '../helpers/suite.js';

const SHOTS = Boolean(process.env.SCREENSHOTS);
const suite = mailSuite({ workers: false });
let served: Served;
let browser: Browser;
let setupUrl: string;

beforeAll(async () => {
  served = await serve(suite.ctx.app);
  browser = await launchBrowser();
  // Before any account exists: the link `npm start` prints.
  setupUrl = (await suite.ctx.container.services.users.setupLinkIfNoUser())!;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

const base = () => served.url;
/** A link as mailed (on PUBLIC_URL), opened on the test's server. */
const local = (link: string) => base() + new URL(link).pathname;

/** Nothing wider than the window: no sideways scrolling at this width. */
async function expectFits(page: Page, what: string) {
  // Browser-side code as text: this project compiles without the DOM's types.
  const { scroll, width } = await page.evaluate<{ scroll: number; width: number }>(
    '({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })',
  );
  expect(scroll, `${what} is ${scroll} px wide in a ${width} px window`).toBeLessThanOrEqual(width);
}

async function pageAt(width: number, height: number) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  return page;
}

describe('the account pages on a phone-width screen', () => {
  it('creates the first account from the setup link, refusing a mistyped repeat first', async () => {
    const page = await pageAt(375, 740);
    await page.goto(local(setupUrl));
    await expectFits(page, 'the setup page');
    await expectAccessible(page, 'setup');
    await page.getByLabel('Email').fill('first.admin@example.test');
    await page.getByLabel('Name').fill('Fiona First');
    await page.getByLabel(/^Password/).fill(USER_PASSWORD);
    await page.getByLabel('Repeat the password').fill(`${USER_PASSWORD}x`);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect
      .poll(() => page.getByLabel('Repeat the password').getAttribute('aria-invalid'))
      .toBe('true');
    await expectAccessible(page, 'setup with an error');
    await expectFits(page, 'the setup page with an error');
    await page.getByLabel(/^Password/).fill(USER_PASSWORD);
    await page.getByLabel('Repeat the password').fill(USER_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page
      .getByRole('status')
      .getByText(/You can now sign in/)
      .waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await expectFits(page, 'the sign-in page');
    await page.getByLabel('Email').fill('first.admin@example.test');
    await page.getByLabel('Password').fill(USER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.close();
  }, 90_000);

  it('lets an invited person choose a password from the link, then sign in', async () => {
    const res = await suite.ctx
      .api()
      .post('/api/v1/users')
      .send({ email: 'invited@example.test', name: 'Ivan Invited', roles: ['editor'] })
      .expect(201);
    const page = await pageAt(375, 740);
    await page.goto(local(res.body.setPasswordUrl as string));
    await expectFits(page, 'the set-password page');
    await expectAccessible(page, 'set password');
    await page.getByLabel(/^Password/).fill('short');
    await page.getByLabel('Repeat the password').fill('short');
    await page.getByRole('button', { name: 'Save password' }).click();
    await page
      .getByText(/at least 12 characters/)
      .first()
      .waitFor();
    expect(await page.getByLabel(/^Password/).getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel(/^Password/).fill(USER_PASSWORD);
    await page.getByLabel('Repeat the password').fill(USER_PASSWORD);
    await page.getByRole('button', { name: 'Save password' }).click();
    await page
      .getByRole('status')
      .getByText(/You can now sign in/)
      .waitFor();
    await page.close();
    const signedIn = await signInPage(browser.context, base(), 'invited@example.test');
    await signedIn.close();
  }, 90_000);
});

describe('every console page at 1024 px', () => {
  it('fits the window without sideways scrolling', async () => {
    const admin = await createUser(suite.ctx, ['admin'], { name: 'Ada Admin' });
    const page = await signInPage(browser.context, base(), admin.email);
    await page.setViewportSize({ width: 1024, height: 768 });
    const audience = await suite.audience(5, 'Narrow readers');
    const campaign = await suite.draft([audience.list], {
      name: 'A campaign with a rather long name for a narrow screen',
    });
    const pages = consolePages({
      campaign: campaign.id,
      list: audience.list,
      subscriber: audience.ids[0]!,
      template: suite.templateId,
    });
    for (const [path] of pages) {
      await page.goto(`${base()}${path}`);
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      await expectFits(page, path);
    }
    await page.goto(`${base()}/admin/campaigns/${campaign.id}`);
    await screenshot(page, 'width-1024-campaign', SHOTS);
    await page.close();
  }, 90_000);
});

/** Where the focus is, and whether it shows: an outline of 2 px or more, or a shadow. */
const FOCUS_STOP = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { shown: true, what: 'body' };
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  return { shown: outline || style.boxShadow !== 'none', what: el.outerHTML.slice(0, 120) };
})()`;

/** Presses Tab until `target` has the focus; every stop on the way must show its focus. */
async function tabTo(page: Page, target: Locator, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate<{ shown: boolean; what: string }>(FOCUS_STOP);
    expect(stop.shown, `the focus is not visible on ${stop.what}`).toBe(true);
    if (
      await target.evaluate(
        (el, focused) => el === focused,
        await page.evaluateHandle('document.activeElement'),
      )
    )
      return;
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

describe('the keyboard alone', () => {
  it('signs in, writes a campaign and sends a test, the focus visible at every stop', async () => {
    const sender = await createUser(suite.ctx, ['sender'], { name: 'Kim Keyboard' });
    const audience = await suite.audience(3, 'Keyboard readers');
    const page = await browser.context.newPage();
    const seen = watchPage(page);
    await page.goto(`${base()}/admin/login`);
    await tabTo(page, page.getByLabel('Email'));
    await page.keyboard.type(sender.email);
    await tabTo(page, page.getByLabel('Password'));
    await page.keyboard.type(USER_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

    await tabTo(page, page.getByRole('link', { name: 'Campaigns', exact: true }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await tabTo(page, page.getByRole('link', { name: 'New campaign' }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New campaign' }).waitFor();

    await tabTo(page, page.getByLabel('Name', { exact: true }));
    await page.keyboard.type('Typed, not clicked');
    await tabTo(page, page.getByLabel('Subject'));
    await page.keyboard.type('Hello {{ subscriber.name }}');
    // The arrow keys choose a template (the only one there is is chosen already).
    await tabTo(page, page.getByLabel('Template'));
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('Template').inputValue()).toBe(String(suite.templateId));
    const list = page.getByRole('group', { name: 'Lists' }).getByLabel(/Keyboard readers/);
    await tabTo(page, list);
    await page.keyboard.press('Space');
    expect(await list.isChecked()).toBe(true);
    await tabTo(page, page.getByLabel('Content'));
    await page.keyboard.type('Written **without** a mouse.');
    await tabTo(page, page.getByRole('button', { name: 'Save' }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Typed, not clicked' }).waitFor();
    const id = Number(new URL(page.url()).pathname.split('/').at(-1));

    await tabTo(page, page.getByLabel('Test addresses'));
    await page.keyboard.type('keys@example.test');
    await tabTo(page, page.getByRole('button', { name: 'Send test' }));
    await page.keyboard.press('Enter');
    await page.getByText(/Test sent to/).waitFor();
    await expect
      .poll(() => suite.sink.messages.filter((m) => m.to === 'keys@example.test').length)
      .toBe(1);
    const api = await suite.ctx.api().get(`/api/v1/campaigns/${id}`).expect(200);
    expect(api.body).toMatchObject({
      name: 'Typed, not clicked',
      subject: 'Hello {{ subscriber.name }}',
      listIds: [audience.list],
      content: 'Written **without** a mouse.',
    });
    expect(realErrors(seen.errors)).toEqual([]);
    await page.close();
  }, 90_000);
});

describe('a template with mistakes', () => {
  it('shows each error on its line, puts the cursor there, and saves once fixed', async () => {
    const designer = await createUser(suite.ctx, ['editor'], { name: 'Dana Designer' });
    const page = await signInPage(browser.context, base(), designer.email);
    await page.goto(`${base()}/admin/templates/new`);
    await page.getByLabel('Template name').fill('Autumn layout');
    // Line 4 puts text straight into the body, which MJML does not allow.
    const broken = [
      '<mjml>',
      '  <mj-body>',
      '    <mj-section><mj-column><mj-text>{{ content }}</mj-text></mj-column></mj-section>',
      '    <mj-text>Stray text</mj-text>',
      '  </mj-body>',
      '</mjml>',
    ].join('\n');
    await page.getByLabel('MJML').fill(broken);
    await page.getByRole('button', { name: 'Save' }).click();
    const alert = page.getByRole('alert');
    await alert.getByRole('link', { name: 'Line 4' }).waitFor();
    expect(await alert.getByRole('listitem').allInnerTexts()).toEqual([
      expect.stringMatching(/^Line 4: mj-text cannot be used inside mj-body/),
    ]);
    expect(await page.getByLabel('MJML').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('MJML').inputValue()).toBe(broken);
    await expectAccessible(page, 'template with errors');
    await screenshot(page, 'template-errors', SHOTS);

    await alert.getByRole('link', { name: 'Line 4' }).click();
    const selected = await page.evaluate<{ focused: boolean; text: string }>(`(() => {
      const el = document.getElementById('mjml');
      return {
        focused: document.activeElement === el,
        text: el.value.slice(el.selectionStart, el.selectionEnd),
      };
    })()`);
    expect(selected).toEqual({ focused: true, text: '    <mj-text>Stray text</mj-text>' });

    await page.getByLabel('MJML').fill(broken.replace('    <mj-text>Stray text</mj-text>\n', ''));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Autumn layout' }).waitFor();
    const { rows } = await suite.ctx.db.query<{ mjml: string }>(
      "SELECT mjml FROM templates WHERE name = 'Autumn layout'",
    );
    expect(rows.map((r) => r.mjml.includes('Stray text'))).toEqual([false]);
    await page.close();
  }, 90_000);
});

describe("a subscriber's record", () => {
  it('is found, edited (a bad JSON refused on its field), unsubscribed, blocklisted, then deleted after a confirmation', async () => {
    const officer = await createUser(suite.ctx, ['editor'], { name: 'Sam Steward' });
    const audience = await suite.audience(3, 'Record readers');
    const [id] = audience.ids;
    const { rows } = await suite.ctx.db.query<{ email: string }>(
      'SELECT email FROM subscribers WHERE id = $1',
      [id],
    );
    const page = await signInPage(browser.context, base(), officer.email);
    await page.goto(`${base()}/admin/subscribers`);
    await page.getByLabel('Search by address or name').fill(rows[0]!.email);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: rows[0]!.email }).click();
    await page.getByRole('heading', { name: rows[0]!.email }).waitFor();

    await page.getByLabel('Email address').fill('moved@example.test');
    await page.getByLabel('Name', { exact: true }).fill('Mo Moved');
    await page.getByLabel('Attributes (JSON)').fill('{"city": "Bern",');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/is not valid JSON/).waitFor();
    expect(await page.getByLabel('Attributes (JSON)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Email address').inputValue()).toBe('moved@example.test');
    await expectAccessible(page, 'subscriber with an error');
    const unchanged = await suite.ctx.api().get(`/api/v1/subscribers/${id}`).expect(200);
    expect(unchanged.body.email).toBe(rows[0]!.email);

    await page.getByLabel('Attributes (JSON)').fill('{"city": "Bern", "member": true}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'moved@example.test' }).waitFor();
    const edited = await suite.ctx.api().get(`/api/v1/subscribers/${id}`).expect(200);
    expect(edited.body).toMatchObject({
      email: 'moved@example.test',
      name: 'Mo Moved',
      attributes: { city: 'Bern', member: true },
    });

    await page.getByRole('button', { name: /^Unsubscribe from Record readers/ }).click();
    await page.getByText(/Record readers \d+: unsubscribed/).waitFor();
    await page.getByRole('button', { name: 'Blocklist' }).click();
    await page.getByText('blocklisted', { exact: true }).waitFor();
    const blocked = await suite.ctx.api().get(`/api/v1/subscribers/${id}`).expect(200);
    expect(blocked.body.status).toBe('blocklisted');

    await page.getByRole('link', { name: 'Delete subscriber…' }).click();
    await page.getByRole('heading', { name: 'Delete moved@example.test?' }).waitFor();
    await expectAccessible(page, 'delete confirmation');
    expect((await suite.ctx.api().get(`/api/v1/subscribers/${id}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete subscriber' }).click();
    await page.getByRole('heading', { name: 'Subscribers' }).waitFor();
    expect((await suite.ctx.api().get(`/api/v1/subscribers/${id}`)).status).toBe(404);
    await page.close();
  }, 90_000);
});
