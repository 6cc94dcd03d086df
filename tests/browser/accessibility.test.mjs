// axe-core on every console page, in each state a person can meet it in
// (empty, with errors, with results). Serious and critical findings fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addGroup, addProduct, addUser, assertAccessible, inviteUser, launchBrowser, mainText, newPage, signIn, startPortal,
  submitForm, waitForEmail,
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
  await page.waitForURL('**/admin');
  await addUser(page, { email: 'grace@example.org', password: 'quantum lagoon pebble 77', firstName: 'Grace', lastName: 'Hopper' });
  await page.getByRole('heading', { level: 1, name: 'Grace Hopper' }).waitFor();
  accountPath = new URL(page.url()).pathname;
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});


/** Loads a page and checks it, failing on error statuses axe would not notice. */
async function visit(path, what) {
  const res = await page.goto(path);
  assert.equal(res.status(), 200, `${what}: GET ${path}`);
  await assertAccessible(page, what);
}

test('sign-in page', async () => {
  const anon = await newPage(browser, portal.baseUrl);
  await anon.goto('/admin/sign-in');
  await assertAccessible(anon, 'sign-in page');
  await anon.context().close();
});

test('sign-in page with an error', async () => {
  const anon = await newPage(browser, portal.baseUrl);
  await signIn(anon, { email: 'admin@example.org', password: 'wrong password entirely' });
  await anon.getByRole('alert').waitFor();
  await assertAccessible(anon, 'sign-in page with an error');
  await anon.context().close();
});

test('console home', async () => {
  await visit('/admin', 'console home');
  await page.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();
});

test('users list', () => visit('/admin/users', 'users list'));

test('users list with a search', async () => {
  await page.goto('/admin/users');
  await page.getByLabel('Search', { exact: true }).fill('hopp');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/[?&]q=hopp/);
  await assertAccessible(page, 'users list with a search');
});

test('users list with no match', () => visit('/admin/users?q=nobody-at-all', 'users list with no match'));

test('add user form', () => visit('/admin/users/add', 'add user form'));

test('add user form with errors', async () => {
  await page.goto('/admin/users/add');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'add user form with errors');
});

test('account page', () => visit(accountPath, 'account page'));

test('account page with a password error', async () => {
  await page.goto(accountPath);
  await page.getByLabel('New password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Set password', exact: true }).click();
  await page.getByLabel('New password', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
  await assertAccessible(page, 'account page with a password error');
});

test('delete confirmation', () => visit(`${accountPath}/delete`, 'delete confirmation'));

test('groups tab', () => visit('/admin/groups', 'groups tab'));

test('products tab', () => visit('/admin/products', 'products tab'));

// ---- groups, Add to group, products, audit log ------------------------------
// Made on first use, after the checks above have seen the empty lists.
let made; // { groupPath, productPath }

async function fixtures() {
  if (made) return made;
  await addUser(page, { email: 'ada@example.org', password: 'copper meadow lantern 31', firstName: 'Ada', lastName: 'Lovelace' });
  await page.getByRole('heading', { level: 1, name: 'Ada Lovelace' }).waitFor();
  await addGroup(page, { name: 'Beta testers', description: 'Early access' });
  const groupPath = new URL(page.url()).pathname;
  await page.goto(`${groupPath}/members?find=hopper`);
  await page.getByLabel('Grace Hopper (grace@example.org)', { exact: true }).check();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Added 1 member(s).' }).waitFor();
  await addProduct(page, { name: 'Weather API', description: 'Forecasts' });
  const productPath = new URL(page.url()).pathname;
  await page.goto(`${productPath}/access?find=beta`);
  await page.getByRole('button', { name: 'Add group Beta testers', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Beta testers can now see Weather API.' }).waitFor();
  made = { groupPath, productPath };
  return made;
}

test('groups list with groups', async () => {
  await fixtures();
  await visit('/admin/groups', 'groups list with groups');
});

test('add group form', () => visit('/admin/groups/add', 'add group form'));

test('add group form with errors', async () => {
  await page.goto('/admin/groups/add');
  await page.getByRole('button', { name: 'Add group', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'add group form with errors');
});

test('add group form with found and picked accounts', async () => {
  await fixtures();
  await page.goto('/admin/groups/add');
  await page.getByLabel('Find accounts', { exact: true }).fill('hopper');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await page.getByLabel('Grace Hopper (grace@example.org)', { exact: true }).check();
  await page.getByLabel('Find accounts', { exact: true }).fill('example.org');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await page.getByRole('list', { name: 'Accounts found' }).waitFor();
  await assertAccessible(page, 'add group form with found and picked accounts');
});

test('custom group settings', async () => visit((await fixtures()).groupPath, 'custom group settings'));

test('custom group settings with an error', async () => {
  await page.goto((await fixtures()).groupPath);
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'custom group settings with an error');
});

test('system group settings', () => visit('/admin/groups/administrators', 'system group settings'));

test('custom group members with find results', async () => {
  const { groupPath } = await fixtures();
  await visit(`${groupPath}/members?find=lovelace`, 'custom group members with find results');
  assert.equal(await page.getByRole('list', { name: 'Accounts found' }).count(), 1, 'the find found nothing');
});

test('Developers members', () => visit('/admin/groups/developers/members', 'Developers members'));

test('Guests members', () => visit('/admin/groups/guests/members', 'Guests members'));

test('group delete confirmation', async () => visit(`${(await fixtures()).groupPath}/delete`, 'group delete confirmation'));

test('users list with every row selected', async () => {
  await fixtures();
  await visit('/admin/users?select=page', 'users list with every row selected');
});

test('Add to group confirmation', async () => {
  await fixtures();
  await page.goto('/admin/users');
  await page.getByLabel('Group', { exact: true }).selectOption({ label: 'Beta testers' });
  await page.getByRole('button', { name: /^Add to group: all/ }).click();
  await page.getByRole('button', { name: /^Apply to \d+ account\(s\)$/ }).waitFor();
  await assertAccessible(page, 'Add to group confirmation');
});

test('products list with products', async () => {
  await fixtures();
  await visit('/admin/products', 'products list with products');
});

test('add product form', () => visit('/admin/products/add', 'add product form'));

test('add product form with errors', async () => {
  await page.goto('/admin/products/add');
  await page.getByLabel('Subscriptions limit', { exact: true }).fill('lots');
  await page.getByRole('button', { name: 'Add product', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'add product form with errors');
});

test('product settings', async () => visit((await fixtures()).productPath, 'product settings'));

test('product access control', async () => visit(`${(await fixtures()).productPath}/access`, 'product access control'));

test('product access control with find results', async () => {
  const { productPath } = await fixtures();
  // System groups are always checkboxes there; the find offers custom groups not granted yet.
  await addGroup(page, { name: 'Sales partners', description: '' });
  await visit(`${productPath}/access?find=partners`, 'product access control with find results');
  assert.equal(await page.getByRole('list', { name: 'Groups without access' }).count(), 1, 'the find found nothing');
});

test('product delete confirmation', async () => visit(`${(await fixtures()).productPath}/delete`, 'product delete confirmation'));

test('account page with visible products', async () => {
  await fixtures();
  await visit(accountPath, 'account page with visible products');
  await page.getByRole('region', { name: 'Products this account can see' })
    .getByRole('cell', { name: 'Beta testers' }).waitFor();
});

test('audit log', async () => {
  await fixtures();
  await visit('/admin/audit', 'audit log');
});

test('audit log with filters', async () => {
  await fixtures();
  await page.goto('/admin/audit');
  await page.getByLabel('Group', { exact: true }).fill('Beta');
  await page.getByLabel('Kind of change', { exact: true }).selectOption({ label: 'Groups' });
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL(/[?&]change=group/);
  await assertAccessible(page, 'audit log with filters');
});

test('audit log of one group', async () => {
  const id = (await fixtures()).groupPath.split('/').pop();
  await visit(`/admin/audit?subject_kind=group&subject_id=${id}`, 'audit log of one group');
});

test('audit log with no match', () => visit('/admin/audit?account=nobody-at-all', 'audit log with no match'));

// ---- invitations, email links, the developer portal, email templates ----------

/** Loads a page in a fresh, signed-out context and checks it. */
async function visitAnon(path, what, status = 200) {
  const anon = await newPage(browser, portal.baseUrl);
  try {
    const res = await anon.goto(path);
    assert.equal(res.status(), status, `${what}: GET ${path}\n${await mainText(anon)}`);
    await assertAccessible(anon, what);
  } finally {
    await anon.context().close();
  }
}

let invitationLink; // made on first use

async function invitation() {
  if (invitationLink) return invitationLink;
  await inviteUser(page, { email: 'alan@example.org', firstName: 'Alan', lastName: 'Turing' });
  await page.waitForURL('**/admin/users/pending');
  invitationLink = (await waitForEmail(portal, { to: 'alan@example.org', linkPath: '/invitations/' })).link;
  return invitationLink;
}

test('pending view, empty', () => visit('/admin/users/pending', 'pending view, empty'));

test('invite user form', () => visit('/admin/users/invite', 'invite user form'));

test('invite user form with errors', async () => {
  await page.goto('/admin/users/invite');
  await page.getByRole('button', { name: 'Invite user', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'invite user form with errors');
});

test('invite user form with groups to pick', async () => {
  await fixtures();
  await visit('/admin/users/invite', 'invite user form with groups to pick');
  assert.equal(await page.getByRole('group', { name: /Groups to join/ }).count(), 1, 'no group checkboxes');
});

test('pending view with an invitation', async () => {
  await invitation();
  await visit('/admin/users/pending', 'pending view with an invitation');
});

test('console home with groups, a product and an invitation', async () => {
  await fixtures();
  await invitation();
  await visit('/admin', 'console home with groups, a product and an invitation');
  assert.match(await page.locator('#pending-invitations').innerText(), /\b1 pending invitation\b/);
});

test('accept invitation page', async () => visitAnon(await invitation(), 'accept invitation page'));

test('accept invitation page with a password error', async () => {
  const anon = await newPage(browser, portal.baseUrl);
  try {
    await anon.goto(await invitation());
    await anon.getByLabel('Password', { exact: true }).fill('short');
    await anon.getByLabel('Confirm password', { exact: true }).fill('short');
    const res = await submitForm(anon, 'Accept invitation');
    assert.equal(res.status(), 422, `Accept invitation answered HTTP ${res.status()}: ${await mainText(anon)}`);
    await anon.getByLabel('Password', { exact: true }).and(anon.locator('[aria-invalid="true"]')).waitFor();
    await assertAccessible(anon, 'accept invitation page with a password error');
  } finally {
    await anon.context().close();
  }
});

test('invalid link page', () => visitAnon('/invitations/short', 'invalid link page', 404));

test('reset password page', async () => {
  await page.goto(accountPath);
  await page.getByRole('button', { name: 'Reset password', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Sent a password reset link to grace@example.org.' }).waitFor();
  const mail = await waitForEmail(portal, { to: 'grace@example.org', linkPath: '/reset-password/' });
  await visitAnon(mail.link, 'reset password page');
});

test('developer portal home, signed out', () => visitAnon('/', 'developer portal home, signed out'));

test('email templates list', () => visit('/admin/email/templates', 'email templates list'));

test('email template edit', () => visit('/admin/email/templates/invitation', 'email template edit'));

test('email template edit with a preview', async () => {
  await page.goto('/admin/email/templates/invitation');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.getByRole('region', { name: 'Preview' }).waitFor();
  await assertAccessible(page, 'email template edit with a preview');
});

test('email template edit with an error', async () => {
  await page.goto('/admin/email/templates/invitation');
  await page.getByLabel('Subject', { exact: true }).fill('Hello {nope}');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'email template edit with an error');
});

test('restore confirmation of a default template', () =>
  visit('/admin/email/templates/invitation/restore', 'restore confirmation of a default template'));

test('restore confirmation of an edited template', async () => {
  await page.goto('/admin/email/templates/account_created');
  await page.getByLabel('Subject', { exact: true }).fill('Welcome to {portal_name}');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved the Account created template.' }).waitFor();
  await assertAccessible(page, 'edited email template after saving');
  await page.getByRole('link', { name: 'Restore default', exact: true }).click();
  await page.getByRole('button', { name: 'Restore default', exact: true }).waitFor();
  await assertAccessible(page, 'restore confirmation of an edited template');
});

test('email settings', () => visit('/admin/email/settings', 'email settings'));

test('email settings with errors', async () => {
  await page.goto('/admin/email/settings');
  await page.getByLabel('Sender address', { exact: true }).fill('not an address');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'email settings with errors');
});

test('notifications', async () => {
  await visit('/admin/notifications', 'notifications');
  assert.equal(await page.getByRole('group', { name: 'Someone closed their account', exact: true }).count(), 1, 'no fieldset for closed accounts');
});

test('notifications after saving', async () => {
  await page.goto('/admin/notifications');
  await page.getByRole('group', { name: 'Someone signed up', exact: true })
    .getByLabel('Portal Administrator (admin@example.org)', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved who is notified by email.' }).waitFor();
  await assertAccessible(page, 'notifications after saving');
});

test('email log', () => visit('/admin/email/log', 'email log'));

test('email log with no match', () => visit('/admin/email/log?state=failed', 'email log with no match'));
