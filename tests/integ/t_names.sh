#!/bin/sh
# Who may take a POSIX login name (issue 13, item 3), against the real test OpenID provider
# (Okta shape: the IdP username is the e-mail address) and idgated's pam.sock, spoken by
# pamprobe as pam_idgate.so in sshd does (auth, then account from the same process):
# - an e-mail address folds to its local part only for [idmap] fold_domains; others are
#   refused, with the reason audited;
# - a pre-provisioned name ('user add erin', not pinned yet) is taken only by the IdP identity
#   recorded for it: Erin@attacker.example, folding into erin, inherits none of erin's uid,
#   roles or groups, even where attacker.example is a fold domain;
# - a first login is pinned only when PAM account lets it in: frank@evil.example, refused by
#   account, does not lock the real frank@example.com out, and 'login test' pins nothing (a
#   device login's first login is pinned by account as well);
# - a second IdP username folding into a pinned name (frank@example.org) is refused, audited.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
pam_world

# pam_secret SECRET OP NAME [ARGS...]: pamprobe with SECRET on standard input.
pam_secret() { _s=$1; shift; run_in "$_s" "$PROBE" "$PAM" "$@"; }
# line KEY: the value of KEY in pamprobe's output.
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }
# audited PATTERN: the last audit line that matches (grep -E).
audited() { grep -E -- "$1" "$AUDIT" | tail -n 1; }
# idt USER PASSWORD: an ID token of that IdP user.
idt() { idp_tokens "$1" "$2" | jval d.id_token; }
users_named() { sql "SELECT count(*) FROM users WHERE name = '$1'"; }

# The shared fixtures plus the people of this story (fixture keys that are no login name, so
# a password grant for "frank" finds nobody: the logins below use ID tokens as passwords).
node -e '
const fs = require("fs");
const f = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const add = (key, email, groups, okta) => { f.users[key] = { password: "pw-" + key, email,
  name: key, given_name: key, family_name: "Test", groups, group_paths: groups.map((g) => "/" + g),
  roles: [], ids: { keycloak: "6f1c3a52-2d4e-4b8a-9c1f-" + okta.padStart(12, "0"),
  auth0: "auth0|names" + okta, okta: "00unames" + okta } }; };
add("erin", "erin@example.com", ["admins"], "1");
add("erin.x", "Erin@attacker.example", ["visitors"], "2");
add("frank.real", "frank@example.com", ["staff"], "3");
add("frank.evil", "frank@evil.example", ["visitors"], "4");
add("frank.org", "frank@example.org", ["staff"], "5");
add("gina", "gina@example.com", ["staff"], "6");
add("hank", "hank@example.com", ["staff"], "7");
add("hank.org", "hank@example.org", ["staff"], "8");
add("ivan", "ivan@example.com", ["staff"], "9");
add("ivan.org", "ivan@example.org", ["staff"], "10");
fs.writeFileSync(process.argv[2], JSON.stringify(f, null, 2));' \
	"$IDP_DIR/fixtures.json" "$T_DIR/fixtures.json"
ok "test set-up: fixtures with erin, Erin@attacker.example, three franks, gina, two hanks, two ivans" test -s "$T_DIR/fixtures.json"
ok "the test IdP (Okta shape) starts" idp_start okta okta --fixtures "$T_DIR/fixtures.json" --device-interval 1

# ---------- folding only for listed domains ----------
T_FOLD_DOMAINS="example.com example.org"
idp_config okta
ok "idgated starts ([idmap] fold_domains = example.com example.org)" daemon_start
ERIN_X=$(idt Erin@attacker.example pw-erin.x)
like "the IdP issues Erin@attacker.example an ID token" "$ERIN_X" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
pam_secret "$ERIN_X" token erin +account
is "Erin@attacker.example as erin: refused at auth (attacker.example folds nothing here)" \
	"$RC:$(line error)" \
	"1:login refused: IdP username \"Erin@attacker.example\" would fold to login name 'erin', but its domain is not one [idmap] fold_domains lets fold (example.com example.org)"
like "... audited with the reason" "$(audited '"action":"pam.auth","target":"(login|user):erin')" \
	'"result":"denied","reason":"login refused: IdP username .*Erin@attacker.example.* would fold to login name .erin., but its domain is not one \[idmap\] fold_domains lets fold'
is "... nothing stored" "$(users_named erin)" 0

# From here an administrator folds more domains than is wise: the other rules must hold alone.
T_FOLD_DOMAINS="example.com example.org attacker.example evil.example"
idp_config okta
kill -HUP "$T_PID"
for _i in $(seq 1 100); do
	grep -q "configuration reloaded" "$T_DIR/daemon.log" && break
	sleep 0.05
done
like "a reload applies fold_domains (adds attacker.example and evil.example)" \
	"$(cat "$T_DIR/daemon.log")" "configuration reloaded"

# ---------- a pre-provisioned name is kept for its IdP identity ----------
run ctl user add erin --group admins
is "user add erin --group admins (no --idp-user: the IdP username must be 'erin')" "$RC" 0
ERIN_UID=$(sql "SELECT uid FROM users WHERE name = 'erin'")
run ctl create project p
run ctl create repo p/data
run ctl auth set repo p/data repoWriter user:erin
run ctl auth set cluster clusterAdmin group:admins
is "erin is a repoWriter of p/data and (through group:admins) clusterAdmin" \
	"$(ctl auth get repo p/data | grep -c 'user:erin')$(ctl auth get cluster | grep -c 'group:admins')" "11"
pam_secret "$ERIN_X" token erin +account
is "Erin@attacker.example (folds into erin) takes the pre-provisioned erin: refused" \
	"$RC:$(line error)" \
	"1:login refused: login name 'erin' was pre-provisioned for IdP user 'erin', not for \"Erin@attacker.example\""
is "... erin stays unpinned" "$(sql "SELECT coalesce(iss, 'unpinned') FROM users WHERE name = 'erin'")" unpinned
is "... the attacker is in no group" "$(ctl auth get-groups user:Erin@attacker.example)" ""
like "... audited" "$(audited '"action":"pam.auth","target":"user:erin"')" \
	"\"result\":\"denied\",\"reason\":\"login refused: login name 'erin' was pre-provisioned for IdP user 'erin'"
run_in "$ERIN_X" ctl login test --record --token erin
is "... nor can root record it (login test --record)" "$RC:$ERR" \
	"1:login refused: login name 'erin' was pre-provisioned for IdP user 'erin', not for \"Erin@attacker.example\""

# Recorded for the IdP user erin@example.com: the real erin takes it; the attacker still not.
run ctl user delete erin
run ctl user add erin --idp-user erin@example.com --group admins
is "user add erin --idp-user erin@example.com: the uid the name held comes back" \
	"$RC:$(sql "SELECT uid FROM users WHERE name = 'erin'")" "0:$ERIN_UID"
run ctl auth set repo p/data repoWriter user:erin@example.com
run ctl user add zed --idp-user erin@example.com
is "user add zed --idp-user erin@example.com: refused (that IdP user logs in as erin)" \
	"$RC:$ERR" "2:IdP user \"erin@example.com\" logs in as erin, not zed ([idmap] name_rule)"
pam_secret "$ERIN_X" token erin +account
like "Erin@attacker.example against --idp-user erin@example.com: refused" "$RC:$(line error)" \
	"^1:login refused: login name 'erin' was pre-provisioned for IdP user 'erin@example.com'"
pam_secret "$(idt erin@example.com pw-erin)" token erin +account
is "the real erin@example.com logs in as erin: auth and account OK" \
	"$RC:$(line status):$(line 'account status')" "0:ok:ok"
is "... with the uid provisioned for her" "$(line uid)" "$ERIN_UID"
is "... now pinned to her subject" "$(sql "SELECT sub FROM users WHERE name = 'erin'")" "00unames1"

# ---------- a first login is pinned only when account lets it in ----------
FRANK_EVIL=$(idt frank@evil.example pw-frank.evil)
run_in "$FRANK_EVIL" ctl login test --token frank
is "login test (no --record) as frank@evil.example: the identity is shown" "$RC:$(field 'login name')" "0:frank"
is "... and nothing pinned" "$(users_named frank)" 0
pam_secret "$FRANK_EVIL" token frank rhost=203.0.113.66 +account
is "frank@evil.example as frank: auth OK, account DENIED (no role)" \
	"$RC:$(line status):$(line 'account error')" "1:ok:frank holds no role on this cluster"
like "... account's audit: a first login, nothing stored" \
	"$(audited '"action":"pam.account","target":"user:frank@evil.example"')" \
	"\"result\":\"denied\",\"reason\":\"login rule any_role: no role is bound to user:frank@evil.example .*; a first login: 'frank' is not pinned, nothing stored\",\"detail\":\"service=sshd rhost=203.0.113.66\""
is "... frank is not pinned to frank@evil.example" "$(users_named frank)" 0
pam_secret "$FRANK_EVIL" token frank rhost=203.0.113.66
is "frank@evil.example authenticates again, account never asked" "$RC:$(line status)" "0:ok"
is "... still nothing pinned" "$(users_named frank)" 0
run ctl auth set repo p/data repoReader group:staff
FRANK=$(idt frank@example.com pw-frank.real)
pam_secret "$FRANK" token frank +account
is "the real frank@example.com (a reader through group:staff) logs in as frank: OK" \
	"$RC:$(line status):$(line 'account status')" "0:ok:ok"
is "... frank is pinned to him" "$(sql "SELECT principal || ' ' || sub FROM users WHERE name = 'frank'")" \
	"user:frank@example.com 00unames3"
is "... with his IdP group" "$(ctl auth get-groups user:frank@example.com)" "group:staff"
pam_secret "$FRANK_EVIL" token frank rhost=203.0.113.66 +account
is "frank@evil.example now: refused at auth (the name is frank@example.com's)" "$RC:$(line error)" \
	"1:login refused: login name 'frank' already belongs to another IdP identity (this is IdP user \"frank@evil.example\")"

# A device login's first login too: pinned by account, asked by the process that waited.
"$PROBE" "$PAM" device gina +account >"$T_DIR/pd.out" 2>"$T_DIR/pd.err" &
PD=$!
DEV_CODE=
for _i in $(seq 1 200); do
	DEV_CODE=$(sed -n 's/^start user_code //p' "$T_DIR/pd.out")
	[ -n "$DEV_CODE" ] && break
	kill -0 "$PD" 2>/dev/null || break
	sleep 0.05
done
DEV_URI=$(sed -n 's/^start verify_uri //p' "$T_DIR/pd.out")
is "gina@example.com approves her device login at the IdP" \
	"$(node "$IDP_DIR/approve-device.mjs" --verification-uri "$DEV_URI" --ca "$CA" \
		--user-code "$DEV_CODE" --username gina@example.com --password pw-gina 2>&1)" approved
wait "$PD"
RC=$?
OUT=$(cat "$T_DIR/pd.out")
is "... the wait ends OK, then account OK" \
	"$RC:$(printf '%s\n' "$OUT" | sed -n 's/^wait status //p' | tail -n 1):$(line 'account status')" \
	"0:ok:ok"
is "... gina is pinned to her" "$(sql "SELECT principal || ' ' || sub FROM users WHERE name = 'gina'")" \
	"user:gina@example.com 00unames6"

# Recorded by subject only: any username that maps to the name, but only that subject.
run ctl user add hank --subject 00unames7
is "user add hank --subject 00unames7" "$RC" 0
pam_secret "$(idt hank@example.org pw-hank.org)" token hank +account
is "hank@example.org (another subject) as hank: refused" "$RC:$(line error)" \
	"1:login refused: login name 'hank' was pre-provisioned for another IdP subject than \"hank@example.org\"'s"
pam_secret "$(idt hank@example.com pw-hank)" token hank +account
is "hank@example.com (subject 00unames7) as hank: OK, pinned" \
	"$RC:$(line 'account status'):$(sql "SELECT sub FROM users WHERE name = 'hank'")" "0:ok:00unames7"

# ---------- two IdP usernames never fold into one name silently ----------
pam_secret "$(idt frank@example.org pw-frank.org)" token frank +account
is "frank@example.org (example.org folds too) as frank: refused" "$RC:$(line error)" \
	"1:login refused: login name 'frank' already belongs to another IdP identity (this is IdP user \"frank@example.org\")"
like "... audited (the target: the name's owner)" "$(audited '"action":"pam.auth","target":"user:frank@example.com"')" \
	'"result":"denied","reason":"login refused: login name .frank. already belongs to another IdP identity \(this is IdP user ..frank@example.org..\)"'
is "... frank stays frank@example.com's" "$(sql "SELECT sub FROM users WHERE name = 'frank'")" "00unames3"

# Two first logins folding into ivan at once, both let in by the login rule: each account is
# its own process's, and the one that comes second finds the name taken.
printf '%s\n' "$(idt ivan@example.org pw-ivan.org)" >"$T_DIR/ivan-org.tok"
"$PROBE" "$PAM" token ivan +account "wait=$T_DIR/go" <"$T_DIR/ivan-org.tok" >"$T_DIR/ivan-org.out" &
IP=$!
for _i in $(seq 1 200); do
	grep -q '^status' "$T_DIR/ivan-org.out" && break
	sleep 0.05
done
is "ivan@example.org authenticates as ivan (account held back)" "$(sed -n 's/^status //p' "$T_DIR/ivan-org.out")" ok
pam_secret "$(idt ivan@example.com pw-ivan)" token ivan +account
is "ivan@example.com authenticates meanwhile; his account pins ivan to him" \
	"$RC:$(line 'account status'):$(sql "SELECT sub FROM users WHERE name = 'ivan'")" "0:ok:00unames9"
touch "$T_DIR/go"
wait "$IP"
is "ivan@example.org's account then: refused, the name is taken" \
	"$?:$(sed -n 's/^account error //p' "$T_DIR/ivan-org.out")" "1:login refused"
like "... audited with the reason" "$(audited '"action":"pam.account","target":"user:ivan@example.org"')" \
	'"result":"denied","reason":"login refused: login name .ivan. already belongs to another IdP identity'
is "... ivan stays ivan@example.com's" "$(sql "SELECT sub FROM users WHERE name = 'ivan'")" "00unames9"

ok "idgated stops cleanly" daemon_stop
done_testing
