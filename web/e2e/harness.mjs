// What the browser flows share: reading the environment, one headless
// Chromium, named steps that leave screenshots when they fail, waiting on
// a condition, and signing in.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const TIMEOUT = 15000;

/** env reads a variable, exiting with a message when it is unset and has no default. */
export function env(name, def) {
  const v = process.env[name] ?? def;
  if (v === undefined || v === '') {
    console.error(`${process.argv[1]}: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

/** suffix makes names unique per run, so a flow can run again on the same server. */
export const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/**
 * Harness runs a flow's steps in order. The first step that throws saves a
 * screenshot of every page the flow opened into screenshotDir, prints the
 * "N passed, 1 failed" summary and exits 1.
 */
export class Harness {
  constructor({ chromiumPath, screenshotDir }) {
    this.chromiumPath = chromiumPath;
    this.screenshotDir = screenshotDir;
    this.pages = [];
    this.stepNo = 0;
    this.passed = 0;
  }

  async start() {
    this.browser = await chromium.launch({
      executablePath: this.chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  }

  /** page opens a browser context of its own (its own cookies), in locale (English by default) whatever the machine's. */
  async page(who, locale = 'en-US') {
    const ctx = await this.browser.newContext({ locale, viewport: { width: 1360, height: 860 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
    this.pages.push([who, page]);
    return page;
  }

  async step(name, fn) {
    this.stepNo++;
    const started = Date.now();
    try {
      await fn();
      this.passed++;
      console.log(`ok   ${this.stepNo} ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      console.log(`FAIL ${this.stepNo} ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
      if (e && e.stack) console.error(e.stack);
      mkdirSync(this.screenshotDir, { recursive: true });
      for (const [who, p] of this.pages) {
        const file = join(this.screenshotDir, `${String(this.stepNo).padStart(2, '0')}-${name.replace(/\W+/g, '-')}-${who}.png`);
        await p.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.log(`     screenshot: ${file}`);
      }
      console.log(`${this.passed} passed, 1 failed`);
      await this.browser.close();
      process.exit(1);
    }
  }

  async finish() {
    console.log(`${this.passed} passed, 0 failed`);
    await this.browser.close();
  }
}

/** until retries fn until it returns a truthy value or the deadline passes. */
export async function until(what, fn, ms = TIMEOUT) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * appears waits for target, and fails at once with the form's error message
 * when the console shows one instead (the API's message, verbatim).
 */
export async function appears(page, target, what) {
  const err = page.getByTestId('form-error').first();
  await Promise.race([
    target.waitFor(),
    err.waitFor().then(async () => {
      throw new Error(`${what}: ${(await err.textContent()) || 'error shown'}`);
    }),
  ]);
}

/** signIn signs in through the form and waits for the dashboard; button is the form's button label. */
export async function signIn(page, baseURL, username, password, button = 'Sign in') {
  await page.goto(`${baseURL}/login`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  // Exact: "Sign in with GitHub" is a button too.
  await page.getByRole('button', { name: button, exact: true }).click();
  await appears(page, page.getByTestId('quota-left'), 'sign-in refused');
}
