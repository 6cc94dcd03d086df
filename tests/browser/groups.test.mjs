// Groups in the console (SPEC G1–G5): Add to group on the Users tab toggles
// membership, and Add group can pick initial members. Found by label and role.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { addGroup, addUser, launchBrowser, newPage, openSubTab, signIn, startPortal } from './harness.mjs';

let portal;
let browser;

const ADA = { email: 'ada@example.org', password: 'copper meadow lantern 31', firstName: 'Ada', lastName: 'Lovelace' };
const ALAN = { email: 'alan@example.org', password: 'enigma orchard kettle 12', firstName: 'Alan', lastName: 'Turing' };
const GRACE = { email: 'grace@example.org', password: 'quantum lagoon pebble 77', firstName: 'Grace', lastName: 'Hopper' };

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');
  for (const who of [ADA, ALAN, GRACE]) {
    await addUser(page, who);
    await page.getByRole('heading', { level: 1, name: `${who.firstName} ${who.lastName}` }).waitFor();
  }
  await page.context().close();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function signedIn() {
  const page = await newPage(browser, portal.baseUrl);
  await signIn(page);
  await page.waitForURL('**/admin');
  return page;
}

/** The Members sub-tab of a group, reached from the Groups tab. */
async function openMembers(page, group) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('table', { name: 'Groups' }).getByRole('link', { name: group, exact: true }).click();
  await openSubTab(page, 'Group', 'Members');
}

/** Names listed in the Members table, sorted (none when it shows no table). */
async function memberNames(page) {
  const section = page.getByRole('region', { name: 'Members', exact: true });
  await section.getByRole('status').waitFor();
  const names = await section.getByRole('table', { name: 'Members' }).getByRole('link').allTextContents();
  return names.sort();
}

/** Ticks the named accounts on the Users tab and presses Add to group. */
async function toggle(page, group, names) {
  await page.goto('/admin/users');
  for (const name of names) await page.getByLabel(`Select ${name}`, { exact: true }).check();
  await page.getByLabel('Group', { exact: true }).selectOption({ label: group });
  await page.getByRole('button', { name: 'Add to group', exact: true }).click();
}

test('Add to group on the Users tab adds ticked accounts, and removes them the second time', async () => {
  const page = await signedIn();
  await addGroup(page, { name: 'Beta testers', description: 'Early access' });

  await toggle(page, 'Beta testers', ['Ada Lovelace', 'Alan Turing']);
  await page.getByRole('status').filter({ hasText: 'Beta testers: added 2, removed 0.' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin/users');
  await openMembers(page, 'Beta testers');
  assert.deepEqual(await memberNames(page), ['Ada Lovelace', 'Alan Turing']);

  await toggle(page, 'Beta testers', ['Ada Lovelace', 'Alan Turing']);
  await page.getByRole('status').filter({ hasText: 'Beta testers: added 0, removed 2.' }).waitFor();
  await openMembers(page, 'Beta testers');
  assert.deepEqual(await memberNames(page), []);
  await page.getByText('No members.', { exact: true }).waitFor();
  await page.context().close();
});

test('Add group with initial members found by Find accounts', async () => {
  const page = await signedIn();
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('link', { name: 'Add group' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Navy');
  await page.getByLabel('Description', { exact: true }).fill('Compiler people');

  // Two searches: what was ticked after the first stays ticked.
  const found = page.getByRole('list', { name: 'Accounts found' });
  await page.getByLabel('Find accounts', { exact: true }).fill('hopper');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await found.getByLabel('Grace Hopper (grace@example.org)', { exact: true }).check();
  await page.getByLabel('Find accounts', { exact: true }).fill('turing');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await found.getByLabel('Alan Turing (alan@example.org)', { exact: true }).check();
  assert.equal(await found.getByLabel('Grace Hopper (grace@example.org)').count(), 0, 'the search "turing" lists Grace Hopper');
  assert.ok(await page.getByLabel('Grace Hopper (grace@example.org)', { exact: true }).isChecked(),
    'Grace Hopper, ticked before the second search, is no longer ticked');

  await page.getByRole('button', { name: 'Add group', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Added group Navy with 2 member(s).' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Navy', exact: true }).waitFor();
  await openSubTab(page, 'Group', 'Members');
  assert.deepEqual(await memberNames(page), ['Alan Turing', 'Grace Hopper']);
  await page.context().close();
});

test('Members page: find and add, remove one, remove selected', async () => {
  const page = await signedIn();
  await addGroup(page, { name: 'Analysts' });
  await openSubTab(page, 'Group', 'Members');

  await page.getByLabel('Find accounts', { exact: true }).fill('example.org');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  const found = page.getByRole('list', { name: 'Accounts found' });
  for (const who of [ADA, ALAN, GRACE]) {
    await found.getByLabel(`${who.firstName} ${who.lastName} (${who.email})`, { exact: true }).check();
  }
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Added 3 member(s).' }).waitFor();
  assert.deepEqual(await memberNames(page), ['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);

  await page.getByRole('button', { name: 'Remove Alan Turing', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Removed 1 member(s).' }).waitFor();
  assert.deepEqual(await memberNames(page), ['Ada Lovelace', 'Grace Hopper']);

  await page.getByLabel('Select Ada Lovelace', { exact: true }).check();
  await page.getByLabel('Select Grace Hopper', { exact: true }).check();
  await page.getByRole('button', { name: 'Remove selected', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Removed 2 member(s).' }).waitFor();
  assert.deepEqual(await memberNames(page), []);
  await page.context().close();
});
