#!/usr/bin/env node
// A SAML 2.0 IdP on loopback for idgate's tests: HTTPS, metadata, HTTP-Redirect SSO with a
// sign-in form, users and groups from fixtures.json, responses signed by xmlsec1 (libxmlsec1,
// Debian's package) with a test key — and, when the harness asks on /control/variant,
// deliberately bad responses. No npm packages: node's own https, zlib and child_process.
//
//   node server.mjs --port 0 --cert server.pem --key server.key --state-dir DIR
//                   [--fixtures fixtures.json] [--groups-attr groups]
// prints "READY BASE" (BASE = https://127.0.0.1:PORT; the entity ID is BASE/idp).
// See README.md for the endpoints and the variants.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = {};
for (let i = 2; i < process.argv.length; i += 2)
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const stateDir = args['state-dir'];
const fixtures = JSON.parse(fs.readFileSync(args.fixtures || path.join(here, 'fixtures.json'), 'utf8'));
const groupsAttr = args['groups-attr'] || 'groups';
fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });

// The signing key and certificate, and another one nobody trusts ("other_cert").
function keypair(name) {
  const key = path.join(stateDir, `${name}.key`), cert = path.join(stateDir, `${name}.pem`);
  if (!fs.existsSync(cert))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
      '-days', '3650', '-subj', `/CN=idgate test SAML IdP ${name}`, '-keyout', key, '-out', cert],
    { stdio: 'ignore' });
  return { key, cert, b64: fs.readFileSync(cert, 'utf8').replace(/-----[^-]+-----|\s/g, '') };
}
const signing = keypair('signing');
const other = keypair('other');

let base = '';
let nextVariant = 'good';
const stats = { responses: 0 };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;');
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const newId = () => '_' + crypto.randomBytes(16).toString('hex');

function metadata() {
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${esc(base)}/idp">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${signing.b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${esc(base)}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

const sigTpl = (id) => `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
  `<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
  `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
  `<ds:Reference URI="#${id}"><ds:Transforms>` +
  `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
  `<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
  `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>` +
  `</ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>`;

// Sign the one Signature template in xml with xmlsec1; idAttr names the signed element.
function sign(xml, kp, idAttr) {
  const dir = fs.mkdtempSync(path.join(stateDir, 'sign-'));
  try {
    fs.writeFileSync(path.join(dir, 'in.xml'), xml);
    execFileSync('xmlsec1', ['--sign', '--privkey-pem', `${kp.key},${kp.cert}`,
      '--id-attr:ID', idAttr, '--output', path.join(dir, 'out.xml'), path.join(dir, 'in.xml')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    return fs.readFileSync(path.join(dir, 'out.xml'), 'utf8').replace(/^<\?xml[^>]*\?>\s*/, '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const A_ID = 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion';
const R_ID = 'urn:oasis:names:tc:SAML:2.0:protocol:Response';
const evil = (issuer) => `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${iso(Date.now())}">` +
  `<saml:Issuer>${esc(issuer)}</saml:Issuer><saml:Subject><saml:NameID>mallory@example.com</saml:NameID></saml:Subject></saml:Assertion>`;

// A Response for the AuthnRequest (id, acs, sp) to user, shaped by variant.
function response(req, user, variant) {
  const now = Date.now(), issuer = `${base}/idp`;
  const aid = newId(), rid = newId();
  const irt = variant === 'wrong_irt' ? '_not_a_request_of_yours' : req.id;
  const audience = variant === 'wrong_audience' ? 'https://some-other-sp.example.com' : req.sp;
  const end = variant === 'expired' ? now - 10 * 60 * 1000 : now + 5 * 60 * 1000;
  const nb = variant === 'expired' ? now - 20 * 60 * 1000 : now - 30 * 1000;
  const nameid = variant === 'nameid_comment' ? `${esc(user.email)}<!---->.evil.com` : esc(user.email);
  const signA = !['unsigned', 'response_signed', 'wrap_response'].includes(variant);
  const signR = ['response_signed', 'wrap_response'].includes(variant);
  const groups = user.groups.map((g) => `<saml:AttributeValue>${esc(g)}</saml:AttributeValue>`).join('');
  // Further attributes a user releases (fixtures' "attributes": NAME -> value or values), as
  // Keycloak's user-property mapper releases the user id that is the OIDC sub.
  const extra = Object.entries(user.attributes || {}).map(([n, vs]) => `<saml:Attribute Name="${esc(n)}">` +
    [].concat(vs).map((x) => `<saml:AttributeValue>${esc(x)}</saml:AttributeValue>`).join('') + '</saml:Attribute>').join('');
  let assertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${aid}" Version="2.0" IssueInstant="${iso(now)}">` +
    `<saml:Issuer>${esc(issuer)}</saml:Issuer>${signA ? sigTpl(aid) : ''}` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${nameid}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${esc(irt)}" NotOnOrAfter="${iso(end)}" Recipient="${esc(req.acs)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(nb)}" NotOnOrAfter="${iso(end)}"><saml:AudienceRestriction><saml:Audience>${esc(audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="${aid}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement><saml:Attribute Name="${esc(groupsAttr)}">${groups}</saml:Attribute>${extra}</saml:AttributeStatement></saml:Assertion>`;
  if (signA)
    assertion = sign(assertion, variant === 'other_cert' ? other : signing, A_ID);
  if (variant === 'wrap_inside')
    assertion = assertion.replace('</saml:Subject>', '</saml:Subject>' + evil(issuer));
  const wrapBefore = variant === 'wrap_before' ? evil(issuer) : '';
  const wrapAfter = variant === 'wrap_after' ? evil(issuer) : '';
  let xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${rid}" Version="2.0" IssueInstant="${iso(now)}" Destination="${esc(req.acs)}" InResponseTo="${esc(irt)}">` +
    `<saml:Issuer>${esc(issuer)}</saml:Issuer>${signR ? sigTpl(rid) : ''}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `${wrapBefore}${assertion}${wrapAfter}</samlp:Response>`;
  if (signR)
    xml = sign(xml, signing, R_ID);
  if (variant === 'wrap_response')
    // The signed response moved into the extensions of an unsigned one around an evil assertion.
    xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${iso(now)}" Destination="${esc(req.acs)}" InResponseTo="${esc(irt)}">` +
      `<saml:Issuer>${esc(issuer)}</saml:Issuer><samlp:Extensions>${xml}</samlp:Extensions><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${evil(issuer)}</samlp:Response>`;
  if (variant === 'dtd')
    xml = `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${xml}`;
  if (variant === 'huge')
    xml += ' '.repeat(10 * 1024 * 1024);
  return xml;
}

// The AuthnRequest from the redirect binding: raw DEFLATE, base64.
function authnRequest(b64) {
  const xml = zlib.inflateRawSync(Buffer.from(b64, 'base64'), { maxOutputLength: 65536 }).toString('utf8');
  const attr = (n) => (xml.match(new RegExp(`\\s${n}="([^"]*)"`)) || [])[1];
  const issuer = (xml.match(/<saml:Issuer>([^<]*)<\/saml:Issuer>/) || [])[1];
  if (!attr('ID') || !attr('AssertionConsumerServiceURL') || !issuer)
    throw new Error('not an AuthnRequest with ID, AssertionConsumerServiceURL and Issuer');
  return { id: attr('ID'), acs: attr('AssertionConsumerServiceURL'), sp: issuer };
}

function readBody(req, max) {
  return new Promise((resolve, reject) => {
    let n = 0;
    const parts = [];
    req.on('data', (c) => { n += c.length; if (n > max) { reject(new Error('too large')); req.destroy(); } else parts.push(c); });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, code, type, body) {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function handle(req, res) {
  const url = new URL(req.url, base);
  if (req.method === 'GET' && url.pathname === '/metadata')
    return send(res, 200, 'application/samlmetadata+xml', metadata());
  if (req.method === 'GET' && url.pathname === '/sso') {
    const sr = url.searchParams.get('SAMLRequest') || '';
    authnRequest(sr);
    return send(res, 200, 'text/html', `<!doctype html><form method="post" action="/sso/login">` +
      `<input type="hidden" name="SAMLRequest" value="${esc(sr)}">` +
      `<input type="hidden" name="RelayState" value="${esc(url.searchParams.get('RelayState') || '')}">` +
      `<input name="username"><input name="password" type="password"><button>Sign in</button></form>\n`);
  }
  if (req.method === 'POST' && url.pathname === '/sso/login') {
    const form = new URLSearchParams(await readBody(req, 1 << 20));
    const r = authnRequest(form.get('SAMLRequest') || '');
    const user = fixtures.users[form.get('username') || ''];
    if (!user || user.password !== form.get('password'))
      return send(res, 401, 'text/html', '<!doctype html><p>Wrong username or password.</p>\n');
    const variant = nextVariant;
    nextVariant = 'good';
    stats.responses++;
    const b64 = Buffer.from(response(r, user, variant), 'utf8').toString('base64');
    const relay = form.get('RelayState');
    return send(res, 200, 'text/html', `<!doctype html><form method="post" action="${esc(r.acs)}">` +
      `<input type="hidden" name="SAMLResponse" value="${b64}">` +
      (relay ? `<input type="hidden" name="RelayState" value="${esc(relay)}">` : '') +
      `<noscript><button>Continue</button></noscript></form>\n`);
  }
  // The harness's controls: the next response's variant, and counters.
  if (req.method === 'POST' && url.pathname === '/control/variant') {
    nextVariant = JSON.parse(await readBody(req, 4096)).variant;
    return send(res, 200, 'application/json', JSON.stringify({ variant: nextVariant }) + '\n');
  }
  if (req.method === 'GET' && url.pathname === '/control/stats')
    return send(res, 200, 'application/json', JSON.stringify(stats) + '\n');
  return send(res, 404, 'text/plain', 'not found\n');
}

const server = https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) },
  (req, res) => handle(req, res).catch((e) => send(res, 400, 'text/plain', `bad request: ${e.message}\n`)));
server.listen(Number(args.port || 0), '127.0.0.1', () => {
  base = `https://127.0.0.1:${server.address().port}`;
  fs.writeFileSync(path.join(stateDir, 'metadata.xml'), metadata());
  process.stdout.write(`READY ${base}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
