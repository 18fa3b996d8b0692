// The console's mail flows in headless Chromium against a running
// Switchyard whose email verification is on and whose mail goes to a test
// mailbox: register with an emailed code, then reset the password by the
// emailed link and sign in with the new one, then bind another address in
// Settings and sign in with that.
//
//   BASE_URL        the Switchyard (its ServerAddress must be this URL)
//   MAILBOX_URL     GET it to receive the text of the next mail (404: none came)
//   SCREENSHOT_DIR  where a failed step leaves its screenshot
//   CHROMIUM        the browser binary (default /usr/bin/chromium)

import { env, suffix, Harness, appears, signIn } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const MAILBOX_URL = env('MAILBOX_URL');

const user = { username: `mail${suffix}`.slice(0, 20), password: `pw-${suffix}-Aa1`, email: `mail-${suffix}@example.com` };

/** nextMail returns the text of the next mail the server sent. */
async function nextMail() {
  const res = await fetch(MAILBOX_URL);
  const text = await res.text();
  if (!res.ok) throw new Error(`mailbox: HTTP ${res.status}: ${text}`);
  return text;
}

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();
const page = await h.page('visitor');
let newPassword = '';

await h.step('register with a code sent by email', async () => {
  await page.goto(`${BASE_URL}/register`);
  await page.locator('input[name=username]').fill(user.username);
  await page.locator('input[name=password]').fill(user.password);
  await page.locator('input[name=password2]').fill(user.password);
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await appears(page, page.getByText(`A verification code was sent to ${user.email}.`), 'code not sent');
  const code = (await nextMail()).match(/\b\d{6}\b/)?.[0];
  if (!code) throw new Error('no 6-digit code in the mail');
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Register' }).click();
  await page.waitForURL(/\/login$/).catch(async () => {
    const err = await page.getByTestId('form-error').textContent().catch(() => '');
    throw new Error(`registration did not finish${err ? `: ${err}` : ''}`);
  });
});

await h.step('sign in, then sign out', async () => {
  await signIn(page, BASE_URL, user.username, user.password);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
});

await h.step('reset the password by the emailed link', async () => {
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.getByText('a reset link is on its way').waitFor();
  const link = (await nextMail()).match(/https?:\/\/\S+\/user\/reset\?\S+/)?.[0];
  if (!link) throw new Error('no reset link in the mail');
  if (!link.startsWith(`${BASE_URL}/`)) throw new Error(`the link points elsewhere: ${link}`);
  await page.goto(link);
  await page.getByRole('button', { name: 'Reset password' }).click();
  const shown = page.getByTestId('new-password');
  await shown.waitFor();
  newPassword = ((await shown.textContent()) || '').trim();
  if (newPassword.length < 8) throw new Error(`unexpected new password ${JSON.stringify(newPassword)}`);
});

await h.step('sign in with the new password, not the old one', async () => {
  await page.goto(`${BASE_URL}/login`);
  await page.locator('input[name=username]').fill(user.username);
  await page.locator('input[name=password]').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('form-error').waitFor();
  await signIn(page, BASE_URL, user.username, newPassword);
});

await h.step('bind another email in Settings, then sign in with it', async () => {
  const other = `other-${suffix}@example.com`;
  await page.goto(`${BASE_URL}/setting`);
  await page.getByTestId('current-email').filter({ hasText: `Bound to ${user.email}.` }).waitFor();
  await page.locator('input[name=bind_email]').fill(other);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByText(`A verification code was sent to ${other}.`).waitFor();
  const code = (await nextMail()).match(/\b\d{6}\b/)?.[0];
  if (!code) throw new Error('no 6-digit code in the mail');
  await page.locator('input[name=bind_code]').fill(code);
  await page.getByTestId('email-bind').click();
  await page.getByTestId('current-email').filter({ hasText: `Bound to ${other}.` }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await signIn(page, BASE_URL, other, newPassword);
});

await h.finish();
