#!/bin/sh
# idgated's side of PAM logins: the requests pam_idgate.so sends on pam.sock, spoken by
# pamprobe, against the real test OpenID provider (Keycloak shape, TLS on loopback).
# A local account or a name no IdP user can have is UNKNOWN at once, nothing sent to the IdP;
# password logins (right, wrong), token logins (an ID token, an expired one, someone else's, a
# robot token), device logins (approved, denied, approved by the wrong user, expired; each wait
# answered within about the interval); the login rule (a role through a group, a role of the
# user's own, none, only allClusterUsers; a permission rule); sessions (a home made once, 0700,
# owned by the user, with the skeleton; a symlinked or foreign-writable home base refused; an
# existing home or a symlink in its place left alone); offline credentials (kept after an
# online password login; with the IdP stopped: the right password in, a wrong one out, a user
# without them "identity provider unreachable"; an IdP's "no" never falls back to them);
# pam.sock refuses other uids, api.sock refuses PAM's requests; every decision is audited.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
pam_world

# pam OP NAME [ARGS...]: pamprobe against our idgated; sets RC, OUT, ERR.
pam() { _op=$1; shift; run "$PROBE" "$PAM" "$_op" "$@" </dev/null; }
# pam_secret SECRET OP NAME [ARGS...]: the same with SECRET on standard input.
pam_secret() { _s=$1; shift; run_in "$_s" "$PROBE" "$PAM" "$@"; }
# line KEY: the value of KEY in pamprobe's output.
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }
# audited PATTERN: the last audit line that matches (grep -E).
audited() { grep -E -- "$1" "$AUDIT" | tail -n 1; }
password_grants() { ctl_get /stats | jval 'd.token_grants.password || 0'; }
# logins asked of the IdP (not the connector's own discovery and key refreshes)
all_requests() { ctl_get /stats | jval '(d.endpoints.token || 0) + (d.endpoints.device_authorization || 0)'; }

# A skeleton with a file, a subdirectory, a symlink, a FIFO and a set-uid file.
SKEL=$T_DIR/skel
mkdir -p "$SKEL/.config/app"
printf 'echo hello\n' >"$SKEL/.bashrc"
printf 'x = 1\n' >"$SKEL/.config/app/settings"
ln -s .bashrc "$SKEL/.profile"
mkfifo "$SKEL/fifo"
printf 'no\n' >"$SKEL/suid"
chmod 4755 "$SKEL/suid"
chmod 0755 "$SKEL" "$SKEL/.config" "$SKEL/.config/app"
mkdir -m 0755 "$T_DIR/home"

ok "the test IdP (Keycloak shape) starts" idp_start kc keycloak --device-interval 1
IDP_PORT=$(printf '%s' "$ISS" | sed 's#^https://127.0.0.1:\([0-9]*\)/.*#\1#')
IDP_CPORT=${CTL##*:}
PAMCONF="[idmap]
home_base = $T_DIR/home
[pam]
skel = $SKEL"
idp_config keycloak "connect_timeout = 2s" "timeout = 5s" "$PAMCONF"
ok "idgated starts" daemon_start
is "pam.sock is root's, mode 0600" "$(stat -c '%U %a' "$PAM")" "root 600"

# ---------- names idgate has no say over: UNKNOWN, nothing sent to the IdP ----------
G0=$(password_grants)
N0=$(all_requests)
pam_secret root-password password root
is "root (a local account; also an IdP user with this password): UNKNOWN" "$RC:$(line status)" "6:unknown"
is "... the short reason" "$(line error)" "not an idgate user"
pam_secret x password daemon
is "daemon (a local account): UNKNOWN" "$RC" 6
for n in Alice alice@example.com "al ice" "" "$(printf 'a%.0s' $(seq 1 40))"; do
	pam_secret alice-password password "$n"
	is "'$n' cannot be an IdP login name: UNKNOWN" "$RC" 6
done
pam_secret "$(mint '{"user": "root"}')" token root
is "a token as password for root: UNKNOWN" "$RC" 6
pam device-start root
is "a device login for root: UNKNOWN" "$RC" 6
is "... and the IdP was asked for no login at all" "$(password_grants) $(all_requests)" "$G0 $N0"
like "the audit says why root was left to pam_unix" "$(audited '"action":"pam.auth","target":"login:root"')" \
	'"result":"unknown","reason":"'"'"'root'"'"' is a local account on this host; an IdP user never shadows it: left to the other PAM modules","detail":"service=sshd"'
for op in account open close; do
	pam "$op" root
	is "$op for root: UNKNOWN" "$RC" 6
done
pam account nobody-here
is "account for a name idgate does not know: UNKNOWN" "$RC:$(line error)" "6:not an idgate user"

# ---------- password ----------
# A first login is pinned (and its groups stored) only when PAM account lets it in, asked
# by the process that authenticated (+account): alice gets a role through her group first.
run ctl auth set project default repoReader group:engineering
pam_secret alice-password password alice rhost=192.0.2.7 pid=4242 +account
is "alice's password: OK" "$RC:$(line status)" "0:ok"
is "... and account lets her in (her first login: now pinned)" "$(line 'account status')" "ok"
like "... account's audit says the first login is pinned" \
	"$(audited '"action":"pam.account","target":"user:alice"')" \
	'"result":"ok","reason":"login rule any_role: repoReader on PROJECT default through group:engineering; first login: the name is pinned to this IdP identity now","detail":"service=sshd rhost=192.0.2.7 pid=4242"'
ALICE_UID=$(line uid)
is "... with her passwd fields" "$(line gid) $(line home) $(line shell) $(line gecos)" \
	"$ALICE_UID $T_DIR/home/alice /bin/bash Alice Anderson"
ok "... and a uid in the range" test "$ALICE_UID" -ge 200000
is "... her IdP groups are stored" "$(ctl auth get-groups user:alice | sort | tr '\n' ' ')" \
	"group:engineering group:engineering.data-team "
like "... audited with the service, host and method" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"ok","reason":"password login","detail":"service=sshd rhost=192.0.2.7 pid=4242 method=password idp_ms=[0-9]+\.[0-9]{3}"'
G1=$(password_grants)
pam_secret wrong-password password alice
is "a wrong password: DENIED" "$RC:$(line error)" "1:wrong username or password"
is "... the IdP was asked (and said no)" "$(password_grants)" "$((G1 + 1))"
like "... audited" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"denied","reason":"wrong username or password"'
pam_secret nosuch-password password zed
is "a user the IdP does not know: DENIED the same way" "$RC:$(line error)" "1:wrong username or password"
pam_secret "$(printf 'p%.0s' $(seq 1 4097))" password alice
is "a 4097-byte password: DENIED, not sent" "$RC:$(line error)" "1:password too long"
pam_secret "" password alice
is "an empty password: DENIED, not sent" "$RC:$(line error)" "1:wrong username or password"
G0=$(password_grants)
pam password alice decoy
is "sshd's decoy password (a user it could not resolve): DENIED" "$RC:$(line error)" \
	"1:wrong username or password"
is "... not sent to the IdP" "$(password_grants)" "$G0"
like "... the audit says why" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'sshd could not resolve alice and sent its decoy password'

# ---------- offline credential kept after an online password login ----------
# (a first login keeps none: the name is not pinned before account)
pam_secret alice-password password alice
is "alice's second password login: OK" "$RC:$(line status)" "0:ok"
for _i in $(seq 1 100); do
	[ "$(sql "SELECT count(*) FROM offline_creds WHERE name = 'alice'")" = 1 ] && break
	sleep 0.05
done
V=$(sql "SELECT verifier FROM offline_creds WHERE name = 'alice'")
like "alice's offline credential is kept: scrypt N=2^15 r=8 p=1, a salt, a hash" "$V" \
	'^scrypt\$15\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$'
unlike "... never the password" "$(sqlite3 "$T_DIR/state/state.db" .dump)" 'alice-password'
AGE=$(( $(date +%s) - $(sql "SELECT created FROM offline_creds WHERE name = 'alice'") ))
ok "... with the time of the login ($AGE s ago)" test "$AGE" -ge 0 -a "$AGE" -le 30

# ---------- tokens ----------
run ctl create repo r1
run ctl auth set repo default/r1 repoWriter user:carol
IDT=$(idp_tokens carol carol-password | jval d.id_token)
pam_secret "$IDT" token carol +account
is "carol's ID token as password: OK (and account: her first login)" "$RC:$(line status):$(line 'account status')" "0:ok:ok"
like "... audited as a token login" "$(audited '"action":"pam.auth","target":"user:carol"')" \
	'"result":"ok","reason":"token login","detail":"service=sshd method=token( idp_ms=[0-9.]+)?"'
pam_secret "$IDT" token bob
is "carol's token for login name bob: DENIED" "$RC:$(line error)" \
	"1:login refused: the IdP user maps to login name 'carol', not 'bob'"
pam_secret "$(mint '{"user": "carol", "exp_in": -600}')" token carol
is "an expired token: DENIED" "$RC:$(line status)" "1:denied"
like "... saying so" "$(line error)" "expired"
pam_secret "$(mint '{"user": "carol", "key": "foreign"}')" token carol
is "a token signed by a key not the IdP's: DENIED" "$RC" 1
RT=$(ctl auth get-robot-token ci -q)
like "a robot token is issued" "$RT" '^idgr_'
pam_secret "$RT" token carol
is "a robot token as password: DENIED" "$RC:$(line error)" "1:robot tokens cannot log in"
like "... audited with the reason" "$(audited '"action":"pam.auth","target":"user:carol"')" \
	'"result":"denied","reason":"an idgated robot token was given: robot tokens are not accepted for PAM logins'
unlike "... the token is in no log" "$(cat "$AUDIT" "$T_DIR/daemon.log")" "$RT"

# ---------- device logins ----------
# pam_device NAME [ARGS...]: 'pamprobe device' in the background; sets DEV_CODE, DEV_URI.
pam_device() {
	: >"$T_DIR/pd.out"
	"$PROBE" "$PAM" device "$@" >"$T_DIR/pd.out" 2>"$T_DIR/pd.err" &
	PD=$!
	DEV_CODE=
	for _i in $(seq 1 200); do
		DEV_CODE=$(sed -n 's/^start user_code //p' "$T_DIR/pd.out")
		[ -n "$DEV_CODE" ] && break
		kill -0 "$PD" 2>/dev/null || break
		sleep 0.05
	done
	DEV_URI=$(sed -n 's/^start verify_uri //p' "$T_DIR/pd.out")
}
pam_device_end() { wait "$PD"; RC=$?; OUT=$(cat "$T_DIR/pd.out"); }
approve() {
	node "$IDP_DIR/approve-device.mjs" --verification-uri "$DEV_URI" --ca "$CA" \
		--user-code "$DEV_CODE" --username "$1" --password "$2" ${3:+"$3"} 2>&1
}

pam_device bob
like "bob's device login starts: a user code" "$DEV_CODE" '^[A-Z0-9]{4}-[A-Z0-9]{4}$'
is "... the verification URL" "$DEV_URI" "$BASE/device"
like "... the complete URL with the code" "$(sed -n 's/^start verify_uri_complete //p' "$T_DIR/pd.out")" \
	"^$BASE/device\\?user_code="
is "... the interval and a handle" "$(sed -n 's/^start interval //p' "$T_DIR/pd.out"):$(sed -n 's/^start handle //p' "$T_DIR/pd.out" | grep -c '^[1-9][0-9]*$')" "1:1"
EXP=$(sed -n 's/^start expires //p' "$T_DIR/pd.out")
ok "... the code expires in about 600 s ($EXP)" test "$EXP" -ge 590 -a "$EXP" -le 600
# Two 'pending' answers before the approval (at the 1 s interval that is about 2 s; a loaded
# machine, or ASan, may take longer: wait for them, up to 30 s, rather than a fixed time).
for _i in $(seq 1 300); do
	[ "$(grep -c '^wait status pending' "$T_DIR/pd.out")" -ge 2 ] && break
	kill -0 "$PD" 2>/dev/null || break
	sleep 0.1
done
is "bob approves at the IdP" "$(approve bob 'b0b & co=+%/ pw')" approved
pam_device_end
is "the device login ends OK" "$RC:$(printf '%s\n' "$OUT" | sed -n 's/^wait status //p' | tail -n 1)" "0:ok"
is "... with bob's passwd fields" "$(printf '%s\n' "$OUT" | sed -n 's/^wait home //p')" "$T_DIR/home/bob"
NP=$(printf '%s\n' "$OUT" | grep -c '^wait status pending')
ok "... after answers of 'pending' meanwhile ($NP)" test "$NP" -ge 2
MAXW=$(printf '%s\n' "$OUT" | sed -n 's/^waited \([0-9]*\) ms/\1/p' | sort -n | tail -n 1)
ok "... each wait answered within about the interval (longest: $MAXW ms)" test "$MAXW" -le 3500
like "... audited" "$(audited '"action":"pam.device_wait","target":"user:bob"')" '"result":"ok".*"detail":"service=sshd method=device"'

pam_device alice
is "alice's device login: denied at the IdP" "$(approve alice alice-password --deny)" denied
pam_device_end
is "... the wait ends DENIED" "$RC:$(printf '%s\n' "$OUT" | sed -n 's/^wait error //p' | tail -n 1)" \
	"1:denied at the IdP"

pam_device alice
is "alice's device login approved by carol at the IdP" "$(approve carol carol-password)" approved
pam_device_end
is "... DENIED: the identity is not alice" "$RC:$(printf '%s\n' "$OUT" | sed -n 's/^wait error //p' | tail -n 1)" \
	"1:login refused: the IdP user maps to login name 'carol', not 'alice'"

# bob's device login above was not followed by account: nothing is pinned for it. Root
# records bob's identity (login test --record) for the login rule's tests below.
is "bob's device login pinned nothing without account" "$(sql "SELECT count(*) FROM users WHERE name = 'bob'")" 0
login_pw bob 'b0b & co=+%/ pw'
is "root records bob (login test --record)" "$RC" 0

pam device-start alice
H=$(line handle)
pam device-wait bob "handle=$H"
is "alice's device handle is not bob's to wait on" "$RC:$(line error)" "1:device login expired or unknown: start again"
pam device-cancel alice "handle=$H"
is "alice cancels her device login" "$RC" 0
pam device-wait alice "handle=$H"
is "... a cancelled handle is gone" "$RC" 1

# Abandoned device logins (issue 13, item 5): an unauthenticated SSH client that presses
# Enter and drops the connection starts one; its PAM process is killed without a CANCEL.
# The login lives only while the connection that started it is open, so 70 of them in a row
# leave every slot free, and bob's device login still starts.
for i in $(seq 1 70); do
	"$PROBE" "$PAM" device-start "nobody$((i % 7))" rhost=203.0.113.66 nohold >/dev/null 2>&1
done
pam device-start bob rhost=198.51.100.2
is "after 70 abandoned device logins bob's starts: OK" "$RC:$(line status)" "0:ok"
like "... the abandoned ones were forgotten at once" "$(cat "$T_DIR/daemon.log")" \
	'device login of nobody[0-6] abandoned \(its PAM process went away\)'
BOB_H=$(line handle)
pam device-cancel bob "handle=$BOB_H"
# Held ones are limited per remote host and per name.
for i in $(seq 1 8); do
	pam device-start "user$i" rhost=203.0.113.7
done
pam device-start user9 rhost=203.0.113.7
is "a 9th device login in progress from one host: DENIED" "$RC:$(line error)" \
	"1:too many sign-ins in progress from 203.0.113.7; try again later"
like "... audited" "$(audited '"action":"pam.device_start","target":"login:user9"')" '"result":"denied","reason":"too many sign-ins in progress from 203.0.113.7'
for i in 1 2 3; do
	pam device-start carol "rhost=192.0.2.$i"
done
pam device-start carol rhost=192.0.2.4
is "a 4th device login in progress for one name: DENIED" "$RC:$(line error)" \
	"1:too many sign-ins in progress for carol; finish or cancel one, then try again"
# Their PAM processes gone (the holders killed), the slots are free again.
pkill -f "pamprobe $PAM device-start" 2>/dev/null
sleep 0.5
pam device-start carol rhost=192.0.2.4
is "... once the others' processes are gone, carol's starts: OK" "$RC:$(line status)" "0:ok"
pam device-cancel carol "handle=$(line handle)"

# ---------- the login rule (PAM account) ----------
pam account bob
is "bob (no role; activation's allClusterUsers bindings only): DENIED" "$RC:$(line error)" \
	"1:bob holds no role on this cluster"
like "... the audit has the whole reason" "$(audited '"action":"pam.account","target":"user:bob"')" \
	'"result":"denied","reason":"login rule any_role: no role is bound to user:bob or to its groups \(group:ops\) on the cluster, a project or a repo \(bindings to allClusterUsers do not count\)"'
run ctl auth set project default repoReader group:engineering
pam account alice
is "alice (repoReader on project default through group:engineering): OK" "$RC:$(line status)" "0:ok"
like "... audited with the binding" "$(audited '"action":"pam.account","target":"user:alice"')" \
	'"result":"ok","reason":"login rule any_role: repoReader on PROJECT default through group:engineering"'
run ctl create repo r1
run ctl auth set repo default/r1 repoWriter user:carol
pam account carol
is "carol (repoWriter on a repo, her own binding): OK" "$RC" 0
run ctl auth set cluster projectCreator allClusterUsers
run ctl auth set project default projectOwner allClusterUsers
pam account bob
is "bob, with allClusterUsers holding more: still DENIED" "$RC" 1
daemon_config "[idp]" "profile = keycloak" "issuer = $ISS" "client_id = $CLIENT_ID" \
	"client_secret_file = $SECRET_FILE" "ca_file = $CA" "connect_timeout = 2s" "timeout = 5s" \
	"$PAMCONF" "login_rule = REPO_WRITE on repo default/r1"
kill -HUP "$T_PID"
sleep 0.5
pam account carol
is "login_rule = REPO_WRITE on repo default/r1 (after SIGHUP): carol OK" "$RC" 0
pam account alice
is "... alice (a reader only) DENIED, saying what is needed" "$RC:$(line error)" \
	"1:alice may not log in here: needs REPO_WRITE on REPO default/r1"
pam account bob
is "... bob (allClusterUsers is projectOwner of default: does not count) DENIED" "$RC" 1
sed -i 's|^login_rule = .*|login_rule = REPO_READ on repo nosuch/x|' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam account carol
is "a rule naming a repo that does not exist: DENIED" "$RC:$(line error)" \
	"1:carol may not log in here: the login rule names a repo that does not exist"
sed -i 's|^login_rule = .*|login_rule = NO_SUCH_PERMISSION on cluster|' "$T_DIR/idgate.conf"
run "$IDGATED" -n -c "$T_DIR/idgate.conf"
is "a rule with an unknown permission is a configuration error" "$RC" 1
like "... saying which" "$ERR" "unknown permission 'NO_SUCH_PERMISSION'"
sed -i '/^login_rule = /d' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam account alice
is "back to the default rule: alice OK" "$RC" 0

# ---------- sessions ----------
pam open alice pid=777
is "alice's first session: OK" "$RC:$(line status)" "0:ok"
is "... her home exists: a directory, mode 0700, owned by her and her primary group" \
	"$(stat -c '%F %a %u %g' "$T_DIR/home/alice")" "directory 700 $ALICE_UID $ALICE_UID"
is "... with the skeleton's files, owned by her" \
	"$(cd "$T_DIR/home/alice" && find . -mindepth 1 | sort | while read -r f; do stat -c "%n %F %a %u" "$f"; done)" \
"./.bashrc regular file 644 $ALICE_UID
./.config directory 755 $ALICE_UID
./.config/app directory 755 $ALICE_UID
./.config/app/settings regular file 644 $ALICE_UID
./.profile symbolic link 777 $ALICE_UID
./suid regular file 755 $ALICE_UID"
is "... the contents copied" "$(cat "$T_DIR/home/alice/.bashrc") $(readlink "$T_DIR/home/alice/.profile")" "echo hello .bashrc"
like "... audited: created, the FIFO skipped" "$(audited '"action":"pam.session_open","target":"user:alice"')" \
	'"result":"ok","reason":"session opened; home .*/home/alice created \(first login\); skeleton entries skipped: fifo","detail":"service=sshd pid=777"'
ok "... no temporary left in the home base" test -z "$(ls -A "$T_DIR/home" | grep -v '^alice$')"
echo mine >"$T_DIR/home/alice/.bashrc"
chmod 0750 "$T_DIR/home/alice"
pam open alice
is "her second session: OK" "$RC" 0
is "... her home is left as she made it" "$(cat "$T_DIR/home/alice/.bashrc") $(stat -c %a "$T_DIR/home/alice")" "mine 750"
like "... audited as existing" "$(audited '"action":"pam.session_open","target":"user:alice"')" 'home .*/home/alice exists \(left alone\)'
pam close alice pid=777
is "her session closes: OK" "$RC" 0
like "... audited" "$(audited '"action":"pam.session_close","target":"user:alice"')" '"result":"ok","reason":"session closed","detail":"service=sshd pid=777"'

# A symlink where carol's home would be: left alone, its target untouched.
mkdir -m 0755 "$T_DIR/victim"
ln -s "$T_DIR/victim" "$T_DIR/home/carol"
pam open carol
is "a symlink in the place of carol's home: the session opens" "$RC" 0
is "... the symlink's target is not given to carol" "$(stat -c '%u %a' "$T_DIR/victim")" "0 755"
is "... and nothing was copied into it" "$(ls -A "$T_DIR/victim")" ""
# A home base reached through a symlink, and one others may write to.
mkdir -m 0755 "$T_DIR/real-home"
ln -s "$T_DIR/real-home" "$T_DIR/home-link"
sed -i "s|^home_base = .*|home_base = $T_DIR/home-link|" "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam open bob
is "home_base through a symlink: the session is refused" "$RC:$(line error)" "3:cannot create the home directory"
is "... nothing was made behind the symlink" "$(ls -A "$T_DIR/real-home")" ""
like "... the audit says why" "$(audited '"action":"pam.session_open","target":"user:bob"')" \
	'"result":"error","reason":"session refused: the home directory .*home-link/bob cannot be made: home_base .*home-link has a symbolic link in its path'
chmod 1777 "$T_DIR/real-home"
sed -i "s|^home_base = .*|home_base = $T_DIR/real-home|" "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam open bob
is "home_base writable by others: refused" "$RC" 3
like "... the audit says why" "$(audited '"action":"pam.session_open","target":"user:bob"')" \
	'must be a directory owned by root and writable by nobody else \(owner uid 0, mode 1777\)'
is "... nothing made" "$(ls -A "$T_DIR/real-home")" ""
chmod 0755 "$T_DIR/real-home"
kill -HUP "$T_PID"
sleep 0.5
pam open bob
is "the same base, root's alone now: bob's home is made" "$RC:$(stat -c '%a' "$T_DIR/real-home/bob")" "0:700"
run ctl auth set repo default/r1 repoReader user:mallory
pam_secret mallory-password password mallory +account
is "mallory logs in (a reader of default/r1: account pins her first login)" "$RC" 0
chmod 0777 "$SKEL"
pam open mallory
is "a skeleton others may write to: mallory's home is made" "$RC:$(stat -c '%a' "$T_DIR/real-home/mallory")" "0:700"
is "... empty: nothing is copied from it" "$(ls -A "$T_DIR/real-home/mallory")" ""
like "... the audit says why" "$(audited '"action":"pam.session_open","target":"user:mallory"')" \
	'created \(first login\); no skeleton files: .*/skel is not owned by root or is writable by others"'
chmod 0755 "$SKEL"

# ---------- offline credentials ----------
# A verifier for alice of a password the IdP does not take, made with Python's scrypt: the
# IdP's "no" must never fall back to it.
OLD=$(python3 -c '
import hashlib, os
s = os.urandom(16)
h = hashlib.scrypt(b"old-password", salt=s, n=1 << 15, r=8, p=1, maxmem=64 << 20, dklen=32)
print("scrypt$15$8$1$" + s.hex() + "$" + h.hex())')
ok "idgated stops" daemon_stop
sql "UPDATE offline_creds SET verifier = '$OLD' WHERE name = 'alice'"
ok "idgated restarts with alice's offline credential for old-password" daemon_start
pam_secret old-password password alice
is "with the IdP up, old-password (the IdP says no): DENIED, no offline fallback" "$RC:$(line error)" \
	"1:wrong username or password"
unlike "... the audit names no offline login" "$(audited '"action":"pam.auth","target":"user:alice"')" 'offline'
ok "the test IdP stops" idp_stop
pam_secret old-password password alice
is "with the IdP stopped: old-password matches the offline credential: OK" "$RC:$(line status)" "0:ok"
is "... with her passwd fields" "$(line uid)" "$ALICE_UID"
like "... audited as an offline login, with why" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"ok","reason":"offline login: the offline credential of alice matched \(the IdP is unreachable: IdP unreachable.*\)","detail":"service=sshd method=password( idp_ms=[0-9.]+)? method=offline"'
pam_secret alice-password password alice
is "... a password that does not match it: DENIED" "$RC:$(line error)" "1:wrong username or password"
like "... audited as a wrong offline password" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"result":"denied","reason":"offline login: wrong password'
pam_secret carol-password password carol
is "carol (token logins only: no offline credential): UNAVAIL" "$RC:$(line error)" \
	"4:identity provider unreachable"
like "... audited with why" "$(audited '"action":"pam.auth","target":"user:carol"')" \
	'"result":"unavailable","reason":"the IdP is unreachable \(IdP unreachable.*\) and carol has no offline credential"'
pam_secret "$IDT" token carol
is "a token whose key is cached still validates with the IdP stopped" "$RC" 0
pam device-start bob
is "a device login with the IdP stopped: UNAVAIL" "$RC:$(line error)" "4:identity provider unreachable"
AGE=$(( $(date +%s) - $(sql "SELECT created FROM offline_creds WHERE name = 'alice'") ))
sed -i '/^\[pam\]/a offline_ttl = 3s' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam_secret old-password password alice
is "offline_ttl = 3s, alice's credential is $AGE s old: UNAVAIL" "$RC:$(line error)" "4:identity provider unreachable"
# (the tick may have deleted it already: then it has none at all)
like "... audited: none fresh enough" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'and alice has no offline credential( younger than \[pam\] offline_ttl)?"'
for _i in $(seq 1 80); do
	[ "$(sql "SELECT count(*) FROM offline_creds")" = 0 ] && break
	sleep 0.1
done
is "... expired credentials are deleted from the store" "$(sql "SELECT count(*) FROM offline_creds")" 0
sed -i 's/^offline_ttl = 3s$/offline_ttl = 0/' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam_secret old-password password alice
is "offline_ttl = 0: offline logins are off: UNAVAIL" "$RC:$(line error)" "4:identity provider unreachable"
like "... audited saying so" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'has no offline credential \(\[pam\] offline_ttl = 0\)"'
# The IdP back, its device codes short-lived.
IDP_PORT=$IDP_PORT IDP_CPORT=$IDP_CPORT idp_start kc keycloak --device-interval 1 --device-ttl 4 >/dev/null
sed -i '/^offline_ttl = 0$/d' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
sleep 0.5
pam_secret alice-password password alice
is "the IdP back on the same port: alice's password login works" "$RC" 0
T0=$(now_ms)
pam_device alice
pam_device_end
MS=$(( $(now_ms) - T0 ))
is "a device code nobody approves: the wait ends DENIED" \
	"$RC:$(printf '%s\n' "$OUT" | sed -n 's/^wait error //p' | tail -n 1)" "1:device code expired"
ok "... about when the code expires (4 s; it took $MS ms)" test "$MS" -ge 3000 -a "$MS" -le 8000

# The connector killed: a busy or broken connector is not an unreachable IdP. The login goes
# to a new connector process and is checked online; the offline credential is never tried.
for _i in $(seq 1 100); do
	[ "$(sql "SELECT count(*) FROM offline_creds WHERE name = 'alice'")" = 1 ] && break
	sleep 0.05
done
kill -KILL "$(connector_pid)"
sleep 0.2
pam_secret alice-password password alice
is "the connector killed: alice's login is still checked by the IdP: OK" "$RC:$(line status)" "0:ok"
like "... audited as an online password login" "$(audited '"action":"pam.auth","target":"user:alice"')" \
	'"reason":"password login"'
pam_secret wrong-password password alice
is "... and a wrong password is refused by the IdP, not tried offline" "$RC:$(line error)" \
	"1:wrong username or password"
unlike "... no offline login was audited" "$(grep "\"action\":\"pam.auth\"" "$AUDIT" | tail -n 2)" \
	'offline login'
for _i in $(seq 1 100); do
	[ -n "$(connector_pid)" ] && ping_ok && break
	sleep 0.1
done
sleep 1

# ---------- who may ask ----------
run as_uid 65534 "$PROBE" "$PAM" account alice
is "a non-root caller cannot even open pam.sock (mode 0600)" "$RC" 101
chmod 0666 "$PAM"
run as_uid 65534 "$PROBE" "$PAM" account alice
is "with pam.sock opened up, a non-root caller is still refused: no answer" "$RC:$OUT" "101:lost"
like "... logged" "$(cat "$T_DIR/daemon.log")" 'pam.sock: refused uid 65534'
chmod 0600 "$PAM"
run "$PROBE" "$SOCK" account alice
is "PAM's requests on api.sock (as root): refused" "$RC:$(printf '%s\n' "$OUT" | sed -n 's/^error //p')" \
	"2:this request is served on pam.sock only"

unlike "no password is in the audit log or the daemon log" "$(cat "$AUDIT" "$T_DIR/daemon.log")" \
	'alice-password|old-password|carol-password|b0b & co'
ok "idgated stops cleanly" daemon_stop
done_testing
