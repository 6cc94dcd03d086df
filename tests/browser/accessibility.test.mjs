// axe-core on every console page, in each state a person can meet it in
// (empty, with errors, with results). Serious and critical findings fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addUser, describeViolations, launchBrowser, newPage, seriousViolations, signIn, startPortal,
} from './harness.mjs';

let portal;
let browser;
let page; // signed in
let accountPath; // an account made in before(), for its own pages

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin/users');
  await addUser(page, { email: 'grace@example.org', password: 'quantum lagoon pebble 77', firstName: 'Grace', lastName: 'Hopper' });
  await page.getByRole('heading', { level: 1, name: 'Grace Hopper' }).waitFor();
  accountPath = new URL(page.url()).pathname;
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** Asserts axe finds nothing serious, and the CSP blocked nothing the page needs. */
async function check(p, what) {
  const violations = await seriousViolations(p);
  const errors = p.consoleErrors.splice(0);
  assert.deepEqual(violations.map((v) => v.id), [],
    `${what} (${p.url()}) has accessibility violations:\n${describeViolations(violations)}`);
  assert.deepEqual(errors, [], `${what} logged errors`);
}

/** Loads a page and checks it, failing on error statuses axe would not notice. */
async function visit(path, what) {
  const res = await page.goto(path);
  assert.equal(res.status(), 200, `${what}: GET ${path}`);
  await check(page, what);
}

test('sign-in page', async () => {
  const anon = await newPage(browser, portal.baseUrl);
  await anon.goto('/admin/sign-in');
  await check(anon, 'sign-in page');
  await anon.context().close();
});

test('sign-in page with an error', async () => {
  const anon = await newPage(browser, portal.baseUrl);
  await signIn(anon, { email: 'admin@example.org', password: 'wrong password entirely' });
  await anon.getByRole('alert').waitFor();
  await check(anon, 'sign-in page with an error');
  await anon.context().close();
});

test('users list', () => visit('/admin/users', 'users list'));

test('users list with a search', async () => {
  await page.goto('/admin/users');
  await page.getByLabel('Search', { exact: true }).fill('hopp');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/[?&]q=hopp/);
  await check(page, 'users list with a search');
});

test('users list with no match', () => visit('/admin/users?q=nobody-at-all', 'users list with no match'));

test('add user form', () => visit('/admin/users/add', 'add user form'));

test('add user form with errors', async () => {
  await page.goto('/admin/users/add');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('alert').waitFor();
  await check(page, 'add user form with errors');
});

test('account page', () => visit(accountPath, 'account page'));

test('account page with a password error', async () => {
  await page.goto(accountPath);
  await page.getByLabel('New password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByLabel('New password', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
  await check(page, 'account page with a password error');
});

test('delete confirmation', () => visit(`${accountPath}/delete`, 'delete confirmation'));

test('groups tab', () => visit('/admin/groups', 'groups tab'));

test('products tab', () => visit('/admin/products', 'products tab'));
