#!/bin/sh
# An OIDC IdP set up unlike the usual test IdP, against the generic profile configured only from
# idgate.conf(5) (issue 14, items 3, 4 and 7): one without a device authorization endpoint
# (--no-device) and one that releases groups only for a "groups" scope (--groups-scope-only).
# Device sign-in is refused as "not offered" (pam_idgate's Enter-for-device through libpam,
# idgatectl exit 4), a discovery document for another issuer exits 4, an IdP that is down exits
# 3, and a missing groups claim is said by 'login test' and, once, in the log.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require

B=$top_builddir
MOD=$B/.libs/pam_idgate.so
DRV=$B/tests/integ/pam_driver
PWRAP=$(ldconfig -p | awk '/libpam_wrapper\.so / { print $NF; exit }')

oidc_setup
AUDIT=$T_DIR/log/audit.log
ok "the test IdP (Keycloak shape, no device endpoint, groups only for the groups scope) starts" \
	idp_start kc keycloak --no-device --groups-scope-only
is "(control) its discovery document has no device endpoint" \
	"$(discovery | jval 'd.device_authorization_endpoint === undefined')" true
# The generic profile with its defaults: scope openid profile email, preferred_username, groups.
idp_config generic
ok "idgated starts" daemon_start

# ---------- item 3/4: device sign-in not offered ----------
run ctl login test --device
is "login test --device: exit 4 (the IdP answered: not 'unreachable')" "$RC" 4
is "... saying device sign-in is not offered" "$ERR" \
	"the identity provider does not offer device sign-in: its discovery document has no device_authorization_endpoint"
is "... nothing on standard output" "$OUT" ""
run ctl -o json login test --device
is "login test --device -o json: exit 4 too" "$RC" 4

if [ -e "$PWRAP" ] && [ -x "$DRV" ]; then
	mkdir "$T_DIR/svc"
	echo "auth required pam_deny.so" >"$T_DIR/svc/other"
	printf 'auth required %s socket=%s methods=password,device timeout=10\n' "$MOD" \
		"$T_DIR/run/pam.sock" >"$T_DIR/svc/t"
	# Enter at the password prompt: the device sign-in of methods=password,device.
	run env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T_DIR/svc" LD_PRELOAD=libpam_wrapper.so \
		"$DRV" -r 192.0.2.7 -a '' t alice auth
	like "pam_idgate, Enter for device sign-in: PAM_AUTH_ERR" "$OUT" "^auth=PAM_AUTH_ERR "
	like "... the user reads that it is not offered, and what to do" "$OUT" \
		"conv ERROR idgate: device sign-in is not offered by your identity provider; use your password"
	unlike "... not that the login service failed" "$OUT" "login service failed"
	like "the audit has the whole reason" "$(grep '"action":"pam.device_start"' "$AUDIT" | tail -n 1)" \
		'"result":"denied","reason":"the identity provider does not offer device sign-in: its discovery document has no device_authorization_endpoint"'
	is "the log tells the administrator once what to change" \
		"$(grep -c "take 'device' out of pam_idgate's methods=" "$T_DIR/daemon.log")" 1
else
	pass "# SKIP pam_wrapper or pam_driver is missing"
fi

# ---------- item 7: no groups claim without the groups scope ----------
login_pw alice alice-password
is "alice logs in with the default scope" "$RC:$(field principal)" "0:user:alice"
is "... her groups are empty and login test says why" "$(field groups)" \
	"[] (the IdP sent no 'groups' claim; if it releases groups only for a scope, add that scope to [idp] scope, or name its claim in [idp] groups_claim)"
ctl -o json login test alice <<EOF >"$T_DIR/j" 2>&1
alice-password
EOF
is "... -o json names the absent claim" "$(jval d.groups_claim_absent <"$T_DIR/j")" groups
is "the log says it once, with what to do" \
	"$(grep -c "login of user:alice: the IdP sent no 'groups' claim (in neither the token nor userinfo), so the user has no IdP groups; if the IdP releases groups only for a scope, add it to \[idp\] scope" "$T_DIR/daemon.log")" 1
login_pw bob 'b0b & co=+%/ pw'
is "bob logs in too, his groups as empty" "$RC:$(field principal)" "0:user:bob"
is "... the log does not repeat it within the hour" "$(grep -c "the IdP sent no 'groups' claim" "$T_DIR/daemon.log")" 1

ok "idgated stops" daemon_stop
idp_config generic "scope = openid profile email groups"
ok "idgated starts with the groups scope" daemon_start
login_pw alice alice-password
is "(control) with the groups scope alice has her groups" "$RC:$(field groups)" "0:[engineering engineering.data-team]"
unlike "... and no word of an absent claim" "$OUT" "sent no"

# ---------- item 4: a discovery document for another issuer, an IdP that is down ----------
ok "idgated stops" daemon_stop
OTHER=$(printf '%s' "$ISS" | sed 's#^https://127.0.0.1:#https://localhost:#')
daemon_config "[idp]" "profile = generic" "issuer = $OTHER" "client_id = $CLIENT_ID" \
	"client_secret_file = $SECRET_FILE" "ca_file = $CA"
ok "idgated starts with the issuer named by another host name" daemon_start
login_pw alice alice-password
is "a discovery document for another issuer: exit 4 (the IdP answered)" "$RC:$ERR" \
	"4:the IdP's discovery document is for another issuer"
ok "idgated stops" daemon_stop
idp_config generic "connect_timeout = 2s" "timeout = 3s"
idp_stop
ok "idgated starts, the IdP stopped" daemon_start
login_pw alice alice-password
is "(control) an IdP that is down: exit 3, unreachable" "$RC" 3
run ctl login test --device
is "(control) login test --device with the IdP down: exit 3" "$RC" 3

done_testing
