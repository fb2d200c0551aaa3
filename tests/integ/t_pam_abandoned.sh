#!/bin/sh
# A login whose caller gave up before idgated answered is audited as what the user got:
# nothing (issue 14, item 17). With the test IdP's token endpoint slowed to 3 s, pamprobe
# waits 1 s (as pam_idgate.so gives up after its timeout) and leaves; when the IdP answers,
# the audit record is "abandoned", naming the outcome it would have had, never "ok". The
# same for 'idgatectl login test' interrupted while it waits. A login whose caller waits
# is audited "ok" as before.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
pam_world
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }
audited() { grep -E -- "$1" "$AUDIT" | tail -n 1; }
pam_auths() { grep -c '"action":"pam.auth","target":"user:alice"' "$AUDIT"; }

ok "the test IdP starts" idp_start kc keycloak
idp_config keycloak "connect_timeout = 2s" "timeout = 8s"
ok "idgated starts" daemon_start
run ctl auth set project default repoReader group:engineering
run_in alice-password "$PROBE" "$PAM" password alice +account
is "alice logs in (her first login, pinned at account)" "$RC:$(line status)" "0:ok"
like "... audited ok" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"ok","reason":"password login"'

# ---------- the PAM module gives up before the IdP answers ----------
ctl_post /mode '{"mode": "slow", "seconds": 3, "endpoints": ["token"]}' >/dev/null
N0=$(pam_auths)
L0=$(wc -l <"$AUDIT")
timed run_in alice-password "$PROBE" -t 1000 "$PAM" password alice
ok "pamprobe -t 1000 against a 3 s token endpoint gives up after about 1 s ($MS ms)" \
	test "$RC" -ne 0 -a "$MS" -lt 2500
for _i in $(seq 1 80); do
	[ "$(pam_auths)" -gt "$N0" ] && break
	sleep 0.1
done
REC=$(audited '"action":"pam.auth","target":"user:alice"')
like "when the IdP answers, the login is audited as abandoned" "$REC" \
	'"result":"abandoned","reason":"the caller had gone before the answer, so nobody got it \(it would have been: ok, password login\)","detail":"service=sshd method=password idp_ms=[0-9.]+"'
is "... and not as ok" "$(tail -n +"$((L0 + 1))" "$AUDIT" | grep '"action":"pam.auth"' | grep -c '"result":"ok"')" 0
like "... the log says the caller had left" "$(cat "$T_DIR/daemon.log")" \
	"PAM login of alice finished after its caller left"

# A wrong password abandoned the same way: abandoned too, its outcome named.
N0=$(pam_auths)
run_in wrong-password "$PROBE" -t 1000 "$PAM" password alice
for _i in $(seq 1 80); do
	[ "$(pam_auths)" -gt "$N0" ] && break
	sleep 0.1
done
like "a wrong password whose caller left: abandoned, would have been denied" \
	"$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"abandoned","reason":"the caller had gone before the answer, so nobody got it \(it would have been: denied, wrong username or password\)"'

# ---------- idgatectl login test interrupted ----------
N0=$(grep -c '"action":"login"' "$AUDIT")
printf 'alice-password\n' | timeout 1 "$IDGATECTL" --socket "$SOCK" login test alice >/dev/null 2>&1
for _i in $(seq 1 80); do
	[ "$(grep -c '"action":"login"' "$AUDIT")" -gt "$N0" ] && break
	sleep 0.1
done
like "idgatectl login test killed while it waits: abandoned" \
	"$(audited '"action":"login"')" \
	'"result":"abandoned","reason":"the caller had gone before the answer, so nobody got it \(it would have been: ok\)"'

# ---------- a caller that waits is answered and audited ok ----------
run_in alice-password "$PROBE" -t 10000 "$PAM" password alice
is "a caller that waits 10 s gets its answer" "$RC:$(line status)" "0:ok"
like "... audited ok" "$(audited '"action":"pam.auth","target":"user:alice"')" '"result":"ok","reason":"password login"'
ctl_post /mode '{"mode": "normal"}' >/dev/null
ok "idgated stops" daemon_stop
done_testing
