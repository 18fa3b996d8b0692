// End-to-end run of the console in headless Chromium against a freshly
// started Switchyard and an OpenAI-compatible test upstream: a newcomer's
// first hour, in English and then in Chinese.
//
//   BASE_URL        the Switchyard, e.g. http://127.0.0.1:3000
//   ROOT_PASSWORD   root's one-time password, as the first start printed it
//   UPSTREAM_URL    the test upstream's base URL, with or without /v1
//   SCREENSHOT_DIR  where a failed step leaves its screenshot (default ./e2e-screenshots)
//   README_SHOTS    when set, the README's pictures are saved there from the data this flow made
//   CHROMIUM        the browser binary (default /usr/bin/chromium)
//
// Each step is named; the first that fails saves a screenshot of every open
// page and the script exits 1.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { env, suffix, Harness, TIMEOUT, until, appears, signIn as signInAt } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const ROOT_PASSWORD = env('ROOT_PASSWORD');
// One API keeps a channel's base URL without the /v1 suffix.
const UPSTREAM_BASE = env('UPSTREAM_URL').replace(/\/+$/, '').replace(/\/v1$/, '');
const README_SHOTS = process.env.README_SHOTS || '';
const MODEL = 'gpt-4o-mini';
const CHOSEN_MODEL = 'gpt-4o';
const ANSWER = 'Hello from the fake upstream';

const rootPassword2 = `root-${suffix}-Aa1`;
const user = { username: `e2e${suffix}`.slice(0, 20), password: `pw-${suffix}-Aa1` };
const channelName = `e2e-upstream-${suffix}`;
const tokenName = `e2e-token-${suffix}`;

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();
const rootPage = await h.page('root');
const userPage = await h.page('user');
const step = (name, fn) => h.step(name, fn);
const signIn = (page, username, password, button) => signInAt(page, BASE_URL, username, password, button);

/** selfQuota reads the signed-in user's quota through the page's own session. */
async function selfQuota(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/user/self');
    const j = await r.json();
    if (!j.success) throw new Error(j.message);
    return j.data.quota;
  });
}

/** call sends a management API call with the page's session and returns its envelope. */
async function call(page, method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json' }, body: b === undefined ? undefined : JSON.stringify(b) });
      return r.json();
    },
    [method, path, body],
  );
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
  await page.locator('.mantine-Notification-root', { hasText: text }).first().waitFor({ timeout: TIMEOUT });
}

/** closeToasts dismisses every notification, so the next expectToast sees only new ones. */
async function closeToasts(page) {
  for (const b of await page.locator('.mantine-Notification-root button').all()) await b.click().catch(() => {});
  await until('the notifications to close', async () => (await page.locator('.mantine-Notification-root').count()) === 0);
}

// Text a page may show in English in either language: what the flow
// itself typed or the upstream answered, not the server's sentences.
const OWN_TEXT = [ANSWER, 'Say hello to the console test', 'Root User'];

/**
 * englishSentences lists runs of four or more English words on the page:
 * in Chinese, every sentence the console draws is translated, so such a
 * run is a server message shown verbatim.
 */
async function englishSentences(page) {
  const text = await page.locator('body').innerText();
  const runs = text.match(/[A-Za-z][A-Za-z']*(?:[ ,:;]+[A-Za-z][A-Za-z']*){3,}/g) || [];
  return runs.filter((r) => !OWN_TEXT.some((own) => own.includes(r) || r.includes(own)));
}

async function noEnglishFromServer(page, where) {
  const found = await englishSentences(page);
  if (found.length) throw new Error(`${where} shows English sentences in Chinese: ${JSON.stringify(found)}`);
}

let tokenKey = '';
let redemptionCode = '';
let quotaBefore = 0;
let quotaTextBefore = '';

await step('sign in as root with the printed one-time password', async () => {
  await signIn(rootPage, 'root', ROOT_PASSWORD);
});

await step('root starts with quota to relay', async () => {
  const q = await selfQuota(rootPage);
  if (!(q > 0)) throw new Error(`root's quota is ${q}`);
});

await step('a wrong current password is refused in words', async () => {
  await rootPage.goto(`${BASE_URL}/setting`);
  await rootPage.getByRole('tab', { name: 'My account' }).click();
  await rootPage.locator('input[name=original_password]').fill('not-the-password');
  await rootPage.locator('input[name=new_password]').fill(rootPassword2);
  await rootPage.locator('input[name=new_password2]').fill(rootPassword2);
  await rootPage.getByTestId('profile-save').click();
  await rootPage.getByTestId('form-error').filter({ hasText: 'The current password is wrong.' }).waitFor();
});

await step('change root password in the console', async () => {
  await rootPage.locator('input[name=original_password]').fill(ROOT_PASSWORD);
  await rootPage.getByTestId('profile-save').click();
  await expectToast(rootPage, 'Password changed');
});

await step('sign in again with the new password', async () => {
  await rootPage.getByRole('button', { name: 'Sign out' }).click();
  await rootPage.waitForURL(/\/login/);
  await signIn(rootPage, 'root', rootPassword2);
});

await step('turn on LogContentEnabled', async () => {
  const r = await call(rootPage, 'PUT', '/api/option/', { key: 'LogContentEnabled', value: 'true' });
  if (!r.success) throw new Error(r.message);
});

await step('add an OpenAI channel to the test upstream with the type’s default models', async () => {
  await rootPage.goto(`${BASE_URL}/channel`);
  await rootPage.getByTestId('channel-create').click();
  await rootPage.getByTestId('channel-type').click();
  await rootPage.getByRole('option', { name: 'OpenAI', exact: true }).click();
  await rootPage.getByTestId('channel-name').fill(channelName);
  await rootPage.getByTestId('channel-base-url').fill(UPSTREAM_BASE);
  await rootPage.getByTestId('channel-key').fill('sk-e2e-upstream-key');
  // Asked of the upstream with the typed key, before the channel exists.
  await rootPage.getByTestId('channel-fetch-models').click();
  await appears(rootPage, rootPage.getByText('1 model from the upstream'), 'the upstream’s models were not fetched');
  await rootPage.getByRole('button', { name: 'Add the type’s default models' }).click();
  await rootPage.getByTestId('channel-save').click();
  await appears(rootPage, rootPage.getByTestId('channel-row').filter({ hasText: channelName }), 'channel not saved');
});

await step('the Test button tests the first chat model, not an image model', async () => {
  const row = rootPage.getByTestId('channel-row').filter({ hasText: channelName });
  await row.getByTestId('channel-test').click();
  await expectToast(rootPage, `test of ${MODEL} passed`);
  await until('a response time in the channel list', async () => /\d+ ms/.test((await row.getByTestId('channel-response-time').textContent()) || ''));
  await closeToasts(rootPage);
});

await step('test the channel with a chosen model', async () => {
  const row = rootPage.getByTestId('channel-row').filter({ hasText: channelName });
  await row.getByTestId('channel-test-pick').click();
  await rootPage.getByRole('menuitem', { name: CHOSEN_MODEL, exact: true }).click();
  await expectToast(rootPage, `test of ${CHOSEN_MODEL} passed`);
});

await step('root creates a token and reads its key once', async () => {
  await rootPage.goto(`${BASE_URL}/token`);
  await rootPage.getByTestId('token-create').click();
  await rootPage.getByTestId('token-name').fill(tokenName);
  await rootPage.getByTestId('token-save').click();
  const keyEl = rootPage.getByTestId('new-token-key');
  await appears(rootPage, keyEl, 'token not created');
  tokenKey = ((await keyEl.textContent()) || '').trim();
  if (!/^sk-\S{16,}$/.test(tokenKey)) throw new Error(`unexpected key ${JSON.stringify(tokenKey)}`);
  await rootPage.getByText('It will not be shown again').waitFor();
  await rootPage.getByRole('button', { name: 'I have saved it' }).click();
  await rootPage.getByTestId('token-row').filter({ hasText: tokenName }).waitFor();
});

await step('set the token’s limits in the console and read them back through the API', async () => {
  const row = rootPage.getByTestId('token-row').filter({ hasText: tokenName });
  await row.getByRole('button', { name: 'Edit', exact: true }).click();
  const want = { rpm_limit: 600, tpm_limit: 5000000, rpd_limit: 20000, max_parallel_requests: 8, period_quota: 100000000, quota_period: 'day' };
  for (const k of ['rpm_limit', 'tpm_limit', 'rpd_limit', 'max_parallel_requests']) await rootPage.getByTestId(`token-${k}`).fill(String(want[k]));
  await rootPage.getByTestId('token-quota_period').click();
  await rootPage.getByRole('option', { name: 'Daily', exact: true }).click();
  await rootPage.getByTestId('token-period_quota').fill(String(want.period_quota));
  await rootPage.getByTestId('token-save').click();
  await expectToast(rootPage, 'Saved');
  const found = await call(rootPage, 'GET', `/api/token/search?keyword=${encodeURIComponent(tokenName)}`);
  const id = found.data?.find((tk) => tk.name === tokenName)?.id;
  if (!id) throw new Error(`token not found: ${JSON.stringify(found)}`);
  const r = await call(rootPage, 'GET', `/api/token/${id}`);
  if (!r.success) throw new Error(r.message);
  for (const k of ['rpm_limit', 'tpm_limit', 'rpd_limit', 'max_parallel_requests']) {
    if (r.data[k] !== want[k]) throw new Error(`${k} is ${r.data[k]}, want ${want[k]}`);
  }
  const cells = rootPage.getByTestId('token-row').filter({ hasText: tokenName });
  await cells.getByTestId('token-limits').filter({ hasText: '600 RPM · 5M TPM · 20k RPD · 8 in parallel' }).waitFor();
  if (r.data.period_quota !== want.period_quota || r.data.quota_period !== want.quota_period)
    throw new Error(`period quota is ${r.data.period_quota} per ${JSON.stringify(r.data.quota_period)}, want ${want.period_quota} per day`);
  if (!(r.data.period_reset_at > Date.now() / 1000)) throw new Error(`period_reset_at ${r.data.period_reset_at} is not in the future`);
  await cells.getByTestId('period-left').filter({ hasText: 'Daily:' }).waitFor();
  await cells.getByTestId('period-reset').filter({ hasText: 'Resets' }).waitFor();
});

await step('add one channel with several keys and see each key’s state, masked', async () => {
  const name = `e2e-multikey-${suffix}`;
  const keys = ['sk-e2e-multi-aaaaaaaaaaaa', 'sk-e2e-multi-bbbbbbbbbbbb', 'sk-e2e-multi-cccccccccccc'];
  await rootPage.goto(`${BASE_URL}/channel`);
  await rootPage.getByTestId('channel-create').click();
  await rootPage.getByTestId('channel-name').fill(name);
  await rootPage.getByTestId('channel-base-url').fill(UPSTREAM_BASE);
  await rootPage.getByTestId('channel-key').fill(keys.join('\n'));
  await rootPage.getByTestId('channel-multi-key').check();
  await rootPage.getByTestId('channel-key-mode').click();
  await rootPage.getByRole('option', { name: 'In turn', exact: true }).click();
  await rootPage.getByTestId('channel-rpm_limit').fill('120');
  await rootPage.getByRole('button', { name: 'Add the type’s default models' }).click();
  await rootPage.getByTestId('channel-save').click();
  const row = rootPage.getByTestId('channel-row').filter({ hasText: name });
  await appears(rootPage, row, 'multi-key channel not saved');
  await row.getByTestId('channel-caps').filter({ hasText: '120 RPM' }).waitFor();
  const found = await call(rootPage, 'GET', `/api/channel/search?keyword=${encodeURIComponent(name)}`);
  const chans = (found.data || []).filter((c) => c.name === name);
  if (chans.length !== 1) throw new Error(`want one channel named ${name}, got ${chans.length}`);
  const ch = chans[0];
  if (ch.multi_key_mode !== 'polling' || ch.rpm_limit !== 120 || ch.keys?.length !== 3) throw new Error(`channel saved as ${JSON.stringify(ch)}`);
  await row.getByTestId('channel-keys-open').filter({ hasText: '3 keys' }).click();
  const shown = rootPage.getByRole('dialog').getByTestId('channel-key-row');
  await until('three keys listed', async () => (await shown.count()) === 3);
  const text = await rootPage.getByRole('dialog').getByTestId('channel-keys').innerText();
  for (const k of keys) if (text.includes(k)) throw new Error(`a whole key is shown: ${k}`);
  await rootPage.keyboard.press('Escape');
  // It served no call of this flow's; remove it so the flow's own channel is the only one.
  const del = await call(rootPage, 'DELETE', `/api/channel/${ch.id}`);
  if (!del.success) throw new Error(del.message);
});

await step('read the quota on the dashboard', async () => {
  await rootPage.goto(`${BASE_URL}/`);
  quotaBefore = await selfQuota(rootPage);
  quotaTextBefore = await shownQuota(rootPage);
  if (!quotaTextBefore) throw new Error('no quota shown');
});

await step('chat in the playground, streamed and billed', async () => {
  await rootPage.goto(`${BASE_URL}/pg`);
  await rootPage.getByTestId('pg-token').click();
  await rootPage.getByRole('option', { name: tokenName, exact: true }).click();
  await rootPage.getByTestId('pg-model').click();
  await rootPage.getByRole('option', { name: MODEL, exact: true }).click();
  await rootPage.getByTestId('pg-input').fill('Say hello to the console test.');
  await rootPage.getByTestId('pg-send').click();
  const err = rootPage.getByTestId('form-error');
  await until('the streamed answer', async () => {
    if (await err.count()) throw new Error(`playground: ${await err.textContent()}`);
    return ((await rootPage.getByTestId('pg-answer').last().textContent()) || '').includes(ANSWER);
  });
  await rootPage.getByTestId('pg-cost').filter({ hasText: 'Cost: $' }).waitFor();
});

await step('the token’s key relays through /v1 too', async () => {
  const res = await fetch(`${BASE_URL}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokenKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello to the console test.' }] }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  if (!JSON.parse(text).choices?.length) throw new Error(`no choices: ${text.slice(0, 300)}`);
});

await step('see the playground call in the logs with its content', async () => {
  await until('a streamed consume log row for the call', async () => {
    await rootPage.goto(`${BASE_URL}/log`);
    const row = rootPage.getByTestId('log-row').filter({ hasText: MODEL }).filter({ hasText: 'stream' });
    await row.first().waitFor({ timeout: 2000 });
    return true;
  });
  const row = rootPage.getByTestId('log-row').filter({ hasText: MODEL }).filter({ hasText: 'stream' }).first();
  await row.getByTestId('log-detail-open').click();
  await rootPage.getByTestId('log-detail-request').filter({ hasText: '"messages"' }).waitFor();
  await rootPage.getByTestId('log-detail-answer').filter({ hasText: ANSWER }).waitFor();
  await rootPage.keyboard.press('Escape');
});

await step('see the quota go down on the dashboard', async () => {
  await rootPage.goto(`${BASE_URL}/`);
  await until('the dashboard quota to drop', async () => {
    await rootPage.getByRole('button', { name: 'Refresh' }).click();
    return (await selfQuota(rootPage)) < quotaBefore && (await shownQuota(rootPage)) !== quotaTextBefore;
  });
  await rootPage.locator('.recharts-surface').first().waitFor();
});

await step('register a new user and sign in', async () => {
  await userPage.goto(`${BASE_URL}/register`);
  await userPage.locator('input[name=username]').fill(user.username);
  await userPage.locator('input[name=password]').fill(user.password);
  await userPage.locator('input[name=password2]').fill(user.password);
  await userPage.getByRole('button', { name: 'Register' }).click();
  await userPage.waitForURL(/\/login$/, { timeout: TIMEOUT }).catch(async () => {
    const err = await userPage.getByTestId('form-error').textContent().catch(() => '');
    throw new Error(`registration did not finish${err ? `: ${err}` : ''}`);
  });
  await signIn(userPage, user.username, user.password);
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

await step('a second redemption of the same code is refused in words', async () => {
  await userPage.getByLabel('Redemption code').fill(redemptionCode);
  await userPage.getByRole('button', { name: 'Redeem' }).click();
  await userPage.getByTestId('form-error').filter({ hasText: 'This redemption code is invalid or has been used.' }).waitFor();
});

await step('root sweeps the used code away', async () => {
  await rootPage.goto(`${BASE_URL}/redemption`);
  const row = rootPage.locator('tr').filter({ hasText: `e2e-${suffix}`.slice(0, 20) });
  await row.first().waitFor();
  await rootPage.getByRole('button', { name: 'Delete used and disabled' }).click();
  await rootPage.getByRole('button', { name: 'Confirm' }).click();
  await until('the used code to leave the list', async () => (await row.count()) === 0);
});

await step('copy the channel, then delete the copy', async () => {
  await rootPage.goto(`${BASE_URL}/channel`);
  const copyRow = rootPage.getByTestId('channel-row').filter({ hasText: `${channelName}_copy` });
  await rootPage.getByTestId('channel-row').filter({ hasText: channelName }).getByTestId('channel-copy').click();
  await expectToast(rootPage, `Copied ${channelName}`);
  await copyRow.waitFor();
  await copyRow.getByRole('button', { name: 'Delete' }).click();
  await rootPage.getByRole('button', { name: 'Confirm' }).click();
  await copyRow.waitFor({ state: 'detached' });
  await closeToasts(rootPage);
});

await step('pick two tokens and delete them at once', async () => {
  const names = [`pick-a-${suffix}`, `pick-b-${suffix}`];
  for (const name of names) {
    const r = await call(rootPage, 'POST', '/api/token/', { name, unlimited_quota: true });
    if (!r.success) throw new Error(r.message);
  }
  await rootPage.goto(`${BASE_URL}/token`);
  for (const name of names) {
    await rootPage.getByTestId('token-row').filter({ hasText: name }).getByTestId('row-select').check();
  }
  await rootPage.getByTestId('delete-picked').filter({ hasText: 'Delete selected (2)' }).click();
  await rootPage.getByRole('button', { name: 'Confirm' }).click();
  await expectToast(rootPage, 'Deleted 2');
  for (const name of names) await rootPage.getByTestId('token-row').filter({ hasText: name }).waitFor({ state: 'detached' });
  await rootPage.getByTestId('token-row').filter({ hasText: tokenName }).waitFor();
  await closeToasts(rootPage);
});

await step('a user gives a token a group UserUsableGroups offers', async () => {
  const r = await call(rootPage, 'PUT', '/api/option/', { key: 'UserUsableGroups', value: JSON.stringify({ vip: 'Faster channels' }) });
  if (!r.success) throw new Error(r.message);
  const name = `vip-${suffix}`;
  await userPage.goto(`${BASE_URL}/token`);
  await userPage.getByTestId('token-create').click();
  await userPage.getByTestId('token-name').fill(name);
  await userPage.getByTestId('token-group').click();
  await userPage.getByRole('option', { name: 'vip · Faster channels (×1)' }).click();
  await userPage.getByTestId('token-save').click();
  await userPage.getByRole('button', { name: 'I have saved it' }).click();
  const found = await call(userPage, 'GET', `/api/token/search?keyword=${encodeURIComponent(name)}`);
  const tk = found.data?.find((x) => x.name === name);
  if (tk?.group !== 'vip') throw new Error(`the token's group is ${JSON.stringify(tk?.group)}, want vip`);
});

if (README_SHOTS) {
  await step('save the README’s screenshots from this run’s data', async () => {
    mkdirSync(README_SHOTS, { recursive: true });
    const shot = async (path, name, ready) => {
      await rootPage.goto(`${BASE_URL}${path}`);
      await ready();
      await rootPage.waitForLoadState('networkidle');
      await rootPage.screenshot({ path: join(README_SHOTS, name) });
    };
    await shot('/', 'dashboard.png', () => rootPage.locator('.recharts-surface').first().waitFor());
    await shot('/channel', 'channels.png', () => rootPage.getByTestId('channel-row').first().waitFor());
    await shot('/log', 'logs.png', () => rootPage.getByTestId('log-row').first().waitFor());
    await rootPage.goto(`${BASE_URL}/pg`);
    await rootPage.getByTestId('pg-input').fill('Say hello to the console test.');
    await rootPage.getByTestId('pg-send').click();
    await rootPage.getByTestId('pg-cost').filter({ hasText: 'Cost: $' }).waitFor();
    await rootPage.screenshot({ path: join(README_SHOTS, 'playground.png') });
  });
}

// The same first hour in Chinese: a browser whose language is Chinese.
const zhPage = await h.page('root-zh', 'zh-CN');

await step('zh: sign in and the console speaks Chinese', async () => {
  await signIn(zhPage, 'root', rootPassword2, '登录');
  await zhPage.getByRole('link', { name: '令牌' }).waitFor();
});

await step('zh: a wrong current password is refused in Chinese', async () => {
  await zhPage.goto(`${BASE_URL}/setting`);
  await zhPage.getByRole('tab', { name: '我的账户' }).click();
  await zhPage.locator('input[name=original_password]').fill('not-the-password');
  await zhPage.locator('input[name=new_password]').fill(rootPassword2);
  await zhPage.locator('input[name=new_password2]').fill(rootPassword2);
  await zhPage.getByTestId('profile-save').click();
  await zhPage.getByTestId('form-error').filter({ hasText: '当前密码错误' }).waitFor();
  await noEnglishFromServer(zhPage, 'settings');
});

await step('zh: test the channel with a chosen model', async () => {
  await zhPage.goto(`${BASE_URL}/channel`);
  const row = zhPage.getByTestId('channel-row').filter({ hasText: channelName });
  await row.getByTestId('channel-test-pick').click();
  await zhPage.getByRole('menuitem', { name: CHOSEN_MODEL, exact: true }).click();
  await expectToast(zhPage, `${CHOSEN_MODEL} 测试通过`);
  await noEnglishFromServer(zhPage, 'channels');
});

await step('zh: chat in the playground', async () => {
  await zhPage.goto(`${BASE_URL}/pg`);
  await zhPage.getByTestId('pg-input').fill('Say hello to the console test.');
  await zhPage.getByTestId('pg-send').click();
  await zhPage.getByTestId('pg-cost').filter({ hasText: '费用:$' }).waitFor();
  await noEnglishFromServer(zhPage, 'playground');
});

await step('zh: logs, top-ups and admin edits render in Chinese', async () => {
  await zhPage.goto(`${BASE_URL}/log`);
  await zhPage.getByTestId('log-row').filter({ hasText: 'root 的初始额度' }).first().waitFor();
  await noEnglishFromServer(zhPage, 'logs');
});

await step('zh: no page shows an English sentence from the server', async () => {
  for (const [path, ready] of [
    ['/', () => zhPage.getByTestId('quota-left').waitFor()],
    ['/token', () => zhPage.getByTestId('token-row').first().waitFor()],
    ['/user', () => zhPage.locator('table').first().waitFor()],
    ['/redemption', () => zhPage.locator('table').first().waitFor()],
    ['/topup', () => zhPage.getByRole('textbox').first().waitFor()],
    ['/about', () => zhPage.locator('main').first().waitFor()],
  ]) {
    await zhPage.goto(`${BASE_URL}${path}`);
    await ready();
    await zhPage.waitForLoadState('networkidle');
    await noEnglishFromServer(zhPage, path);
  }
});

await step('zh: a refused top-up is explained in Chinese', async () => {
  await zhPage.goto(`${BASE_URL}/topup`);
  await zhPage.getByRole('textbox').first().fill(redemptionCode);
  await zhPage.getByRole('button', { name: '兑换' }).click();
  await zhPage.getByTestId('form-error').filter({ hasText: '兑换码无效或已被使用' }).waitFor();
});

await step('switch the language back and keep it after a reload', async () => {
  await zhPage.getByTestId('lang-switch').getByText('EN').click();
  await zhPage.getByRole('link', { name: 'Tokens' }).waitFor();
  await zhPage.reload();
  await zhPage.getByRole('link', { name: 'Tokens' }).waitFor();
});

await h.finish();
