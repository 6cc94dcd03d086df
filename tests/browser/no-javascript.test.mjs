// The console promises to work with JavaScript switched off (plain forms,
// no script), so a browser without it must still get the work done.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { addUser, launchBrowser, newPage, signIn, startPortal } from './harness.mjs';

let portal;
let browser;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

test('sign in and add a user with JavaScript disabled', async () => {
  const page = await newPage(browser, portal.baseUrl, { javaScriptEnabled: false });
  await signIn(page);
  await page.waitForURL('**/admin/users');
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();

  await addUser(page, { email: 'linus@example.org', password: 'granite orchard kettle 19', firstName: 'Linus', lastName: 'Torvalds' });
  await page.getByRole('status').filter({ hasText: 'Added user linus@example.org.' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Linus Torvalds' }).waitFor();
  assert.match(new URL(page.url()).pathname, /^\/admin\/users\/[^/]+$/);
  await page.context().close();
});
