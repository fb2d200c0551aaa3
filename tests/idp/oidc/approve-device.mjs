#!/usr/bin/env node
// Approve (or deny) a device-flow request the way a person in a browser would, with plain
// HTTPS requests and a cookie jar: open the verification URI, enter the user code, confirm the
// device, sign in, and answer the consent page.
//
// node approve-device.mjs --base https://127.0.0.1:N/ISSUERPATH --ca CA --user-code CODE
//                         --username alice --password PW [--deny | --abort]
//                         [--verification-uri URL] [--verbose]
//
// --base               the issuer; the verification URI is ISSUER/device (Keycloak shape) or
//                      ISSUER/activate (Auth0, Okta shapes) unless --verification-uri is given
// --verification-uri   the verification_uri the device showed (overrides --base)
// --deny               sign in, then answer "No" on the consent page (access_denied)
// --abort              press "Abort" on the device confirmation page, before signing in
//
// Exit status: 0 when the page at the end says what was asked for (success, or the denial was
// accepted), 1 otherwise with a message on stderr (wrong code, bad password, unexpected page).

import * as fs from 'node:fs';
import * as https from 'node:https';
import * as querystring from 'node:querystring';

function usage(msg) {
  if (msg) process.stderr.write(`approve-device: ${msg}\n`);
  process.stderr.write('usage: node approve-device.mjs --base ISSUER --ca CA --user-code CODE --username U --password P [--deny|--abort] [--verification-uri URL] [--verbose]\n');
  process.exit(2);
}

const opt = { deny: false, abort: false, verbose: false };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 1) {
    const need = () => { if (i + 1 >= a.length) usage(`${a[i]} needs a value`); i += 1; return a[i]; };
    switch (a[i]) {
      case '--base': opt.base = need(); break;
      case '--ca': opt.ca = need(); break;
      case '--user-code': opt.userCode = need(); break;
      case '--username': opt.username = need(); break;
      case '--password': opt.password = need(); break;
      case '--verification-uri': opt.verificationUri = need(); break;
      case '--deny': opt.deny = true; break;
      case '--abort': opt.abort = true; break;
      case '--verbose': opt.verbose = true; break;
      default: usage(`unknown argument ${a[i]}`);
    }
  }
  if (!opt.base && !opt.verificationUri) usage('--base or --verification-uri is required');
  if (!opt.userCode) usage('--user-code is required');
  if (!opt.abort && (opt.username === undefined || opt.password === undefined)) usage('--username and --password are required');
}

const ca = opt.ca ? fs.readFileSync(opt.ca) : undefined;
const log = (...m) => { if (opt.verbose) process.stderr.write(`approve-device: ${m.join(' ')}\n`); };
function die(msg) {
  process.stderr.write(`approve-device: ${msg}\n`);
  process.exit(1);
}

// ---- a small browser: cookie jar with paths, redirects followed with GET

const jar = new Map(); // name -> { value, path }

function storeCookies(url, setCookie) {
  for (const line of setCookie ?? []) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let cpath = '/';
    let expired = false;
    for (const at of attrs) {
      const [k, v = ''] = at.split('=');
      const key = k.trim().toLowerCase();
      if (key === 'path') cpath = v.trim();
      if (key === 'expires' && Date.parse(v) < Date.now()) expired = true;
      if (key === 'max-age' && Number(v) <= 0) expired = true;
    }
    const id = `${name};${cpath}`;
    if (expired) jar.delete(id); else jar.set(id, { name, value, path: cpath });
  }
}

function cookieHeader(url) {
  const p = new URL(url).pathname;
  const out = [];
  for (const c of jar.values()) {
    if (p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) out.push(`${c.name}=${c.value}`);
  }
  return out.join('; ');
}

function request(method, url, form) {
  return new Promise((resolve, reject) => {
    const body = form ? querystring.stringify(form) : undefined;
    const headers = { accept: 'text/html', 'user-agent': 'idgate-test-browser/1' };
    const ck = cookieHeader(url);
    if (ck) headers.cookie = ck;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = https.request(url, { method, headers, ca, timeout: 15000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        storeCookies(url, res.headers['set-cookie']);
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function go(method, url, form) {
  let r;
  let u = url;
  let m = method;
  let f = form;
  for (let hops = 0; hops < 10; hops += 1) {
    log(m, u);
    // eslint-disable-next-line no-await-in-loop
    r = await request(m, u, f);
    log(' ->', r.status, r.headers.location ?? '');
    if ([301, 302, 303, 307, 308].includes(r.status) && r.headers.location) {
      u = new URL(r.headers.location, u).href;
      if (r.status === 303 || m !== 'POST' || r.status === 302 || r.status === 301) { m = 'GET'; f = undefined; }
      continue;
    }
    r.url = u;
    return r;
  }
  return die(`too many redirects at ${u}`);
}

// ---- reading pages

function decode(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag, name) {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decode(m[2] ?? m[3] ?? m[4]) : undefined;
}

// Forms on the page: id, action, method, and the inputs inside them (name -> value).
function forms(html, baseUrl) {
  const out = [];
  const re = /<form\b[^>]*>([\s\S]*?)<\/form>/gi;
  let m;
  // eslint-disable-next-line no-cond-assign
  while ((m = re.exec(html))) {
    const tag = /<form\b[^>]*>/i.exec(m[0])[0];
    const inputs = {};
    for (const t of m[1].match(/<input\b[^>]*>/gi) ?? []) {
      const name = attr(t, 'name');
      if (name !== undefined) inputs[name] = attr(t, 'value') ?? '';
    }
    out.push({
      id: attr(tag, 'id'),
      action: new URL(attr(tag, 'action') ?? baseUrl, baseUrl).href,
      method: (attr(tag, 'method') ?? 'get').toUpperCase(),
      inputs,
    });
  }
  return out;
}

function pageError(html) {
  const m = /<p[^>]*class="(?:error|red)"[^>]*>([\s\S]*?)<\/p>/i.exec(html);
  return m ? decode(m[1].replace(/<[^>]+>/g, '')).trim() : undefined;
}

function title(html) {
  const m = /<title>([\s\S]*?)<\/title>/i.exec(html);
  return m ? decode(m[1]).trim() : '';
}

function describe(r) {
  return `HTTP ${r.status} "${title(r.text)}"${pageError(r.text) ? `: ${pageError(r.text)}` : ''} at ${r.url}`;
}

// ---- the person

// Without --verification-uri: the shape's verification path under the issuer, as server.mjs
// serves it (Keycloak: ISSUER/device; Auth0 and Okta: ISSUER/activate).
function verificationUri() {
  if (opt.verificationUri) return opt.verificationUri;
  const base = opt.base.replace(/\/$/, '');
  return `${base}${new URL(base).pathname.startsWith('/realms/') ? '/device' : '/activate'}`;
}

async function main() {
  const start = verificationUri();

  // 1. the user-code page
  let r = await go('GET', start);
  let f = forms(r.text, r.url).find((x) => x.inputs.user_code !== undefined);
  if (r.status !== 200 || !f) die(`no user-code form: ${describe(r)}`);

  // 2. enter the code
  r = await go(f.method, f.action, { ...f.inputs, user_code: opt.userCode });
  f = forms(r.text, r.url).find((x) => x.inputs.confirm !== undefined);
  if (!f) die(`user code not accepted: ${describe(r)}`);

  // 3. confirm the device (or abort)
  if (opt.abort) {
    const { confirm, ...rest } = f.inputs;
    r = await go(f.method, f.action, { ...rest, abort: 'yes' });
    if (/interrupted/i.test(pageError(r.text) ?? '')) {
      process.stdout.write('aborted\n');
      return;
    }
    die(`abort not acknowledged: ${describe(r)}`);
  }
  r = await go(f.method, f.action, f.inputs);

  // 4. sign in
  f = forms(r.text, r.url).find((x) => x.id === 'login-form');
  if (!f) die(`no sign-in form: ${describe(r)}`);
  r = await go(f.method, f.action, { ...f.inputs, username: opt.username, password: opt.password });
  if (forms(r.text, r.url).some((x) => x.id === 'login-form')) die(`sign-in refused: ${describe(r)}`);

  // 5. consent
  const approve = forms(r.text, r.url).find((x) => x.id === 'consent-approve');
  const deny = forms(r.text, r.url).find((x) => x.id === 'consent-deny');
  if (approve && deny) {
    const g = opt.deny ? deny : approve;
    r = await go(g.method, g.action, g.inputs);
  } else if (opt.deny) {
    die(`no consent page to deny on: ${describe(r)}`);
  }

  // 6. the end
  if (opt.deny) {
    if (/denied|access_denied|interrupted/i.test(pageError(r.text) ?? '')) {
      process.stdout.write('denied\n');
      return;
    }
    die(`denial not acknowledged: ${describe(r)}`);
  }
  if (r.status === 200 && /success/i.test(title(r.text))) {
    process.stdout.write('approved\n');
    return;
  }
  die(`approval did not finish: ${describe(r)}`);
}

main().catch((e) => die(e.message));
