// The console in Debian's chromium, driven only by the accessible names of docs/console.md:
// a communications officer's quarter from sign-in to "finished", with a real worker and an
// SMTP sink, a second person approving, and a viewer who cannot send. axe checks every page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, serve, watchPage, type Browser, type Served } from '../helpers/browser.js';
import { as, createUser, signIn, USER_PASSWORD } from '../helpers/accounts.js';
import {
  consolePages,
  expectAccessible,
  realErrors,
  screenshot,
  signInPage,
} from '../helpers/console.js';
import { mailSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/context.js';

const SHOTS = Boolean(process.env.SCREENSHOTS);
const suite = mailSuite({ env: { REQUIRE_APPROVAL: 'true', SEND_RATE: '10' } });
let served: Served;
let browser: Browser;
let officer: { id: number; email: string };
let approver: { id: number; email: string };
let viewer: { id: number; email: string };
let audience: Awaited<ReturnType<typeof suite.audience>>;

beforeAll(async () => {
  served = await serve(suite.ctx.app);
  browser = await launchBrowser();
  officer = await createUser(suite.ctx, ['sender'], { name: 'Olivia Officer' });
  approver = await createUser(suite.ctx, ['approver'], { name: 'Arthur Approver' });
  viewer = await createUser(suite.ctx, ['viewer'], { name: 'Vera Viewer' });
  audience = await suite.audience(60, 'Quarterly readers');
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

const base = () => served.url;

describe('signing in', () => {
  it('sends a signed-out visitor from any path to sign-in, and back after it', async () => {
    const page = await browser.context.newPage();
    for (const path of ['/', '/admin', '/admin/campaigns/new', '/admin/lists/1', '/admin/nope']) {
      await page.goto(`${base()}${path}`);
      expect(new URL(page.url()).pathname, path).toBe('/admin/login');
    }
    await page.goto(`${base()}/admin/campaigns`);
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('Email').fill(officer.email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not right/);
    await screenshot(page, '01-sign-in', SHOTS);
    await page.getByLabel('Password').fill(USER_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/campaigns');
    for (const name of [
      'Dashboard',
      'Campaigns',
      'Lists',
      'Subscribers',
      'Templates',
      'Operations',
    ]) {
      await expect
        .poll(() => page.getByRole('link', { name, exact: true }).count())
        .toBeGreaterThan(0);
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.goto(`${base()}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.close();
  });
});

describe("the officer's quarter", () => {
  let page: Page;
  let campaignId: number;
  beforeAll(async () => {
    page = await signInPage(browser.context, base(), officer.email);
  });
  afterAll(async () => {
    await page?.close();
  });

  it('imports a CSV with a bad line and shows its line number, without a reload', async () => {
    const seen = watchPage(page);
    await page.goto(`${base()}/admin/lists/${audience.list}`);
    await expectAccessible(page, 'list');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'members.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'email,name,city\nnew1@example.test,New One,Bern\nnot-an-address,Bad,Zug\nnew2@example.test,New Two,Basel\n',
      ),
    });
    const before = page.url();
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Line 3').waitFor();
    await expect.poll(() => page.getByText(/3 rows: 2 added/).count()).toBe(1);
    expect(page.url()).toBe(before);
    expect(realErrors(seen.errors)).toEqual([]);
    await screenshot(page, '02-import', SHOTS);
  });

  it('writes a campaign that the API then reads as written', async () => {
    await page.goto(`${base()}/admin/campaigns/new`);
    await expectAccessible(page, 'new campaign');
    await page.getByLabel('Name', { exact: true }).fill('Spring 2027');
    await page.getByLabel('Subject').fill('News for {{ subscriber.name }}');
    await page.getByLabel('Template').selectOption(String(suite.templateId));
    await page
      .getByRole('group', { name: 'Lists' })
      .getByLabel(/Quarterly readers/)
      .check();
    await page.getByLabel('Content').fill('# Spring\n\nThe **assembly** meets in May.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Spring 2027' }).waitFor();
    campaignId = Number(new URL(page.url()).pathname.split('/').at(-1));
    const api = await suite.ctx.api().get(`/api/v1/campaigns/${campaignId}`).expect(200);
    expect(api.body).toMatchObject({
      name: 'Spring 2027',
      subject: 'News for {{ subscriber.name }}',
      templateId: suite.templateId,
      listIds: [audience.list],
      content: '# Spring\n\nThe **assembly** meets in May.',
      status: 'draft',
    });
    await expectAccessible(page, 'campaign');
    await screenshot(page, '03-campaign', SHOTS);
  });

  it('sends a test, remembering the addresses', async () => {
    await page.getByLabel('Test addresses').fill('desk@example.test, chief@example.test');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByText(/Test sent to/).waitFor();
    const tests = suite.sink.messages.filter((m) => m.subject.startsWith('[Test] '));
    expect(tests.map((m) => m.to).sort()).toEqual(['chief@example.test', 'desk@example.test']);
    await page.reload();
    await expect
      .poll(() => page.getByLabel('Test addresses').inputValue())
      .toBe('desk@example.test, chief@example.test');
  });

  it('asks for approval; another person approves', async () => {
    await page.getByRole('button', { name: 'Request approval' }).click();
    await page
      .getByText(/Approval requested/)
      .first()
      .waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    const other = await browser.context.browser()?.newContext();
    const approverContext = other ?? browser.context;
    const second = await signInPage(approverContext, base(), approver.email);
    await second.goto(`${base()}/admin/campaigns/${campaignId}`);
    await expectAccessible(second, 'campaign for the approver');
    await second.getByLabel('Note').fill('Dates checked.');
    await second.getByRole('button', { name: 'Approve' }).click();
    await second.getByText(/Approved by Arthur Approver/).waitFor();
    await second.close();
    const api = await suite.ctx.api().get(`/api/v1/campaigns/${campaignId}`).expect(200);
    expect(api.body.approval).toMatchObject({
      status: 'approved',
      note: 'Dates checked.',
      decidedBy: { id: approver.id },
    });
  });

  it('schedules in Europe/Zurich and shows the moment in that zone, in UTC and in the viewer’s zone', async () => {
    await page.reload();
    await page.getByLabel('Date').fill('2099-06-15');
    await page.getByLabel('Time', { exact: true }).fill('09:00');
    await page.getByLabel('Time zone').fill('Europe/Zurich');
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.getByText(/Scheduled for/).waitFor();
    const text = ((await page.locator('#live').textContent()) ?? '').replace(/\s+/g, ' ');
    expect(text).toContain('15 Jun 2099, 09:00 Europe/Zurich');
    expect(text).toContain('15 Jun 2099, 07:00 UTC');
    expect(text).toMatch(/in your time zone/);
    const api = await suite.ctx.api().get(`/api/v1/campaigns/${campaignId}`).expect(200);
    expect(api.body).toMatchObject({ status: 'scheduled', timezone: 'Europe/Zurich' });
    await screenshot(page, '04-scheduled', SHOTS);
  });

  it('Send now asks to confirm with the audience; progress moves and "finished" appears without a reload; each reader gets one message', async () => {
    suite.sink.reset();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('button', { name: 'Confirm send' }).waitFor();
    expect(await page.locator('main').textContent()).toMatch(/to 62\s+subscribers/);
    await expectAccessible(page, 'confirm send');
    await page.getByRole('button', { name: 'Confirm send' }).click();
    const bar = page.getByRole('progressbar', { name: 'Sent' });
    await bar.waitFor();
    const url = page.url();
    const values = new Set<string>();
    await waitFor(
      async () => {
        values.add((await bar.getAttribute('aria-valuenow')) ?? '');
        return (await page.locator('[data-status]').textContent())?.includes('finished');
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(page.url()).toBe(url);
    expect(values.size).toBeGreaterThan(1);
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    await expect.poll(() => page.locator('[data-sent]').textContent()).toBe('62');
    const byRecipient = suite.sink.byRecipient();
    expect(byRecipient.size).toBe(62);
    expect([...byRecipient.values()].every((m) => m.length === 1)).toBe(true);
    await screenshot(page, '05-finished', SHOTS);
  }, 90_000);
});

describe('pause, resume and who may send', () => {
  let campaignId: number;
  beforeAll(async () => {
    const draft = await suite.draft([audience.list], { name: 'Autumn 2027' });
    campaignId = draft.id;
    await suite.ctx.api().post(`/api/v1/campaigns/${campaignId}/approval-request`).expect(200);
    const person = await signIn(suite.ctx, approver);
    await as(suite.ctx, person)
      .post(`/api/v1/campaigns/${campaignId}/approve`)
      .send({})
      .expect(200);
  });

  it('a viewer sees no Send now, Schedule or Send test, and the server refuses the send anyway', async () => {
    const page = await signInPage(browser.context, base(), viewer.email);
    await page.goto(`${base()}/admin/campaigns/${campaignId}`);
    await page.getByRole('heading', { name: 'Autumn 2027' }).waitFor();
    for (const name of [
      'Send now',
      'Schedule',
      'Send test',
      'Pause',
      'Request approval',
      'Approve',
    ]) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    }
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const res = await page.request.post(`${base()}/admin/campaigns/${campaignId}/send`, {
      form: { _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    const api = await suite.ctx.api().get(`/api/v1/campaigns/${campaignId}`).expect(200);
    expect(api.body.status).toBe('draft');
    await page.close();
  });

  it('pauses and resumes from the page, and the campaign still reaches everyone once', async () => {
    suite.sink.reset();
    const page = await signInPage(browser.context, base(), officer.email);
    await page.goto(`${base()}/admin/campaigns/${campaignId}`);
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('button', { name: 'Confirm send' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('[data-status]').textContent()).toContain('paused');
    const sentAtPause = suite.sink.messages.length;
    expect(sentAtPause).toBeLessThan(62);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => page.locator('[data-status]').textContent(), { timeout: 60_000 })
      .toContain('finished');
    await expect.poll(() => page.locator('[data-sent]').textContent()).toBe('62');
    const byRecipient = suite.sink.byRecipient();
    expect(byRecipient.size).toBe(62);
    expect([...byRecipient.values()].every((m) => m.length === 1)).toBe(true);
    await page.close();
  }, 90_000);
});

describe('every page', () => {
  it('has no serious or critical axe violation, and no script error', async () => {
    const admin = await createUser(suite.ctx, ['admin'], { name: 'Ada Admin' });
    const page = await signInPage(browser.context, base(), admin.email);
    const seen = watchPage(page);
    const campaign = await suite.draft([audience.list], { name: 'Winter 2027' });
    const subscriber = audience.ids[0];
    const pages = consolePages({
      campaign: campaign.id,
      list: audience.list,
      subscriber: subscriber!,
      template: suite.templateId,
    });
    for (const [path, name] of pages) {
      const res = await page.goto(`${base()}${path}`);
      expect(res?.status(), path).toBe(200);
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      await expectAccessible(page, name);
      await screenshot(page, `page-${name}`, SHOTS);
    }
    expect(realErrors(seen.errors)).toEqual([]);
    await page.close();
  }, 120_000);
});
