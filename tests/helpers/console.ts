// The console in a real browser: people signed in through the sign-in page, pages checked
// with axe (no serious or critical violation), screenshots for docs/console.md.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';
import { USER_PASSWORD } from './accounts.js';

/** Signs in through /admin/login in a fresh page of the context; answers the page. */
export async function signInPage(
  context: BrowserContext,
  base: string,
  email: string,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(USER_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Dashboard' }).waitFor();
  return page;
}

/** axe finds no serious or critical violation on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // The sandboxed preview frames hold a newsletter (the mail tests check it); no script runs
  // in them, axe's neither.
  const results = await new AxeBuilder({ page })
    .setLegacyMode(true)
    .options({ iframes: false })
    .analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
  expect(bad, `${what}: ${page.url()}`).toEqual([]);
}

/** Saves a screenshot for docs/console.md when SCREENSHOTS is set (npm run screenshots). */
export async function screenshot(page: Page, name: string, enabled: boolean): Promise<void> {
  if (!enabled) return;
  const dir = path.join(packageRoot(), 'docs', 'console');
  mkdirSync(dir, { recursive: true });
  // Chromium paints a frame only while it is in the window: a preview frame below the fold
  // comes out blank in a full-page screenshot. A window as tall as the page shows it all.
  const size = page.viewportSize() ?? { width: 1280, height: 720 };
  const height = await page.evaluate<number>('document.documentElement.scrollHeight');
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.waitForTimeout(300); // one paint of the frames (a picture, not an assertion)
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** Script errors, without the refusals to run axe's own script in the sandboxed previews. */
export const realErrors = (errors: string[]) =>
  errors.filter((e) => !/Blocked script execution .* sandboxed/.test(e));

/** Every signed-in console page (path, short name), for the given rows' ids. */
export function consolePages(ids: {
  campaign: number;
  list: number;
  subscriber: number;
  template: number;
}): [string, string][] {
  return [
    ['/admin', 'dashboard'],
    ['/admin/campaigns', 'campaigns'],
    ['/admin/campaigns/new', 'campaign-editor'],
    [`/admin/campaigns/${ids.campaign}`, 'campaign-page'],
    [`/admin/campaigns/${ids.campaign}/edit`, 'campaign-edit'],
    ['/admin/lists', 'lists'],
    [`/admin/lists/${ids.list}`, 'list'],
    ['/admin/subscribers', 'subscribers'],
    [`/admin/subscribers/${ids.subscriber}`, 'subscriber'],
    ['/admin/templates', 'templates'],
    ['/admin/templates/new', 'template-new'],
    [`/admin/templates/${ids.template}`, 'template-editor'],
    ['/admin/operations', 'operations'],
    ['/admin/users', 'users'],
    ['/admin/account', 'account'],
  ];
}
