#!/bin/sh
# selftest.sh — start the test OpenID provider in each shape and check its features end to end
# with curl: discovery, JWKS, password grant (basic and post, wrong password, unknown user),
# userinfo, device flow (approve, deny, abort, expiry, slow_down), key rotation, /mint, fault
# modes, JWKS down, stats, SIGTERM. Needs node, curl, openssl and `npm ci` done here.
# Exit 0 when everything passes.
set -u

here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/oidc-selftest.XXXXXX")
pids=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$here/mkcerts.sh" "$T/certs"
CA=$T/certs/ca.pem
SECRET=$(node -e 'console.log(require(process.argv[1]).client.secret)' "$here/fixtures.json")
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# j FILE EXPR — evaluate a JS expression over the JSON in FILE (as `d`); `jwt(t)` decodes a
# JWT's payload, `hdr(t)` its header. Prints the result (strings bare).
cat >"$T/j.mjs" <<'EOF'
import * as fs from 'node:fs';
const [file, expr] = process.argv.slice(2);
const txt = fs.readFileSync(file, 'utf8');
let d; try { d = JSON.parse(txt); } catch { d = txt.trim(); }
const part = (t, i) => JSON.parse(Buffer.from(String(t).split('.')[i], 'base64url').toString());
const jwt = (t) => part(t, 1);
const hdr = (t) => part(t, 0);
const r = new Function('d', 'jwt', 'hdr', `return (${expr});`)(d, jwt, hdr);
process.stdout.write(typeof r === 'string' ? `${r}\n` : `${JSON.stringify(r)}\n`);
EOF
j() { node "$T/j.mjs" "$@"; }
# expect DESC FILE EXPR — EXPR must be true
expect() {
	if [ "$(j "$2" "$3" 2>&1)" = "true" ]; then ok "$1"; else bad "$1: $(head -c 300 "$2")"; fi
}

C="curl -sS --cacert $CA"
DEVGRANT=urn:ietf:params:oauth:grant-type:device_code

start() { # start NAME SHAPE ARGS... -> sets ISS and CTL
	name=$1 shape=$2
	shift 2
	node "$here/server.mjs" --shape "$shape" --port 0 --control-port 0 \
		--cert "$T/certs/server.pem" --key "$T/certs/server.key" --state-dir "$T/$name" \
		"$@" >"$T/$name.out" 2>"$T/$name.err" &
	PID=$!
	pids="$pids $PID"
	i=0
	while ! grep -q '^READY ' "$T/$name.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			bad "$name: no READY line in 5 s"; cat "$T/$name.err"; return 1
		fi
		sleep 0.05
	done
	ISS=$(sed -n 's/^READY //p' "$T/$name.out")
	CTL=$(sed -n 's/^CONTROL //p' "$T/$name.out")
}

# device NAME DEVPATH TOKPATH EXTRA-CURL-ARGS -- APPROVE-ARGS... -> $T/NAME.tok, poll body
device() {
	name=$1 dp=$2 tp=$3
	shift 3
	extra=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra="$extra $1"; shift; done
	shift
	# shellcheck disable=SC2086
	$C -u "idgate:$SECRET" -d "scope=openid profile email" $extra "${ISS%/}$dp" >"$T/$name.dev"
	uc=$(j "$T/$name.dev" d.user_code) dc=$(j "$T/$name.dev" d.device_code)
	$C -u "idgate:$SECRET" -d grant_type=$DEVGRANT -d "device_code=$dc" "${ISS%/}$tp" >"$T/$name.pending"
	node "$here/approve-device.mjs" --base "$ISS" --ca "$CA" --user-code "$uc" "$@" >"$T/$name.approve" 2>&1
	sleep 1.1
	$C -u "idgate:$SECRET" -d grant_type=$DEVGRANT -d "device_code=$dc" "${ISS%/}$tp" >"$T/$name.tok"
}

for shape in keycloak auth0 okta; do
	echo "--- $shape"
	start "$shape" "$shape" --device-interval 1 || continue
	SPID=$PID
	case $shape in
	keycloak)
		want_iss="/realms/test"; TOK=/protocol/openid-connect/token; DEV=/protocol/openid-connect/auth/device
		UI=/protocol/openid-connect/userinfo; JWKS=/protocol/openid-connect/certs
		claims='p.preferred_username === "alice" && p.groups.includes("/engineering/data-team") && p.realm_access.roles.includes("developer")'
		;;
	auth0)
		want_iss="/"; TOK=/oauth/token; DEV=/oauth/device/code; UI=/userinfo; JWKS=/.well-known/jwks.json
		claims='p.email === "alice@example.com" && p.nickname === "alice" && p["https://idgate.test/groups"].join() === "engineering,data-team"'
		;;
	okta)
		want_iss="/oauth2/default"; TOK=/v1/token; DEV=/v1/device/authorize; UI=/v1/userinfo; JWKS=/v1/keys
		claims='p.preferred_username === "alice@example.com" && p.groups.join() === "engineering,data-team"'
		;;
	esac
	B=${ISS%/}
	port=$(echo "$ISS" | sed 's#https://127.0.0.1:\([0-9]*\).*#\1#')

	$C "$B/.well-known/openid-configuration" >"$T/disc"
	expect "discovery issuer is exactly https://127.0.0.1:$port$want_iss" "$T/disc" "d.issuer === 'https://127.0.0.1:$port$want_iss'"
	expect "discovery names the endpoints" "$T/disc" "d.token_endpoint === '$B$TOK' && d.jwks_uri === '$B$JWKS' && d.device_authorization_endpoint === '$B$DEV' && d.userinfo_endpoint === '$B$UI' && d.grant_types_supported.includes('password')"
	$C "$B$JWKS" >"$T/jwks"
	$C "$CTL/info" >"$T/info"
	kid=$(j "$T/info" d.current_kid)
	expect "jwks has the current RS256 key, public only" "$T/jwks" "d.keys.length === 1 && d.keys[0].kid === '$kid' && d.keys[0].alg === 'RS256' && !('d' in d.keys[0])"

	$C -u "idgate:$SECRET" -d grant_type=password -d username=alice -d password=alice-password -d "scope=openid profile email" "$B$TOK" >"$T/pw"
	expect "password grant (client_secret_basic): id_token + JWT access token" "$T/pw" "jwt(d.id_token).aud === 'idgate' && jwt(d.id_token).iss === '$ISS' && hdr(d.id_token).kid === '$kid' && d.token_type === 'Bearer'"
	expect "id_token has the $shape claims" "$T/pw" "(p => $claims)(jwt(d.id_token))"
	echo "     id_token: $(j "$T/pw" 'jwt(d.id_token)')"
	$C -d client_id=idgate -d "client_secret=$SECRET" -d grant_type=password -d username=bob --data-urlencode 'password=b0b & co=+%/ pw' "$B$TOK" >"$T/pw2"
	expect "password grant (client_secret_post, bob's odd password)" "$T/pw2" "typeof d.id_token === 'string' && typeof d.access_token === 'string'"
	$C -w '\n%{http_code}' -u "idgate:$SECRET" -d grant_type=password -d username=alice -d password=wrong "$B$TOK" >"$T/pw3"
	expect "wrong password: 400 invalid_grant" "$T/pw3" "d.startsWith('{\"error\":\"invalid_grant\"') && d.endsWith('400')"
	$C -w '\n%{http_code}' -u "idgate:$SECRET" -d grant_type=password -d username=nobody -d password=x "$B$TOK" >"$T/pw4"
	expect "unknown user: 400 invalid_grant" "$T/pw4" "d.startsWith('{\"error\":\"invalid_grant\"') && d.endsWith('400')"
	$C -w '\n%{http_code}' -d client_id=idgate -d client_secret=nope -d grant_type=password -d username=alice -d password=alice-password "$B$TOK" >"$T/pw5"
	expect "wrong client secret: 401 invalid_client" "$T/pw5" "d.includes('invalid_client') && d.endsWith('401')"

	if [ "$shape" = auth0 ]; then
		expect "auth0: no audience -> opaque access token" "$T/pw" "d.access_token.split('.').length === 1"
		$C -u "idgate:$SECRET" -d grant_type=password -d username=alice -d password=alice-password -d audience=https://api.idgate.test "$B$TOK" >"$T/pwa"
		expect "auth0: audience -> JWT access token for the API" "$T/pwa" "JSON.stringify(jwt(d.access_token).aud) === JSON.stringify(['https://api.idgate.test', '${ISS}userinfo']) && hdr(d.access_token).typ === 'at+jwt'"
		at=$(j "$T/pwa" d.access_token)
		$C -H "Authorization: Bearer $at" "$B$UI" >"$T/ui2"
		expect "auth0: userinfo with the JWT access token" "$T/ui2" "d.sub.startsWith('auth0|')"
	else
		expect "access token is a JWT signed by the IdP" "$T/pw" "hdr(d.access_token).typ === 'at+jwt' && hdr(d.access_token).kid === '$kid'"
	fi
	at=$(j "$T/pw" d.access_token)
	$C -H "Authorization: Bearer $at" "$B$UI" >"$T/ui"
	expect "userinfo" "$T/ui" "d.sub === jwt('$(j "$T/pw" d.id_token)').sub && d.email === 'alice@example.com'"

	device "$shape-ok" "$DEV" "$TOK" -- --username alice --password alice-password
	expect "device: authorization_pending before approval" "$T/$shape-ok.pending" "d.error === 'authorization_pending'"
	expect "device: answer has interval and verification URI" "$T/$shape-ok.dev" "d.interval === 1 && d.verification_uri.startsWith('$B/') && /^[A-Z]{4}-[A-Z]{4}$/.test(d.user_code)"
	expect "device: approve-device.mjs approved" "$T/$shape-ok.approve" "d === 'approved'"
	expect "device: poll returns tokens with the $shape claims" "$T/$shape-ok.tok" "(p => $claims)(jwt(d.id_token))"
	device "$shape-deny" "$DEV" "$TOK" -- --username bob --password 'b0b & co=+%/ pw' --deny
	expect "device: --deny -> access_denied" "$T/$shape-deny.tok" "d.error === 'access_denied'"
	device "$shape-abort" "$DEV" "$TOK" -- --abort
	expect "device: --abort -> access_denied" "$T/$shape-abort.tok" "d.error === 'access_denied'"
	device "$shape-badpw" "$DEV" "$TOK" -- --username alice --password nope
	expect "device: wrong password refused by the sign-in page" "$T/$shape-badpw.approve" "d.includes('Invalid username or password')"

	curl -sS -XPOST "$CTL/rotate" -o "$T/rot"
	$C "$B$JWKS" >"$T/jwks2"
	expect "rotate: new kid, old one gone" "$T/jwks2" "d.keys.length === 1 && d.keys[0].kid === '$(j "$T/rot" d.kid)' && d.keys[0].kid !== '$kid'"
	$C -u "idgate:$SECRET" -d grant_type=password -d username=alice -d password=alice-password "$B$TOK" >"$T/pw6"
	expect "rotate: tokens signed with the new kid" "$T/pw6" "hdr(d.id_token).kid === '$(j "$T/rot" d.kid)'"
	curl -sS -XPOST "$CTL/rotate?keep=1" -o /dev/null
	$C "$B$JWKS" >"$T/jwks3"
	expect "rotate?keep=1: two keys" "$T/jwks3" "d.keys.length === 2"

	curl -sS "$CTL/info" >"$T/info2"
	curl -sS -XPOST "$CTL/mint" -d '{"exp_in": -60, "claims": {"aud": "x"}}' >"$T/m1"
	expect "mint: expired, wrong aud, current kid" "$T/m1" "jwt(d).exp < Date.now()/1000 && jwt(d).aud === 'x' && jwt(d).iss === '$ISS' && hdr(d).kid === '$(j "$T/info2" d.current_kid)'"
	curl -sS -XPOST "$CTL/mint" -d '{"key": "none"}' >"$T/m2"
	expect "mint: alg none" "$T/m2" "hdr(d).alg === 'none' && d.endsWith('.')"
	curl -sS -XPOST "$CTL/mint" -d '{"key": "foreign"}' >"$T/m3"
	expect "mint: foreign key" "$T/m3" "hdr(d).kid.startsWith('foreign-')"
	curl -sS -XPOST "$CTL/mint" -d '{"key": "hs256-with-public-pem"}' >"$T/m4"
	expect "mint: HS256 with the public PEM" "$T/m4" "hdr(d).alg === 'HS256'"

	curl -sS -XPOST "$CTL/stats/reset" -o /dev/null
	curl -sS -XPOST "$CTL/mode" -d '{"mode": "http500"}' -o /dev/null
	$C -o /dev/null -w '%{http_code}' "$B/.well-known/openid-configuration" >"$T/f1"
	expect "mode http500" "$T/f1" "d === 500"
	curl -sS -XPOST "$CTL/mode" -d '{"mode": "badjson"}' -o /dev/null
	$C "$B$TOK" -d grant_type=password >"$T/f2"
	expect "mode badjson" "$T/f2" "d === '{\"issuer\":'"
	curl -sS -XPOST "$CTL/mode" -d '{"mode": "huge"}' -o /dev/null
	$C -o /dev/null -w '%{size_download}' "$B$JWKS" >"$T/f3"
	expect "mode huge: 10 MiB" "$T/f3" "d === 10485760"
	curl -sS -XPOST "$CTL/mode" -d '{"mode": "slow", "seconds": 1}' -o /dev/null
	$C -o /dev/null -w '%{time_total}' "$B$JWKS" >"$T/f4"
	expect "mode slow" "$T/f4" "d >= 1"
	curl -sS -XPOST "$CTL/mode" -d '{"mode": "normal"}' -o /dev/null
	curl -sS -XPOST "$CTL/jwks-down" -o /dev/null
	$C -o /dev/null -w '%{http_code}' "$B$JWKS" >"$T/f5"
	expect "jwks-down: 503" "$T/f5" "d === 503"
	curl -sS -XPOST "$CTL/jwks-down?how=reset" -o /dev/null
	$C -o /dev/null "$B$JWKS" 2>/dev/null; echo $? >"$T/f6"
	expect "jwks-down?how=reset: connection reset (curl 56)" "$T/f6" "d === 56"
	curl -sS -XPOST "$CTL/jwks-up" -o /dev/null
	$C -o /dev/null -w '%{http_code}' "$B$JWKS" >"$T/f7"
	expect "jwks-up" "$T/f7" "d === 200"
	curl -sS "$CTL/stats" >"$T/st"
	expect "stats: 5 JWKS fetches counted (huge, slow, 503, reset, up)" "$T/st" "d.jwks_fetches === 5 && d.endpoints.discovery === 1 && d.endpoints.token === 1"

	kill -TERM $SPID
	wait $SPID
	rc=$?
	echo $rc >"$T/rc"
	expect "SIGTERM: exit 0" "$T/rc" "d === 0"
done

echo "--- keycloak, device code expiry and slow_down"
start kc-ttl keycloak --device-ttl 2 --device-interval 2
B=$ISS
$C -u "idgate:$SECRET" -d scope=openid "$B/protocol/openid-connect/auth/device" >"$T/e.dev"
dc=$(j "$T/e.dev" d.device_code)
$C -u "idgate:$SECRET" -d grant_type=$DEVGRANT -d "device_code=$dc" "$B/protocol/openid-connect/token" >"$T/e1"
$C -u "idgate:$SECRET" -d grant_type=$DEVGRANT -d "device_code=$dc" "$B/protocol/openid-connect/token" >"$T/e2"
expect "device: first poll authorization_pending" "$T/e1" "d.error === 'authorization_pending'"
expect "device: fast second poll slow_down" "$T/e2" "d.error === 'slow_down'"
$C -u "idgate:$SECRET" -d scope=openid "$B/protocol/openid-connect/auth/device" >"$T/e2.dev"
dc2=$(j "$T/e2.dev" d.device_code)
expect "device: expires_in follows --device-ttl" "$T/e2.dev" "d.expires_in === 2"
sleep 3
$C -u "idgate:$SECRET" -d grant_type=$DEVGRANT -d "device_code=$dc2" "$B/protocol/openid-connect/token" >"$T/e3"
expect "device: expired code -> expired_token" "$T/e3" "d.error === 'expired_token'"

echo "--- okta, ES256 and EdDSA keys"
start algs okta --algs RS256,ES256,EdDSA --alg ES256
$C "$ISS/v1/keys" >"$T/k"
expect "JWKS has RSA, EC and OKP keys" "$T/k" "d.keys.map(k => k.kty).sort().join() === 'EC,OKP,RSA'"
$C -u "idgate:$SECRET" -d grant_type=password -d username=alice -d password=alice-password "$ISS/v1/token" >"$T/es"
expect "ID token signed ES256" "$T/es" "hdr(d.id_token).alg === 'ES256'"
curl -sS -XPOST "$CTL/mint" -d '{"alg": "EdDSA"}' >"$T/ed"
expect "mint EdDSA" "$T/ed" "hdr(d).alg === 'EdDSA'"

if [ $fail -eq 0 ]; then echo "selftest: all passed"; else echo "selftest: FAILURES"; fi
exit $fail
