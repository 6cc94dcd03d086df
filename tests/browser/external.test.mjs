// Sign in with an outside OpenID Connect provider (SPEC X1–X4, G7), seen by
// its two users: the administrator adds the provider in the console (Identity
// providers tab), registers its callback URL at the provider and tests the
// connection; a developer then signs in at the provider (tests/browser/idp,
// the certified oidc-provider), gets an account, and the provider's groups
// claim becomes external groups that grant products and follow the claim at
// each sign-in. Once with the groups in the ID token, once only in userinfo.
// axe on every new page of ours.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addProduct, describeViolations, launchBrowser, mainText, newPage, openSubTab, seriousViolations, signIn,
  startPortal, submitForm,
} from './harness.mjs';
import { addClient, setAccount, startIdp } from './idp/client.mjs';

const SECRET = 'partner-secret-7f3c9a'; // no spaces: the console refuses them
const ADA = { email: 'ada@partner.example', email_verified: true, name: 'Ada Lovelace' };
const GRACE = { email: 'grace@partner.example', email_verified: true, name: 'Grace Hopper' };

let portal;
let browser;
let idp; // groups in the ID token (and userinfo)
let idpUserinfo; // groups only in userinfo
let admin; // signed in to the console
let dev; // Ada's browser, on the portal
let directory; // { path, callback } of Partner Directory in the console

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  idp = await startIdp({ groupsIn: 'id_token' });
  idpUserinfo = await startIdp({ groupsIn: 'userinfo' });
  admin = await newPage(browser, portal.baseUrl);
  await signIn(admin);
  await admin.waitForURL('**/admin');
});

after(async () => {
  await browser?.close();
  await portal?.stop();
  await idp?.stop();
  await idpUserinfo?.stop();
});

async function assertAccessible(page, what) {
  const violations = await seriousViolations(page);
  assert.equal(violations.length, 0, `${what} (${page.url()}) has serious axe violations:\n${describeViolations(violations)}`);
}

async function consoleTab(name) {
  await admin.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
  await admin.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

/** Add identity provider filled as a person would; resolves on its page to { path, callback }. */
async function addProvider({ name, issuer }) {
  await consoleTab('Identity providers');
  await admin.getByRole('link', { name: 'Add identity provider', exact: true }).click();
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Issuer URL', { exact: true }).fill(issuer);
  await admin.getByLabel('Client ID', { exact: true }).fill('portal');
  await admin.getByLabel('Client secret', { exact: true }).fill(SECRET);
  await admin.getByLabel(/^Create accounts on first sign-in/).check();
  assert.ok(await admin.getByLabel('Offer it on the sign-in page', { exact: true }).isChecked(),
    'a new provider is not offered on the sign-in page by default');
  const added = await submitForm(admin, 'Add identity provider');
  assert.equal(added.status(), 303, `Add identity provider answered HTTP ${added.status()}: ${await mainText(admin)}`);
  await admin.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  await admin.getByRole('status').filter({ hasText: `Added identity provider ${name}.` }).waitFor();
  const callback = await admin.getByLabel('Callback URL (the redirect URI to register)', { exact: true }).inputValue();
  assert.ok(callback.startsWith(`${portal.baseUrl}/`), `the callback URL to register is ${callback}`);
  return { path: new URL(admin.url()).pathname, callback };
}

/**
 * After "Sign in with …": the provider's Login form if it asks (it remembers
 * its session, so a second sign-in may come straight back), then the portal,
 * signed in, with the person's name in the header.
 */
async function signInAtProvider(page, login, name) {
  const form = page.getByLabel('Login', { exact: true });
  const header = page.getByRole('banner');
  const signedIn = header.getByRole('button', { name: 'Sign out', exact: true });
  try {
    await form.or(signedIn).waitFor();
    if (await form.isVisible()) {
      await form.fill(login);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    }
    await signedIn.waitFor();
  } catch (err) {
    throw new Error(`${login} is not signed in to the portal; at ${page.url()}: "${await mainText(page)}"\n` +
      `${err.message}\nportal log:\n${portal.log()}`);
  }
  assert.equal(new URL(page.url()).origin, portal.baseUrl, `after the provider the browser is at ${page.url()}`);
  await header.getByText(name, { exact: true }).waitFor();
}

/** The portal's product list as the page's browser sees it. */
async function productNames(page) {
  await page.goto('/products');
  await page.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
  return page.locator('ul.products').getByRole('link').allTextContents();
}

/** The Groups tab's row of a group: { kind, members }. */
async function groupRow(name) {
  await consoleTab('Groups');
  const row = admin.getByRole('table', { name: 'Groups' }).getByRole('row')
    .filter({ has: admin.getByRole('link', { name, exact: true }) });
  const cells = (await row.getByRole('cell').allInnerTexts()).map((c) => c.trim());
  assert.equal(cells.length, 5, `no row for ${name} on the Groups tab: "${await mainText(admin)}"`);
  return { kind: cells[1], members: cells[2] };
}

test('the Identity providers tab, Add identity provider and its errors', async () => {
  await consoleTab('Identity providers');
  await admin.getByRole('status').filter({ hasText: 'No identity providers yet.' }).waitFor();
  await assertAccessible(admin, 'the empty Identity providers list');

  await admin.getByRole('link', { name: 'Add identity provider', exact: true }).click();
  await admin.getByRole('heading', { level: 1, name: 'Add identity provider' }).waitFor();
  assert.equal(await admin.getByLabel('Scopes', { exact: true }).inputValue(), 'openid email profile');
  assert.equal(await admin.getByLabel('Groups claim', { exact: true }).inputValue(), 'groups');
  await assertAccessible(admin, 'Add identity provider');

  // Sent empty: refused, and each missing field says so beside it.
  const refused = await submitForm(admin, 'Add identity provider');
  assert.equal(refused.status(), 422, `an empty Add identity provider answered HTTP ${refused.status()}`);
  await admin.getByRole('alert').filter({ hasText: 'Please correct the fields marked below.' }).waitFor();
  for (const label of ['Name', 'Issuer URL', 'Client ID', 'Client secret']) {
    const input = admin.getByLabel(label, { exact: true });
    assert.equal(await input.getAttribute('aria-invalid'), 'true', `${label} is not marked after an empty Add`);
    const error = admin.locator(`#${await input.getAttribute('aria-describedby')}`);
    assert.ok((await error.innerText()).trim(), `${label} has no error beside it`);
  }
  await assertAccessible(admin, 'Add identity provider with errors');
});

test('adding Partner Directory: callback URL, Test connection, the delete confirmation', async () => {
  directory = await addProvider({ name: 'Partner Directory', issuer: idp.issuer });
  // The administrator registers the callback at the provider, as its docs would say.
  await addClient(idp, { client_id: 'portal', client_secret: SECRET, redirect_uris: [directory.callback] });

  const tested = await submitForm(admin, 'Test connection');
  assert.ok(tested.status() < 400, `Test connection answered HTTP ${tested.status()}`);
  const answer = admin.getByRole('status').filter({ hasText: 'The provider answered.' });
  await answer.waitFor().catch(async () => {
    throw new Error(`no "The provider answered.": "${await mainText(admin)}"\nportal log:\n${portal.log()}`);
  });
  await answer.getByText('RS256').waitFor();
  await assertAccessible(admin, 'the provider page with the test result');

  await admin.getByRole('link', { name: 'Delete', exact: true }).click();
  await admin.getByRole('heading', { level: 1, name: 'Delete Partner Directory?' }).waitFor();
  await admin.getByRole('button', { name: 'Delete', exact: true }).waitFor();
  await assertAccessible(admin, 'the delete confirmation');
  await admin.getByRole('link', { name: 'Cancel', exact: true }).click();
  await admin.waitForURL(`**${directory.path}`);
  await admin.getByRole('heading', { level: 1, name: 'Partner Directory', exact: true }).waitFor();
});

test('a developer signs in with Partner Directory; its groups become external groups', async () => {
  await setAccount(idp, 'ada', { ...ADA, groups: ['team-a', 'team-b'] });
  dev = await newPage(browser, portal.baseUrl); // another browser: no console session
  await dev.goto('/sign-in');
  const offer = dev.getByRole('link', { name: 'Sign in with Partner Directory', exact: true });
  await offer.waitFor();
  await assertAccessible(dev, 'the sign-in page offering a provider');
  await offer.click();
  await dev.getByLabel('Login', { exact: true }).waitFor(); // the first time the provider asks
  await signInAtProvider(dev, 'ada', ADA.name);

  for (const name of ['team-a', 'team-b']) {
    assert.deepEqual(await groupRow(name), { kind: 'External (Partner Directory)', members: '1' }, `${name} on the Groups tab`);
  }
});

test('an external group grants a product, until the claim drops it', async () => {
  await addProduct(admin, { name: 'Partner API', description: 'For our partners.' });
  assert.ok(!(await productNames(dev)).includes('Partner API'), 'Ada sees Partner API before any grant');

  // Granted as any group is, on the product's Access control page.
  await openSubTab(admin, 'Product', 'Access control');
  await admin.getByLabel('Find a group', { exact: true }).fill('team');
  await admin.getByRole('button', { name: 'Find', exact: true }).click();
  await admin.getByRole('list', { name: 'Groups without access' })
    .getByRole('button', { name: 'Add group team-a', exact: true }).click();
  await admin.getByRole('status').filter({ hasText: 'team-a can now see Partner API.' }).waitFor();
  assert.ok((await productNames(dev)).includes('Partner API'), 'Ada, in team-a, does not see Partner API');

  // The provider takes Ada out of team-a; the portal learns it at her next sign-in.
  await setAccount(idp, 'ada', { ...ADA, groups: ['team-b'] });
  await dev.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
  await dev.getByRole('banner').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  await dev.goto('/sign-in');
  await dev.getByRole('link', { name: 'Sign in with Partner Directory', exact: true }).click();
  await signInAtProvider(dev, 'ada', ADA.name);
  const seen = await productNames(dev);
  assert.ok(!seen.includes('Partner API'), `Ada, out of team-a, still sees Partner API (${seen.join(', ')})`);
  assert.equal((await groupRow('team-a')).members, '0', 'team-a still has a member');
  assert.equal((await groupRow('team-b')).members, '1', 'team-b lost its member');

  // The console's account page shows the link to the provider.
  await consoleTab('Users');
  await admin.getByLabel('Search', { exact: true }).fill('ada@partner.example');
  await admin.getByRole('button', { name: 'Search', exact: true }).click();
  await admin.getByRole('link', { name: ADA.name, exact: true }).click();
  await admin.getByRole('heading', { level: 1, name: ADA.name }).waitFor();
  const linked = admin.getByRole('region', { name: 'Linked identities' });
  await linked.getByRole('link', { name: 'Partner Directory', exact: true }).waitFor();
  await linked.getByRole('button', { name: 'Unlink Partner Directory identity ada', exact: true }).waitFor();
  const products = admin.getByRole('region', { name: 'Products this account can see' });
  assert.ok(!(await products.innerText()).includes('Partner API'), 'the account page lists Partner API for Ada');
  await assertAccessible(admin, 'the account page with a linked identity');
});

test('groups only in userinfo: a second provider, another developer', async () => {
  const userinfo = await addProvider({ name: 'Partner Userinfo', issuer: idpUserinfo.issuer });
  await addClient(idpUserinfo, { client_id: 'portal', client_secret: SECRET, redirect_uris: [userinfo.callback] });
  await setAccount(idpUserinfo, 'grace', { ...GRACE, groups: ['team-c'] });

  const page = await newPage(browser, portal.baseUrl);
  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'Sign in with Partner Directory', exact: true }).waitFor();
  await page.getByRole('link', { name: 'Sign in with Partner Userinfo', exact: true }).click();
  await signInAtProvider(page, 'grace', GRACE.name);
  assert.deepEqual(await groupRow('team-c'), { kind: 'External (Partner Userinfo)', members: '1' }, 'team-c on the Groups tab');
  await page.context().close();
});
