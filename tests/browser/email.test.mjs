// Invitations by email and the Email templates tab (SPEC U4, E1, E2). With no
// SMTP_URL the portal writes each message to <DATA_DIR>/outbox/<id>.eml; the
// tests read the link and subject from there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  inviteUser, launchBrowser, mainText, newPage, signIn, startPortal, submitForm, waitForEmail,
} from './harness.mjs';

let portal;
let browser;

const ADA = { email: 'ada@example.org', firstName: 'Ada', lastName: 'Lovelace', password: 'copper meadow lantern 31' };
const GRACE = { email: 'grace@example.org', firstName: 'Grace', lastName: 'Hopper' };
const ALAN = { email: 'alan@example.org', firstName: 'Alan', lastName: 'Turing' };

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
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

const pendingTable = (page) => page.getByRole('table', { name: 'Open invitations' });

/** The subject field of a template, as the edit page shows it. */
const subjectField = (page) => page.getByLabel('Subject', { exact: true });

test('an invitee follows the emailed link, chooses a password and is signed in', async () => {
  const admin = await signedIn();
  await admin.goto('/admin/users'); // signing in lands on the console home
  await admin.getByRole('link', { name: 'Invite user', exact: true }).click();
  await admin.getByRole('heading', { level: 1, name: 'Invite user' }).waitFor();
  await inviteUser(admin, ADA);
  await admin.waitForURL('**/admin/users/pending');
  await admin.getByRole('status').filter({ hasText: `Sent an invitation to ${ADA.email}.` }).waitFor();
  const row = pendingTable(admin).getByRole('row').filter({ hasText: ADA.email });
  await row.getByRole('cell', { name: 'Ada Lovelace', exact: true }).waitFor();
  await row.getByRole('button', { name: `Resend the invitation to ${ADA.email}` }).waitFor();
  await row.getByRole('button', { name: `Cancel the invitation to ${ADA.email}` }).waitFor();

  const mail = await waitForEmail(portal, { to: ADA.email, linkPath: '/invitations/' });
  const invitee = await newPage(browser, portal.baseUrl);
  await invitee.goto(mail.link);
  await invitee.getByRole('heading', { level: 1, name: 'Welcome, Ada Lovelace' }).waitFor();
  await invitee.getByText(ADA.email, { exact: true }).waitFor();
  await invitee.getByLabel('Password', { exact: true }).fill(ADA.password);
  await invitee.getByLabel('Confirm password', { exact: true }).fill(ADA.password);
  const accepted = await submitForm(invitee, 'Accept invitation');
  assert.equal(accepted.status(), 303, `Accept invitation answered HTTP ${accepted.status()}: ${await mainText(invitee)}`);
  assert.equal(invitee.url(), `${portal.baseUrl}/`);
  await invitee.getByRole('status').filter({ hasText: 'Your account is ready and you are signed in.' }).waitFor();
  await invitee.getByRole('button', { name: 'Sign out' }).waitFor();
  await invitee.locator('.who').getByText('Ada Lovelace', { exact: true }).waitFor();

  // The link works once.
  const again = await invitee.goto(mail.link);
  assert.equal(again.status(), 410);
  await invitee.getByRole('heading', { level: 1, name: 'This link has already been used' }).waitFor();
  await invitee.context().close();

  await admin.goto('/admin/users');
  await admin.getByRole('link', { name: 'Ada Lovelace', exact: true }).waitFor();
  await admin.getByRole('link', { name: 'Pending', exact: true }).click();
  await admin.waitForURL('**/admin/users/pending');
  await admin.getByText('No open invitations.', { exact: true }).waitFor();
  assert.equal(await pendingTable(admin).count(), 0, 'the Pending view still lists an invitation');
  await admin.context().close();
});

test('an edited invitation subject is previewed, saved, sent, and restored', async () => {
  const page = await signedIn();
  await page.goto('/admin/email/settings');
  const portalName = await page.getByLabel('Portal name', { exact: true }).inputValue();

  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Email templates' }).click();
  await page.getByRole('table', { name: 'Email templates' }).getByRole('link', { name: 'Invitation', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Invitation', exact: true }).waitFor();
  const original = await subjectField(page).inputValue();
  assert.match(original, /\{portal_name\}/);

  await subjectField(page).fill('Come and join {portal_name}');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  const preview = page.getByRole('region', { name: 'Preview' });
  await preview.getByRole('definition').filter({ hasText: `Come and join ${portalName}` }).waitFor();
  assert.equal(await subjectField(page).inputValue(), 'Come and join {portal_name}', 'Preview lost the edited subject');

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved the Invitation template.' }).waitFor();
  assert.equal(await subjectField(page).inputValue(), 'Come and join {portal_name}');

  await inviteUser(page, GRACE);
  await page.waitForURL('**/admin/users/pending');
  const edited = await waitForEmail(portal, { to: GRACE.email, linkPath: '/invitations/' });
  assert.equal(edited.subject, `Come and join ${portalName}`);

  await page.goto('/admin/email/templates/invitation');
  await page.getByRole('link', { name: 'Restore default', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Restore the default Invitation template?' }).waitFor();
  await page.getByRole('button', { name: 'Restore default', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Restored the default Invitation template.' }).waitFor();
  assert.equal(await subjectField(page).inputValue(), original);
  assert.equal(await page.getByRole('link', { name: 'Restore default' }).count(), 0, 'the default still offers Restore default');

  await inviteUser(page, ALAN);
  await page.waitForURL('**/admin/users/pending');
  const restored = await waitForEmail(portal, { to: ALAN.email, linkPath: '/invitations/' });
  assert.equal(restored.subject, original.replace('{portal_name}', portalName));

  // Leave no open invitations behind.
  for (const who of [GRACE, ALAN]) {
    await page.getByRole('button', { name: `Cancel the invitation to ${who.email}` }).click();
    await page.getByRole('status').filter({ hasText: `Cancelled the invitation to ${who.email}.` }).waitFor();
  }
  await page.context().close();
});
