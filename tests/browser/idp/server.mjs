// An outside OpenID Connect provider for the external sign-in tests: the
// certified oidc-provider, with clients and accounts set at run time through
// a small control API. Loopback and plain http only; never for production.
//
//   node tests/browser/idp/server.mjs [--port 0] [--groups-in id_token|userinfo]
//
// Prints one line of JSON ({"issuer","control"}) on stdout once listening;
// everything else goes to stderr. See README.md.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

// oidc-provider prints its notices with console.info, which is stdout: keep
// stdout for the one line the spawner reads.
console.log = console.info = console.error;

const { values: args } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'groups-in': { type: 'string', default: 'id_token' } },
});
const groupsIn = args['groups-in'];
if (!['id_token', 'userinfo'].includes(groupsIn)) {
  console.error(`--groups-in must be id_token or userinfo, not ${groupsIn}`);
  process.exit(2);
}

/** sub -> { email, email_verified, name, groups }; set by PUT /control/accounts/:sub. */
const accounts = new Map();

// A Map-based adapter for every model (sessions, codes, tokens, grants and
// the clients the control API upserts). Unlike the built-in memory adapter it
// has no size limit, so a long test run cannot evict a client.
const store = new Map();
class MapAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) store.set(`grant:${payload.grantId}`, [...(store.get(`grant:${payload.grantId}`) ?? []), key]);
    if (payload.uid) store.set(`uid:${payload.uid}`, id);
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, id);
  }
  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) { store.delete(this.key(id)); return undefined; }
    return entry.payload;
  }
  async findByUid(uid) { return this.find(store.get(`uid:${uid}`)); }
  async findByUserCode(userCode) { return this.find(store.get(`userCode:${userCode}`)); }
  async consume(id) { const p = await this.find(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const key of store.get(`grant:${grantId}`) ?? []) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

// Listen first: the issuer must name the port, which is known only now.
let handle = (_req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handle(req, res));
await new Promise((ok, fail) => server.once('error', fail).listen(Number(args.port), '127.0.0.1', ok));
const issuer = `http://127.0.0.1:${server.address().port}`;

// The signing key, published in the JWKS; and another, never published, that
// POST /control/tamper {"other_key":true} signs ID tokens with instead.
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const key = signingKey.export({ format: 'jwk' });
const provider = new Provider(issuer, {
  adapter: MapAdapter,
  jwks: { keys: [{ ...key, use: 'sig', alg: 'RS256' }] },
  // Cookies are signed with a per-run key. They are not `secure` because the
  // request is plain http (oidc-provider sets secure only when ctx.secure).
  // Cookies ignore ports and the portal under test is on 127.0.0.1 too: own
  // names, so neither side overwrites the other's.
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_interaction_resume' },
  },
  clientDefaults: {
    grant_types: ['authorization_code'], response_types: ['code'],
    id_token_signed_response_alg: 'RS256', token_endpoint_auth_method: 'client_secret_basic',
  },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  pkce: { required: () => true }, // oidc-provider 9 knows only S256
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'], groups: ['groups'] },
  // By default (true) an ID token issued with an access token carries only
  // sub & co, the scope's claims going to userinfo alone. Off, so the ID
  // token has email etc.; where groups go is then decided in claims() below.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  // Set, if only to keep oidc-provider's "you SHOULD change" notices out of the log.
  ttl: { AccessToken: 3600, IdToken: 3600, Interaction: 3600, Session: 86400, Grant: 86400 },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // Read at each token and userinfo request, so changed claims show at the next sign-in.
  async findAccount(_ctx, sub) {
    if (!accounts.has(sub)) return undefined;
    return {
      accountId: sub,
      async claims(use) {
        const { groups, ...rest } = accounts.get(sub);
        const withGroups = groups !== undefined && (use === 'userinfo' || groupsIn === 'id_token');
        return { sub, ...rest, ...(withGroups ? { groups } : {}) };
      },
    };
  },
  // The default error page imports a web font; this one loads nothing.
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${esc(JSON.stringify(out, null, 2))}</pre>`);
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

/**
 * What POST /control/tamper set: { iss?, aud?, exp_offset?, other_key? }, or
 * null (the ID tokens are oidc-provider's, untouched).
 */
let tampering = null;

// RS256 over `header.payload`, the header segment kept byte for byte as
// issued (alg and the published key's kid): a token signed with otherKey
// names the published key, and only its signature check fails.
const b64json = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
function tamperIdToken(idToken, { iss, aud, exp_offset, other_key }) {
  const [header, payload] = idToken.split('.');
  const { alg } = b64json(header);
  if (alg !== 'RS256') throw new Error(`cannot re-sign an ID token signed with ${alg}`);
  const claims = b64json(payload);
  if (iss !== undefined) claims.iss = iss;
  if (aud !== undefined) claims.aud = aud;
  if (exp_offset !== undefined) {
    claims.exp = Math.floor(Date.now() / 1000 + exp_offset);
    claims.iat = Math.min(claims.iat, claims.exp - 60);
  }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), other_key ? otherKey : signingKey);
  return `${input}.${signature.toString('base64url')}`;
}

// oidc-provider's documented post-middleware: after its token endpoint (route
// `token`, POST /token) has set the JSON body, rewrite the ID token in it.
// Userinfo and the rest are left alone.
provider.use(async (ctx, next) => {
  await next();
  if (tampering && ctx.oidc?.route === 'token' && typeof ctx.body?.id_token === 'string') {
    ctx.body = { ...ctx.body, id_token: tamperIdToken(ctx.body.id_token, tampering) };
  }
});

/** Checks a POST /control/tamper body; returns the reason it is bad, or undefined. */
function badTamper(spec) {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return 'the body must be a JSON object';
  const unknown = Object.keys(spec).filter((k) => !['iss', 'aud', 'exp_offset', 'other_key'].includes(k));
  if (unknown.length) return `unknown field(s) ${unknown.join(', ')}: only iss, aud, exp_offset, other_key`;
  if ('iss' in spec && typeof spec.iss !== 'string') return 'iss must be a string';
  if ('aud' in spec && typeof spec.aud !== 'string') return 'aud must be a string';
  if ('exp_offset' in spec && !Number.isFinite(spec.exp_offset)) return 'exp_offset must be a number of seconds';
  if ('other_key' in spec && typeof spec.other_key !== 'boolean') return 'other_key must be true or false';
  return undefined;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
const loginForm = (uid, error) => page('Sign in to the test identity provider', `${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Login</label> <input type="text" id="login" name="login" autocomplete="off" autofocus>
<button type="submit">Sign in</button></form>`);

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) return text ? JSON.parse(text) : {};
  return Object.fromEntries(new URLSearchParams(text));
}
function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/**
 * Grants what the request asks for (at sign-in, its whole scope; at a consent
 * prompt, what the prompt found missing), as oidc-provider's docs do to skip
 * consent: there is no consent page.
 */
async function autoGrant({ accountId, clientId, grantId, scope, missing = {} }) {
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId, clientId });
  const scopes = missing.missingOIDCScope?.join(' ') ?? scope;
  if (scopes) grant.addOIDCScope(scopes);
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, resourceScopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, resourceScopes.join(' '));
  }
  return grant.save();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  const clientId = details.params.client_id;
  // Signed in already (an existing session) but not everything granted.
  if (details.prompt.name === 'consent') {
    const grantId = await autoGrant({
      accountId: details.session.accountId, clientId, grantId: details.grantId, missing: details.prompt.details,
    });
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'GET' && !action) return send(res, 200, loginForm(uid));
  if (req.method === 'POST' && action === 'login') {
    const { login = '' } = await readBody(req);
    if (!accounts.has(login)) return send(res, 401, loginForm(uid, `No account "${login}".`));
    // Login and consent in one result, so the browser goes straight back.
    const grantId = await autoGrant({ accountId: login, clientId, scope: details.params.scope });
    return provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } },
      { mergeWithLastSubmission: false });
  }
  return send(res, 405, 'method not allowed', 'text/plain');
}

async function control(req, res, path) {
  const body = req.method === 'GET' ? {} : await readBody(req);
  const account = /^\/accounts\/([^/]+)$/.exec(path);
  if (req.method === 'POST' && path === '/clients') {
    const { client_id, client_secret, redirect_uris, ...rest } = body;
    const metadata = { ...rest, client_id, client_secret, redirect_uris };
    await provider.Client.validate(metadata); // a bad client fails here, not at sign-in
    await provider.Client.adapter.upsert(client_id, metadata);
    return send(res, 204, '');
  }
  if (req.method === 'PUT' && account) {
    const { email, email_verified = true, name, groups } = body;
    const groupsOk = groups === undefined || typeof groups === 'string'
      || (Array.isArray(groups) && groups.every((g) => typeof g === 'string'));
    if (typeof email !== 'string' || typeof email_verified !== 'boolean' || !groupsOk) {
      return send(res, 400, 'email (string), email_verified (boolean), groups (string or [string])', 'text/plain');
    }
    const claims = { email, email_verified, ...(name !== undefined ? { name } : {}), ...(groups !== undefined ? { groups } : {}) };
    accounts.set(decodeURIComponent(account[1]), claims);
    return send(res, 204, '');
  }
  if (req.method === 'DELETE' && account) { accounts.delete(decodeURIComponent(account[1])); return send(res, 204, ''); }
  if (req.method === 'POST' && path === '/reset') { accounts.clear(); return send(res, 204, ''); }
  if (req.method === 'POST' && path === '/tamper') {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return send(res, 400, 'the body must be JSON (content-type: application/json)', 'text/plain');
    }
    const reason = badTamper(body);
    if (reason) return send(res, 400, reason, 'text/plain');
    const { other_key, ...rest } = body;
    const spec = { ...rest, ...(other_key ? { other_key } : {}) };
    tampering = Object.keys(spec).length ? spec : null;
    console.error('ID tokens from the token endpoint:', tampering ? `tampered ${JSON.stringify(tampering)}` : 'as issued');
    return send(res, 204, '');
  }
  return send(res, 404, 'no such control endpoint', 'text/plain');
}

const oidc = provider.callback();
handle = async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  const inter = /^\/interaction\/([^/]+)(?:\/([^/]+))?$/.exec(pathname);
  try {
    if (pathname.startsWith('/control/')) return await control(req, res, pathname.slice('/control'.length));
    if (inter) return await interaction(req, res, inter[1], inter[2]);
    return oidc(req, res);
  } catch (err) {
    // oidc-provider's errors (bad client metadata, an expired interaction)
    // carry a status and need no stack; bad JSON and the unexpected do.
    console.error(`${req.method} ${pathname}:`, err.statusCode ? `${err.name}: ${err.message}` : err);
    if (!res.headersSent) send(res, err.statusCode ?? 400, `${err.name}: ${err.message}`, 'text/plain');
  }
};

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// A spawner that gives us a pipe for stdin and dies closes it: go too. Not
// with /dev/null or a terminal (spawn's stdio 'ignore'), which read EOF at once.
const stdin = (() => { try { return fstatSync(0); } catch { return undefined; } })();
if (stdin?.isFIFO() || stdin?.isSocket()) {
  process.stdin.on('end', stop).on('close', stop).resume();
}

process.stdout.write(`${JSON.stringify({ issuer, control: `${issuer}/control` })}\n`);
