// Sign-in with GitHub in headless Chromium, against a running Switchyard
// whose GitHub sign-in points at a stand-in GitHub (internal/fakegithub)
// that approves at once: a visitor signs in with GitHub and lands on the
// dashboard with a new account bound to it; a password user binds GitHub
// from Settings and then signs in with it alone.
//
//   BASE_URL        the Switchyard
//   USERNAME        a password user's name ...
//   PASSWORD        ... and password
//   BIND_ID         the GitHub account id the password user binds
//   SCREENSHOT_DIR  where a failed step leaves its screenshot
//   CHROMIUM        the browser binary (default /usr/bin/chromium)

import { env, Harness, appears, signIn } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const USERNAME = env('USERNAME');
const PASSWORD = env('PASSWORD');
const BIND_ID = env('BIND_ID');

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();

await h.step('a visitor signs in with GitHub and gets an account', async () => {
  const page = await h.page('visitor');
  await page.goto(`${BASE_URL}/login`);
  await page.getByTestId('github-sign-in').click();
  await appears(page, page.getByTestId('quota-left'), 'GitHub sign-in refused');
  await page.goto(`${BASE_URL}/setting`);
  await page.getByTestId('github-binding').filter({ hasText: 'Bound to GitHub account #' }).waitFor();
});

const member = await h.page('member');
await h.step('a password user binds GitHub in Settings', async () => {
  await signIn(member, BASE_URL, USERNAME, PASSWORD);
  await member.goto(`${BASE_URL}/setting`);
  await member.getByTestId('github-binding').filter({ hasText: 'Not bound' }).waitFor();
  await member.getByRole('button', { name: 'Bind GitHub account' }).click();
  await member.waitForURL(/\/setting$/);
  await member.getByTestId('github-binding').filter({ hasText: `Bound to GitHub account #${BIND_ID}.` }).waitFor();
});

await h.step('then signs in with GitHub alone', async () => {
  await member.getByRole('button', { name: 'Sign out' }).click();
  await member.waitForURL(/\/login$/);
  await member.getByTestId('github-sign-in').click();
  await appears(member, member.getByTestId('quota-left'), 'GitHub sign-in refused');
  await member.goto(`${BASE_URL}/setting`);
  await member.getByRole('textbox', { name: 'Username' }).and(member.locator(`[value="${USERNAME}"]`)).waitFor();
});

await h.finish();
