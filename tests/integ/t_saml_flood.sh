#!/bin/sh
# Issue 13 item 1: unauthenticated POSTs to /saml/acs must not hurt the root daemon. 64
# concurrent POSTs of a ~254 KB SAMLResponse (one Assertion with 20,000 empty Attributes and
# a dummy signature) once crashed idgated (a use-after-free: libmicrohttpd re-entered from its
# own callbacks while the connector child was restarted). The endpoint is now a separate
# unprivileged process: with its bounds opened wide (every POST reaches idgated and the
# connector) idgated does not crash, logs no sanitizer report, still answers api.sock, and a
# normal SAML login works afterwards. With the default bounds the same flood is mostly turned
# away by the web process itself (429 past the per-address rate), and past [saml]
# max_acs_pending it answers 503 without asking idgated.
. "$top_srcdir/tests/integ/t_saml_lib.sh"
saml_require
saml_enter_netns "$@"

saml_setup

# The response: valid XML, a signature that verifies nothing, 20,000 attributes.
{
	printf '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" InResponseTo="_flood">'
	printf '<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><Issuer>%s/idp</Issuer>' "$IDP_BASE"
	printf '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_a1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>'
	printf '<Subject><NameID>alice@example.com</NameID></Subject><AttributeStatement>'
	yes '<Attribute/>' | head -n 20000 | tr -d '\n'
	printf '</AttributeStatement></Assertion></samlp:Response>'
} >"$T_DIR/flood.xml"
base64 -w0 "$T_DIR/flood.xml" >"$T_DIR/flood.b64"
_sz=$(wc -c <"$T_DIR/flood.xml")
ok "the flood response is ~254 KB with 20,000 attributes ($_sz bytes)" \
	test "$_sz" -gt 240000 -a "$_sz" -lt 262144

# flood N P [SECONDS]: N POSTs of it, P at once, each given up after SECONDS (90); the HTTP
# codes, sorted and counted, in FLOOD; the pages in $T_DIR/fl/.
flood() {
	rm -rf "$T_DIR/fl"
	mkdir "$T_DIR/fl"
	seq 1 "$1" | xargs -P "$2" -I{} curl -sS --cacert "$CA" --max-time "${3:-90}" -o "$T_DIR/fl/{}" \
		-w '%{http_code}\n' --data-urlencode "SAMLResponse@$T_DIR/flood.b64" \
		"$SP_BASE/saml/acs" >"$T_DIR/flood.codes" 2>/dev/null
	FLOOD=$(sort "$T_DIR/flood.codes" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
}
SAN_RE="ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:"
asan_clean() {
	grep -Eq "$SAN_RE" "$T_DIR/daemon.log" || return 0
	diag "$(grep -E -A12 "$SAN_RE" "$T_DIR/daemon.log" | head -n 16)"
	return 1
}
# connectors: the pids of idgated's connector children.
connectors() {
	for _c in $(cat /proc/"$T_PID"/task/*/children 2>/dev/null); do
		[ "$(tr '\0' '\n' 2>/dev/null <"/proc/$_c/cmdline" | head -n 1)" = idgated-connector ] &&
			echo "$_c"
	done
}

# a normal login, start to end: alice's SAML login is done.
good_login() {
	saml_start alice
	browser_open "$LINK"
	browser_signin alice alice-pw-7c1e
	browser_post
	probe saml-wait alice "handle=$HANDLE"
	[ "$ACS_CODE" = 200 ] && printf '%s\n' "$OUT" | grep -q '^status ok'
}

# ---------- the default bounds: the web process turns most away itself ----------
# (8 at once: one address may hold 16 connections, and a closed one counts until reaped)
saml_config
ok "idgated starts" daemon_start || { done_testing; exit 1; }
flood 64 8
diag "default bounds: $FLOOD"
like "past 30 a minute from one address: 429" "$FLOOD" "429:([1-3][0-9]) "
unlike "every POST was answered" "$FLOOD" "000:"
ok "idgated is still up" ping_quiet
daemon_stop

# ---------- the bound on SAML responses with idgated: past it, 503 at once ----------
saml_config "max_acs_pending = 1"
ok "idgated starts with max_acs_pending = 1" daemon_start || { done_testing; exit 1; }
_conn=$(connectors)
# shellcheck disable=SC2086
kill -STOP $_conn
flood 8 8 20
# shellcheck disable=SC2086
kill -CONT $_conn 2>/dev/null
_busy=$(grep -l "The sign-in service is busy" "$T_DIR"/fl/* 2>/dev/null | wc -l)
diag "max_acs_pending = 1, connector stopped: $FLOOD($_busy busy)"
ok "with one response already at idgated, the others are told at once it is busy" \
	test "$_busy" -ge 4
ok "idgated is still up" ping_quiet
daemon_stop

# ---------- the bounds opened: every POST reaches idgated and the connector ----------
saml_config "acs_per_minute = 10000" "max_acs_pending = 64" "request_timeout = 120s" \
	"max_connections = 128" "max_connections_per_ip = 128"
ok "idgated starts with every bound opened" daemon_start || { done_testing; exit 1; }
_pid=$T_PID
flood 64 64
diag "bounds opened: $FLOOD" "$(grep -m1 "saml:acs" "$T_DIR/log/audit.log" | cut -c1-400)"
unlike "no POST was accepted" "$FLOOD" "200:"
ok "idgated did not crash" kill -0 "$_pid"
ok "... nor log a sanitizer report" asan_clean
# Again with the connector children stopped, three times: a connector busy past idgated's
# one second to take a request (the reviewer's responses cost it 1.4 s each) is killed and
# restarted while POSTs wait for it, and every one of them is failed at once; browsers give
# up meanwhile. That is where the root daemon once re-entered its HTTP library from inside it
# and wrote into a request the nested run had freed.
_seen=0
for _round in 1 2 3; do
	for _i in $(seq 1 40); do _conn=$(connectors); [ -n "$_conn" ] && break; sleep 0.1; done
	[ -n "$_conn" ] && _seen=$((_seen + 1))
	# shellcheck disable=SC2086
	kill -STOP $_conn 2>/dev/null
	flood 64 64 2
	# shellcheck disable=SC2086
	kill -CONT $_conn 2>/dev/null
	diag "connector stopped, round $_round: $FLOOD"
	kill -0 "$_pid" 2>/dev/null || break
done
is "a connector child was stopped each round" "$_seen" 3
unlike "no POST was accepted" "$FLOOD" "200:"
ok "idgated did not crash" kill -0 "$_pid"
ok "... nor log a sanitizer report" asan_clean
# the connector may have been restarted under the load: give it its back-off
for _i in $(seq 1 60); do ping_quiet && break; sleep 0.5; done
ok "idgated still answers api.sock" ping_quiet
_ok=1
for _i in 1 2 3 4 5 6 7 8 9 10; do
	good_login && { _ok=0; break; }
	sleep 2
done
is "a normal SAML login works afterwards" "$_ok" 0
ok "idgated is still the same process" kill -0 "$_pid"
daemon_stop
is "idgated stops cleanly" "$?" 0
ok "no sanitizer report at all" asan_clean
done_testing
