// Sign-in with WeChat in headless Chromium, against a running Switchyard
// whose WeChat sign-in points at a stand-in WeChat Server
// (internal/fakewechat): a visitor opens the WeChat dialog, sees the
// official account's QR code, types the verification code and lands on
// the dashboard with a new account; a password user binds WeChat from
// Settings with another code and then signs in with it alone.
//
//   BASE_URL        the Switchyard
//   VISITOR_CODE    a verification code the server issued for VISITOR_ID
//   VISITOR_ID      the visitor's openid
//   USERNAME        a password user's name ...
//   PASSWORD        ... and password
//   BIND_CODE       a verification code for BIND_ID, which the password user binds
//   BIND_ID         that openid
//   SCREENSHOT_DIR  where a failed step leaves its screenshot
//   CHROMIUM        the browser binary (default /usr/bin/chromium)

import { env, Harness, appears, signIn } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const USERNAME = env('USERNAME');
const PASSWORD = env('PASSWORD');
const VISITOR_CODE = env('VISITOR_CODE');
const VISITOR_ID = env('VISITOR_ID');
const BIND_CODE = env('BIND_CODE');
const BIND_ID = env('BIND_ID');

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();

/** enterCode types code into the open WeChat dialog and submits it. */
async function enterCode(page, code) {
  await page.getByTestId('wechat-qrcode').waitFor();
  await page.locator('input[name=wechat_code]').fill(code);
  await page.getByTestId('wechat-submit').click();
}

await h.step('a visitor signs in with WeChat and gets an account', async () => {
  const page = await h.page('visitor');
  await page.goto(`${BASE_URL}/login`);
  await page.getByTestId('wechat-sign-in').click();
  await page.locator('input[name=wechat_code]').fill('000000');
  await page.getByTestId('wechat-submit').click();
  await page.getByTestId('wechat-error').filter({ hasText: 'wrong or has expired' }).waitFor();
  await enterCode(page, VISITOR_CODE);
  await appears(page, page.getByTestId('quota-left'), 'WeChat sign-in refused');
  await page.goto(`${BASE_URL}/setting`);
  await page.getByTestId('wechat-binding').filter({ hasText: `Bound to WeChat account ${VISITOR_ID}.` }).waitFor();
});

const member = await h.page('member');
await h.step('a password user binds WeChat in Settings', async () => {
  await signIn(member, BASE_URL, USERNAME, PASSWORD);
  await member.goto(`${BASE_URL}/setting`);
  await member.getByTestId('wechat-binding').filter({ hasText: 'Not bound' }).waitFor();
  await member.getByRole('button', { name: 'Bind WeChat account' }).click();
  await enterCode(member, BIND_CODE);
  await member.getByTestId('wechat-binding').filter({ hasText: `Bound to WeChat account ${BIND_ID}.` }).waitFor();
});

await h.step('then signs in with WeChat alone', async () => {
  await member.getByRole('button', { name: 'Sign out' }).click();
  await member.waitForURL(/\/login$/);
  await member.getByTestId('wechat-sign-in').click();
  await enterCode(member, BIND_CODE);
  await appears(member, member.getByTestId('quota-left'), 'WeChat sign-in refused');
  await member.goto(`${BASE_URL}/setting`);
  await member.getByRole('textbox', { name: 'Username' }).and(member.locator(`[value="${USERNAME}"]`)).waitFor();
});

await h.finish();
