// Saves the README's pictures of the console: the dashboard and the channel
// list, signed in as root, in English.
//
//   BASE_URL=http://127.0.0.1:3000 ROOT_PASSWORD=… node e2e/screenshots.mjs [out-dir]
//
// out-dir defaults to ../docs/screenshots. The pictures in the repo were
// taken against `node e2e/mock-switchyard.mjs --demo`, which fills in a week
// of usage so that the charts have something to draw.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
const ROOT_PASSWORD = process.env.ROOT_PASSWORD;
if (!ROOT_PASSWORD) {
  console.error('screenshots.mjs: ROOT_PASSWORD is not set');
  process.exit(2);
}
const out = process.argv[2] || new URL('../../docs/screenshots/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 860 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${BASE_URL}/login`);
  await page.locator('input[name=username]').fill('root');
  await page.locator('input[name=password]').fill(ROOT_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('quota-left').waitFor();
  await page.locator('.recharts-surface').first().waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, 'dashboard.png') });
  await page.goto(`${BASE_URL}/channel`);
  await page.getByTestId('channel-row').first().waitFor();
  await page.screenshot({ path: join(out, 'channels.png') });
  console.log(`saved dashboard.png and channels.png in ${out}`);
} finally {
  await browser.close();
}
