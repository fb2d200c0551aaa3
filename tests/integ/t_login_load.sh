#!/bin/sh
# Logins under load and under attack (issue 13, item 2), against the real test IdPs (OIDC in
# Keycloak's shape and SAML, TLS on loopback), through pam.sock as pam_idgate.so speaks it:
#  - with the IdP's token endpoint slowed to 3 s, ten password logins at once all finish in
#    about 3 s (each waits in a connector process of its own), and a token login made meanwhile
#    is answered in milliseconds (tokens have their own processes and cached keys);
#  - an unauthenticated flood of large, badly signed SAML responses to the ACS (64 clients,
#    four source addresses) while alice, whose password was changed at the IdP, keeps trying
#    her old one: the old password is refused every time (a busy idgated is not an unreachable
#    IdP, so her offline credential is never tried), the new one works, the login processes are
#    never restarted, and idgated (the ASan build too) survives with no sanitizer report.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
. "$top_srcdir/tests/integ/t_saml_lib.sh"
saml_require
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl is not installed"; exit 0; }
saml_enter_netns "$@"
load_cleanup() {
	[ -n "${FLOOD_PIDS:-}" ] && kill $FLOOD_PIDS 2>/dev/null
	[ -n "$SAML_IDP_PID" ] && kill -TERM "$SAML_IDP_PID" 2>/dev/null
	oidc_cleanup
}
trap load_cleanup EXIT

PROBE=$top_builddir/tests/integ/pamprobe
AUDIT=$T_DIR/log/audit.log
oidc_setup
AUDIT=$T_DIR/log/audit.log
saml_idp_start
ok "the test OIDC IdP starts" idp_start kc keycloak
SP_PORT=$(free_port)
SP_BASE=https://127.0.0.1:$SP_PORT
idp_config keycloak "connect_timeout = 2s" "timeout = 8s" "[saml]" "idp_metadata = $IDP_MD" \
	"sp_entity_id = $SP_ENTITY" "base_url = $SP_BASE" "listen = 127.0.0.1" \
	"port = $SP_PORT" "tls_cert = $T_DIR/certs/server.pem" "tls_key = $T_DIR/certs/server.key"
ok "idgated starts with [idp] and [saml]" daemon_start || { done_testing; exit 1; }

# login NAME OP [SECRET [ARGS...]]: one pam.sock login (pamprobe); prints "STATUS MS".
login() {
	_n=$1 _op=$2 _s=$3
	shift 3
	_t0=$(now_ms)
	printf '%s\n' "$_s" | "$PROBE" "$T_DIR/run/pam.sock" "$_op" "$_n" "$@" >/dev/null 2>&1
	echo "$? $(( $(now_ms) - _t0 ))"
}

# ---------- ten slow password logins at once, and a token meanwhile ----------
# First logins are pinned when account lets them in (a role through their IdP group); the
# second keeps an offline credential.
run ctl auth set project default repoReader group:engineering
is "alice's first login (auth and account)" "$(login alice password alice-password +account | cut -d' ' -f1)" 0
is "alice logs in again (her offline credential is kept)" "$(login alice password alice-password | cut -d' ' -f1)" 0
for _i in $(seq 1 100); do
	[ "$(sqlite3 "$T_DIR/state/state.db" "SELECT count(*) FROM offline_creds WHERE name = 'alice'")" = 1 ] && break
	sleep 0.1
done
TOKEN=$(mint '{"user": "carol"}')
is "carol's token logs in (the keys are cached)" "$(login carol token "$TOKEN" | cut -d' ' -f1)" 0
ok "alice has an offline credential (for an old password to be refused)" \
	test "$(sqlite3 "$T_DIR/state/state.db" "SELECT count(*) FROM offline_creds WHERE name = 'alice'")" = 1
ctl_post /mode '{"mode": "slow", "seconds": 3, "endpoints": ["token"]}' >/dev/null
T0=$(now_ms)
SLOW=
for i in $(seq 1 10); do
	login alice password alice-password >"$T_DIR/slow.$i" &
	SLOW="$SLOW $!"
done
sleep 0.5
TOK=$(login carol token "$TOKEN")
wait $SLOW
ALL=$(( $(now_ms) - T0 ))
ctl_post /mode '{"mode": "normal"}' >/dev/null
is "a token login during ten slow password logins: OK" "${TOK% *}" 0
ok "... answered in milliseconds, not after the slow grants (${TOK#* } ms)" test "${TOK#* }" -lt 1000
OKS=0 MAX=0
for i in $(seq 1 10); do
	read -r st ms <"$T_DIR/slow.$i"
	[ "$st" = 0 ] && OKS=$((OKS + 1))
	[ "$ms" -gt "$MAX" ] && MAX=$ms
done
is "ten password logins against a 3 s token endpoint: all OK" "$OKS" 10
ok "... the slowest took about 3 s, not 30 ($MAX ms)" test "$MAX" -ge 2900 -a "$MAX" -lt 6000
ok "... all ten within $ALL ms" test "$ALL" -lt 6500

# ---------- an ACS flood while alice's old password is tried ----------
# A response of about 250 KB: one Assertion with 17,000 empty attributes and a signature
# whose value is nonsense (as the attack: costly to parse, never valid).
python3 - "$SP_BASE" >"$T_DIR/bomb.b64" <<'PY'
import base64, sys
sp = sys.argv[1]
attrs = "<s:Attribute/>" * 17000
xml = ('<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol" '
       'xmlns:s="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" '
       'IssueInstant="2026-01-01T00:00:00Z" Destination="%s/saml/acs" InResponseTo="_q1">'
       '<p:Status><p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></p:Status>'
       '<s:Assertion ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><s:Issuer>x</s:Issuer>'
       '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
       '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
       '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
       '<ds:Reference URI="#_a1"><ds:Transforms><ds:Transform '
       'Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>'
       '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
       '<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>'
       '<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>'
       '<s:Subject><s:NameID>alice</s:NameID></s:Subject><s:AttributeStatement>%s'
       '</s:AttributeStatement></s:Assertion></p:Response>') % (sp, attrs)
print(base64.b64encode(xml.encode()).decode())
PY
ok "the flood's response is about 250 KB decoded" test "$(wc -c <"$T_DIR/bomb.b64")" -gt 300000
ctl_post /password '{"user": "alice", "password": "alice-new-password"}' >/dev/null
is "alice's old password no longer works at the IdP" "$(login alice password alice-password | cut -d' ' -f1)" 1

# 64 clients from 127.0.0.1-4, each posting until the flood's 12 s are over (30 posts at most).
FLOOD_END=$(( $(date +%s) + 12 ))
FLOOD_PIDS=
for c in $(seq 1 64); do
	(
		n=0
		while [ "$(date +%s)" -lt "$FLOOD_END" ] && [ $n -lt 30 ]; do
			curl -sS --cacert "$CA" --max-time 20 --interface "127.0.0.$(( c % 4 + 1 ))" \
				-o /dev/null -w '%{http_code}\n' --data-urlencode "SAMLResponse@$T_DIR/bomb.b64" \
				"$SP_BASE/saml/acs" >>"$T_DIR/flood.$c" 2>/dev/null
			n=$((n + 1))
		done
	) &
	FLOOD_PIDS="$FLOOD_PIDS $!"
done
sleep 2
OLD_OK=0 OLD_TRIES=0 NEW_OK=0 NEW_TRIES=0
while [ "$(date +%s)" -lt $((FLOOD_END - 1)) ] && [ $OLD_TRIES -lt 12 ]; do
	r=$(login alice password alice-password)
	OLD_TRIES=$((OLD_TRIES + 1))
	[ "${r% *}" = 0 ] && OLD_OK=$((OLD_OK + 1))
	r=$(login alice password alice-new-password)
	NEW_TRIES=$((NEW_TRIES + 1))
	[ "${r% *}" = 0 ] && NEW_OK=$((NEW_OK + 1))
	sleep 0.3
done
wait $FLOOD_PIDS 2>/dev/null
FLOOD_PIDS=
POSTS=$(cat "$T_DIR"/flood.* 2>/dev/null | wc -l)
ok "the flood ran ($POSTS posts answered)" test "$POSTS" -gt 64
ok "during the flood alice's old password was tried ($OLD_TRIES times)" test "$OLD_TRIES" -ge 3
is "... and refused every time" "$OLD_OK" 0
is "her new password worked every time ($NEW_OK of $NEW_TRIES)" "$NEW_OK" "$NEW_TRIES"
unlike "no offline login was audited" "$(grep '"action":"pam.auth"' "$AUDIT")" 'offline login'
unlike "the login connector processes were never stopped" "$(cat "$T_DIR/daemon.log")" \
	'IdP connector \((logins|tokens), pid [0-9]+\): .*stopped it'
ok "idgated is still running" kill -0 "$T_PID"
ok "... and answers" ping_ok
unlike "... with no sanitizer report" "$(cat "$T_DIR/daemon.log")" 'AddressSanitizer|runtime error:'
is "alice logs in with her new password after the flood" "$(login alice password alice-new-password | cut -d' ' -f1)" 0
ok "idgated stops cleanly" daemon_stop
done_testing
