#!/bin/sh
# Refused IdP logins against the real test OpenID provider (Keycloak shape, TLS on loopback):
# wrong password, unknown user, and tokens that are expired, not yet valid, for another
# audience, from another issuer, unsigned (alg none), HS256 with the IdP's RSA public key as the
# HMAC secret, signed by a key not in the JWKS, truncated, not base64url, oversized; a device
# code denied by the user and one that expires. Each is refused with exit 1 and a short, clear
# reason, stores nothing, is in the audit log, and no password or token reaches a log. A token
# dated up to 5 minutes ahead of this host's clock is accepted; past that the refusal measures
# the skew and says the host's clock may be wrong (issue 14, item 19).
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require

oidc_setup
ok "the test IdP (Keycloak shape) starts" idp_start kc keycloak --device-interval 1
idp_config keycloak "max_token_size = 16k"
ok "idgated starts" daemon_start
# A good login first: the IdP's keys are fetched and cached, alice is stored.
login_pw alice alice-password
is "alice's password login succeeds (keys now cached)" "$RC:$(field principal)" "0:user:alice"
B4=$(store_dump)
like "the store holds alice (the baseline)" "$B4" "INSERT INTO users VALUES\('alice'|^group:engineering "

SECRETS=$T_DIR/secrets	# every password and token tried, one per line: none may reach a log
: >"$SECRETS"
NREFUSED=0
# refused DESCRIPTION RC REASON: the last command was refused with exit RC and exactly REASON
# on standard error, and printed nothing on standard output.
refused() {
	NREFUSED=$((NREFUSED + 1))
	is "$1: refused with exit $2 and a clear reason" "$RC:$ERR" "$2:$3"
	is "$1: ... nothing on standard output" "$OUT" ""
}

# ---------- passwords ----------
login_pw bob 'not-bobs-password'
echo 'not-bobs-password' >>"$SECRETS"
refused "bob with a wrong password" 1 "wrong username or password"
login_pw alice 'alice-passwordX'
echo 'alice-passwordX' >>"$SECRETS"
refused "alice (already known) with a wrong password" 1 "wrong username or password"
login_pw nosuchuser 'Zq9-unknown-user-password'
echo 'Zq9-unknown-user-password' >>"$SECRETS"
refused "an unknown user (the same message as a wrong password)" 1 "wrong username or password"

# ---------- bad tokens, minted by the IdP's control plane for bob (never logged in) ----------
# bad_token DESCRIPTION MINT-JSON REASON
bad_token() {
	_tok=$(mint "$2")
	printf '%s\n' "$_tok" >>"$SECRETS"
	case $_tok in
	*.*.*) login_token "$_tok"; refused "$1" 1 "$3" ;;
	*) fail "$1: the IdP minted no token"; diag "$_tok" ;;
	esac
}
GOOD=$(mint '{"user": "bob"}')
login_token "$GOOD" bob
is "(control) a freshly minted token for bob is accepted" \
	"$RC:$(field principal)" "0:user:bob"
# A host clock behind the IdP's (issue 14, item 19): a token the IdP issued 90 s "in the
# future" (iat, nbf) is within the default leeway of 5 minutes; it was refused at 60 s.
login_token "$(mint '{"user": "bob", "iat_in": 90}')" bob
is "a token issued 90 s ahead of this host's clock (iat): accepted (default leeway 5 min)" \
	"$RC:$(field principal)" "0:user:bob"
login_token "$(mint '{"user": "bob", "iat_in": 90, "nbf_in": 90}')" bob
is "a token valid only 90 s ahead of this host's clock (nbf): accepted" \
	"$RC:$(field principal)" "0:user:bob"
# That control stored bob: take the baseline again.
B4=$(store_dump)
like "the store now holds bob (the new baseline)" "$B4" "INSERT INTO users VALUES\('bob'|group:ops "
# From here on, mint for carol: she has never logged in, so nothing of hers may appear.
# bad_time DESCRIPTION MINT-JSON REASON-REGEX: as bad_token, the reason a pattern (the skew
# measured may be a second less than minted).
bad_time() {
	_tok=$(mint "$2")
	printf '%s\n' "$_tok" >>"$SECRETS"
	login_token "$_tok"
	NREFUSED=$((NREFUSED + 1))
	like "$1: refused with exit 1 and a clear reason" "$RC:$ERR" "^1:$3\$"
	is "$1: ... nothing on standard output" "$OUT" ""
}
bad_time "an expired token (exp 400 s ago, leeway 5 min)" '{"user": "carol", "exp_in": -400}' \
	"token expired 40[01] s ago \\(allowed clock skew 300 s\\)"
bad_time "a token not yet valid (nbf in an hour)" '{"user": "carol", "nbf_in": 3600}' \
	"token not yet valid \\(nbf 3(600|599) s ahead of this host's clock, allowed skew 300 s\\): this host's clock may be wrong"
bad_time "a token issued in the future (iat in an hour): the host clock may be wrong, the skew measured" \
	'{"user": "carol", "iat_in": 3600}' \
	"token issued in the future \\(iat 3(600|599) s ahead of this host's clock, allowed skew 300 s\\): this host's clock may be wrong"
bad_token "a token for another audience" '{"user": "carol", "claims": {"aud": "someone-else"}}' \
	"token is for another audience (aud)"
bad_token "a token with several audiences and azp another client" \
	'{"user": "carol", "claims": {"aud": ["idgate", "other"], "azp": "other"}}' \
	"token has several audiences and its azp is not this client"
bad_token "a token with one audience and azp another client (OIDC Core 3.1.3.7)" \
	'{"user": "carol", "claims": {"aud": "idgate", "azp": "other-client"}}' \
	"token was issued to another client (azp)"
bad_token "a token from another issuer" '{"user": "carol", "claims": {"iss": "https://evil.example/realms/test"}}' \
	"token from another issuer (iss)"
bad_token "alg none" '{"user": "carol", "key": "none"}' "unsigned token (alg none) refused"
bad_token "HS256 signed with the IdP's RSA public key (SPKI PEM) as the secret" \
	'{"user": "carol", "key": "hs256-with-public-pem"}' "HMAC-signed token refused"
bad_token "HS256 signed with the IdP's RSA public key (PKCS#1 PEM) as the secret" \
	'{"user": "carol", "key": "hs256-with-public-pem", "pem_type": "pkcs1"}' "HMAC-signed token refused"
bad_token "a token signed by a key not in the JWKS" '{"user": "carol", "key": "foreign"}' "unknown signing key"
KID=$(ctl_get /info | jval d.current_kid)
bad_token "a token signed by a foreign key claiming the IdP's kid" \
	"{\"user\": \"carol\", \"key\": \"foreign\", \"header\": {\"kid\": \"$KID\"}}" "bad token signature"
bad_token "a token naming an unknown kid" '{"user": "carol", "header": {"kid": "bogus-17"}}' "unknown signing key"

CAROL=$(mint '{"user": "carol"}')
printf '%s\n' "$CAROL" >>"$SECRETS"
login_token "${CAROL%??????????}"
refused "a token with its signature truncated" 1 "bad token signature"
login_token "${CAROL%.*}"
refused "a token truncated to two parts" 1 "malformed token (not three base64url parts)"
login_token "$(printf '%s' "$CAROL" | cut -c1-40)"
refused "a token truncated inside its header" 1 "malformed token (not three base64url parts)"
H=${CAROL%%.*} REST=${CAROL#*.}
P=${REST%%.*} S=${CAROL##*.}
login_token "$H.$P.+${S#?}"
refused "a token with + in its signature (base64, not base64url)" 1 "malformed token (not three base64url parts)"
login_token "$H./${P#?}.$S"
refused "a token with / in its payload (base64, not base64url)" 1 "malformed token (not three base64url parts)"
login_token "$H.$P.$S="
refused "a token with base64 padding" 1 "malformed token (not three base64url parts)"
login_token "$H.e30!.$S"
refused "a token with a character outside base64url" 1 "malformed token (not three base64url parts)"
login_token 'hello world'
refused "a password given as a token" 1 "malformed token (not three base64url parts)"

# Oversized: over max_token_size (16k) but small enough for the socket, then 1 MB.
mint '{"user": "carol", "pad": 20000}' >"$T_DIR/tok20k"
ok "the IdP mints a 20 kB token" test "$(wc -c <"$T_DIR/tok20k")" -gt 20000
cat "$T_DIR/tok20k" >>"$SECRETS"; echo >>"$SECRETS"
login_token_file "$T_DIR/tok20k"
NREFUSED=$((NREFUSED + 1))
is "a 20 kB token (max_token_size = 16k): refused with exit 1" "$RC" 1
like "... with a reason about its size" "$ERR" '^token (too large|is [0-9]+ bytes long: at most 16384 are allowed)$'
mint '{"user": "carol", "pad": 1048576}' >"$T_DIR/tok1m"
ok "the IdP mints a 1 MB token" test "$(wc -c <"$T_DIR/tok1m")" -gt 1048576
login_token_file "$T_DIR/tok1m"
NREFUSED=$((NREFUSED + 1))
ok "a 1 MB token is refused (exit 1 or 2, the request is too large)" test "$RC" -eq 1 -o "$RC" -eq 2
like "... with a reason about its size" "$ERR" 'too large|larger than'
ok "idgated still answers after the 1 MB token" ping_ok

# ---------- device code denied by the user ----------
device_login carol carol-password deny
is "carol denies the device request at the IdP" "$APPROVE" denied
refused_dev() { NREFUSED=$((NREFUSED + 1)); is "$1: refused with exit $2 and a clear reason" "$RC:$ERR" "$2:$3"; }
refused_dev "a device code denied by the user" 1 "denied at the IdP"
like "... idgatectl had printed the code first" "$OUT" "enter the code $DEV_CODE"
device_login carol carol-password abort
is "carol aborts another device request at the IdP" "$APPROVE" aborted
refused_dev "... (the same after the user aborted at the device confirmation page)" 1 "denied at the IdP"

same_store "none of the refused logins stored anything" "$B4"

# ---------- the logs ----------
AUDIT=$(cat "$T_DIR/log/audit.log")
# (reasons as extended regular expressions)
for reason in "wrong username or password" "token expired 40[01] s ago \\(allowed clock skew 300 s\\)" \
    "token not yet valid \\(nbf 3(600|599) s ahead of this host's clock, allowed skew 300 s\\): this host's clock may be wrong" \
    "token issued in the future \\(iat 3(600|599) s ahead of this host's clock, allowed skew 300 s\\): this host's clock may be wrong" \
    "token is for another audience \\(aud\\)" "token from another issuer \\(iss\\)" \
    "unsigned token \\(alg none\\) refused" "HMAC-signed token refused" "unknown signing key" \
    "bad token signature" "malformed token \\(not three base64url parts\\)" \
    "token (too large|is [0-9]+ bytes long: at most 16384 are allowed)" "denied at the IdP"; do
	like "the audit log records a refused login: $reason" "$AUDIT" \
		"\"action\":\"login(\\.device_wait)?\",\"target\":\"IdP (device )?login\",\"result\":\"denied\",\"reason\":\"$reason\""
done
is "the audit log has a denied login line per refusal but the 1 MB one (never sent)" \
	"$(grep -c '"action":"login[.a-z_]*",.*"result":"denied"' "$T_DIR/log/audit.log")" "$((NREFUSED - 1))"
ok "the audit log has no ok login but alice's, the control and the two clock-skewed tokens" \
	test "$(grep -c '"action":"login",.*"result":"ok"' "$T_DIR/log/audit.log")" -eq 4
LEAKS=$(grep -F -f "$SECRETS" "$T_DIR/log/audit.log" "$T_DIR/daemon.log")
is "no password or token tried is in the audit log or the daemon log" "$LEAKS" ""
# Each token's signature on its own, too (a log could keep only a part).
: >"$T_DIR/sigs"
while IFS= read -r s; do
	case $s in *.*.?*) printf '%s\n' "${s##*.}" | cut -c1-24 >>"$T_DIR/sigs" ;; esac
done <"$SECRETS"
ok "(at least 10 token signatures to look for)" test "$(grep -c . "$T_DIR/sigs")" -ge 10
is "... nor any token's signature" "$(grep -F -f "$T_DIR/sigs" "$T_DIR/log/audit.log" "$T_DIR/daemon.log")" ""
for pw in alice-password carol-password; do
	is "... nor the right password $pw (used by the good logins and the browser)" \
		"$(grep -F -c -- "$pw" "$T_DIR/log/audit.log" "$T_DIR/daemon.log" | grep -vc ':0$')" 0
done

# ---------- a device code that expires ----------
ok "idgated stops" daemon_stop
idp_stop
ok "the IdP restarts with --device-ttl 3 (same keys)" idp_start kc keycloak --device-interval 1 --device-ttl 3
idp_config keycloak
ok "idgated restarts for it" daemon_start
B4=$(store_dump)
timed device_login carol carol-password none
refused_dev "a device code nobody approves, expiring after 3 s" 1 "device code expired"
ok "... within 10 s (took $MS ms)" test "$MS" -lt 10000
ok "... not before it expired (took $MS ms)" test "$MS" -ge 2500
# Approving after expiry is refused by the IdP too.
run node "$IDP_DIR/approve-device.mjs" --base "$ISS" --ca "$CA" --user-code "$DEV_CODE" \
	--username carol --password carol-password
ok "... the IdP no longer takes the expired code (approve-device.mjs fails)" test "$RC" -ne 0
same_store "the expired device login stored nothing" "$B4"
like "the audit log records the expired device code" "$(cat "$T_DIR/log/audit.log")" \
	'"action":"login.device_wait","target":"IdP device login","result":"denied","reason":"device code expired"'
ok "idgated stops cleanly" daemon_stop
done_testing
