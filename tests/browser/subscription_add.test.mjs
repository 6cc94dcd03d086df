// Add subscription in the console (issue 13): an administrator subscribes an
// account to a product it can see; the key works at /gateway/check at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addProduct, addUser, describeViolations, launchBrowser, newPage, openSubTab, seriousViolations, signIn, startPortal,
} from './harness.mjs';

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

async function noSeriousViolations(page) {
  const v = await seriousViolations(page);
  assert.deepEqual(v, [], describeViolations(v));
}

test('an administrator adds a subscription and its key works', async () => {
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');
  await addProduct(page, { name: 'Weather', description: 'Forecasts' });
  // Developers may see it.
  await openSubTab(page, 'Product', 'Access control');
  await page.getByLabel('Developers (system)', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved access control' }).waitFor();

  await addUser(page, { email: 'kim@example.org', password: 'copper meadow lantern 31', firstName: 'Kim', lastName: 'Park' });
  await page.getByRole('heading', { level: 1, name: 'Kim Park' }).waitFor();
  await page.goto(new URL(page.url()).pathname + '/subscriptions');
  await page.getByRole('link', { name: 'Add subscription' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add subscription' }).waitFor();
  await noSeriousViolations(page);
  await page.getByLabel('Product', { exact: true }).selectOption({ label: 'Weather' });
  await page.getByLabel('Name', { exact: true }).fill('Kim’s forecasts');
  await page.getByLabel('Active: the keys work at once').check();
  await page.getByRole('button', { name: 'Add subscription' }).click();
  await page.getByRole('status').filter({ hasText: 'Subscribed kim@example.org to Weather.' }).waitFor();

  await page.getByRole('link', { name: 'Show keys' }).click();
  const key = (await page.locator('dt:text-is("Primary key") + dd code').textContent()).trim();
  const check = await fetch(`${portal.baseUrl}/gateway/check`, { headers: { 'Ocp-Apim-Subscription-Key': key } });
  assert.equal(check.status, 200);
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});
