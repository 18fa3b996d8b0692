// End-to-end run of the console in headless Chromium against a running
// Switchyard and an OpenAI-compatible test upstream.
//
//   BASE_URL       the Switchyard, e.g. http://127.0.0.1:3000
//   ROOT_PASSWORD  root's password
//   UPSTREAM_URL   the test upstream's base URL, with or without /v1
//   SCREENSHOT_DIR where a failed step leaves its screenshot (default ./e2e-screenshots)
//   CHROMIUM       the browser binary (default /usr/bin/chromium)
//
// Each step is named; the first that fails saves a screenshot of every open
// page and the script exits 1.

import { env, suffix, Harness, TIMEOUT, until, appears, signIn as signInAt } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const ROOT_PASSWORD = env('ROOT_PASSWORD');
// One API keeps a channel's base URL without the /v1 suffix.
const UPSTREAM_BASE = env('UPSTREAM_URL').replace(/\/+$/, '').replace(/\/v1$/, '');
const MODEL = 'gpt-4o-mini';

const user = { username: `e2e${suffix}`.slice(0, 20), password: `pw-${suffix}-Aa1` };
const channelName = `e2e-upstream-${suffix}`;
const tokenName = `e2e-token-${suffix}`;

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();
const userPage = await h.page('user');
const rootPage = await h.page('root');
const step = (name, fn) => h.step(name, fn);
const signIn = (page, username, password) => signInAt(page, BASE_URL, username, password);

/** selfQuota reads the signed-in user's quota through the page's own session. */
async function selfQuota(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/user/self');
    const j = await r.json();
    if (!j.success) throw new Error(j.message);
    return j.data.quota;
  });
}

/**
 * shownQuota is the quota left as the dashboard draws it: the figure and,
 * when quota is shown in currency, the raw units under it (a small charge
 * can vanish in the currency's rounding).
 */
async function shownQuota(page) {
  const main = ((await page.getByTestId('quota-left').textContent()) || '').trim();
  const units = page.getByTestId('quota-left-units');
  const sub = (await units.count()) ? ((await units.textContent()) || '').trim() : '';
  return `${main} ${sub}`.trim();
}

/** expectToast waits for a notification containing text. */
async function expectToast(page, text) {
  const ok = page.locator('.mantine-Notification-root', { hasText: text }).first();
  await ok.waitFor({ timeout: TIMEOUT });
}

let tokenKey = '';
let redemptionCode = '';
let quotaBefore = 0;
let quotaTextBefore = '';

await step('register a new user', async () => {
  await userPage.goto(`${BASE_URL}/register`);
  await userPage.locator('input[name=username]').fill(user.username);
  await userPage.locator('input[name=password]').fill(user.password);
  await userPage.locator('input[name=password2]').fill(user.password);
  await userPage.getByRole('button', { name: 'Register' }).click();
  await userPage.waitForURL(/\/login$/, { timeout: TIMEOUT }).catch(async () => {
    const err = await userPage.getByTestId('form-error').textContent().catch(() => '');
    throw new Error(`registration did not finish${err ? `: ${err}` : ''}`);
  });
});

await step('sign in as the new user', async () => {
  await signIn(userPage, user.username, user.password);
});

await step('create a token and read its key once', async () => {
  await userPage.goto(`${BASE_URL}/token`);
  await userPage.getByTestId('token-create').click();
  await userPage.getByTestId('token-name').fill(tokenName);
  await userPage.getByLabel('Unlimited quota').check();
  await userPage.getByTestId('token-save').click();
  const keyEl = userPage.getByTestId('new-token-key');
  await appears(userPage, keyEl, 'token not created');
  tokenKey = ((await keyEl.textContent()) || '').trim();
  if (!/^sk-\S{16,}$/.test(tokenKey)) throw new Error(`unexpected key ${JSON.stringify(tokenKey)}`);
  await userPage.getByText('It will not be shown again').waitFor();
  await userPage.getByRole('button', { name: 'I have saved it' }).click();
  await userPage.getByTestId('token-row').filter({ hasText: tokenName }).waitFor();
});

await step('sign in as root', async () => {
  await signIn(rootPage, 'root', ROOT_PASSWORD);
});

await step('create a redemption code as root', async () => {
  await rootPage.goto(`${BASE_URL}/redemption`);
  await rootPage.getByRole('button', { name: 'New codes' }).click();
  const dialog = rootPage.getByRole('dialog');
  await dialog.getByLabel('Name').fill(`e2e-${suffix}`.slice(0, 20));
  await dialog.getByLabel('Quota per code').fill('1000000');
  await dialog.getByRole('button', { name: 'Create' }).click();
  const codes = rootPage.getByTestId('new-codes');
  await appears(rootPage, codes, 'codes not created');
  redemptionCode = ((await codes.inputValue()) || '').trim().split('\n')[0];
  if (!redemptionCode) throw new Error('no code shown');
  await rootPage.getByRole('button', { name: 'Done' }).click();
});

await step('top up the user with the code', async () => {
  const before = await selfQuota(userPage);
  await userPage.goto(`${BASE_URL}/topup`);
  await userPage.getByLabel('Redemption code').fill(redemptionCode);
  await userPage.getByRole('button', { name: 'Redeem' }).click();
  await until('the quota to grow by the code', async () => {
    const err = userPage.getByTestId('form-error');
    if (await err.count()) throw new Error(`top-up refused: ${await err.textContent()}`);
    return (await selfQuota(userPage)) > before;
  });
});

await step('add an OpenAI channel to the test upstream', async () => {
  await rootPage.goto(`${BASE_URL}/channel`);
  await rootPage.getByTestId('channel-create').click();
  const type = rootPage.getByTestId('channel-type');
  await type.click();
  await rootPage.getByRole('option', { name: 'OpenAI', exact: true }).click();
  await rootPage.getByTestId('channel-name').fill(channelName);
  await rootPage.getByTestId('channel-base-url').fill(UPSTREAM_BASE);
  await rootPage.getByTestId('channel-key').fill('sk-e2e-upstream-key');
  const models = rootPage.getByTestId('channel-models');
  await models.click();
  await models.fill(MODEL);
  await models.press('Enter');
  await rootPage.keyboard.press('Escape').catch(() => {});
  await rootPage.getByTestId('channel-save').click();
  await appears(rootPage, rootPage.getByTestId('channel-row').filter({ hasText: channelName }), 'channel not saved');
});

await step('test the channel', async () => {
  const row = rootPage.getByTestId('channel-row').filter({ hasText: channelName });
  await row.getByTestId('channel-test').click();
  await expectToast(rootPage, 'test passed');
  await until('a response time in the channel list', async () => {
    const txt = await row.getByTestId('channel-response-time').textContent();
    return /\d+ ms/.test(txt || '');
  });
});

await step('read the quota on the dashboard', async () => {
  await userPage.goto(`${BASE_URL}/`);
  quotaBefore = await selfQuota(userPage);
  quotaTextBefore = await shownQuota(userPage);
  if (!quotaTextBefore) throw new Error('no quota shown');
});

await step('send a chat completion with the token', async () => {
  const res = await fetch(`${BASE_URL}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokenKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello to the console test.' }] }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text);
  if (!body.choices || !body.choices.length) throw new Error(`no choices: ${text.slice(0, 300)}`);
});

await step('see the call in the logs', async () => {
  await until('a consume log row for the call', async () => {
    await userPage.goto(`${BASE_URL}/log`);
    const row = userPage.getByTestId('log-row').filter({ hasText: MODEL }).filter({ hasText: tokenName });
    await row.first().waitFor({ timeout: 2000 });
    return true;
  });
});

await step('see the quota go down on the dashboard', async () => {
  await userPage.goto(`${BASE_URL}/`);
  await until('the dashboard quota to drop', async () => {
    await userPage.getByRole('button', { name: 'Refresh' }).click();
    const q = await selfQuota(userPage);
    const shown = await shownQuota(userPage);
    return q < quotaBefore && shown !== quotaTextBefore;
  });
});

await step('switch the language and keep it after a reload', async () => {
  await userPage.getByTestId('lang-switch').getByText('中文').click();
  await userPage.getByRole('link', { name: '令牌' }).waitFor();
  await userPage.reload();
  await userPage.getByRole('link', { name: '令牌' }).waitFor();
  await userPage.getByTestId('lang-switch').getByText('EN').click();
  await userPage.getByRole('link', { name: 'Tokens' }).waitFor();
});

await h.finish();
