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
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** Script errors, without the refusals to run axe's own script in the sandboxed previews. */
export const realErrors = (errors: string[]) =>
  errors.filter((e) => !/Blocked script execution .* sandboxed/.test(e));
