// What an administrator does in the console, found the way a screen-reader
// user would find it: by label and role only, never by CSS selector.
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

test('a wrong password is refused with a message', async () => {
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page, { email: 'admin@example.org', password: 'not the right password 1' });
  await page.getByRole('alert').filter({ hasText: 'The email address or password is not right.' }).waitFor();
  assert.match(new URL(page.url()).pathname, /^\/admin\/sign-in/);
  await page.context().close();
});

test('add, find, block and delete a user', async () => {
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');

  // A second account so the search has something it must leave out.
  await addUser(page, { email: 'ada@example.org', password: 'copper meadow lantern 31', firstName: 'Ada', lastName: 'Lovelace' });
  await page.getByText('Added user ada@example.org.').waitFor();

  await page.goto('/admin/users');
  await page.getByRole('link', { name: 'Add user' }).click();
  await page.getByLabel('Email', { exact: true }).fill('grace@example.org');
  await page.getByLabel('Password', { exact: true }).fill('quantum lagoon pebble 77');
  await page.getByLabel('First name', { exact: true }).fill('Grace');
  await page.getByLabel('Last name', { exact: true }).fill('Hopper');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('status').filter({ hasText: 'Added user grace@example.org.' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Grace Hopper' }).waitFor();

  // The crumb is also called Users, so the tab is taken from the nav.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Search', { exact: true }).fill('hopp');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/[?&]q=hopp/);
  const table = page.getByRole('table');
  await table.getByRole('row').filter({ hasText: 'grace@example.org' }).waitFor();
  assert.equal(await table.getByRole('row').filter({ hasText: 'ada@example.org' }).count(), 0,
    'searching "hopp" must not list Ada Lovelace');

  await table.getByRole('link', { name: 'Grace Hopper' }).click();
  await page.getByRole('heading', { level: 1, name: 'Grace Hopper' }).waitFor();

  await page.getByRole('button', { name: 'Block' }).click();
  await page.getByRole('status').filter({ hasText: 'Blocked grace@example.org.' }).waitFor();
  await page.getByText('Blocked', { exact: true }).first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'Block' }).count(), 0, 'a blocked account offers no Block');
  await page.getByRole('button', { name: 'Activate' }).waitFor();

  await page.getByRole('link', { name: 'Delete' }).click();
  await page.getByRole('heading', { level: 1, name: 'Delete Grace Hopper?' }).waitFor();
  await page.getByRole('link', { name: 'Cancel' }).waitFor();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').filter({ hasText: 'Deleted user grace@example.org.' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin/users');
  assert.equal(await page.getByRole('cell', { name: 'grace@example.org' }).count(), 0,
    'the deleted account is still listed');
  await page.getByRole('cell', { name: 'ada@example.org' }).waitFor();
  await page.context().close();
});
