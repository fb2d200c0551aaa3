#!/bin/sh
# Issue 14, item 1: [saml] idp_metadata_url unreachable when idgated starts. OIDC password
# logins work throughout; a SAML login meanwhile is refused saying what is wrong (in the
# browser and to PAM, at once); once the metadata URL answers, SAML logins work without a
# restart (the SAML connector's refused configuration is tried again with back-off).
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
. "$top_srcdir/tests/integ/t_saml_lib.sh"
oidc_require
saml_require
saml_enter_netns "$@"
both_cleanup() { saml_cleanup; oidc_cleanup; }
# An OIDC password login that records nothing (so alice's SAML login may pin her name later).
login_oidc() { run_in alice-password ctl login test alice; }
trap both_cleanup EXIT

oidc_setup
ok "the OIDC test IdP starts" idp_start main keycloak || { done_testing; exit 1; }
SAML_IDP_PORT=$(free_port)
SP_PORT=$(free_port)
SP_BASE=https://127.0.0.1:$SP_PORT
idp_config keycloak "[saml]" \
	"idp_metadata_url = https://127.0.0.1:$SAML_IDP_PORT/metadata" "ca_file = $CA" \
	"sp_entity_id = $SP_ENTITY" "base_url = $SP_BASE" "listen = 127.0.0.1" "port = $SP_PORT" \
	"tls_cert = $T_DIR/certs/server.pem" "tls_key = $T_DIR/certs/server.key"
ok "idgated starts with the SAML metadata URL down" daemon_start || { done_testing; exit 1; }
login_oidc
is "an OIDC password login works while SAML cannot start" "$RC:$(field 'login name')" "0:alice"
[ "$RC" = 0 ] || diag "$OUT" "$ERR"

saml_start alice
like "a SAML login can be started" "$LINK" "^$SP_BASE/saml/login/[0-9a-f]{32}$"
browser_open "$LINK"
is "... its link answers 503 while the SAML connector cannot start" "$OPEN_CODE" 503
like "... saying what is wrong (its metadata cannot be fetched)" "$OPEN_BODY" \
	"SAML connector is not running: .*cannot fetch the SAML IdP metadata"
probe saml-wait alice "handle=$HANDLE"
like "PAM is told at once (not after the login's lifetime)" "$OUT" "^status denied"
like "... with the same reason" "$OUT" "SAML connector is not running: .*cannot fetch the SAML IdP metadata"
login_oidc
is "OIDC password logins still work" "$RC" 0
# idgatectl login test --saml meanwhile: exit 3 (the SAML side is unavailable), saying why.
ctl login test --saml alice >"$T_DIR/lt.out" 2>"$T_DIR/lt.err" &
LT_PID=$!
LINK=
for _i in $(seq 1 100); do
	LINK=$(sed -n 's/.*open \(https:[^ ]*\) in a browser$/\1/p' "$T_DIR/lt.out")
	[ -n "$LINK" ] && break
	sleep 0.1
done
browser_open "$LINK"
wait "$LT_PID"
is "login test --saml while SAML cannot start: exit 3 (unavailable)" "$?" 3
like "... saying what is wrong" "$(cat "$T_DIR/lt.err")" \
	"SAML connector is not running: .*cannot fetch the SAML IdP metadata"

# The metadata URL comes up: within the back-off, SAML logins work, with no restart.
saml_idp_start
T0=$(date +%s)
SAML_OK=
while [ $(($(date +%s) - T0)) -lt 90 ]; do
	saml_start alice
	browser_open "$LINK"
	[ "$OPEN_CODE" = 303 ] && { SAML_OK=1; break; }
	probe saml-cancel alice "handle=$HANDLE"
	sleep 2
done
ok "once the metadata URL answers, a SAML login link leads to the IdP (no restart)" test -n "$SAML_OK"
browser_signin alice alice-pw-7c1e
browser_post
is "... the signed response is accepted" "$ACS_CODE" 200
probe saml-wait alice "handle=$HANDLE"
like "... and PAM's wait says ok" "$OUT" "^status ok"
ok "idgated was never restarted" kill -0 "$T_PID"
login_oidc
is "OIDC password logins still work" "$RC" 0
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log" 2>/dev/null)" \
	"Sanitizer|runtime error:"
done_testing
