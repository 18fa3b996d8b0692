// Sign-in with an outside provider (GitHub, an OpenID Connect provider,
// or Lark) in headless Chromium, against a running Switchyard whose
// sign-in points at a stand-in provider (internal/fakegithub,
// internal/fakeoidc, internal/fakelark) that approves at once: a visitor
// signs in and lands on the dashboard with a new account bound to the
// outside one; a password user binds one from Settings and then signs in
// with it alone; with ADMIN_USERNAME set, an admin then unbinds it from
// the user's edit form on the Users page.
//
//   BASE_URL        the Switchyard
//   PROVIDER        github, oidc or lark
//   PROVIDER_NAME   what the console calls it (GitHub, OpenID Connect, Lark)
//   VISITOR_ID      the outside account id the visitor signs in as
//   USERNAME        a password user's name ...
//   PASSWORD        ... and password
//   BIND_ID         the outside account id the password user binds
//   ADMIN_USERNAME  an admin's name (optional) ...
//   ADMIN_PASSWORD  ... and password
//   SCREENSHOT_DIR  where a failed step leaves its screenshot
//   CHROMIUM        the browser binary (default /usr/bin/chromium)

import { env, Harness, appears, signIn } from './harness.mjs';

const BASE_URL = env('BASE_URL').replace(/\/+$/, '');
const USERNAME = env('USERNAME');
const PASSWORD = env('PASSWORD');
const BIND_ID = env('BIND_ID');
const PROVIDER = env('PROVIDER');
const NAME = env('PROVIDER_NAME');
const VISITOR_ID = env('VISITOR_ID');
const ADMIN_USERNAME = process.env.ADMIN_USERNAME ?? '';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? '';

const h = new Harness({ chromiumPath: env('CHROMIUM', '/usr/bin/chromium'), screenshotDir: env('SCREENSHOT_DIR', './e2e-screenshots') });
await h.start();

await h.step(`a visitor signs in with ${NAME} and gets an account`, async () => {
  const page = await h.page('visitor');
  await page.goto(`${BASE_URL}/login`);
  await page.getByTestId(`${PROVIDER}-sign-in`).click();
  await appears(page, page.getByTestId('quota-left'), `${NAME} sign-in refused`);
  await page.goto(`${BASE_URL}/setting`);
  await page.getByTestId(`${PROVIDER}-binding`).filter({ hasText: `Bound to ${NAME} account ${VISITOR_ID}.` }).waitFor();
});

const member = await h.page('member');
await h.step(`a password user binds ${NAME} in Settings`, async () => {
  await signIn(member, BASE_URL, USERNAME, PASSWORD);
  await member.goto(`${BASE_URL}/setting`);
  await member.getByTestId(`${PROVIDER}-binding`).filter({ hasText: 'Not bound' }).waitFor();
  await member.getByRole('button', { name: `Bind ${NAME} account` }).click();
  await member.waitForURL(/\/setting$/);
  await member.getByTestId(`${PROVIDER}-binding`).filter({ hasText: `Bound to ${NAME} account ${BIND_ID}.` }).waitFor();
});

await h.step(`then signs in with ${NAME} alone`, async () => {
  await member.getByRole('button', { name: 'Sign out' }).click();
  await member.waitForURL(/\/login$/);
  await member.getByTestId(`${PROVIDER}-sign-in`).click();
  await appears(member, member.getByTestId('quota-left'), `${NAME} sign-in refused`);
  await member.goto(`${BASE_URL}/setting`);
  await member.getByRole('textbox', { name: 'Username' }).and(member.locator(`[value="${USERNAME}"]`)).waitFor();
});

if (ADMIN_USERNAME) {
  await h.step(`an admin unbinds the user's ${NAME} account`, async () => {
    const admin = await h.page('admin');
    await signIn(admin, BASE_URL, ADMIN_USERNAME, ADMIN_PASSWORD);
    await admin.goto(`${BASE_URL}/user`);
    await admin.getByPlaceholder('Search by id, name or email').fill(USERNAME);
    await admin.getByRole('button', { name: 'Search' }).click();
    const row = admin.locator('tr').filter({ hasText: USERNAME });
    await row.getByRole('button', { name: 'Edit' }).click();
    const binding = admin.getByTestId(`user-binding-${PROVIDER}`);
    await binding.filter({ hasText: `${NAME} · ${BIND_ID}` }).waitFor();
    await binding.getByRole('button', { name: 'Unbind' }).click();
    await binding.waitFor({ state: 'detached' });
  });
}

await h.finish();
