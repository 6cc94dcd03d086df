// Portal as an OpenID Connect provider (SPEC O1–O5, SECURITY S-21), seen by
// a real relying party: the certified library openid-client v6 drives a
// confidential application registered in the console through sign-in and
// consent in Chromium, verifies every ID token against the JWKS, refreshes,
// ends the session, and survives a signing-key rotation. axe on the
// console's Applications pages and on the consent page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as client from 'openid-client';
import {
  addGroup, addUser, assertAccessible, launchBrowser, mainText, newPage, openSubTab, portalSignIn, signIn, startPortal,
  submitForm,
} from './harness.mjs';

const DEV = { email: 'ada@example.org', password: 'copper meadow lantern 31', firstName: 'Ada', lastName: 'Lovelace' };
const DEV_NAME = `${DEV.firstName} ${DEV.lastName}`;
const APP = 'Partner Dashboard';
const GROUP = 'Partners';
const SCOPE = 'openid email profile groups';

let portal;
let browser;
let admin; // signed in to the console
let callback; // the relying party's redirect URI, served by a tiny HTTP server
let clientId;
let clientSecret;
let accountId; // the developer's, from the console URL of their account
let partnersPath; // the console page of the group Partners

// ---- the relying party's callback ------------------------------------------------

/** A loopback HTTP server answering 200 "ok" to anything; keeps the URLs it was asked for. */
async function startCallbackServer() {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push(req.url);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('ok');
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    uri: `http://127.0.0.1:${port}/cb`,
    hits,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(ok); }),
  };
}

const atCallback = (url) => url.href.startsWith(`${callback.uri}?`) || url.href === callback.uri;

// ---- set-up: a group, a developer in it, a confidential application ---------------

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  callback = await startCallbackServer();
  admin = await newPage(browser, portal.baseUrl);
  await signIn(admin);
  await admin.waitForURL('**/admin');

  await addUser(admin, DEV);
  await admin.getByRole('heading', { level: 1, name: DEV_NAME }).waitFor();
  accountId = new URL(admin.url()).pathname.split('/')[3];

  await addGroup(admin, { name: GROUP, description: 'Companies we work with' });
  partnersPath = new URL(admin.url()).pathname;

  ({ clientId, clientSecret } = await registerApplication(admin, APP));
});

after(async () => {
  await browser?.close();
  await callback?.close();
  await portal?.stop();
});

/** The console's Applications tab, from its navigation. */
async function openApplications(page) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Applications', exact: true }).click();
  await page.waitForURL('**/admin/applications');
  await page.getByRole('heading', { level: 1, name: 'Applications' }).waitFor();
}

/** The Add application form (found by its documented field names). */
const addForm = (page) => page.locator('form').filter({ has: page.locator('[name="redirect_uris"]') });

/**
 * Registers a confidential application through Applications → Add
 * application, redirect URI the callback server's, all groups in tokens.
 * Resolves to the Client ID and secret the answering page shows (once).
 */
async function registerApplication(page, name) {
  await openApplications(page);
  await page.getByRole('link', { name: 'Add application', exact: true }).click();
  await page.waitForURL('**/admin/applications/add');
  const form = addForm(page);
  await form.locator('[name="name"]').fill(name);
  await form.locator('[name="redirect_uris"]').fill(callback.uri);
  await form.locator('input[name="kind"][value="confidential"]').check();
  await form.locator('input[name="token_groups"][value="all"]').check();
  const res = await submitForm(page, 'Add application');
  assert.equal(res.status(), 200, `Add application answered HTTP ${res.status()}: ${await mainText(page)}`);
  const id = (await page.locator('#client-id').textContent()).trim();
  const secret = await page.locator('#client-secret').inputValue();
  assert.match(id, /^[0-9a-f]{16}$/, 'the Client ID');
  assert.match(secret, /^portal_cs_/, 'the client secret');
  return { clientId: id, clientSecret: secret };
}

/** Adds the developer to, or removes them from, Partners on its Members page. */
async function setPartner(member) {
  await admin.goto(partnersPath);
  await openSubTab(admin, 'Group', 'Members');
  if (member) {
    await admin.getByLabel('Find accounts', { exact: true }).fill(DEV.email);
    await admin.getByRole('button', { name: 'Find', exact: true }).click();
    await admin.getByRole('list', { name: 'Accounts found' })
      .getByLabel(`${DEV_NAME} (${DEV.email})`, { exact: true }).check();
    await admin.getByRole('button', { name: 'Add', exact: true }).click();
    await admin.getByRole('status').filter({ hasText: 'Added 1 member(s).' }).waitFor();
  } else {
    await admin.getByRole('button', { name: `Remove ${DEV_NAME}`, exact: true }).click();
    await admin.getByRole('status').filter({ hasText: 'Removed 1 member(s).' }).waitFor();
  }
}

// ---- helpers: axe, JWTs, the relying party ---------------------------------------------


const jwtPart = (jwt, i) => JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));

/** Whether a JWS's signature checks out with one JWK (RS256 or ES256). */
function signatureVerifies(jwt, jwk) {
  const [h, p, s] = jwt.split('.');
  const { alg } = jwtPart(jwt, 0);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  if (alg === 'RS256') return verify('sha256', data, key, signature);
  if (alg === 'ES256') return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  throw new Error(`unexpected alg ${alg}`);
}

async function fetchJwks() {
  const res = await fetch(`${portal.baseUrl}/oidc/jwks`);
  assert.equal(res.status, 200, `GET /oidc/jwks answered ${res.status}`);
  const jwks = await res.json();
  for (const key of jwks.keys) {
    assert.ok(key.kid, `a JWKS key without kid: ${JSON.stringify(key)}`);
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
      assert.ok(!(secret in key), `the JWKS publishes the private member ${secret} of ${key.kid}`);
    }
  }
  return jwks;
}

/**
 * A relying-party configuration from discovery. A fresh one also has a
 * fresh JWKS cache (openid-client refetches the JWKS for an unknown kid
 * only when its copy is at least 60 s old).
 */
async function relyingParty() {
  const config = await client.discovery(new URL(portal.baseUrl), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config); // ID token signatures checked against the JWKS
  assert.equal(config.serverMetadata().issuer, portal.baseUrl, 'the issuer in discovery');
  return config;
}

/** An authorization request with PKCE S256, state and nonce. */
async function authorizationRequest(config, extra = {}) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callback.uri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, checks: { pkceCodeVerifier, expectedState: state, expectedNonce: nonce } };
}


/** Keeps, on page.navigations, each navigation response (method, URL, status, Location). */
function trackNavigations(page) {
  if (page.navigations) return;
  page.navigations = [];
  page.on('response', (r) => {
    if (!r.request().isNavigationRequest()) return;
    const location = r.headers().location;
    page.navigations.push(`${r.request().method()} ${r.url()} -> ${r.status()}${location ? ` Location: ${location}` : ''}`);
  });
}

/**
 * Waits for the browser to be at a URL `predicate` accepts (it may be there
 * already, at the end of a redirect chain); fails saying where it is and how
 * it got there instead.
 */
async function waitForUrl(page, predicate, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  while (!predicate(new URL(page.url()))) {
    if (Date.now() > deadline) {
      assert.fail(`the browser did not reach ${what} within ${timeout} ms; it is at ${page.url()}\n` +
        `  main: "${await mainText(page)}"\n  console: ${JSON.stringify(page.consoleErrors)}\n` +
        `  navigations: ${JSON.stringify(page.navigations ?? [], null, 2)}\n  callback server saw: ${JSON.stringify(callback.hits)}`);
    }
    await sleep(50);
  }
}

const consentHeading = (page) => page.getByRole('heading', { name: `Allow ${APP} to use your Portal account?`, exact: true });

/**
 * Drives an authorization request in the browser: the portal's sign-in
 * page (the page must not be signed in), then the consent page, which must
 * show if `consent` is 'required' and may if 'optional'; `onConsent` runs
 * there before Allow. Resolves to the callback URL the browser lands on.
 */
async function signInAndAllow(page, request, { consent = 'required', onConsent = async () => {} } = {}) {
  trackNavigations(page);
  await page.goto(request.url.href);
  const signInUrl = new URL(page.url());
  assert.equal(signInUrl.pathname, '/sign-in', `GET /oidc/authorize signed out went to ${page.url()}`);
  const next = new URL(signInUrl.searchParams.get('next') ?? '', portal.baseUrl);
  assert.equal(next.pathname, '/oidc/authorize', `the sign-in page's next is ${signInUrl.searchParams.get('next')}`);
  assert.equal(next.searchParams.get('state'), request.checks.expectedState, 'the sign-in page\'s next keeps the request');

  const res = await portalSignIn(page, DEV);
  // (mainText only on failure: a page without main, the callback, waits out the timeout.)
  if (res.status() !== 303) assert.fail(`portal sign-in answered HTTP ${res.status()}: ${await mainText(page)}`);
  await waitForUrl(page, (u) => atCallback(u) || u.pathname === '/oidc/authorize', 'the consent page or the callback');

  if (!atCallback(new URL(page.url()))) {
    await consentHeading(page).waitFor();
    await onConsent(page);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await waitForUrl(page, atCallback, `the callback ${callback.uri} after Allow`);
  } else {
    assert.notEqual(consent, 'required', 'no consent page the first time');
  }
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('error'), null,
    `the callback has error=${url.searchParams.get('error')}: ${url.searchParams.get('error_description')}`);
  return url;
}

const sorted = (a) => [...(a ?? [])].sort();

// ---- 1. the whole flow -------------------------------------------------------------

test('sign-in, consent, code exchange, userinfo, refresh after a group change, reuse refused, end-session', async () => {
  await setPartner(true);
  const config = await relyingParty();
  const page = await newPage(browser, portal.baseUrl);

  const request = await authorizationRequest(config);
  const callbackUrl = await signInAndAllow(page, request, {
    consent: 'required',
    onConsent: async (p) => {
      const text = await mainText(p);
      assert.ok(text.includes(APP), `the consent page does not name the application: ${text}`);
      await p.getByRole('button', { name: 'Deny', exact: true }).waitFor();
      await assertAccessible(p, 'the consent page');
    },
  });
  assert.equal(callbackUrl.searchParams.get('iss'), portal.baseUrl, 'iss on the callback');

  // openid-client checks state, iss, PKCE, nonce, aud, exp and (non-repudiation) the signature.
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, request.checks);
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token, 'access, refresh and ID tokens');
  const header = jwtPart(tokens.id_token, 0);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  assert.ok(header.kid, 'the ID token header has a kid');
  assert.ok((await fetchJwks()).keys.some((k) => k.kid === header.kid), `kid ${header.kid} is not in the JWKS`);

  const claims = tokens.claims();
  assert.equal(claims.iss, portal.baseUrl);
  assert.equal(claims.aud, clientId);
  assert.equal(claims.azp, clientId);
  assert.equal(typeof claims.auth_time, 'number', `auth_time: ${claims.auth_time}`);
  assert.equal(claims.sub, accountId, 'sub is the account id');
  assert.equal(claims.nonce, request.checks.expectedNonce);
  assert.ok(claims.exp - claims.iat <= 3600, 'an ID token lives at most an hour');
  assert.equal(claims.email, DEV.email);
  assert.equal(claims.email_verified, true);
  assert.equal(claims.given_name, DEV.firstName);
  assert.equal(claims.family_name, DEV.lastName);
  assert.equal(claims.name, DEV_NAME);
  assert.ok(Array.isArray(claims.groups), `groups: ${JSON.stringify(claims.groups)}`);
  assert.ok(claims.groups.includes('Developers') && claims.groups.includes(GROUP),
    `groups ${JSON.stringify(claims.groups)} should have Developers and ${GROUP}`);
  assert.ok(!claims.groups.includes('Administrators'), `groups ${JSON.stringify(claims.groups)}`);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.sub, claims.sub);
  assert.equal(userinfo.email, DEV.email);
  assert.equal(userinfo.email_verified, true);
  assert.equal(userinfo.name, DEV_NAME);
  assert.deepEqual(sorted(userinfo.groups), sorted(claims.groups), 'userinfo groups');

  // An administrator takes the developer out of Partners; the next refresh knows.
  await setPartner(false);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
  const later = refreshed.claims();
  assert.equal(later.sub, claims.sub);
  assert.equal(later.nonce, undefined, 'a refreshed ID token has a nonce');
  assert.ok(Array.isArray(later.groups) && later.groups.includes('Developers'),
    `groups after refresh: ${JSON.stringify(later.groups)}`);
  assert.ok(!later.groups.includes(GROUP), `groups after refresh still have ${GROUP}: ${JSON.stringify(later.groups)}`);
  assert.deepEqual(sorted((await client.fetchUserInfo(config, refreshed.access_token, claims.sub)).groups),
    sorted(later.groups), 'userinfo groups after refresh');

  // The old refresh token again: refused, and the chain with it.
  const invalidGrant = (err) => {
    assert.ok(err instanceof client.ResponseBodyError, `not a ResponseBodyError: ${err}`);
    assert.equal(err.error, 'invalid_grant', `error ${err.error}: ${err.error_description}`);
    assert.equal(err.status, 400);
    return true;
  };
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), invalidGrant, 'the reused refresh token');
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token), invalidGrant,
    'the newest refresh token of a chain whose old token was reused');

  // End-session with an ID token hint: back at the callback with the state, signed out.
  const state = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token,
    post_logout_redirect_uri: callback.uri,
    state,
  });
  trackNavigations(page);
  await page.goto(endSession.href);
  await waitForUrl(page, atCallback, `the callback after end-session (${endSession.href})`);
  assert.equal(new URL(page.url()).searchParams.get('state'), state, `end-session landed at ${page.url()}`);
  await page.goto(`${portal.baseUrl}/profile`);
  assert.equal(new URL(page.url()).pathname, '/sign-in', `after end-session /profile is ${page.url()}`);
  await page.context().close();
});

// ---- 2. signing-key rotation ---------------------------------------------------------

test('after Rotate signing key, new tokens verify with the new key and old ones still verify', async () => {
  // Consent was given once already if the first test ran, so it may not be asked.
  const earlier = await relyingParty();
  const first = await newPage(browser, portal.baseUrl);
  const request = await authorizationRequest(earlier);
  const tokensBefore = await client.authorizationCodeGrant(earlier, await signInAndAllow(first, request, { consent: 'optional' }),
    request.checks);
  await first.context().close();
  const oldKid = jwtPart(tokensBefore.id_token, 0).kid;

  await openApplications(admin);
  const rotated = await submitForm(admin, 'Rotate signing key');
  assert.ok(rotated.status() < 400, `Rotate signing key answered HTTP ${rotated.status()}: ${await mainText(admin)}`);
  await admin.goto('/admin/applications');
  const jwks = await fetchJwks();
  const newKeys = jwks.keys.filter((k) => k.kid !== oldKid && (k.alg ?? 'RS256') === 'RS256' && k.kty === 'RSA');
  assert.ok(newKeys.length >= 1, `no new RS256 key in the JWKS: ${JSON.stringify(jwks.keys.map((k) => k.kid))}`);
  const listed = await mainText(admin);
  assert.ok(listed.includes(oldKid), `the Signing keys section lacks the old kid ${oldKid}: ${listed}`);

  // A new relying-party process (fresh JWKS cache), a new sign-in.
  const afterConfig = await relyingParty();
  const second = await newPage(browser, portal.baseUrl);
  const request2 = await authorizationRequest(afterConfig);
  const tokensAfter = await client.authorizationCodeGrant(afterConfig,
    await signInAndAllow(second, request2, { consent: 'optional' }), request2.checks);
  await second.context().close();
  const newKid = jwtPart(tokensAfter.id_token, 0).kid;
  assert.notEqual(newKid, oldKid, 'the ID token after the rotation is signed with the old key');
  assert.ok(newKeys.some((k) => k.kid === newKid), `the new kid ${newKid} is not the new key in the JWKS`);
  assert.ok(listed.includes(newKid), `the Signing keys section lacks the new kid ${newKid}`);
  assert.equal(tokensAfter.claims().sub, accountId);
  await client.fetchUserInfo(afterConfig, tokensAfter.access_token, accountId);

  // The ID token from before the rotation: its key is still published, and it verifies.
  const oldKey = (await fetchJwks()).keys.find((k) => k.kid === oldKid);
  assert.ok(oldKey, `the old key ${oldKid} is no longer in the JWKS`);
  assert.ok(signatureVerifies(tokensBefore.id_token, oldKey), 'the old ID token does not verify with the old key');
  assert.ok(signatureVerifies(tokensAfter.id_token, newKeys.find((k) => k.kid === newKid)), 'the new ID token does not verify');
});

// ---- 3. axe on the Applications pages ------------------------------------------------

test('axe: Applications list, Add application (empty and with errors), the new application, its page', async () => {
  await openApplications(admin);
  await admin.getByRole('table', { name: 'Applications, by name' }).getByRole('link', { name: APP, exact: true }).waitFor();
  await assertAccessible(admin, 'Applications list');

  await admin.getByRole('link', { name: 'Add application', exact: true }).click();
  await admin.waitForURL('**/admin/applications/add');
  await assertAccessible(admin, 'Add application');

  const refused = await submitForm(admin, 'Add application');
  assert.equal(refused.status(), 422, `Add application with nothing filled answered HTTP ${refused.status()}`);
  await admin.getByRole('alert').waitFor();
  await assertAccessible(admin, 'Add application with errors');

  const { clientId: id } = await registerApplication(admin, 'Audit app');
  await assertAccessible(admin, 'the page answering Add application (secret shown)');

  const res = await admin.goto(`/admin/applications/${id}`);
  assert.equal(res.status(), 200, `GET /admin/applications/${id}`);
  assert.equal((await admin.locator('#client-id').textContent()).trim(), id);
  assert.equal(await admin.locator('#client-secret').count(), 0, 'the secret is shown again');
  await assertAccessible(admin, 'the application page');
});

// ---- 4. end-session without an ID token hint -------------------------------------------

test('end-session without an ID token hint: a confirmation page, Sign out, back at the callback', async () => {
  const page = await newPage(browser, portal.baseUrl);
  trackNavigations(page);
  await page.goto('/sign-in');
  const res = await portalSignIn(page, DEV);
  assert.equal(res.status(), 303, 'portal sign-in');
  await waitForUrl(page, (u) => u.pathname !== '/sign-in', 'a page after signing in');
  await page.waitForLoadState();

  const state = client.randomState();
  const url = client.buildEndSessionUrl(await relyingParty(), { post_logout_redirect_uri: callback.uri, state });
  await page.goto(url.href);
  await page.getByRole('heading', { level: 1, name: 'Sign out of Portal?', exact: true }).waitFor();
  await assertAccessible(page, 'the end-session confirmation page');
  // The banner has a Sign out button of its own.
  await page.getByRole('main').getByRole('button', { name: 'Sign out', exact: true }).click();
  await waitForUrl(page, atCallback, `the callback after Sign out (${url.href})`);
  assert.equal(new URL(page.url()).searchParams.get('state'), state, `Sign out landed at ${page.url()}`);
  await page.goto(`${portal.baseUrl}/profile`);
  assert.equal(new URL(page.url()).pathname, '/sign-in', `after Sign out /profile is ${page.url()}`);
  await page.context().close();
});
