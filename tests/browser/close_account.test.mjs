// Closing one's own account on the developer portal (SPEC U6 by its owner)
// and the console's Notifications page (SPEC R5) that chooses which
// administrators are told about it by email. With no SMTP_URL the portal
// writes each message to <DATA_DIR>/outbox/<id>.eml.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN, addProduct, addUser, assertAccessible, gatewayStatus, launchBrowser, mainText, newPage, portalSignIn, signIn,
  startPortal, submitForm, waitForEmail,
} from './harness.mjs';

let portal;
let browser;
let admin; // signed in to the console

const KATHERINE = { email: 'katherine@example.org', firstName: 'Katherine', lastName: 'Johnson', password: 'orbital chalk meadow 62' };
const CLOSED_EVENT = 'Someone closed their account';
const ADMIN_LABEL = `Portal Administrator (${ADMIN.email})`;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  admin = await newPage(browser, portal.baseUrl);
  await signIn(admin);
  await admin.waitForURL('**/admin');
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});




/** The text an element's aria-describedby points at. */
async function description(page, field) {
  const ids = (await field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  const texts = [];
  for (const id of ids) texts.push((await page.locator(`[id="${id}"]`).innerText()).trim());
  return texts.join(' ');
}

/** The Close your account page's one field. */
const confirmField = (page, label = 'Your current password') => page.getByRole('main').getByLabel(label, { exact: true });

test('an administrator chooses to be told when someone closes their account', async () => {
  await admin.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Notifications', exact: true }).click();
  await admin.waitForURL('**/admin/notifications');
  await admin.getByRole('heading', { level: 1, name: 'Notifications', exact: true }).waitFor();
  for (const legend of ['A subscription request waits for approval', 'Someone signed up', 'A message could not be sent', CLOSED_EVENT]) {
    const group = admin.getByRole('group', { name: legend, exact: true });
    assert.equal(await group.count(), 1, `no fieldset "${legend}"`);
    assert.equal(await group.getByLabel(ADMIN_LABEL, { exact: true }).count(), 1, `"${legend}" has no box for ${ADMIN_LABEL}`);
  }
  const box = admin.getByRole('group', { name: CLOSED_EVENT, exact: true }).getByLabel(ADMIN_LABEL, { exact: true });
  assert.equal(await box.getAttribute('name'), 'account_closed');
  await assertAccessible(admin, 'Notifications page');

  await box.check();
  const res = await submitForm(admin, 'Save');
  assert.equal(res.status(), 303, `Save answered HTTP ${res.status()}: ${await mainText(admin)}`);
  assert.equal(new URL(admin.url()).pathname, '/admin/notifications');
  await admin.getByRole('status').filter({ hasText: 'Saved who is notified by email.' }).waitFor();
  const saved = admin.getByRole('group', { name: CLOSED_EVENT, exact: true }).getByLabel(ADMIN_LABEL, { exact: true });
  assert.ok(await saved.isChecked(), 'the box is not ticked after saving');
  await assertAccessible(admin, 'Notifications page after saving');

  // Still ticked on a fresh load; the other events untouched.
  await admin.goto('/admin/notifications');
  assert.ok(await admin.getByRole('group', { name: CLOSED_EVENT, exact: true }).getByLabel(ADMIN_LABEL, { exact: true }).isChecked(),
    'the box is not ticked on reload');
  await admin.getByRole('link', { name: 'Notifications', exact: true }).and(admin.locator('[aria-current="page"]')).waitFor();
});

test('a developer closes their account; the administrator is told and the audit log shows it', async () => {
  // A product Developers can see, and an active account made in the console.
  await addProduct(admin, { name: 'Orbit Data', description: 'Trajectories.' });
  const productId = new URL(admin.url()).pathname.split('/')[3];
  await admin.goto(`/admin/products/${productId}/access`);
  await admin.getByRole('group', { name: 'Groups that can see this product' }).getByLabel('Developers (system)', { exact: true }).check();
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await admin.getByRole('status').filter({ hasText: 'Saved access control' }).waitFor();
  await addUser(admin, KATHERINE);
  await admin.getByRole('heading', { level: 1, name: `${KATHERINE.firstName} ${KATHERINE.lastName}` }).waitFor();

  // She signs in to the portal and subscribes, to a key the gateway accepts.
  const page = await newPage(browser, portal.baseUrl);
  const signedIn = await portalSignIn(page, KATHERINE);
  assert.equal(signedIn.status(), 303, `portal sign-in answered HTTP ${signedIn.status()}: ${await mainText(page)}`);
  await page.goto(`/products/${productId}`);
  await page.getByRole('region', { name: 'Subscribe' }).getByLabel('Subscription name', { exact: true }).fill('Launch app');
  const subscribed = await submitForm(page, 'Subscribe');
  assert.equal(subscribed.status(), 303, `Subscribe answered HTTP ${subscribed.status()}: ${await mainText(page)}`);
  await page.getByRole('link', { name: 'Show keys of Launch app', exact: true }).click();
  await page.locator('dl.keys').waitFor();
  const key = (await page.locator('dl.keys dt:text-is("Primary key") + dd code').innerText()).trim();
  assert.equal(await gatewayStatus(portal, key), 200, 'the gateway refuses the new key');

  const nav = page.getByRole('navigation', { name: 'Portal' });
  await nav.getByRole('link', { name: 'Profile', exact: true }).click();
  await page.waitForURL('**/profile');
  const section = page.getByRole('region', { name: 'Close your account' });
  await section.getByRole('heading', { level: 2, name: 'Close your account' }).waitFor();
  await section.getByRole('link', { name: 'Close your account…', exact: true }).click();
  await page.waitForURL('**/profile/close');
  await page.getByRole('heading', { level: 1, name: 'Close your account' }).waitFor();
  await page.getByRole('main').getByText(KATHERINE.email, { exact: true }).waitFor();
  await page.getByRole('main').getByText('This cannot be undone').waitFor();
  assert.equal(await confirmField(page).getAttribute('name'), 'confirm');
  assert.equal(await confirmField(page).getAttribute('type'), 'password');
  const button = page.getByRole('button', { name: 'Close my account', exact: true });
  assert.match(await button.getAttribute('class'), /\bdanger\b/);
  assert.equal(await page.getByRole('link', { name: 'Keep my account', exact: true }).getAttribute('href'), '/profile');
  await assertAccessible(page, 'Close your account page');

  // Keep my account goes back to the profile; then back to the form.
  await page.getByRole('link', { name: 'Keep my account', exact: true }).click();
  await page.waitForURL('**/profile');
  await page.getByRole('region', { name: 'Close your account' }).getByRole('link', { name: 'Close your account…', exact: true }).click();
  await page.waitForURL('**/profile/close');

  // A wrong password: the same page, an alert, the error beside the field.
  await confirmField(page).fill('not my password at all');
  const wrong = await submitForm(page, 'Close my account');
  assert.equal(wrong.status(), 422, `a wrong password answered HTTP ${wrong.status()}: ${await mainText(page)}`);
  await page.getByRole('heading', { level: 1, name: 'Close your account' }).waitFor();
  await page.getByRole('alert').filter({ hasText: 'Your account is not closed: please correct the field marked below.' }).waitFor();
  const invalid = confirmField(page).and(page.locator('[aria-invalid="true"]'));
  await invalid.waitFor();
  assert.equal(await description(page, invalid), 'This is not your current password.');
  await assertAccessible(page, 'Close your account page with an error');

  // Still open: the profile is still there.
  await page.goto('/profile');
  assert.equal(new URL(page.url()).pathname, '/profile', 'a wrong password signed the developer out');
  await page.goto('/profile/close');

  // The right password: closed, signed out, back on Products with a flash.
  await confirmField(page).fill(KATHERINE.password);
  const closed = await submitForm(page, 'Close my account');
  assert.equal(closed.status(), 303, `closing answered HTTP ${closed.status()}: ${await mainText(page)}`);
  assert.equal(page.url(), `${portal.baseUrl}/`);
  await page.getByRole('status').filter({ hasText: 'Your account is closed. Its subscriptions and keys no longer work.' }).waitFor();
  await page.getByRole('banner').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'Sign out still shows');
  await assertAccessible(page, 'Products after closing an account');
  assert.equal(await gatewayStatus(portal, key), 403, 'the gateway still accepts the closed account\'s key');

  await page.goto('/profile');
  assert.equal(new URL(page.url()).pathname, '/sign-in', `/profile after closing is at ${page.url()}`);
  const again = await portalSignIn(page, KATHERINE);
  assert.notEqual(again.status(), 303, 'the closed account could sign in again');
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  await page.getByRole('main').getByRole('alert').waitFor();
  await page.context().close();

  // The administrator's email, and its link to the audit log.
  const mail = await waitForEmail(portal, { to: ADMIN.email, linkPath: '/admin/audit' });
  assert.match(mail.subject, /closed their account/);
  assert.ok(mail.subject.startsWith(`${KATHERINE.email} closed their account on `), `subject: ${mail.subject}`);
  const link = new URL(mail.link);
  assert.equal(link.pathname, '/admin/audit');
  assert.equal(link.searchParams.get('account'), KATHERINE.email);
  const res = await admin.goto(mail.link);
  assert.equal(res.status(), 200, `GET ${mail.link}: ${await mainText(admin)}`);
  await admin.getByRole('heading', { level: 1 }).first().waitFor();
  await admin.locator('code.action').filter({ hasText: /^account\.closed$/ }).first().waitFor();
  assert.match(await mainText(admin), new RegExp(`${KATHERINE.email.replace(/\./g, '\\.')} closed their account`));
  await assertAccessible(admin, 'audit log of a closed account');

  // The message is one of the editable templates.
  await admin.goto('/admin/email/templates');
  await admin.getByRole('table', { name: 'Email templates' })
    .getByRole('link', { name: 'To administrators: an account was closed', exact: true }).waitFor();

  // Gone from the console's users.
  await admin.goto(`/admin/users?q=${encodeURIComponent('johnson')}`);
  assert.equal(await admin.getByRole('link', { name: 'Katherine Johnson', exact: true }).count(), 0, 'the closed account is still listed');
});

test('an administrator cannot close their own account from the portal', async () => {
  const page = await newPage(browser, portal.baseUrl);
  const signedIn = await portalSignIn(page, ADMIN);
  assert.equal(signedIn.status(), 303, `the administrator's portal sign-in answered HTTP ${signedIn.status()}: ${await mainText(page)}`);
  await page.goto('/profile/close');
  await page.getByRole('heading', { level: 1, name: 'Close your account' }).waitFor();
  await confirmField(page).fill(ADMIN.password);
  const res = await submitForm(page, 'Close my account');
  assert.equal(res.status(), 422, `closing the administrator's account answered HTTP ${res.status()}: ${await mainText(page)}`);
  await page.getByRole('alert').filter({ hasText: 'Your account is not closed' }).waitFor();
  const invalid = confirmField(page).and(page.locator('[aria-invalid="true"]'));
  await invalid.waitFor();
  assert.equal(await description(page, invalid), 'An administrator\'s account is closed in the console, by another administrator.');
  await assertAccessible(page, 'Close your account page refusing an administrator');

  // Still there: the console still lets the administrator in.
  await admin.goto('/admin');
  await admin.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();
  const again = await newPage(browser, portal.baseUrl);
  await signIn(again);
  await again.waitForURL('**/admin');
  await again.context().close();
  await page.context().close();
});
