#!/bin/sh
# SAML logins end to end against the real test SAML IdP (tests/idp/saml, signed by xmlsec1,
# TLS on loopback): idgated's HTTPS endpoint serves its metadata; PAM's SAML_START gives a
# one-time link; the harness plays the browser (opens the link, follows the redirect to the
# IdP with the AuthnRequest, signs in, posts the signed response to the ACS); SAML_WAIT then
# says OK and the user is stored with the IdP's groups. Every bad response the IdP can be asked
# for is refused at the ACS with a short reason, audited, with nothing stored and the PAM login
# still waiting; an IdP user answering another name's login, a reused and an expired login
# link, and a 10 MB body are refused too. Last, the IdP's metadata from its URL.
. "$top_srcdir/tests/integ/t_saml_lib.sh"
saml_require
saml_enter_netns "$@"

saml_setup
saml_config "login_ttl = 30s"
ok "idgated starts with a [saml] section" daemon_start || { done_testing; exit 1; }

# ---------- the SP's metadata ----------
run curl -sS --cacert "$CA" --max-time 10 "$SP_BASE/saml/metadata"
like "metadata: our entity ID" "$OUT" "entityID=\"$SP_ENTITY\""
like "metadata: the ACS URL, HTTP-POST" "$OUT" \
	"AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"$SP_BASE/saml/acs\""
run curl -sS --max-time 10 "http://127.0.0.1:$SP_PORT/saml/metadata"
ok "plain HTTP is not served" test "$RC" -ne 0

# A login started now is opened after its 30 s at the end.
saml_start carol
LATE_LINK=$LINK
LATE_T0=$(date +%s)

# ---------- a good login ----------
saml_start alice
like "SAML_START: ok" "$OUT" "^status ok"
like "SAML_START: a one-time link on this node" "$LINK" "^$SP_BASE/saml/login/[0-9a-f]{32}$"
like "SAML_START: a lifetime and an interval" "$OUT" "expires 30"
probe saml-wait alice "handle=$HANDLE"
like "before the browser: pending" "$OUT" "^status pending"
browser_open "$LINK"
is "the link redirects to the IdP" "$OPEN_CODE" 303
like "... with an AuthnRequest" "$OPEN_LOCATION" "^$IDP_BASE/sso\\?SAMLRequest="
browser_signin alice alice-pw-7c1e
is "the IdP posts back to our ACS" "$ACS_URL" "$SP_BASE/saml/acs"
cp "$T_DIR/saml_response" "$T_DIR/alice_response"
browser_post
is "ACS: accepted (200)" "$ACS_CODE" 200
like "ACS: the browser is told" "$ACS_BODY" "Signed in as alice"
# A first login is stored only when PAM account lets it in: alice gets a role through one of
# her IdP groups, and account follows the wait (+account), as in sshd.
run ctl auth set project default repoReader group:data-scientists
probe saml-wait alice "handle=$HANDLE" +account
like "SAML_WAIT: ok" "$OUT" "^status ok"
like "SAML_WAIT: the passwd fields" "$OUT" "^uid [0-9]+"
like "account: ok (her first login is pinned now)" "$OUT" "^account status ok"
run ctl user list
like "alice is stored" "$OUT" "^alice "
like "with her IdP groups" "$OUT" "data-scientists"
like "... both of them" "$OUT" "ml-team"
probe saml-wait alice "handle=$HANDLE"
like "a finished login answers once" "$OUT" "^status denied"

# ---------- abandoned logins, limits ----------
# A client that presses Enter and goes away (issue 13, item 5): its PAM process is killed
# without a CANCEL. The login lives only while the connection that started it is open.
for i in $(seq 1 70); do
	probe saml-start "nobody$((i % 7))" rhost=203.0.113.66 nohold
done
saml_start bob
like "after 70 abandoned SAML logins bob's starts: OK" "$OUT" "^status ok"
like "... the abandoned ones were forgotten at once" "$(cat "$T_DIR/daemon.log")" \
	'SAML login of nobody[0-6] abandoned \(its PAM process went away\)'
probe saml-cancel bob "handle=$HANDLE"
for i in $(seq 1 8); do probe saml-start "user$i" rhost=203.0.113.7; done
probe saml-start user9 rhost=203.0.113.7
is "a 9th SAML login in progress from one host: DENIED" "$RC:$(pfield error)" \
	"1:too many sign-ins in progress from 203.0.113.7; try again later"
for i in 1 2 3; do probe saml-start carol "rhost=192.0.2.$i"; done
probe saml-start carol rhost=192.0.2.4
is "a 4th SAML login in progress for one name: DENIED" "$RC:$(pfield error)" \
	"1:too many sign-ins in progress for carol; finish or cancel one, then try again"
pkill -f "pamprobe $T_DIR/run/pam.sock saml-start" 2>/dev/null
sleep 0.5
probe saml-start carol rhost=192.0.2.4
like "... once the others' processes are gone, carol's starts: OK" "$OUT" "^status ok"
probe saml-cancel carol "handle=$(pfield handle)"

# ---------- the link is one-time; the response cannot be replayed ----------
browser_open "$LINK"
is "the same link again: gone (410)" "$OPEN_CODE" 410
like "... with a reason" "$OPEN_BODY" "expired or was used already"
saml_start alice
browser_post "$T_DIR/alice_response"
is "the same response again: refused (403)" "$ACS_CODE" 403
like "... it answers no pending request (or its assertion was seen)" "$ACS_BODY" \
	"answers no login of ours|used before \\(replay\\)"
probe saml-cancel alice "handle=$HANDLE"

# ---------- refusals: nothing stored, the login still waits ----------
have_sqlite3() { command -v sqlite3 >/dev/null 2>&1; }
dump() { sqlite3 "$T_DIR/state/state.db" .dump; }
# refuse VARIANT HTTP-CODE REASON-PATTERN
refuse() {
	_v=$1 _code=$2 _why=$3
	_before=$(dump)
	saml_start bob
	browser_open "$LINK"
	idp_variant "$_v"
	browser_signin bob bob-pw-2a9f
	browser_post
	is "$_v: refused ($_code)" "$ACS_CODE" "$_code"
	like "$_v: a short reason" "$ACS_BODY" "$_why"
	is "$_v: nothing stored" "$(dump)" "$_before"
	probe saml-wait bob "handle=$HANDLE"
	like "$_v: the PAM login still waits" "$OUT" "^status pending"
	probe saml-cancel bob "handle=$HANDLE"
}
if have_sqlite3; then
	refuse unsigned 403 "no valid IdP signature"
	refuse other_cert 403 "no valid IdP signature"
	refuse wrap_before 403 "holds 2 assertions"
	refuse wrap_after 403 "holds 2 assertions"
	refuse wrap_inside 403 "holds 2 assertions"
	refuse wrap_response 403 "holds 2 assertions"
	refuse expired 403 "expired"
	refuse wrong_audience 403 "Audience is not this node"
	refuse wrong_irt 403 "answers no login of ours"
	refuse dtd 403 "DTD"
	refuse nameid_comment 403 "NameID is not plain text"
	refuse huge 413 "too large"
	# and the good kind still works afterwards, a response signed as a whole this time
	saml_start bob
	browser_open "$LINK"
	idp_variant response_signed
	browser_signin bob bob-pw-2a9f
	browser_post
	is "a response signed as a whole: accepted" "$ACS_CODE" 200
	probe saml-wait bob "handle=$HANDLE"
	like "... and bob's login is done" "$OUT" "^status ok"
else
	pass "# SKIP sqlite3 is not installed: the refusals are checked with it"
fi
AUDIT=$(cat "$T_DIR/log/audit.log")
like "refusals are audited with their reason" "$AUDIT" "SAML response refused: no valid IdP signature"

# ---------- someone else's IdP account cannot finish alice's login ----------
saml_start alice
browser_open "$LINK"
browser_signin bob bob-pw-2a9f
browser_post
is "bob's assertion for alice's login: refused" "$ACS_CODE" 403
probe saml-wait alice "handle=$HANDLE"
like "alice's login is refused" "$OUT" "^status denied"

# ---------- an expired link ----------
_left=$((LATE_T0 + 32 - $(date +%s)))
[ "$_left" -gt 0 ] && sleep "$_left"
browser_open "$LATE_LINK"
is "a link older than login_ttl: gone (410)" "$OPEN_CODE" 410
like "... with a reason" "$OPEN_BODY" "expired"

# ---------- still up ----------
ok "idgated is still up" ping_quiet

# ---------- the IdP's metadata from its URL (fetched by the connector child) ----------
daemon_stop
saml_config "login_ttl = 60s"
sed -i "s|^idp_metadata = .*|idp_metadata_url = $IDP_BASE/metadata\nca_file = $CA|" "$T_DIR/idgate.conf"
# ... and AuthnRequests signed with the endpoint's own key and certificate
printf '%s\n' "sign_requests = yes" "sp_key = $T_DIR/certs/server.key" \
	"sp_cert = $T_DIR/certs/server.pem" >>"$T_DIR/idgate.conf"
ok "idgated starts with idp_metadata_url and sign_requests" daemon_start
run curl -sS --cacert "$CA" --max-time 10 "$SP_BASE/saml/metadata"
like "metadata: AuthnRequestsSigned, with the signing certificate" "$OUT" \
	"AuthnRequestsSigned=\"true\".*|<ds:X509Certificate>$(sed -n 2p "$T_DIR/certs/server.pem" | cut -c1-40)"
saml_start alice
browser_open "$LINK"
is "metadata from the URL: the link redirects to the IdP" "$OPEN_CODE" 303
like "the AuthnRequest is signed (SigAlg RSA-SHA256, Signature)" "$OPEN_LOCATION" \
	"&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=[A-Za-z0-9%]+$"
# the signature verifies with the certificate's key over the query up to &Signature=
_q=${OPEN_LOCATION#*\?}
printf '%s' "${_q%%&Signature=*}" >"$T_DIR/signed.txt"
printf '%s' "${_q##*&Signature=}" | sed 's/%2B/+/g; s/%2F/\//g; s/%3D/=/g' | base64 -d >"$T_DIR/sig.bin"
openssl x509 -in "$T_DIR/certs/server.pem" -pubkey -noout >"$T_DIR/sp.pub"
run openssl dgst -sha256 -verify "$T_DIR/sp.pub" -signature "$T_DIR/sig.bin" "$T_DIR/signed.txt"
is "... and it verifies with the SP certificate (openssl dgst)" "$RC:$OUT" "0:Verified OK"
browser_signin alice alice-pw-7c1e
browser_post
is "... and the signed response is accepted" "$ACS_CODE" 200
probe saml-wait alice "handle=$HANDLE"
like "... alice's login is done" "$OUT" "^status ok"

# ---------- [saml] is fixed at start-up: a reload says so and keeps serving ----------
sed -i 's/^login_ttl = .*/login_ttl = 90s/' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
for _i in $(seq 1 200); do
	grep -q "configuration reloaded" "$T_DIR/daemon.log" && break
	sleep 0.05
done
like "a reload with [saml] changed warns that it needs a restart" "$(cat "$T_DIR/daemon.log")" \
	"\\[saml\\] changes take effect only after a restart"
run curl -sS --cacert "$CA" --max-time 10 "$SP_BASE/saml/metadata"
like "... and the endpoint still serves" "$OUT" "entityID=\"$SP_ENTITY\""
done_testing
