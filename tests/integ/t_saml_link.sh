#!/bin/sh
# One person, both kinds of login (issue 14, item 2): the OIDC test IdP (Keycloak shape) and
# the SAML test IdP, through pam.sock as pam_idgate.so in sshd speaks it (pamprobe, +account:
# a first login is pinned only when PAM account lets it in), the harness playing the browser.
# - Without [saml] same_directory_as_oidc, the second kind of login for a pinned name is
#   refused, whichever came first (the pin protects the name).
# - With it and link_attribute = oidc_sub (the SAML attribute carrying the OIDC subject, as
#   Keycloak's user-property mapper for 'id' releases it), alice logs in by OIDC then SAML,
#   and bob by SAML then OIDC, with one uid each; a SAML identity whose link attribute names
#   another subject, or that has none, is refused and audited even though its NameID folds
#   into the pinned name; a name pinned to a SAML identity before the link is refused until
#   root runs 'idgatectl user unpin' (root only, audited).
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
. "$top_srcdir/tests/integ/t_saml_lib.sh"
saml_require
command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP sqlite3 is not installed"; exit 0; }
saml_enter_netns "$@"

link_cleanup() { oidc_cleanup_idps; saml_cleanup; }
oidc_cleanup_idps() {
	for _p in $IDP_PIDS; do kill -TERM "$_p" 2>/dev/null; done
	for _p in $IDP_PIDS; do wait "$_p" 2>/dev/null; done
	IDP_PIDS=
}
trap link_cleanup EXIT

PROBE=$top_builddir/tests/integ/pamprobe
ALICE_SUB=6f1c3a52-2d4e-4b8a-9c1f-0a1b2c3d4e01
BOB_SUB=6f1c3a52-2d4e-4b8a-9c1f-0a1b2c3d4e02
BOB_PW='b0b & co=+%/ pw'

oidc_setup
PAM=$T_DIR/run/pam.sock
AUDIT=$T_DIR/log/audit.log
# The shared SAML fixtures (alice and bob release oidc_sub) plus two IdP accounts whose NameID
# is alice's address: mallory's oidc_sub names another subject, eve releases none.
node -e '
const fs = require("fs");
const f = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
f.users.mallory = { password: "mallory-pw", email: "alice@example.com", groups: ["visitors"],
  attributes: { oidc_sub: "6f1c3a52-2d4e-4b8a-9c1f-0a1b2c3d4e99" } };
f.users.eve = { password: "eve-pw", email: "alice@example.com", groups: ["visitors"] };
fs.writeFileSync(process.argv[2], JSON.stringify(f, null, 2));' \
	"$SAML_IDP_DIR/fixtures.json" "$T_DIR/saml-fixtures.json"
SAML_IDP_FIXTURES=$T_DIR/saml-fixtures.json
saml_idp_start
ok "the OIDC test IdP (Keycloak shape) starts" idp_start kc keycloak
SP_PORT=$(free_port)
SP_BASE=https://127.0.0.1:$SP_PORT

# both_config [EXTRA [saml] LINES...]: [idp] for the OIDC IdP and [saml] for the SAML one.
both_config() {
	daemon_config "[idp]" "profile = keycloak" "issuer = $ISS" "client_id = $CLIENT_ID" \
		"client_secret_file = $SECRET_FILE" "ca_file = $CA" \
		"[saml]" "idp_metadata = $IDP_MD" "sp_entity_id = $SP_ENTITY" \
		"base_url = $SP_BASE" "listen = 127.0.0.1" "port = $SP_PORT" \
		"tls_cert = $T_DIR/certs/server.pem" "tls_key = $T_DIR/certs/server.key" "$@"
}

# oidc_login NAME PASSWORD: a password login through pam.sock, then account; sets RC OUT ERR.
oidc_login() { run_in "$2" "$PROBE" "$PAM" password "$1" +account; }
# saml_login NAME IDP-USER PASSWORD: a SAML login of NAME finished at the IdP as IDP-USER,
# then SAML_WAIT and account; sets ACS_CODE, ACS_BODY and RC OUT ERR (SAML_WAIT's).
saml_login() {
	saml_start "$1"
	browser_open "$LINK"
	browser_signin "$2" "$3"
	browser_post
	probe saml-wait "$1" "handle=$HANDLE" +account
	[ "$(pfield status)" = pending ] && probe saml-cancel "$1" "handle=$HANDLE"
}
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }
audited() { grep -E -- "$1" "$AUDIT" | tail -n 1; }
pin_of() { sql "SELECT coalesce(iss, '-') || ' ' || coalesce(sub, '-') FROM users WHERE name = '$1'"; }
uid_of() { sql "SELECT uid FROM users WHERE name = '$1'"; }

# ---------- without the link: the pin keeps the other kind of login out ----------
both_config
ok "idgated starts with [idp] and [saml], no link" daemon_start || { done_testing; exit 1; }
for u in alice bob alice@example.com bob@example.com; do
	ctl auth set project default repoReader "user:$u" >/dev/null
done
oidc_login alice alice-password
is "alice by OIDC: auth ok, account ok (pinned)" "$RC:$(line status):$(line 'account status')" "0:ok:ok"
is "... pinned to her OIDC subject" "$(pin_of alice)" "$ISS $ALICE_SUB"
ALICE_UID=$(uid_of alice)
saml_login alice alice alice-pw-7c1e
is "alice by SAML after OIDC, no link: refused at the ACS (403)" "$ACS_CODE" 403
like "... the browser is told the name is someone else's" "$ACS_BODY" \
	"login name 'alice' already belongs to another IdP identity"
is "... her SAML_WAIT is refused" "$(line status)" denied
is "... the pin is unchanged" "$(pin_of alice)" "$ISS $ALICE_SUB"

saml_login bob bob bob-pw-2a9f
is "bob by SAML: done, account ok (pinned)" "$ACS_CODE:$(line status):$(line 'account status')" "200:ok:ok"
is "... pinned to his SAML identity" "$(pin_of bob)" "$IDP_BASE/idp bob@example.com"
BOB_UID=$(uid_of bob)
oidc_login bob "$BOB_PW"
is "bob by OIDC after SAML, no link: refused" "$RC:$(line status)" "1:denied"
like "... because the name is pinned to another identity" "$(line error)" "already belongs to another IdP identity|login refused"
is "... the pin is unchanged" "$(pin_of bob)" "$IDP_BASE/idp bob@example.com"

# ---------- configuration ----------
ok "idgated stops cleanly" daemon_stop
both_config "link_attribute = oidc_sub"
run "$IDGATED" --check-config -c "$T_DIR/idgate.conf"
like "link_attribute alone is refused" "$RC:$OUT$ERR" "^[1-9].*link_attribute in \\[saml\\] is used only with same_directory_as_oidc = yes"
both_config "same_directory_as_oidc = yes"
run "$IDGATED" --check-config -c "$T_DIR/idgate.conf"
like "same_directory_as_oidc without link_attribute is refused" "$RC:$OUT$ERR" \
	"^[1-9].*same_directory_as_oidc in \\[saml\\] needs link_attribute"

# ---------- with the link ----------
both_config "same_directory_as_oidc = yes" "link_attribute = oidc_sub"
ok "idgated starts with same_directory_as_oidc = yes, link_attribute = oidc_sub" daemon_start
saml_login alice alice alice-pw-7c1e
is "alice by SAML after OIDC, linked: done, account ok" \
	"$ACS_CODE:$(line status):$(line 'account status')" "200:ok:ok"
is "... same uid" "$(uid_of alice)" "$ALICE_UID"
is "... the pin is still her OIDC subject" "$(pin_of alice)" "$ISS $ALICE_SUB"
oidc_login alice alice-password
is "alice by OIDC again: ok" "$RC:$(line status):$(line 'account status')" "0:ok:ok"

# Someone else at the SAML IdP whose NameID is alice's address: the link decides, not the name.
saml_login alice mallory mallory-pw
is "mallory (NameID alice@example.com, oidc_sub another subject) as alice: refused (403)" \
	"$ACS_CODE:$(line status)" "403:denied"
like "... the reason names the link" "$ACS_BODY" \
	"already belongs to another IdP identity .*whose SAML link attribute names another subject"
like "... audited" "$(audited '"target":"(user|login):alice')" \
	'"result":"denied","reason":"login refused: login name .alice. already belongs to another IdP identity.*link attribute'
is "... the pin is unchanged" "$(pin_of alice)" "$ISS $ALICE_SUB"
saml_login alice eve eve-pw
is "eve (NameID alice@example.com, no oidc_sub) as alice: refused (403)" \
	"$ACS_CODE:$(line status)" "403:denied"
like "... the assertion has no link attribute" "$ACS_BODY" "no link attribute 'oidc_sub'"
like "... audited" "$(audited '"target":"(user|login):alice')" '"result":"denied".*no link attribute'
saml_login carol carol carol-pw-4d0b
is "carol (no oidc_sub, name not pinned): refused, nothing stored" \
	"$ACS_CODE:$(sql "SELECT count(*) FROM users WHERE name = 'carol'")" "403:0"

# bob was pinned to his SAML identity before the link: his linked SAML login is the OIDC
# identity now, so both are refused until root unpins the name.
saml_login bob bob bob-pw-2a9f
is "bob (pinned by SAML before the link) by linked SAML: refused" "$ACS_CODE" 403
run as_uid 65534 "$IDGATECTL" --socket "$SOCK" user unpin bob --subject "$BOB_SUB"
is "user unpin as another uid: refused" "$RC" 1
like "... root only" "$ERR" "names are unpinned by root only"
like "... audited" "$(audited '"action":"user.unpin"')" '"result":"denied","reason":"root only"'
run ctl user unpin bob --subject "$BOB_SUB"
is "user unpin bob --subject BOB's OIDC subject (root): ok" "$RC" 0
like "... says what the next login must be" "$OUT" "unpinned user bob .*subject $BOB_SUB"
is "... bob is pre-provisioned again, uid kept" "$(pin_of bob):$(uid_of bob)" "- -:$BOB_UID"
like "... audited with the old pin" "$(audited '"action":"user.unpin"')" \
	"\"result\":\"ok\".*was issuer $IDP_BASE/idp subject bob@example.com; now for subject $BOB_SUB"
run ctl user unpin bob
like "unpinning a name that is not pinned: refused" "$RC:$ERR" "^[1-9].*user bob is not pinned to an IdP identity"
saml_login bob bob bob-pw-2a9f
is "bob by SAML first, linked: done, account ok" "$ACS_CODE:$(line status):$(line 'account status')" "200:ok:ok"
is "... pinned to his OIDC subject through the link" "$(pin_of bob)" "$ISS $BOB_SUB"
oidc_login bob "$BOB_PW"
is "bob by OIDC after SAML, linked: ok" "$RC:$(line status):$(line 'account status')" "0:ok:ok"
is "... same uid throughout" "$(uid_of bob)" "$BOB_UID"

# ---------- the link is configuration, not the store ----------
ok "idgated stops cleanly (linked)" daemon_stop
both_config
ok "idgated starts without the link again" daemon_start
saml_login alice alice alice-pw-7c1e
is "without the link, alice's SAML login is refused again" "$ACS_CODE" 403
oidc_login alice alice-password
is "... her OIDC login still works" "$RC:$(line status)" "0:ok"
ok "idgated is still up" ping_quiet
ok "idgated stops cleanly at the end" daemon_stop
unlike "no sanitizer report in idgated's log (its children's too)" "$(cat "$T_DIR/daemon.log")" \
	"AddressSanitizer|LeakSanitizer|runtime error:"
done_testing
