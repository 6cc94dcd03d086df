// The console's Management API page (SPEC M5, SECURITY S-20): create a
// token, copy it while it is shown (once), use it, revoke it; axe on the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeViolations, launchBrowser, newPage, seriousViolations, signIn, startPortal } from './harness.mjs';

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

const PREFIX = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/portal';

test('create a token, use it, see it only once, revoke it', async () => {
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Management API' }).click();
  await page.getByRole('heading', { level: 1, name: 'Management API' }).waitFor();
  await noSeriousViolations(page);

  await page.getByLabel('Name', { exact: true }).fill('HR sync');
  await page.getByLabel('Expires after').selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByRole('heading', { name: 'Token HR sync created' }).waitFor();
  const secret = await page.getByLabel('Token', { exact: true }).inputValue();
  assert.match(secret, /^portal_[A-Za-z0-9_-]{43}$/);
  assert.ok((await page.locator('pre code').textContent()).includes(`Bearer ${secret}`), 'an example request');
  await noSeriousViolations(page);

  const call = () => fetch(`${portal.baseUrl}${PREFIX}/users?api-version=2024-05-01`, {
    headers: { Authorization: `Bearer ${secret}` },
  });
  assert.equal((await call()).status, 200);

  // Shown once: the list has the token, never its secret.
  await page.goto('/admin/api');
  const row = page.getByRole('row').filter({ hasText: 'HR sync' });
  await row.getByText('Active').waitFor();
  assert.ok(!(await page.content()).includes(secret));

  await row.getByRole('button', { name: 'Revoke HR sync' }).click();
  await page.getByRole('status').filter({ hasText: 'Revoked the token HR sync.' }).waitFor();
  await page.getByRole('row').filter({ hasText: 'HR sync' }).getByText('Revoked').waitFor();
  assert.equal((await call()).status, 401);
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('a token needs a name', async () => {
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');
  await page.goto('/admin/api');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByText('Enter a name.').waitFor();
  await noSeriousViolations(page);
  await page.context().close();
});
