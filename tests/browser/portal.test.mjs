// The developer portal as developers and visitors meet it: signing up by
// email to a key the gateway accepts, what anonymous visitors may see, axe
// on every portal page (and the console's subscription pages), and a
// blocked developer being signed out at their next page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addProduct, addUser, assertAccessible, gatewayStatus, launchBrowser, mainText, newPage, portalSignIn, signIn,
  startPortal, submitForm, waitForEmail,
} from './harness.mjs';

let portal;
let browser;
let admin; // signed in to the console

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

// ---- helpers -------------------------------------------------------------------

/** The product id the console shows a product under, from its page's URL. */
const idFromUrl = (page) => new URL(page.url()).pathname.split('/')[3];

/**
 * Adds a product in the console (published unless told, Subscription
 * required as the form has it, optionally Approval required, Terms of use
 * and Subscriptions limit) and ticks the given system groups
 * ('Developers', 'Guests') on its Access control tab. Resolves to its id.
 */
async function addProductFor(name, groups, { published = true, approval = false, terms = '', limit = '' } = {}) {
  if (!approval && !terms && !limit) {
    await addProduct(admin, { name, description: `${name}, described.`, published });
  } else {
    await admin.goto('/admin/products/add');
    await admin.getByLabel('Name', { exact: true }).fill(name);
    await admin.getByLabel('Description', { exact: true }).fill(`${name}, described.`);
    await admin.getByLabel('Terms of use', { exact: true }).fill(terms);
    await admin.getByLabel('Approval required', { exact: true }).setChecked(approval);
    await admin.getByLabel('Subscriptions limit', { exact: true }).fill(limit);
    await admin.getByLabel('Published', { exact: true }).setChecked(published);
    await admin.getByRole('button', { name: 'Add product', exact: true }).click();
    await admin.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  }
  const id = idFromUrl(admin);
  if (groups.length) {
    await admin.goto(`/admin/products/${id}/access`);
    const fieldset = admin.getByRole('group', { name: 'Groups that can see this product' });
    for (const g of groups) await fieldset.getByLabel(`${g} (system)`, { exact: true }).check();
    await admin.getByRole('button', { name: 'Save', exact: true }).click();
    await admin.getByRole('status').filter({ hasText: `Saved access control: ${groups.length} group(s) given access` }).waitFor();
  }
  return id;
}

/** Adds an active account in the console; resolves to its console path. */
async function addDeveloper(person) {
  await addUser(admin, person);
  await admin.getByRole('heading', { level: 1, name: `${person.firstName} ${person.lastName}` }).waitFor();
  return new URL(admin.url()).pathname;
}

/** Fills and submits the portal's Sign up form; resolves to the POST's response. */
async function signUp(page, { email, firstName, lastName, password }) {
  await page.goto('/sign-up');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('First name', { exact: true }).fill(firstName);
  await page.getByLabel('Last name', { exact: true }).fill(lastName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  return submitForm(page, 'Sign up');
}


/** A fresh context signed in to the portal as `person`. */
async function portalPage(person) {
  const page = await newPage(browser, portal.baseUrl);
  const res = await portalSignIn(page, person);
  assert.equal(res.status(), 303, `portal sign-in answered HTTP ${res.status()}: ${await mainText(page)}`);
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'My subscriptions' }).waitFor();
  return page;
}

/** Subscribes from the product's page; the app then shows My subscriptions. */
async function subscribe(page, productId, name) {
  await page.goto(`/products/${productId}`);
  const section = page.getByRole('region', { name: 'Subscribe' });
  await section.getByLabel('Subscription name', { exact: true }).fill(name);
  const res = await submitForm(page, 'Subscribe');
  assert.equal(res.status(), 303, `Subscribe answered HTTP ${res.status()}: ${await mainText(page)}`);
  await page.waitForURL('**/subscriptions#s-*');
}

/** My subscriptions' section of the subscription named `name`. */
const subscriptionSection = (page, name) => page.locator('section.subscription')
  .filter({ has: page.getByRole('heading', { level: 2, name, exact: true }) });



/** Loads a page in `p` and checks it, failing on a status axe would not notice. */
async function visit(p, path, what, status = 200) {
  const res = await p.goto(path);
  assert.equal(res.status(), status, `${what}: GET ${path}\n${await mainText(p)}`);
  await assertAccessible(p, what);
}

// One signed-out page for the anonymous audits: a fresh context per page
// would cost a new renderer (and axe's warm-up) each time. It never signs in.
let anonPage;
async function anon() {
  anonPage ??= await newPage(browser, portal.baseUrl);
  anonPage.consoleErrors.splice(0); // whatever an earlier, failed test left
  return anonPage;
}

/** Loads a page signed out and checks it. */
async function visitAnon(path, what, status = 200) {
  await visit(await anon(), path, what, status);
}

// ---- shared fixtures, made on first use -------------------------------------------

// The only product any test here grants to Guests, so the anonymous list is
// known whichever tests run.
let guestProductId;
async function guestProduct() {
  guestProductId ??= await addProductFor('Guest Maps', ['Guests'], { terms: 'Attribute the map data.' });
  return guestProductId;
}

// ---- 1. sign-up to a working key ----------------------------------------------------

test('a developer goes from sign-up to a working key', async () => {
  const productId = await addProductFor('Open Weather', ['Developers'], { terms: 'No more than 10 calls a second.' });
  assert.equal(productId, 'open-weather');
  const ada = { email: 'ada@example.org', firstName: 'Ada', lastName: 'Lovelace', password: 'copper meadow lantern 31' };

  const page = await newPage(browser, portal.baseUrl);
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Portal' }).waitFor();
  await page.getByRole('link', { name: 'Sign up', exact: true }).first().click();
  await page.waitForURL('**/sign-up');
  const signedUp = await signUp(page, ada);
  assert.equal(signedUp.status(), 200, `Sign up answered HTTP ${signedUp.status()}: ${await mainText(page)}`);
  await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
  await page.getByRole('status').filter({ hasText: ada.email }).waitFor();

  // Not active yet: signing in is refused with a pointer to the email.
  const early = await portalSignIn(page, ada);
  assert.equal(early.status(), 403, `sign-in before confirming answered HTTP ${early.status()}`);
  await page.getByRole('main').getByRole('alert').filter({ hasText: 'confirmation email' }).waitFor();

  const mail = await waitForEmail(portal, { to: ada.email, linkPath: '/confirm/' });
  assert.match(mail.subject, /^Confirm your email address for /);
  await page.goto(mail.link);
  await page.getByRole('heading', { level: 1, name: 'Confirm your email address' }).waitFor();
  const confirmed = await submitForm(page, 'Confirm email address');
  assert.equal(confirmed.status(), 303, `Confirm answered HTTP ${confirmed.status()}: ${await mainText(page)}`);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  await page.getByRole('status').filter({ hasText: 'confirmed' }).waitFor();
  const reused = await page.goto(mail.link);
  assert.equal(reused.status(), 410, 'the confirmation link works twice');
  await page.goto('/sign-in');

  const signedIn = await portalSignIn(page, ada);
  assert.equal(signedIn.status(), 303, `sign-in answered HTTP ${signedIn.status()}: ${await mainText(page)}`);
  assert.equal(page.url(), `${portal.baseUrl}/`);
  const nav = page.getByRole('navigation', { name: 'Portal' });
  await nav.getByRole('link', { name: 'My subscriptions', exact: true }).waitFor();
  await nav.getByRole('link', { name: 'Profile', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();

  await page.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
  await page.locator('ul.products').getByRole('link', { name: 'Open Weather', exact: true }).click();
  await page.waitForURL('**/products/open-weather');
  await page.getByRole('heading', { level: 1, name: 'Open Weather' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'About' }).waitFor();
  await page.getByRole('region', { name: 'Terms of use' }).getByText('No more than 10 calls a second.').waitFor();
  await page.getByLabel('Subscription name', { exact: true }).fill('Ada’s weather app');
  const subscribed = await submitForm(page, 'Subscribe');
  assert.equal(subscribed.status(), 303, `Subscribe answered HTTP ${subscribed.status()}: ${await mainText(page)}`);
  await page.waitForURL('**/subscriptions#s-*');
  await page.getByRole('status').filter({ hasText: 'You are subscribed to Open Weather.' }).waitFor();

  const section = subscriptionSection(page, 'Ada’s weather app');
  await section.getByText('Active', { exact: true }).waitFor();
  assert.equal(await section.locator('dl.keys').count(), 0, 'the keys show before Show keys is followed');
  assert.equal(await section.locator('code').count(), 0, 'a key shows before Show keys is followed');

  await section.getByRole('link', { name: 'Show keys of Ada’s weather app', exact: true }).click();
  await page.waitForURL(/[?&]show=/);
  const keys = section.locator('dl.keys');
  await keys.waitFor();
  const primary = (await keys.locator('dt:text-is("Primary key") + dd code').innerText()).trim();
  const secondary = (await keys.locator('dt:text-is("Secondary key") + dd code').innerText()).trim();
  assert.ok(primary.length >= 16, `primary key looks too short: ${JSON.stringify(primary)}`);
  assert.notEqual(primary, secondary);

  // Hidden again on a plain load, even in the page source.
  await page.goto('/subscriptions');
  assert.ok(!(await page.content()).includes(primary), 'the primary key is in the page without ?show=');

  assert.equal(await gatewayStatus(portal, primary), 200, 'the gateway refuses the primary key');
  assert.equal(await gatewayStatus(portal, secondary), 200, 'the gateway refuses the secondary key');
  const madeUp = primary.slice(0, -4) + (primary.endsWith('0000') ? '1111' : '0000');
  assert.equal(await gatewayStatus(portal, madeUp), 403, 'the gateway accepts a made-up key');
  assert.equal(await gatewayStatus(portal, ''), 401, 'the gateway answers an empty key with other than 401');
  assert.equal(await gatewayStatus(portal, undefined), 401, 'the gateway answers no key with other than 401');
  await page.context().close();
});

// ---- 2. what anonymous visitors see ------------------------------------------------

test('an anonymous visitor sees only Guests products', async () => {
  const guests = await guestProduct();
  const developersOnly = await addProductFor('Partner Geocoding', ['Developers']);
  const nobody = await addProductFor('Internal Billing', []);
  const unpublished = await addProductFor('Draft Traffic', ['Guests'], { published: false });

  const anon = await newPage(browser, portal.baseUrl);
  for (const path of ['/', '/products']) {
    const res = await anon.goto(path);
    assert.equal(res.status(), 200, `GET ${path}`);
    await anon.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
    const cards = anon.locator('ul.products > li');
    assert.deepEqual(await cards.getByRole('heading', { level: 2 }).allInnerTexts(), ['Guest Maps'], `${path} lists other products`);
    assert.equal(await cards.getByRole('link').getAttribute('href'), `/products/${guests}`);
  }
  const nav = anon.getByRole('navigation', { name: 'Portal' });
  assert.equal(await nav.getByRole('link', { name: 'My subscriptions' }).count(), 0, 'My subscriptions shows signed out');
  await anon.getByRole('banner').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  await anon.getByRole('banner').getByRole('link', { name: 'Sign up', exact: true }).waitFor();

  const shown = await anon.goto(`/products/${guests}`);
  assert.equal(shown.status(), 200);
  await anon.getByRole('heading', { level: 1, name: 'Guest Maps' }).waitFor();
  const subscribeSection = anon.getByRole('region', { name: 'Subscribe' });
  await subscribeSection.getByText('to subscribe.').waitFor();
  assert.match(await subscribeSection.innerText(), /Sign in or sign up to subscribe/);
  await subscribeSection.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  await subscribeSection.getByRole('link', { name: 'sign up', exact: true }).waitFor();
  assert.equal(await anon.getByRole('button', { name: 'Subscribe' }).count(), 0, 'anonymous visitors get a Subscribe button');

  for (const id of [developersOnly, nobody, unpublished]) {
    const res = await anon.goto(`/products/${id}`);
    assert.equal(res.status(), 404, `an anonymous GET /products/${id} answered ${res.status()}: ${await mainText(anon)}`);
    assert.ok(!(await anon.content()).includes('described.'), `the 404 for ${id} tells of the product`);
  }
  await anon.context().close();
});

// ---- 3. axe on every portal page ------------------------------------------------

test('axe: products, signed out', async () => {
  await guestProduct();
  await visitAnon('/', 'products, signed out');
});

test('axe: a product page, signed out', async () => visitAnon(`/products/${await guestProduct()}`, 'a product page, signed out'));

test('axe: the not-found page of a product', () => visitAnon('/products/no-such-product', 'product not found', 404));

test('axe: sign-in page', () => visitAnon('/sign-in', 'sign-in page'));

test('axe: sign-in page with an error', async () => {
  const page = await anon();
  const res = await portalSignIn(page, { email: 'nobody@example.org', password: 'not the password at all' });
  assert.equal(res.status(), 401);
  await page.getByRole('main').getByRole('alert').waitFor();
  await assertAccessible(page, 'sign-in page with an error');
});

test('axe: an invalid emailed link', () => visitAnon('/confirm/not-a-token', 'an invalid emailed link', 404));

test('axe: sign-up page', () => visitAnon('/sign-up', 'sign-up page'));

test('axe: sign-up page with errors', async () => {
  const page = await anon();
  await page.goto('/sign-up');
  await page.getByLabel('Email', { exact: true }).fill('not an address');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Confirm password', { exact: true }).fill('different');
  const res = await submitForm(page, 'Sign up');
  assert.equal(res.status(), 422, `Sign up answered HTTP ${res.status()}`);
  await page.getByLabel('Email', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
  await assertAccessible(page, 'sign-up page with errors');
});

test('axe: forgot-password page', () => visitAnon('/forgot-password', 'forgot-password page'));

test('axe: forgot-password page with an error', async () => {
  const page = await anon();
  await page.goto('/forgot-password');
  await page.getByLabel('Email', { exact: true }).fill('not an address');
  const res = await submitForm(page, 'Send reset link');
  assert.equal(res.status(), 422);
  await page.getByLabel('Email', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
  await assertAccessible(page, 'forgot-password page with an error');
});

test('axe: resend-confirmation page', () => visitAnon('/sign-up/resend', 'resend-confirmation page'));

test('axe: "Check your email" after signing up', async () => {
  const page = await anon();
  const res = await signUp(page, { email: 'mary@example.org', firstName: 'Mary', lastName: 'Jackson', password: 'granite willow sparrow 58' });
  assert.equal(res.status(), 200, `Sign up answered HTTP ${res.status()}: ${await mainText(page)}`);
  await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
  await assertAccessible(page, '"Check your email" after signing up');
});

test('axe: "Check your email" after asking for a reset link', async () => {
  const page = await anon();
  await page.goto('/forgot-password');
  await page.getByLabel('Email', { exact: true }).fill('someone@example.org');
  await submitForm(page, 'Send reset link');
  await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
  await assertAccessible(page, '"Check your email" after asking for a reset link');
});

test('axe: confirm page', async () => {
  const page = await anon();
  const person = { email: 'annie@example.org', firstName: 'Annie', lastName: 'Easley', password: 'saffron glacier tunnel 64' };
  const res = await signUp(page, person);
  assert.equal(res.status(), 200, `Sign up answered HTTP ${res.status()}: ${await mainText(page)}`);
  const mail = await waitForEmail(portal, { to: person.email, linkPath: '/confirm/' });
  await visit(page, mail.link, 'confirm page');
  await page.getByRole('button', { name: 'Confirm email address', exact: true }).waitFor();
});

// A developer (added in the console) with one active subscription and one
// waiting for approval, signed in to the portal.
let dev;
async function developer() {
  if (dev) { dev.page.consoleErrors.splice(0); return dev; }
  await guestProduct();
  const forecasts = await addProductFor('Axe Forecasts', ['Developers'], { terms: 'Cache for an hour.', limit: '1' });
  const approvals = await addProductFor('Axe Approvals', ['Developers'], { approval: true, terms: 'Tell us what you build.' });
  const person = { email: 'katherine@example.org', firstName: 'Katherine', lastName: 'Johnson', password: 'orbital chalk meadow 62' };
  const accountPath = await addDeveloper(person);
  const page = await portalPage(person);
  await subscribe(page, forecasts, 'Trajectory app');
  await subscribe(page, approvals, 'Review app');
  await subscriptionSection(page, 'Review app').getByText('Waiting for approval', { exact: true }).waitFor();
  page.consoleErrors.splice(0);
  dev = { page, person, forecasts, approvals, accountPath };
  return dev;
}

test('axe: products, signed in', async () => {
  const { page } = await developer();
  await visit(page, '/', 'products, signed in');
  assert.ok((await page.locator('ul.products h2').allInnerTexts()).includes('Axe Forecasts'), 'Axe Forecasts is not listed');
});

test('axe: a product page with the subscribe form', async () => {
  const { page, forecasts } = await developer();
  await visit(page, `/products/${forecasts}`, 'a product page with the subscribe form');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).waitFor();
});

test('axe: a product page with a subscribe error', async () => {
  const { page, forecasts } = await developer();
  await page.goto(`/products/${forecasts}`);
  await page.getByLabel('Subscription name', { exact: true }).fill('One too many');
  const res = await submitForm(page, 'Subscribe');
  assert.equal(res.status(), 409, `a second subscription past the limit of 1 answered HTTP ${res.status()}`);
  // The limit is about subscribing, not about the name: a form-level alert, the field left valid.
  await page.getByRole('alert').filter({ hasText: 'it allows one per developer' }).waitFor();
  assert.equal(await page.locator('#name[aria-invalid="true"]').count(), 0);
  assert.equal(await page.getByLabel('Subscription name', { exact: true }).inputValue(), 'One too many');
  await assertAccessible(page, 'a product page with a subscribe error');
});

test('axe: a product page that needs approval', async () => {
  const { page, approvals } = await developer();
  await visit(page, `/products/${approvals}`, 'a product page that needs approval');
});

test('axe: my subscriptions, keys hidden', async () => {
  const { page } = await developer();
  await visit(page, '/subscriptions', 'my subscriptions, keys hidden');
  assert.equal(await page.locator('dl.keys').count(), 0);
});

test('axe: my subscriptions, keys shown', async () => {
  const { page } = await developer();
  await page.goto('/subscriptions');
  await page.getByRole('link', { name: 'Show keys of Trajectory app', exact: true }).click();
  await page.locator('dl.keys').waitFor();
  await assertAccessible(page, 'my subscriptions, keys shown');
});

test('axe: my subscriptions after regenerating a key', async () => {
  const { page } = await developer();
  await page.goto('/subscriptions');
  await page.getByRole('link', { name: 'Show keys of Trajectory app', exact: true }).click();
  await submitForm(page, 'Regenerate secondary key');
  await page.getByRole('status').filter({ hasText: 'The old one no longer works.' }).waitFor();
  await assertAccessible(page, 'my subscriptions after regenerating a key');
});

test('axe: profile', async () => visit((await developer()).page, '/profile', 'profile'));

test('axe: profile after a failed password change', async () => {
  const { page } = await developer();
  await page.goto('/profile');
  const form = page.getByRole('region', { name: 'Change password' });
  await form.getByLabel('Current password', { exact: true }).fill('not my password at all');
  await form.getByLabel('New password', { exact: true }).fill('short');
  await form.getByLabel('Confirm new password', { exact: true }).fill('different');
  const res = await submitForm(page, 'Change password');
  assert.equal(res.status(), 422, `Change password answered HTTP ${res.status()}`);
  await page.locator('[aria-invalid="true"]').first().waitFor();
  await assertAccessible(page, 'profile after a failed password change');
});

test('axe: profile after a failed save of the names', async () => {
  const { page } = await developer();
  await page.goto('/profile');
  await page.getByLabel('First name', { exact: true }).fill('');
  const res = await submitForm(page, 'Save');
  assert.equal(res.status(), 422, `Save answered HTTP ${res.status()}`);
  await page.getByLabel('First name', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
  await assertAccessible(page, 'profile after a failed save of the names');
});

test('axe: close your account', async () => {
  const { page } = await developer();
  await visit(page, '/profile/close', 'close your account');
  await page.getByRole('button', { name: 'Close my account', exact: true }).waitFor();
});

test('axe: close your account with a wrong password', async () => {
  const { page } = await developer();
  await page.goto('/profile/close');
  await page.getByRole('main').getByLabel('Your current password', { exact: true }).fill('not my password at all');
  const res = await submitForm(page, 'Close my account');
  assert.equal(res.status(), 422, `Close my account answered HTTP ${res.status()}: ${await mainText(page)}`);
  await page.getByRole('main').getByLabel('Your current password', { exact: true })
    .and(page.locator('[aria-invalid="true"]')).waitFor();
  await assertAccessible(page, 'close your account with a wrong password');
});

test('axe: console, a product\'s subscriptions', async () => {
  const { forecasts, approvals } = await developer();
  await visit(admin, `/admin/products/${forecasts}/subscriptions`, 'console, a product\'s subscriptions (active)');
  await admin.getByRole('button', { name: 'Suspend Trajectory app of katherine@example.org', exact: true }).waitFor();
  await visit(admin, `/admin/products/${approvals}/subscriptions`, 'console, a product\'s subscriptions (waiting)');
  await admin.getByRole('button', { name: 'Approve Review app of katherine@example.org', exact: true }).waitFor();
});

test('axe: console, one subscription', async () => {
  const { forecasts } = await developer();
  await admin.goto(`/admin/products/${forecasts}/subscriptions`);
  await admin.getByRole('table', { name: 'Subscriptions' }).getByRole('link', { name: 'Trajectory app', exact: true }).click();
  await admin.waitForURL('**/admin/subscriptions/*');
  await admin.getByRole('heading', { level: 1, name: 'Trajectory app' }).waitFor();
  await assertAccessible(admin, 'console, one subscription');
  await admin.getByRole('link', { name: 'Show keys', exact: true }).click();
  await admin.locator('dl.keys').waitFor();
  await assertAccessible(admin, 'console, one subscription with keys shown');
});

test('axe: console, an account\'s subscriptions', async () => {
  const { accountPath } = await developer();
  await visit(admin, `${accountPath}/subscriptions`, 'console, an account\'s subscriptions');
  await admin.getByRole('link', { name: 'Review app', exact: true }).waitFor();
});

// ---- 4. blocked developers are signed out -------------------------------------------

test('signed-out when blocked', async () => {
  const person = { email: 'dorothy@example.org', firstName: 'Dorothy', lastName: 'Vaughan', password: 'fortran hillside beacon 19' };
  await addDeveloper(person);
  const page = await portalPage(person);
  await page.goto('/subscriptions');
  await page.getByRole('heading', { level: 1, name: 'My subscriptions' }).waitFor();
  const onProducts = await portalPage(person); // a second browser, left on Products

  // The console: find her through the Users search, open her account, Block.
  await admin.goto('/admin/users');
  await admin.getByLabel('Search', { exact: true }).fill('vaughan');
  await admin.getByRole('button', { name: 'Search', exact: true }).click();
  await admin.getByRole('link', { name: 'Dorothy Vaughan', exact: true }).click();
  await admin.getByRole('heading', { level: 1, name: 'Dorothy Vaughan' }).waitFor();
  await admin.getByRole('button', { name: 'Block', exact: true }).click();
  await admin.getByRole('status').filter({ hasText: `Blocked ${person.email}.` }).waitFor();

  await page.reload();
  assert.equal(new URL(page.url()).pathname, '/sign-in', `a blocked developer reloading /subscriptions is at ${page.url()}`);
  await page.getByRole('main').getByRole('alert').filter({ hasText: 'blocked' }).waitFor();
  await page.getByRole('banner').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'Sign out still shows');

  // Signed out for good: the next page is anonymous and signing in is refused.
  await page.goto('/profile');
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  const again = await portalSignIn(page, person);
  assert.equal(again.status(), 403, `a blocked developer's sign-in answered HTTP ${again.status()}`);
  await page.getByRole('main').getByRole('alert').filter({ hasText: 'blocked' }).waitFor();
  await page.context().close();

  // Products is public, so the other browser stays on it, signed out, and
  // is told why. (The app does not send it to sign-in; see the report.)
  await onProducts.reload();
  await onProducts.getByRole('main').getByRole('alert').filter({ hasText: 'blocked' }).waitFor();
  await onProducts.getByRole('banner').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(await onProducts.getByRole('button', { name: 'Sign out' }).count(), 0, 'Sign out still shows on Products');
  await onProducts.context().close();
});
