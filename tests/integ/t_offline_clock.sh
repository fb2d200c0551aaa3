#!/bin/sh
# Offline credentials across a clock set back (issue 14, item 15): one dated in the future
# (made before the clock was stepped back) is never deleted for it; while it is less than
# [pam] offline_ttl ahead it counts as fresh and an offline login (IdP stopped) works with
# it; one dated further ahead than offline_ttl is kept but not used, the refusal saying why;
# one more than offline_ttl in the past is still deleted. Time is faked by writing the
# credential's time into the store (sqlite3) with idgated stopped.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
pam_world
pam_secret() { _s=$1; shift; run_in "$_s" "$PROBE" "$PAM" "$@"; }
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }
audited() { grep -E -- "$1" "$AUDIT" | tail -n 1; }
created() { sql "SELECT created FROM offline_creds WHERE name = 'alice'"; }
# set_created T: alice's credential dated T (idgated stopped meanwhile), then started again.
set_created() {
	daemon_stop
	sql "UPDATE offline_creds SET created = $1 WHERE name = 'alice'"
	daemon_start
}
# past_purge: long enough for idgated's purge of expired credentials (every 5 s) to run.
past_purge() { sleep 6; }

ok "the test IdP starts" idp_start kc keycloak
idp_config keycloak "connect_timeout = 2s" "timeout = 5s"
ok "idgated starts" daemon_start
run ctl auth set project default repoReader group:engineering
pam_secret alice-password password alice +account
is "alice's first login" "$RC:$(line status)" "0:ok"
pam_secret alice-password password alice
is "alice logs in again (an offline credential is kept)" "$RC:$(line status)" "0:ok"
for _i in $(seq 1 100); do
	[ "$(sql "SELECT count(*) FROM offline_creds WHERE name = 'alice'")" = 1 ] && break
	sleep 0.1
done
ok "... alice has an offline credential" test -n "$(created)"

# ---------- the clock went back an hour since it was made ----------
T=$(( $(date +%s) + 3600 ))
set_created "$T"
past_purge
is "a credential dated an hour in the future is not deleted" "$(created)" "$T"
like "... idgated warns that the clock was set back" "$(cat "$T_DIR/daemon.log")" \
	"offline credentials dated in the future: 1 \(the clock was set back since they were made\); they are kept"
ok "the test IdP stops" idp_stop
pam_secret alice-password password alice
is "with the IdP stopped, an offline login with it: OK" "$RC:$(line status)" "0:ok"
like "... audited as an offline login" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"ok","reason":"offline login: the offline credential of alice matched'
pam_secret wrong-password password alice
is "... a wrong password is still refused" "$RC:$(line error)" "1:wrong username or password"
is "... and the credential is still there" "$(created)" "$T"

# ---------- dated further ahead than offline_ttl (7 days) ----------
T=$(( $(date +%s) + 8 * 86400 ))
set_created "$T"
past_purge
is "a credential dated 8 days ahead (offline_ttl 7d) is not deleted either" "$(created)" "$T"
pam_secret alice-password password alice
is "... but it is not used: UNAVAIL" "$RC:$(line error)" "4:identity provider unreachable"
like "... the audit says why" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"unavailable","reason":"the IdP is unreachable \(.*\) and alice has no offline credential usable now \(its time is more than \[pam\] offline_ttl in the future: the clock was set back\?\)"'

# ---------- expired: more than offline_ttl in the past ----------
set_created $(( $(date +%s) - 8 * 86400 ))
past_purge
is "a credential 8 days old (offline_ttl 7d) is deleted" "$(sql "SELECT count(*) FROM offline_creds")" 0
ok "idgated stops" daemon_stop
done_testing
