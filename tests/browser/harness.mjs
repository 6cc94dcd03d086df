// Shared set-up for the browser tests: a portal on a fresh database and a
// free loopback port, Debian's Chromium driven by playwright-core, and axe.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import axe from 'axe-core';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const ADMIN = { email: 'admin@example.org', password: 'violet tractor harbour 42' };

async function freePort() {
  const server = createServer();
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Starts the portal binary; resolves once /healthz answers 200. */
export async function startPortal() {
  const bin = resolve(REPO_ROOT, process.env.PORTAL_BIN ?? 'target/debug/portal');
  const dir = await mkdtemp(join(tmpdir(), 'portal-browser-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(bin, [], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      BIND: `127.0.0.1:${port}`,
      BASE_URL: baseUrl,
      DATA_DIR: dir,
      DATABASE_URL: `sqlite://${join(dir, 'portal.db')}`,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
  });
  // Kept so a failed start says why instead of just timing out.
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-8000); });
  let exited = null;
  const exit = new Promise((ok) => child.once('exit', (code, signal) => { exited = { code, signal }; ok(); }));
  child.once('error', (err) => { exited = { error: err.message }; });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => true), sleep(5000, false)]);
      if (!killed) { child.kill('SIGKILL'); await exit; }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`portal exited during start-up (${JSON.stringify(exited)}):\n${log}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`portal did not answer /healthz within 30 s:\n${log}`);
    }
    await sleep(100);
  }
  return { baseUrl, dataDir: dir, stop, log: () => log };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** A fresh context (own cookies) whose relative URLs go to the portal. */
export async function newPage(browser, baseUrl, options = {}) {
  const context = await browser.newContext({ baseURL: baseUrl, ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  // A CSP refusal or a broken stylesheet shows only in the console or the
  // network log. The document's own 4xx (a form with errors) is expected,
  // and Chromium asks for /favicon.ico by itself, which the app has not got.
  page.consoleErrors = [];
  const keep = (text) => page.consoleErrors.push(text);
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) keep(m.text());
  });
  page.on('pageerror', (e) => keep(String(e)));
  page.on('requestfailed', (r) => keep(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.request().isNavigationRequest()) keep(`${r.url()}: HTTP ${r.status()}`);
  });
  return page;
}

export async function signIn(page, { email, password } = ADMIN) {
  await page.goto('/admin/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Fills and submits Add user; the app then shows the account page. */
export async function addUser(page, { email, password, firstName, lastName }) {
  await page.goto('/admin/users/add');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('First name', { exact: true }).fill(firstName);
  await page.getByLabel('Last name', { exact: true }).fill(lastName);
  await page.getByRole('button', { name: 'Add user' }).click();
}

/**
 * Runs axe on the current page and returns the serious and critical
 * violations. page.evaluate goes through DevTools, which the page's CSP
 * (script-src 'self') does not govern, so the page is tested as served.
 */
export async function seriousViolations(page) {
  const hasAxe = await page.evaluate(() => typeof window.axe === 'object');
  if (!hasAxe) await page.evaluate(`${axe.source}\n;void 0`);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(violations) {
  return violations
    .map((v) => `- ${v.id} (${v.impact}): ${v.help}\n  ${v.helpUrl}\n` +
      v.nodes.map((n) => `    at ${n.target.join(' ')}\n      ${n.failureSummary.replace(/\n/g, '\n      ')}`).join('\n'))
    .join('\n');
}

/** Asserts axe finds nothing serious, and the CSP blocked nothing the page needs. */
export async function assertAccessible(page, what) {
  const violations = await seriousViolations(page);
  const errors = page.consoleErrors.splice(0);
  assert.deepEqual(violations.map((v) => v.id), [],
    `${what} (${page.url()}) has accessibility violations:\n${describeViolations(violations)}`);
  assert.deepEqual(errors, [], `${what} logged errors`);
}

/**
 * Signs in to the portal (not the console), from its sign-in page unless
 * the page is there already. The nav has a "Sign in" link too, so the form
 * is looked for in main only. Resolves to the response to the form's POST.
 */
export async function portalSignIn(page, { email, password }) {
  if (!page.url().includes('/sign-in')) await page.goto('/sign-in');
  const main = page.getByRole('main');
  await main.getByLabel('Email', { exact: true }).fill(email);
  await main.getByLabel('Password', { exact: true }).fill(password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    main.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ]);
  await page.waitForLoadState();
  return response;
}

/** The gateway key check's answer to `key` (to no key when `key` is undefined). */
export async function gatewayStatus(portal, key) {
  const headers = key === undefined ? {} : { 'Ocp-Apim-Subscription-Key': key };
  const res = await fetch(`${portal.baseUrl}/gateway/check`, { headers });
  await res.arrayBuffer();
  return res.status;
}

/** Fills and submits Add group (no initial members); the app then shows the group. */
export async function addGroup(page, { name, description = '' }) {
  await page.goto('/admin/groups/add');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description', { exact: true }).fill(description);
  await page.getByRole('button', { name: 'Add group', exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

/** Fills and submits Add product, published unless told; the app then shows the product. */
export async function addProduct(page, { name, description = '', published = true }) {
  await page.goto('/admin/products/add');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description', { exact: true }).fill(description);
  await page.getByLabel('Published', { exact: true }).setChecked(published);
  await page.getByRole('button', { name: 'Add product', exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

/** Opens one of the sub-tabs (Settings, Members, Access control, Delete) of a group or product page. */
export async function openSubTab(page, nav, name) {
  const link = page.getByRole('navigation', { name: nav, exact: true }).getByRole('link', { name, exact: true });
  await link.click();
  await link.and(page.locator('[aria-current="page"]')).waitFor();
}

// ---- email written to <DATA_DIR>/outbox/<id>.eml (no SMTP_URL is set) ---------

/** Undoes a Content-Transfer-Encoding (base64, quoted-printable, 7bit/8bit). */
function decodeBody(body, encoding = '') {
  const e = encoding.trim().toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') {
    const parts = body.replace(/=\r?\n/g, '').split(/(=[0-9A-F]{2})/i);
    const bytes = parts.map((p) => (/^=[0-9A-F]{2}$/i.test(p) ? Buffer.from([parseInt(p.slice(1), 16)]) : Buffer.from(p)));
    return Buffer.concat(bytes).toString('utf8');
  }
  return body;
}

/** Undoes RFC 2047 encoded words (=?utf-8?b?…?= and =?utf-8?q?…?=) in a header. */
function decodeHeader(value) {
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?[^?]+\?([bq])\?([^?]*)\?=/gi, (_, kind, text) => (
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeBody(text.replace(/_/g, ' '), 'quoted-printable')));
}

/** Headers (lower-case names, unfolded, decoded) and body of one MIME entity. */
function splitEntity(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeHeader(line.slice(colon + 1).trim());
  }
  return { headers, body: cut < 0 ? '' : text.slice(cut + 2) };
}

/** The text/plain part of a message, decoded, looking inside multiparts. */
function plainText({ headers, body }) {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const found = plainText(splitEntity(part.replace(/^\n/, '')));
      if (found !== null) return found;
    }
    return null;
  }
  return /^text\/plain/i.test(type) ? decodeBody(body, headers['content-transfer-encoding']) : null;
}

/** One .eml file: { to, subject, text } with the plain-text part decoded. */
export function parseEml(raw) {
  const entity = splitEntity(raw);
  return { to: entity.headers.to ?? '', subject: entity.headers.subject ?? '', text: plainText(entity) ?? '' };
}

/**
 * Waits for the newest email to `to` whose plain text holds a link under
 * `linkPath` (e.g. '/invitations/'), skipping files named in `except`.
 * Resolves to { file, to, subject, text, link }.
 */
export async function waitForEmail(portal, { to, linkPath, except = [], timeout = 15_000 }) {
  const outbox = join(portal.dataDir, 'outbox');
  const prefix = `${portal.baseUrl}${linkPath}`;
  const deadline = Date.now() + timeout;
  for (;;) {
    const files = (await readdir(outbox).catch(() => []))
      .filter((f) => f.endsWith('.eml') && !except.includes(f))
      .sort((a, b) => parseInt(b, 10) - parseInt(a, 10));
    for (const file of files) {
      const mail = parseEml(await readFile(join(outbox, file), 'utf8'));
      const link = mail.text.split(/\s+/).find((w) => w.startsWith(prefix));
      if (mail.to.includes(to) && link) return { file, ...mail, link: link.replace(/[.,;)>]+$/, '') };
    }
    if (Date.now() > deadline) throw new Error(`no email to ${to} with a link to ${prefix} in ${outbox} within ${timeout} ms`);
    await sleep(200);
  }
}

/** Fills and submits Invite user; the app then shows the Pending view. */
export async function inviteUser(page, { email, firstName, lastName, groups = [] }) {
  await page.goto('/admin/users/invite');
  await page.getByLabel('First name', { exact: true }).fill(firstName);
  await page.getByLabel('Last name', { exact: true }).fill(lastName);
  await page.getByLabel('Email', { exact: true }).fill(email);
  for (const g of groups) await page.getByLabel(g, { exact: true }).check();
  await page.getByRole('button', { name: 'Invite user', exact: true }).click();
}

/**
 * Clicks the submit button named `name` and resolves to the response to the
 * form's POST (a 303 when it worked), so a refusal fails with its status.
 */
export async function submitForm(page, name) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  await page.waitForLoadState();
  return response;
}

/** The visible text of a page's main landmark, for assertion messages. */
export async function mainText(page) {
  return (await page.locator('main').innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
}
