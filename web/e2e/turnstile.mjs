// The console's Turnstile handling in headless Chromium: with the check on,
// the sign-up form shows the widget, refuses to send before it has a token,
// passes the token to the server, and shows the server's refusal of a bad
// one. Cloudflare's script cannot load here, so the page gets a stand-in
// widget with two buttons: one issues a token the test's verifier accepts,
// the other one it refuses.
//
//   BASE_URL        the Switchyard, with TurnstileCheckEnabled on and its
//                   verify URL at a stand-in accepting GOOD_TOKEN
//   GOOD_TOKEN      the token the stand-in verifier accepts
//   SITE_KEY        the TurnstileSiteKey option, which the widget must be given
//   SCREENSHOT_DIR  where a failed step leaves its screenshot
//   CHROMIUM        the browser binary (default /usr/bin/chromium)

import { env, suffix, Harness } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const GOOD_TOKEN = env('GOOD_TOKEN');
const SITE_KEY = env('SITE_KEY');

const widget = `
window.turnstile = {
  render(el, opts) {
    for (const [label, token] of [['Human (good token)', ${JSON.stringify(GOOD_TOKEN)}], ['Bot (bad token)', 'bad-token']]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.onclick = () => opts.callback(token);
      el.appendChild(b);
    }
    window.__turnstileSiteKey = opts.sitekey;
    return 'widget-1';
  },
  remove() {},
};`;

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();
const page = await h.page('visitor');
await page.route('https://challenges.cloudflare.com/**', (route) =>
  route.fulfill({ status: 200, contentType: 'text/javascript', body: widget }),
);
const user = { username: `ts${suffix}`.slice(0, 20), password: `pw-${suffix}-Aa1` };

await h.step('the sign-up form shows the widget with the site key', async () => {
  await page.goto(`${BASE_URL}/register`);
  await page.getByRole('button', { name: 'Human (good token)' }).waitFor();
  const key = await page.evaluate(() => window.__turnstileSiteKey);
  if (key !== SITE_KEY) throw new Error(`the widget got site key ${JSON.stringify(key)}, want ${JSON.stringify(SITE_KEY)}`);
  await page.locator('input[name=username]').fill(user.username);
  await page.locator('input[name=password]').fill(user.password);
  await page.locator('input[name=password2]').fill(user.password);
});

await h.step('nothing is sent before the check', async () => {
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByTestId('form-error').filter({ hasText: 'complete the human check' }).waitFor();
});

await h.step("a refused token shows the server's message", async () => {
  await page.getByRole('button', { name: 'Bot (bad token)' }).click();
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByTestId('form-error').filter({ hasText: 'Turnstile check failed' }).waitFor();
});

await h.step('an accepted token registers', async () => {
  await page.getByRole('button', { name: 'Human (good token)' }).click();
  await page.getByRole('button', { name: 'Register' }).click();
  await page.waitForURL(/\/login$/).catch(async () => {
    const err = await page.getByTestId('form-error').textContent().catch(() => '');
    throw new Error(`registration did not finish${err ? `: ${err}` : ''}`);
  });
});

await h.finish();
