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

test('sign in, see the console home and add a user with JavaScript disabled', async () => {
  const page = await newPage(browser, portal.baseUrl, { javaScriptEnabled: false });
  await signIn(page);
  await page.waitForURL('**/admin');
  await page.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();

  // The console home is drawn on the server: its charts and their tables are there.
  const charts = page.locator('section.chart');
  assert.equal(await charts.count(), 5, 'the console home does not show its five charts');
  for (const chart of await charts.all()) {
    const id = await chart.getAttribute('id');
    assert.ok(await chart.locator('svg').first().isVisible(), `#${id}: no chart without JavaScript`);
    assert.ok(await chart.getByRole('table').first().isVisible(), `#${id}: no table without JavaScript`);
  }

  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();

  await addUser(page, { email: 'linus@example.org', password: 'granite orchard kettle 19', firstName: 'Linus', lastName: 'Torvalds' });
  await page.getByRole('status').filter({ hasText: 'Added user linus@example.org.' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Linus Torvalds' }).waitFor();
  assert.match(new URL(page.url()).pathname, /^\/admin\/users\/[^/]+$/);
  await page.context().close();
});
