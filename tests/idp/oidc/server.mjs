#!/usr/bin/env node
// A real OpenID provider (oidc-provider) on loopback over TLS, for idgate's tests.
// It imitates Keycloak, Auth0 or Okta (issuer form, endpoint paths, where the username and
// groups live) and has a plain-HTTP control plane for fault injection and token minting.
// See README.md in this directory.
//
// node server.mjs --shape keycloak|auth0|okta --port N --cert CERT --key KEY
//                 [--fixtures FILE] [--state-dir DIR] [--control-port M]
//                 [--alg RS256|ES256|EdDSA] [--algs RS256,ES256,EdDSA]
//                 [--device-ttl S] [--device-interval S] [--no-slow-down]
//                 [--token-ttl S] [--no-device] [--groups-scope-only] [--verbose]

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import * as crypto from 'node:crypto';
import * as querystring from 'node:querystring';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Command line

function usage(msg) {
  if (msg) process.stderr.write(`server.mjs: ${msg}\n`);
  process.stderr.write('usage: node server.mjs --shape keycloak|auth0|okta --port N --cert CERT --key KEY\n'
    + '         [--fixtures FILE] [--state-dir DIR] [--control-port M] [--alg RS256|ES256|EdDSA]\n'
    + '         [--algs RS256,ES256,EdDSA] [--device-ttl S] [--device-interval S] [--no-slow-down]\n'
    + '         [--token-ttl S] [--no-device] [--groups-scope-only] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    shape: undefined,
    port: undefined,
    cert: undefined,
    key: undefined,
    fixtures: path.join(HERE, 'fixtures.json'),
    stateDir: undefined,
    controlPort: undefined,
    alg: 'RS256',
    algs: undefined,
    deviceTtl: 600,
    deviceInterval: 5,
    slowDown: true,
    tokenTtl: 3600,
    device: true,
    groupsScopeOnly: false,
    verbose: false,
  };
  const need = (i) => {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  const int = (name, v) => {
    if (!/^\d+$/.test(v)) usage(`${name}: not a non-negative integer: ${v}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    switch (a) {
      case '--shape': o.shape = need(i); i += 1; break;
      case '--port': o.port = int(a, need(i)); i += 1; break;
      case '--cert': o.cert = need(i); i += 1; break;
      case '--key': o.key = need(i); i += 1; break;
      case '--fixtures': o.fixtures = need(i); i += 1; break;
      case '--state-dir': o.stateDir = need(i); i += 1; break;
      case '--control-port': o.controlPort = int(a, need(i)); i += 1; break;
      case '--alg': o.alg = need(i); i += 1; break;
      case '--algs': o.algs = need(i).split(',').filter(Boolean); i += 1; break;
      case '--device-ttl': o.deviceTtl = int(a, need(i)); i += 1; break;
      case '--device-interval': o.deviceInterval = int(a, need(i)); i += 1; break;
      case '--no-slow-down': o.slowDown = false; break;
      case '--token-ttl': o.tokenTtl = int(a, need(i)); i += 1; break;
      case '--no-device': o.device = false; break;
      case '--groups-scope-only': o.groupsScopeOnly = true; break;
      case '--verbose': o.verbose = true; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument: ${a}`);
    }
  }
  if (!['keycloak', 'auth0', 'okta'].includes(o.shape)) usage('--shape must be keycloak, auth0 or okta');
  if (o.port === undefined) usage('--port is required (0 picks a free port)');
  if (!o.cert || !o.key) usage('--cert and --key are required');
  if (!SIGN_ALGS[o.alg]) usage(`--alg must be one of ${Object.keys(SIGN_ALGS).join(', ')}`);
  if (!o.algs) o.algs = [o.alg];
  for (const a of o.algs) if (!SIGN_ALGS[a]) usage(`--algs: unsupported ${a}`);
  if (!o.algs.includes(o.alg)) o.algs.unshift(o.alg);
  if (o.deviceTtl < 1 || o.tokenTtl < 1) usage('TTLs must be at least 1 second');
  return o;
}

// The algorithms a key in the provider's JWKS is made for (the JWK's "alg").
const SIGN_ALGS = {
  RS256: { kty: 'RSA', gen: ['RS256', { modulusLength: 2048 }] },
  ES256: { kty: 'EC', gen: ['ES256', {}] },
  EdDSA: { kty: 'OKP', gen: ['EdDSA', { crv: 'Ed25519' }] },
};

const opt = parseArgs(process.argv.slice(2));
const log = (...a) => { if (opt.verbose) process.stderr.write(`[oidc-idp] ${a.join(' ')}\n`); };
const warn = (...a) => process.stderr.write(`[oidc-idp] ${a.join(' ')}\n`);

// ---------------------------------------------------------------------------------------------
// Fixtures and shapes

const fixtures = JSON.parse(fs.readFileSync(opt.fixtures, 'utf8'));
const CLIENT_ID = fixtures.client.id;
const CLIENT_SECRET = fixtures.client.secret;
const shapeCfg = fixtures.shapes?.[opt.shape] ?? {};
const users = fixtures.users;

const SHAPES = {
  keycloak: {
    issuerPath: () => `/realms/${shapeCfg.realm ?? 'test'}`,
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      jwks: '/protocol/openid-connect/certs',
      userinfo: '/protocol/openid-connect/userinfo',
      device_authorization: '/protocol/openid-connect/auth/device',
      code_verification: '/device',
      introspection: '/protocol/openid-connect/token/introspect',
      revocation: '/protocol/openid-connect/revoke',
      end_session: '/protocol/openid-connect/logout',
    },
    // Keycloak's default client scopes (profile, email, roles, groups mapper) apply to every
    // token, so everything rides on "openid".
    claims: {
      openid: ['sub', 'preferred_username', 'groups', 'realm_access', 'name', 'given_name',
        'family_name', 'email', 'email_verified'],
      profile: ['preferred_username', 'name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
      roles: ['realm_access'],
    },
    defaultResource: 'urn:idgate:test:keycloak-default',
    defaultAudience: () => shapeCfg.access_token_audience ?? CLIENT_ID,
  },
  auth0: {
    issuerPath: () => '/',
    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      jwks: '/.well-known/jwks.json',
      userinfo: '/userinfo',
      device_authorization: '/oauth/device/code',
      code_verification: '/activate',
      introspection: '/oauth/introspect',
      revocation: '/oauth/revoke',
      end_session: '/oidc/logout',
    },
    claims: {
      openid: ['sub', groupsClaimAuth0()],
      profile: ['name', 'nickname', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    // Auth0 issues an opaque access token (usable at /userinfo only) unless `audience` names
    // an API; then a JWT whose aud is [API, ISSUER/userinfo].
    defaultResource: undefined,
    defaultAudience: () => undefined,
  },
  okta: {
    issuerPath: () => `/oauth2/${shapeCfg.authorization_server ?? 'default'}`,
    routes: {
      authorization: '/v1/authorize',
      token: '/v1/token',
      jwks: '/v1/keys',
      userinfo: '/v1/userinfo',
      device_authorization: '/v1/device/authorize',
      code_verification: '/activate',
      introspection: '/v1/introspect',
      revocation: '/v1/revoke',
      end_session: '/v1/logout',
    },
    claims: {
      openid: ['sub', 'groups'],
      profile: ['preferred_username', 'name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    defaultResource: 'urn:idgate:test:okta-default',
    defaultAudience: () => shapeCfg.access_token_audience ?? 'api://default',
  },
};

function groupsClaimAuth0() {
  return fixtures.shapes?.auth0?.groups_claim ?? 'https://idgate.test/groups';
}

const shape = SHAPES[opt.shape];
// --groups-scope-only: groups are released only when the "groups" scope is asked for (as many
// IdPs configure it), never with "openid" alone.
if (opt.groupsScopeOnly) {
  const gc = opt.shape === 'auth0' ? groupsClaimAuth0() : 'groups';
  shape.claims.openid = shape.claims.openid.filter((c) => c !== gc);
  shape.claims.groups = [gc];
}
const DEFAULT_SCOPE = 'openid profile email';

function userId(name, u) {
  return u.ids?.[opt.shape] ?? `${opt.shape}-${name}`;
}

const bySub = new Map();
for (const [name, u] of Object.entries(users)) bySub.set(userId(name, u), { name, u });

// Find a user by what a person types as "username": the fixture key, or the e-mail address.
function findUserByLogin(login) {
  if (typeof login !== 'string' || login === '') return undefined;
  if (Object.hasOwn(users, login)) return { name: login, u: users[login] };
  const l = login.toLowerCase();
  for (const [name, u] of Object.entries(users)) {
    if (typeof u.email === 'string' && u.email.toLowerCase() === l) return { name, u };
  }
  return undefined;
}

function checkPassword(login, password) {
  const hit = findUserByLogin(login);
  if (!hit || typeof password !== 'string') return undefined;
  const a = Buffer.from(String(hit.u.password));
  const b = Buffer.from(password);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return undefined;
  return hit;
}

// Every claim the user has in this shape; the provider masks them by scope.
function userClaims(name, u) {
  const c = {
    sub: userId(name, u),
    name: u.name,
    given_name: u.given_name,
    family_name: u.family_name,
    email: u.email,
    email_verified: true,
  };
  switch (opt.shape) {
    case 'keycloak':
      c.preferred_username = name;
      c.groups = u.group_paths ?? (u.groups ?? []).map((g) => `/${g}`);
      c.realm_access = {
        roles: [...(u.roles ?? []), ...(shapeCfg.default_realm_roles ?? [])],
      };
      break;
    case 'auth0':
      c.nickname = u.nickname ?? (u.email ? u.email.split('@')[0] : name);
      c[groupsClaimAuth0()] = u.groups ?? [];
      break;
    case 'okta':
      c.preferred_username = u.login ?? u.email ?? name;
      c.groups = u.groups ?? [];
      break;
    default:
  }
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

function claimsForScope(all, scope) {
  const allowed = new Set();
  for (const s of String(scope ?? '').split(' ')) for (const c of shape.claims[s] ?? []) allowed.add(c);
  const out = {};
  for (const [k, v] of Object.entries(all)) if (allowed.has(k)) out[k] = v;
  out.sub = all.sub;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Signing keys: generated at first start, persisted (private JWKS) in STATE_DIR/jwks.json

let keyFile;
if (opt.stateDir) {
  fs.mkdirSync(opt.stateDir, { recursive: true, mode: 0o700 });
  keyFile = path.join(opt.stateDir, 'jwks.json');
}

async function newKey(alg) {
  const [galg, gopts] = SIGN_ALGS[alg].gen;
  const { privateKey } = await jose.generateKeyPair(galg, { ...gopts, extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  const thumb = await jose.calculateJwkThumbprint(jwk);
  return {
    ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${thumb.slice(0, 16)}`,
  };
}

// keys: [private JWK], the first key of each alg is that alg's current signing key.
let keys = [];

async function loadKeys() {
  if (keyFile && fs.existsSync(keyFile)) {
    keys = JSON.parse(fs.readFileSync(keyFile, 'utf8')).keys;
  }
  let changed = false;
  for (const alg of opt.algs) {
    if (!keys.some((k) => k.alg === alg)) {
      keys.push(await newKey(alg));
      changed = true;
    }
  }
  if (changed) saveKeys();
}

function saveKeys() {
  if (!keyFile) return;
  const tmp = `${keyFile}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, keyFile);
}

// The keys the provider holds and publishes: those of the algorithms asked for.
function publishedKeys() {
  return keys.filter((k) => opt.algs.includes(k.alg));
}

function currentKey(alg = opt.alg) {
  return keys.find((k) => k.alg === alg);
}

function publicJwk(k) {
  const {
    d, p, q, dp, dq, qi, ...pub
  } = k;
  return pub;
}

// A key that is never in the JWKS, for negative tests.
const foreignKeys = {};
async function foreignKey(alg) {
  if (!foreignKeys[alg]) {
    const k = await newKey(alg);
    k.kid = `foreign-${k.kid}`;
    foreignKeys[alg] = k;
  }
  return foreignKeys[alg];
}

// ---------------------------------------------------------------------------------------------
// Storage shared by every Provider instance (a rotation builds a new one). Records outlive
// their expiry by an hour so that an expired device code answers expired_token, not "not found".

const store = new Map();
const GRACE_MS = 3600 * 1000;

function sweep() {
  const now = Date.now();
  for (const [k, v] of store) if (v.until < now) store.delete(k);
}

class MemoryAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const until = Date.now() + (expiresIn ? expiresIn * 1000 : 86400 * 1000) + GRACE_MS;
    store.set(this.key(id), { payload, until });
    if (payload.grantId) {
      const gk = `grant:${payload.grantId}`;
      const members = store.get(gk)?.payload ?? new Set();
      members.add(this.key(id));
      store.set(gk, { payload: members, until: Math.max(until, store.get(gk)?.until ?? 0) });
    }
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, until });
    if (this.model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, { payload: id, until });
  }

  async find(id) {
    const r = store.get(this.key(id));
    return r && r.until >= Date.now() ? r.payload : undefined;
  }

  async findByUserCode(userCode) {
    const r = store.get(`userCode:${userCode}`);
    return r ? this.find(r.payload) : undefined;
  }

  async findByUid(uid) {
    const r = store.get(`sessionUid:${uid}`);
    return r ? this.find(r.payload) : undefined;
  }

  async consume(id) {
    const r = store.get(this.key(id));
    if (r) r.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const gk = `grant:${grantId}`;
    for (const k of store.get(gk)?.payload ?? []) store.delete(k);
    store.delete(gk);
  }
}

// ---------------------------------------------------------------------------------------------
// Provider

let issuer;
let issuerPath; // '' for the root
let provider;
let providerCallback;

function resourceServerInfo(resource) {
  // The API the access token is for; its audience and the scopes it may carry.
  const base = {
    scope: 'openid profile email groups roles offline_access',
    accessTokenFormat: 'jwt',
    accessTokenTTL: opt.tokenTtl,
    jwt: { sign: { alg: opt.alg } },
  };
  if (shape.defaultResource && resource === shape.defaultResource) {
    return { ...base, audience: shape.defaultAudience() };
  }
  if (opt.shape === 'auth0' && (shapeCfg.api_audiences ?? ['https://api.idgate.test']).includes(resource)) {
    return { ...base, audience: resource };
  }
  throw new errors.InvalidTarget(`unknown audience/resource ${resource}`);
}

function buildProvider() {
  const cfg = {
    adapter: MemoryAdapter,
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      client_name: 'idgate',
      // client_secret_basic here; oidc-provider accepts client_secret_post as well for any
      // client registered with either of the two methods.
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['password', ...(opt.device ? ['urn:ietf:params:oauth:grant-type:device_code'] : []),
        'refresh_token'],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: opt.alg,
    }],
    jwks: { keys: publishedKeys() },
    cookies: { keys: ['idgate-test-idp-cookie-key-1'] },
    claims: shape.claims,
    conformIdTokenClaims: false,
    scopes: ['openid', 'offline_access', ...Object.keys(shape.claims).filter((s) => s !== 'openid')],
    routes: shape.routes,
    findAccount: async (ctx, sub) => {
      const hit = bySub.get(sub);
      if (!hit) return undefined;
      return {
        accountId: sub,
        claims: async () => userClaims(hit.name, hit.u),
      };
    },
    ttl: {
      AccessToken: opt.tokenTtl,
      IdToken: opt.tokenTtl,
      DeviceCode: opt.deviceTtl,
      Grant: 14 * 86400,
      Interaction: 3600,
      Session: 86400,
      RefreshToken: 86400,
    },
    features: {
      devInteractions: { enabled: false },
      // --no-device: no device authorization endpoint, none in the discovery document.
      deviceFlow: {
        enabled: opt.device,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource,
        userCodeConfirmSource,
        successSource,
      },
      userinfo: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => shape.defaultResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource) => resourceServerInfo(resource),
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    },
    interactions: {
      url: (ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    formats: {
      customizers: { jwt: customizeJwtAccessToken },
    },
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<p class="error" id="error">${esc(out.error)}: ${esc(out.error_description ?? '')}</p>`);
    },
  };

  const p = new Provider(issuer, cfg);

  p.registerGrantType('password', passwordGrant, ['username', 'password', 'scope', 'resource']);

  // Device authorization answers carry the polling interval (RFC 8628 3.2).
  p.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = { ...ctx.body, interval: opt.deviceInterval };
    }
  });

  p.on('server_error', (ctx, err) => warn('server_error:', err?.stack ?? err));
  p.on('grant.error', (ctx, err) => log('grant.error:', err?.message, err?.error_description ?? ''));
  return p;
}

// JWT access tokens look like the shape's: who the user is and their groups ride in them.
async function customizeJwtAccessToken(ctx, token, jwt) {
  const p = jwt.payload;
  const hit = token.accountId ? bySub.get(token.accountId) : undefined;
  const all = hit ? userClaims(hit.name, hit.u) : {};
  switch (opt.shape) {
    case 'keycloak':
      p.typ = 'Bearer';
      p.azp = token.clientId;
      if (hit) {
        p.preferred_username = all.preferred_username;
        p.groups = all.groups;
        p.realm_access = all.realm_access;
        p.email = all.email;
      }
      break;
    case 'auth0':
      p.azp = token.clientId;
      p.gty = token.gty;
      if (token.scopes.has('openid')) p.aud = [p.aud, `${issuer}userinfo`];
      if (hit) p[groupsClaimAuth0()] = all[groupsClaimAuth0()];
      break;
    case 'okta':
      p.ver = 1;
      p.cid = token.clientId;
      p.scp = (p.scope ?? '').split(' ').filter(Boolean);
      if (hit) {
        p.uid = all.sub;
        p.sub = all.preferred_username;
        p.groups = all.groups;
      }
      break;
    default:
  }
}

// ---- The resource-owner password grant, as Keycloak, Auth0 and Okta offer it

async function passwordGrant(ctx) {
  const { params, client } = ctx.oidc;
  const hit = checkPassword(params.username, params.password);
  if (!hit) {
    throw new errors.InvalidGrant('invalid username or password');
  }
  const { Grant, AccessToken, IdToken, ResourceServer } = ctx.oidc.provider;
  const sub = userId(hit.name, hit.u);

  const known = new Set(['openid', 'offline_access', ...Object.keys(shape.claims)]);
  const requested = (params.scope ?? DEFAULT_SCOPE).split(' ').filter((s) => known.has(s));
  const scope = requested.join(' ');

  let resource = params.resource;
  if (resource === undefined) resource = shape.defaultResource;
  if (Array.isArray(resource)) throw new errors.InvalidTarget('only one resource/audience please');

  const grant = new Grant({ accountId: sub, clientId: client.clientId });
  if (scope) grant.addOIDCScope(scope);
  let resourceServer;
  if (resource) {
    resourceServer = new ResourceServer(resource, resourceServerInfo(resource));
    grant.addResourceScope(resource, scope);
  }
  const grantId = await grant.save();

  const at = new AccessToken({
    accountId: sub,
    client,
    grantId,
    gty: 'password',
    scope: scope || undefined,
    ...(resourceServer ? { resourceServer } : {}),
  });
  const accessToken = await at.save();

  const body = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: at.expiration,
    scope,
  };

  if (requested.includes('openid')) {
    const idt = new IdToken(userClaims(hit.name, hit.u), { ctx });
    idt.scope = scope;
    idt.set('at_hash', accessToken);
    idt.set('auth_time', Math.floor(Date.now() / 1000));
    if (opt.shape === 'keycloak') idt.set('azp', client.clientId);
    body.id_token = await idt.issue({ use: 'idtoken' });
  }
  ctx.body = body;
}

// ---------------------------------------------------------------------------------------------
// HTML for the device flow and the sign-in interaction (no scripts, no external resources)

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

async function userCodeInputSource(ctx, form, out, err) {
  let msg;
  if (err && (err.userCode || err.name === 'NoCodeError')) {
    msg = '<p class="error" id="error">The code you entered is incorrect. Try again</p>';
  } else if (err && err.name === 'AbortedError') {
    msg = '<p class="error" id="error">The Sign-in request was interrupted</p>';
  } else if (err) {
    msg = `<p class="error" id="error">There was an error processing your request: ${esc(err.message ?? '')}</p>`;
  } else {
    msg = '<p>Enter the code displayed on your device</p>';
  }
  ctx.body = page('Device sign-in', `${msg}\n${form}\n<button type="submit" form="op.deviceInputForm">Continue</button>`);
}

async function userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
  ctx.body = page('Confirm device', `<p>Client <strong>${esc(client.clientName || client.clientId)}</strong>
wants to sign you in. The following code should be displayed on your device: <code id="user-code">${esc(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`);
}

async function successSource(ctx) {
  ctx.body = page('Sign-in Success', '<p id="success">Your sign-in was successful, you can now close this page.</p>');
}

function loginPage(uid, error) {
  return page('Sign in', `${error ? `<p class="error" id="error">${esc(error)}</p>\n` : ''}<form id="login-form" method="post" action="${esc(`${issuerPath}/interaction/${uid}/login`)}">
<input type="text" name="username" autocomplete="username">
<input type="password" name="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>`);
}

function consentPage(uid, clientId, scopes) {
  return page('Grant access', `<p>Client <strong>${esc(clientId)}</strong> asks for: <span id="scopes">${esc(scopes.join(' '))}</span></p>
<form id="consent-approve" method="post" action="${esc(`${issuerPath}/interaction/${uid}/confirm`)}">
<input type="hidden" name="decision" value="approve">
<button type="submit">Yes</button>
</form>
<form id="consent-deny" method="post" action="${esc(`${issuerPath}/interaction/${uid}/abort`)}">
<input type="hidden" name="decision" value="deny">
<button type="submit">No</button>
</form>`);
}

// ---------------------------------------------------------------------------------------------
// Interaction routes (our own: a login form checked against the fixtures, a consent page)

async function readBody(req, limit = 1024 * 1024) {
  const chunks = [];
  let n = 0;
  for await (const c of req) {
    n += c.length;
    if (n > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

async function interactionRoute(req, res, rest) {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/.exec(rest);
  if (!m) return send(res, 404, 'text/plain', 'not found\n');
  const [, uid, action] = m;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (e) {
    return send(res, 400, 'text/html; charset=utf-8', page('Error', `<p class="error" id="error">${esc(e.message)}</p>`));
  }
  if (details.uid !== uid) {
    return send(res, 400, 'text/html; charset=utf-8', page('Error', '<p class="error" id="error">interaction mismatch</p>'));
  }
  const { prompt, params, session } = details;

  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return send(res, 200, 'text/html; charset=utf-8', loginPage(uid));
    if (prompt.name === 'consent') {
      return send(res, 200, 'text/html; charset=utf-8', consentPage(uid, params.client_id, String(params.scope ?? '').split(' ')));
    }
    return send(res, 501, 'text/plain', `prompt ${prompt.name} not implemented\n`);
  }
  if (req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed\n');

  const form = querystring.parse(await readBody(req));
  if (action === 'login') {
    if (prompt.name !== 'login') return send(res, 400, 'text/plain', 'not at the login step\n');
    const hit = checkPassword(form.username, form.password);
    if (!hit) {
      return send(res, 200, 'text/html; charset=utf-8', loginPage(uid, 'Invalid username or password.'));
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: userId(hit.name, hit.u) },
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User denied the request',
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    if (prompt.name !== 'consent') return send(res, 400, 'text/plain', 'not at the consent step\n');
    let grant;
    if (details.grantId) grant = await provider.Grant.find(details.grantId);
    if (!grant) grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(res, 404, 'text/plain', 'not found\n');
}

// ---- userinfo with a JWT access token (real IdPs accept their JWT access tokens there;
// oidc-provider keeps no record of them, so we check them here). Opaque tokens go to the
// provider.

async function jwtUserinfo(req, res) {
  let token;
  const auth = req.headers.authorization;
  if (auth && /^bearer /i.test(auth)) token = auth.slice(7).trim();
  if (!token && req.method === 'POST' && req.body) token = querystring.parse(req.body).access_token;
  if (!token || token.split('.').length !== 3) return false;
  const fail = (desc) => send(res, 401, 'application/json', JSON.stringify({ error: 'invalid_token', error_description: desc }), {
    'www-authenticate': `Bearer realm="${issuer}", error="invalid_token", error_description="${desc}"`,
  });
  let payload;
  try {
    ({ payload } = await jose.jwtVerify(token, jose.createLocalJWKSet({ keys: publishedKeys().map(publicJwk) }), {
      issuer,
      typ: 'at+jwt',
      algorithms: opt.algs,
    }));
  } catch (e) {
    fail(`access token invalid: ${e.code ?? e.message}`);
    return true;
  }
  const hit = bySub.get(payload.uid ?? payload.sub);
  if (!hit) { fail('unknown subject'); return true; }
  const scope = String(payload.scope ?? (payload.scp ?? []).join(' '));
  if (!scope.split(' ').includes('openid')) {
    send(res, 403, 'application/json', JSON.stringify({ error: 'insufficient_scope', error_description: 'access token missing openid scope' }));
    return true;
  }
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(claimsForScope(userClaims(hit.name, hit.u), scope)));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Fault injection and statistics

const state = {
  mode: 'normal',
  modeSeconds: 30,
  modeEndpoints: null, // null = all
  jwksDown: null, // null | '503' | 'reset'
};

const stats = {
  started: new Date().toISOString(), total: 0, endpoints: {}, token_grants: {}, statuses: {},
};
function resetStats() {
  stats.total = 0;
  stats.endpoints = {};
  stats.token_grants = {};
  stats.statuses = {};
}

// Which endpoint a path (with the issuer path removed) is.
function endpointOf(rest) {
  const r = shape.routes;
  if (rest === '/.well-known/openid-configuration' || rest === '/.well-known/oauth-authorization-server') return 'discovery';
  if (rest === r.jwks) return 'jwks';
  if (rest === r.token) return 'token';
  if (rest === r.userinfo) return 'userinfo';
  if (rest === r.device_authorization) return 'device_authorization';
  if (rest === r.code_verification) return 'code_verification';
  if (rest.startsWith(`${r.code_verification}/`)) return 'device_resume';
  if (rest === r.introspection) return 'introspection';
  if (rest === r.revocation) return 'revocation';
  if (rest.startsWith('/interaction/')) return 'interaction';
  return 'other';
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// A TCP reset: through the TLS socket to the TCP socket under it when Node exposes it.
function resetConnection(req, res) {
  res.on('error', () => {});
  for (const s of [req.socket._parent, req.socket]) {
    try {
      if (s && typeof s.resetAndDestroy === 'function') {
        s.resetAndDestroy();
        if (s !== req.socket) req.socket.destroy();
        return;
      }
    } catch {
      // not a TCP handle: try the next one
    }
  }
  req.socket.destroy();
}

// Returns true when the request was answered by the fault injector.
async function injectFault(req, res, endpoint) {
  if (endpoint === 'jwks' && state.jwksDown) {
    if (state.jwksDown === 'reset') resetConnection(req, res);
    else send(res, 503, 'text/plain', 'JWKS unavailable\n', { 'retry-after': '1' });
    return true;
  }
  if (state.mode === 'normal') return false;
  if (state.modeEndpoints && !state.modeEndpoints.includes(endpoint)) return false;
  switch (state.mode) {
    case 'slow':
      await sleep(state.modeSeconds * 1000);
      return false;
    case 'http500':
      send(res, 500, 'text/html', '<html><body><h1>500 Internal Server Error</h1></body></html>\n');
      return true;
    case 'badjson':
      send(res, 200, 'application/json', '{"issuer": ');
      return true;
    case 'huge': {
      const total = 10 * 1024 * 1024;
      const head = `{"issuer":${JSON.stringify(issuer)},"padding":"`;
      const tail = '"}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
      res.write(head);
      let left = total - head.length - tail.length;
      const chunk = 'x'.repeat(64 * 1024);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        if (!res.write(n === chunk.length ? chunk : chunk.slice(0, n))) {
          // eslint-disable-next-line no-await-in-loop
          await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
          if (res.destroyed) return true;
        }
        left -= n;
      }
      res.end(tail);
      return true;
    }
    case 'reset':
      resetConnection(req, res);
      return true;
    default:
      return false;
  }
}

// slow_down (RFC 8628 3.5): polling a device code faster than its interval is answered with
// slow_down, and that code's interval grows by 5 s.
const devicePolls = new Map();
function deviceSlowDown(deviceCode) {
  if (!opt.slowDown || !deviceCode) return false;
  const now = Date.now();
  const prev = devicePolls.get(deviceCode);
  if (!prev) {
    devicePolls.set(deviceCode, { last: now, interval: opt.deviceInterval });
    return false;
  }
  const tooFast = now - prev.last < prev.interval * 1000 - 250;
  prev.last = now;
  if (tooFast) prev.interval += 5;
  return tooFast;
}

// ---------------------------------------------------------------------------------------------
// The HTTPS front: counts, faults, issuer-path mount, our routes, then the provider.

async function handle(req, res) {
  const url = req.url;
  const qpos = url.indexOf('?');
  const pathname = qpos === -1 ? url : url.slice(0, qpos);
  let rest;
  if (issuerPath === '') rest = pathname;
  else if (pathname === issuerPath || pathname.startsWith(`${issuerPath}/`)) rest = pathname.slice(issuerPath.length) || '/';
  const endpoint = rest === undefined ? 'other' : endpointOf(rest);

  stats.total += 1;
  stats.endpoints[endpoint] = (stats.endpoints[endpoint] ?? 0) + 1;
  res.on('finish', () => {
    const k = `${endpoint} ${res.statusCode}`;
    stats.statuses[k] = (stats.statuses[k] ?? 0) + 1;
    log(req.method, url, res.statusCode);
  });

  if (await injectFault(req, res, endpoint)) return;
  if (rest === undefined) return send(res, 404, 'text/plain', 'not found\n');

  if (endpoint === 'interaction') return interactionRoute(req, res, rest);

  if (req.method === 'POST' && ['token', 'device_authorization', 'userinfo'].includes(endpoint)) {
    // Read the form ourselves: device code polls are rate-checked, `audience` is mapped.
    const raw = await readBody(req);
    const form = querystring.parse(raw);
    if (endpoint === 'token') {
      const g = form.grant_type ?? '(none)';
      stats.token_grants[g] = (stats.token_grants[g] ?? 0) + 1;
      if (g === 'urn:ietf:params:oauth:grant-type:device_code' && deviceSlowDown(form.device_code)) {
        return send(res, 400, 'application/json', JSON.stringify({ error: 'slow_down', error_description: 'polling too fast' }));
      }
    }
    // Auth0's `audience` parameter is a resource indicator here; the other shapes ignore it,
    // as Keycloak and Okta do.
    if (opt.shape === 'auth0' && form.audience !== undefined && form.resource === undefined && endpoint !== 'userinfo') {
      form.resource = form.audience;
    }
    delete form.audience;
    req.body = querystring.stringify(form);
  }

  if (endpoint === 'userinfo' && await jwtUserinfo(req, res)) return;

  req.originalUrl = url;
  req.url = issuerPath === '' ? url : (url.slice(issuerPath.length) || '/');
  if (req.url.startsWith('?')) req.url = `/${req.url}`;
  return providerCallback(req, res);
}

// ---------------------------------------------------------------------------------------------
// Control plane (plain HTTP, 127.0.0.1 only)

function json(res, status, obj) {
  send(res, status, 'application/json', `${JSON.stringify(obj, null, 2)}\n`);
}

function installProvider() {
  provider = buildProvider();
  providerCallback = provider.callback();
}

async function rotate(alg, keep) {
  const old = currentKey(alg);
  const fresh = await newKey(alg);
  const same = keys.filter((k) => k.alg === alg);
  const others = keys.filter((k) => k.alg !== alg);
  keys = [fresh, ...(keep ? same : []), ...others];
  saveKeys();
  installProvider();
  return { alg, kid: fresh.kid, previous: old?.kid, kids: publishedKeys().map((k) => k.kid) };
}

function b64url(obj) {
  return Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)).toString('base64url');
}

async function mint(body) {
  const now = Math.floor(Date.now() / 1000);
  const kind = body.token ?? 'id';
  const username = body.user ?? 'alice';
  const u = users[username];
  let claims = {};
  if (u) claims = { ...userClaims(username, u) };
  if (kind === 'access') {
    claims = {
      ...claims, client_id: CLIENT_ID, scope: DEFAULT_SCOPE, jti: crypto.randomUUID(),
    };
    claims.aud = shape.defaultAudience() ?? (shapeCfg.api_audiences?.[0] ?? CLIENT_ID);
    if (opt.shape === 'keycloak') claims.azp = CLIENT_ID;
    if (opt.shape === 'okta') {
      claims.uid = claims.sub; claims.sub = claims.preferred_username; claims.cid = CLIENT_ID;
    }
  } else {
    claims.aud = CLIENT_ID;
    if (opt.shape === 'keycloak') claims.azp = CLIENT_ID;
  }
  claims.iss = issuer;
  claims.iat = now + (body.iat_in ?? 0);
  claims.exp = now + (body.exp_in ?? 300);
  if (body.nbf_in !== undefined) claims.nbf = now + body.nbf_in;
  for (const [k, v] of Object.entries(body.claims ?? {})) {
    if (v === null) delete claims[k]; else claims[k] = v;
  }
  if (body.pad) claims.pad = 'p'.repeat(Number(body.pad));

  const how = body.key ?? 'current';
  const alg = body.alg ?? opt.alg;
  let header;
  let jwt;
  switch (how) {
    case 'current':
    case 'foreign': {
      const keyAlg = SIGN_ALGS[alg] ? alg : { RS384: 'RS256', RS512: 'RS256', PS256: 'RS256', PS384: 'RS256', PS512: 'RS256' }[alg];
      if (!keyAlg) throw new Error(`no key for alg ${alg}`);
      const jwk = how === 'current' ? currentKey(keyAlg) : await foreignKey(keyAlg);
      if (!jwk) throw new Error(`the IdP has no ${keyAlg} key (start it with --algs)`);
      header = {
        alg, typ: kind === 'access' ? 'at+jwt' : 'JWT', kid: jwk.kid, ...body.header,
      };
      for (const k of Object.keys(header)) if (header[k] === null) delete header[k];
      const key = await jose.importJWK(jwk, keyAlg === 'EdDSA' ? 'EdDSA' : alg);
      jwt = await new jose.CompactSign(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader(header).sign(key);
      break;
    }
    case 'none':
      header = { alg: 'none', typ: 'JWT', ...body.header };
      for (const k of Object.keys(header)) if (header[k] === null) delete header[k];
      jwt = `${b64url(header)}.${b64url(claims)}.`;
      break;
    case 'hs256-with-public-pem': {
      const rsa = currentKey('RS256');
      if (!rsa) throw new Error('the IdP has no RSA key');
      const pub = crypto.createPublicKey({ key: publicJwk(rsa), format: 'jwk' });
      const pem = pub.export({ type: body.pem_type === 'pkcs1' ? 'pkcs1' : 'spki', format: 'pem' });
      header = {
        alg: 'HS256', typ: 'JWT', kid: rsa.kid, ...body.header,
      };
      for (const k of Object.keys(header)) if (header[k] === null) delete header[k];
      jwt = await new jose.CompactSign(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader(header).sign(new Uint8Array(Buffer.from(pem)));
      break;
    }
    default:
      throw new Error(`unknown key ${how}`);
  }
  return jwt;
}

async function control(req, res) {
  const u = new URL(req.url, 'http://127.0.0.1');
  const p = u.pathname;
  const q = u.searchParams;
  try {
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body = {};
    if (raw.trim()) {
      try { body = JSON.parse(raw); } catch { return json(res, 400, { error: 'body is not JSON' }); }
    }
    if (req.method === 'GET' && p === '/stats') {
      return json(res, 200, { ...stats, jwks_fetches: stats.endpoints.jwks ?? 0 });
    }
    if (req.method === 'POST' && p === '/stats/reset') { resetStats(); return json(res, 200, { ok: true }); }
    if (req.method === 'GET' && (p === '/info' || p === '/')) {
      return json(res, 200, {
        shape: opt.shape,
        issuer,
        discovery: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
        client_id: CLIENT_ID,
        alg: opt.alg,
        kids: publishedKeys().map((k) => k.kid),
        current_kid: currentKey().kid,
        mode: state.mode,
        mode_seconds: state.modeSeconds,
        mode_endpoints: state.modeEndpoints,
        jwks_down: state.jwksDown,
        device_ttl: opt.deviceTtl,
        device_interval: opt.deviceInterval,
      });
    }
    if (req.method === 'POST' && p === '/rotate') {
      const keep = q.get('keep') === '1' || body.keep === true;
      const alg = q.get('alg') ?? body.alg ?? opt.alg;
      if (!opt.algs.includes(alg)) return json(res, 400, { error: `alg ${alg} not served` });
      return json(res, 200, await rotate(alg, keep));
    }
    if (req.method === 'POST' && p === '/jwks-down') {
      const how = q.get('how') ?? body.how ?? '503';
      if (!['503', 'reset'].includes(how)) return json(res, 400, { error: 'how must be 503 or reset' });
      state.jwksDown = how;
      return json(res, 200, { jwks_down: how });
    }
    if (req.method === 'POST' && p === '/jwks-up') { state.jwksDown = null; return json(res, 200, { jwks_down: null }); }
    if (p === '/mode' && req.method === 'GET') return json(res, 200, { mode: state.mode, seconds: state.modeSeconds, endpoints: state.modeEndpoints });
    if (p === '/mode' && req.method === 'POST') {
      const mode = body.mode ?? q.get('mode');
      if (!['normal', 'slow', 'http500', 'badjson', 'huge', 'reset'].includes(mode)) {
        return json(res, 400, { error: 'mode must be normal, slow, http500, badjson, huge or reset' });
      }
      state.mode = mode;
      state.modeSeconds = Number(body.seconds ?? q.get('seconds') ?? 30);
      state.modeEndpoints = body.endpoints ?? (q.get('endpoints') ? q.get('endpoints').split(',') : null);
      return json(res, 200, { mode: state.mode, seconds: state.modeSeconds, endpoints: state.modeEndpoints });
    }
    if (req.method === 'POST' && p === '/password') {
      // A password changed at the IdP (say, after a leak): {"user": NAME, "password": NEW}.
      const hit = findUserByLogin(body.user ?? q.get('user'));
      const pw = body.password ?? q.get('password');
      if (!hit || typeof pw !== 'string' || pw === '') return json(res, 400, { error: 'user and password required' });
      hit.u.password = pw;
      return json(res, 200, { user: hit.name });
    }
    if (req.method === 'POST' && p === '/mint') {
      const jwt = await mint(body);
      return send(res, 200, 'application/jwt', jwt);
    }
    return json(res, 404, { error: 'unknown control request', path: p });
  } catch (e) {
    return json(res, 500, { error: e.message });
  }
}

// ---------------------------------------------------------------------------------------------
// Start

const tlsServer = https.createServer({
  cert: fs.readFileSync(opt.cert),
  key: fs.readFileSync(opt.key),
}, (req, res) => {
  handle(req, res).catch((e) => {
    warn('request failed:', e.stack ?? e);
    if (!res.headersSent) send(res, e.status ?? 500, 'text/plain', `${e.message}\n`);
    else res.destroy();
  });
});
tlsServer.on('tlsClientError', (e) => log('TLS client error:', e.message));

const listen = (srv, port) => new Promise((resolve, reject) => {
  srv.once('error', reject);
  srv.listen(port, '127.0.0.1', () => { srv.off('error', reject); resolve(srv.address().port); });
});

const actualPort = await listen(tlsServer, opt.port);
const sp = shape.issuerPath();
issuerPath = sp === '/' ? '' : sp;
issuer = `https://127.0.0.1:${actualPort}${sp}`;

await loadKeys();
installProvider();

let controlServer;
if (opt.controlPort !== undefined) {
  controlServer = http.createServer((req, res) => { control(req, res); });
  const cp = await listen(controlServer, opt.controlPort);
  process.stdout.write(`CONTROL http://127.0.0.1:${cp}\n`);
}

const sweeper = setInterval(sweep, 60 * 1000);
sweeper.unref();

function shutdown(sig) {
  log(`${sig}: shutting down`);
  tlsServer.close();
  tlsServer.closeAllConnections?.();
  if (controlServer) { controlServer.close(); controlServer.closeAllConnections?.(); }
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

process.stdout.write(`READY ${issuer}\n`);
