// Products and their access control (SPEC P1–P5): a group given access by
// Add group or by ticking it shows on its members' account pages, with the
// group that grants it, until the grant is removed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { addGroup, addUser, launchBrowser, newPage, openSubTab, signIn, startPortal } from './harness.mjs';

let portal;
let browser;
let page; // signed in
let adaPath; // Ada is in Beta testers; Alan only in Developers
let alanPath;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');
  await addUser(page, { email: 'alan@example.org', password: 'enigma orchard kettle 12', firstName: 'Alan', lastName: 'Turing' });
  await page.getByRole('heading', { level: 1, name: 'Alan Turing' }).waitFor();
  alanPath = new URL(page.url()).pathname;
  await addUser(page, { email: 'ada@example.org', password: 'copper meadow lantern 31', firstName: 'Ada', lastName: 'Lovelace' });
  await page.getByRole('heading', { level: 1, name: 'Ada Lovelace' }).waitFor();
  adaPath = new URL(page.url()).pathname;

  await addGroup(page, { name: 'Beta testers' });
  await openSubTab(page, 'Group', 'Members');
  await page.getByLabel('Find accounts', { exact: true }).fill('lovelace');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await page.getByLabel('Ada Lovelace (ada@example.org)', { exact: true }).check();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Added 1 member(s).' }).waitFor();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** Fills Add product as a person would, from the Products tab. */
async function addProductByHand(name) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Products' }).click();
  await page.getByRole('link', { name: 'Add product' }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description', { exact: true }).fill(`${name} for everyone.`);
  await page.getByLabel('Terms of use', { exact: true }).fill('Be kind to the servers.');
  await page.getByLabel('Subscription required', { exact: true }).check();
  await page.getByLabel('Approval required', { exact: true }).uncheck();
  await page.getByLabel('Subscriptions limit', { exact: true }).fill('3');
  await page.getByLabel('Published', { exact: true }).check();
  await page.getByRole('button', { name: 'Add product', exact: true }).click();
  await page.getByRole('status').filter({ hasText: `Added product ${name}.` }).waitFor();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

/** Access control: Find a group, then its "Add group <name>" button. */
async function addGroupToProduct(product, group) {
  await openSubTab(page, 'Product', 'Access control');
  await page.getByLabel('Find a group', { exact: true }).fill(group.slice(0, 4).toLowerCase());
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await page.getByRole('list', { name: 'Groups without access' })
    .getByRole('button', { name: `Add group ${group}`, exact: true }).click();
  await page.getByRole('status').filter({ hasText: `${group} can now see ${product}.` }).waitFor();
}

/** The account page's "Products this account can see", as { product: granting groups }. */
async function visibleProducts(path) {
  await page.goto(path);
  const section = page.getByRole('region', { name: 'Products this account can see' });
  await section.waitFor();
  const seen = {};
  for (const row of await section.getByRole('row').all()) {
    const cells = await row.getByRole('cell').allTextContents();
    if (cells.length) seen[cells[0].trim()] = cells[1].split(',').map((g) => g.trim()).sort();
  }
  return seen;
}

test('granting by Add group and by ticking, shown on account pages, then revoked', async () => {
  await addProductByHand('Weather API');
  await addGroupToProduct('Weather API', 'Beta testers');
  const groups = page.getByRole('group', { name: 'Groups that can see this product' });
  assert.ok(await groups.getByLabel('Beta testers', { exact: true }).isChecked(),
    'Beta testers, given access, is not ticked');
  await groups.getByLabel('Developers (system)', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved access control: 1 group(s) given access, 0 removed.' }).waitFor();
  const granted = page.getByRole('region', { name: 'Groups with access' });
  assert.deepEqual((await granted.getByRole('link').allTextContents()).sort(), ['Beta testers', 'Developers']);
  await page.getByRole('region', { name: 'Who can see it' })
    .getByText('Every active developer (Developers has access).').waitFor();

  await addProductByHand('Maps API');
  await addGroupToProduct('Maps API', 'Beta testers');
  const viewers = page.getByRole('region', { name: 'Who can see it' })
    .getByRole('table', { name: 'Accounts that can see Maps API' });
  assert.deepEqual(await viewers.getByRole('link').allTextContents(), ['Ada Lovelace']);

  assert.deepEqual(await visibleProducts(adaPath), {
    'Weather API': ['Beta testers', 'Developers'],
    'Maps API': ['Beta testers'],
  });
  assert.deepEqual(await visibleProducts(alanPath), { 'Weather API': ['Developers'] });

  // Maps API was only Beta testers': removing that grant hides it from Ada.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Products' }).click();
  await page.getByRole('table', { name: 'Products' }).getByRole('link', { name: 'Maps API' }).click();
  await openSubTab(page, 'Product', 'Access control');
  await page.getByRole('button', { name: 'Remove Beta testers', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Beta testers can no longer see Maps API.' }).waitFor();
  await page.getByText('No group has access: only administrators see this product.').waitFor();

  assert.deepEqual(await visibleProducts(adaPath), { 'Weather API': ['Beta testers', 'Developers'] });
});
