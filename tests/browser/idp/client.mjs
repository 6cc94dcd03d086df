// Starts the test identity provider (server.mjs) for a browser test and
// drives its control API. See README.md.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

/**
 * Spawns the provider on a free loopback port; resolves to
 * { issuer, control, stop(), log() } once it prints its JSON line.
 * groupsIn: 'id_token' (default) or 'userinfo'.
 */
export async function startIdp({ groupsIn = 'id_token', port = 0 } = {}) {
  // stdin is a pipe: should this process die, the provider sees it close and exits.
  const child = spawn(process.execPath, [SERVER, '--port', String(port), '--groups-in', groupsIn], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-8000); });
  const exit = new Promise((ok) => child.once('exit', ok));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!await Promise.race([exit.then(() => true), sleep(5000, false)])) { child.kill('SIGKILL'); await exit; }
  };
  const line = await new Promise((ok, fail) => {
    createInterface({ input: child.stdout }).once('line', ok);
    child.once('error', fail);
    exit.then((code) => fail(new Error(`identity provider exited during start-up (${code}):\n${log}`)));
    setTimeout(() => fail(new Error(`identity provider did not start within 15 s:\n${log}`)), 15_000).unref();
  }).catch(async (err) => { await stop(); throw err; });
  const { issuer, control } = JSON.parse(line);
  return { issuer, control, stop, log: () => log };
}

async function call(idp, method, path, body) {
  const base = typeof idp === 'string' ? idp : idp.control;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** Creates or replaces a client: { client_id, client_secret, redirect_uris, token_endpoint_auth_method? }. */
export const addClient = (idp, client) => call(idp, 'POST', '/clients', client);

/** Creates or replaces an account: { email, email_verified, name, groups } (groups: [string] or string). */
export const setAccount = (idp, sub, claims) => call(idp, 'PUT', `/accounts/${encodeURIComponent(sub)}`, claims);

export const removeAccount = (idp, sub) => call(idp, 'DELETE', `/accounts/${encodeURIComponent(sub)}`);

/** Forgets every account (clients and keys stay). */
export const resetAccounts = (idp) => call(idp, 'POST', '/reset');

/**
 * Makes every ID token the token endpoint returns from now on wrong, for the
 * relying party's refusal tests: spec is { iss?, aud?, exp_offset?, other_key? }
 * (see README.md); each call replaces the last; {} (the default) stops it.
 */
export const tamper = (idp, spec = {}) => call(idp, 'POST', '/tamper', spec);
