#!/bin/sh
# Robot tokens: issued once and stored only as a hash; a token authenticates as robot:NAME and
# holds nothing until granted; --ttl expiry; [auth] robot_token_max_ttl and
# robot_token_default_ttl; auth revoke of one token and of a subject's tokens; garbage tokens;
# who may mint and revoke (CLUSTER_AUTH_GET_ROBOT_TOKEN, CLUSTER_AUTH_REVOKE_USER_TOKENS).
. "$top_srcdir/tests/integ/lib.sh"

BOB=user:bob@example.com
U1=1234	# a local uid with no idgate identity
TOKEN_RE='idgr_[A-Za-z0-9_-]{43}'
INVALID='the token is invalid, expired or revoked'
HAVE_SQLITE=no
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=yes
HAVE_SETPRIV=no
command -v setpriv >/dev/null 2>&1 && HAVE_SETPRIV=yes

# tok ARGS...: idgatectl authenticated with a token: tok TOKEN COMMAND...
tok() { _t=$1; shift; "$IDGATECTL" --socket "$SOCK" --token "$_t" "$@"; }
# in_state STRING: how many of the state directory's files (db, -wal, -shm) hold STRING.
in_state() { grep -F -l -a -- "$1" "$T_DIR"/state/* 2>/dev/null | wc -l; }
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
ntokens() { sqlite3 -readonly "$T_DIR/state/state.db" 'SELECT count(*) FROM tokens'; }
now() { date +%s; }

t_setup
ok "idgated starts (no [auth] limits)" daemon_start
ctl create repo R >/dev/null && printf 'data\n' | ctl put file R:/x
ok "repo R with a file" test $? -eq 0

# ---------- issue: printed once, stored as a hash ----------
run ctl auth get-robot-token ci
is "get-robot-token succeeds" "$RC" 0
like "it prints 'Token: idgr_...' (one line: no expiry without --ttl)" "$OUT" "^Token: $TOKEN_RE\$"
is "... and nothing else" "$(printf '%s\n' "$OUT" | wc -l)" 1
CI=$(printf '%s\n' "$OUT" | sed -n 's/^Token: //p')
run ctl auth get-robot-token ci -q
like "-q prints the bare token" "$OUT" "^$TOKEN_RE\$"
CI2=$OUT
ok "a second token for the same robot is a different token" test "$CI" != "$CI2"
ok "the state database exists" test -f "$T_DIR/state/state.db"
is "the token string is nowhere in the state files" "$(in_state "$CI")" 0
is "... nor the second one" "$(in_state "$CI2")" 0
HASH=$(sha256 "$CI")
ok "its SHA-256 is stored" test "$(in_state "$HASH")" -ge 1
if [ "$HAVE_SQLITE" = yes ]; then
	is "the tokens table holds the hash and the subject, no expiry" \
		"$(sqlite3 -readonly "$T_DIR/state/state.db" "SELECT subject, expires FROM tokens WHERE hash = '$HASH'")" \
		"robot:ci|0"
else
	pass "# SKIP sqlite3 is not installed"
fi
unlike "the audit log does not hold the token" "$(cat "$T_DIR/log/audit.log")" "$CI"
like "... it names it by the first 12 hex digits of its hash" "$(cat "$T_DIR/log/audit.log")" \
	"\"action\":\"auth.get-robot-token\",\"target\":\"robot:ci\",\"result\":\"ok\".*token sha256:$(printf '%.12s' "$HASH")"
unlike "the daemon's log does not hold the token" "$(cat "$T_DIR/daemon.log")" "$CI"

# ---------- the token authenticates as robot:NAME, which holds nothing until granted ----------
run tok "$CI" auth whoami
is "auth whoami with --token" "$RC:$OUT" '0:You are "robot:ci"'
run env IDGATE_TOKEN="$CI" "$IDGATECTL" --socket "$SOCK" auth whoami
is "auth whoami with IDGATE_TOKEN" "$RC:$OUT" '0:You are "robot:ci"'
run env IDGATE_TOKEN= "$IDGATECTL" --socket "$SOCK" auth whoami
is "an empty IDGATE_TOKEN is ignored (root stays root)" "$RC:$OUT" '0:You are "root"'
run tok "$CI" -o json auth whoami
like "json whoami says it came through a token" "$OUT" '"via":[[:space:]]*"token"'
if [ "$HAVE_SETPRIV" = yes ]; then
	run as_uid $U1 "$IDGATECTL" --socket "$SOCK" --token "$CI" auth whoami
	is "the token works from any local uid" "$RC:$OUT" '0:You are "robot:ci"'
else
	pass "# SKIP setpriv is not installed"
fi
run tok "$CI" get file R:/x
is "the robot cannot read R before it is granted a role" "$RC:$ERR" \
	"1:$(denial robot:ci REPO_READ 'REPO default/R')"
ctl auth set repo R repoReader robot:ci
run tok "$CI" get file R:/x
is "granted repoReader, it can" "$RC:$OUT" "0:data"
run tok "$CI2" get file R:/x
is "... with either of its tokens" "$RC:$OUT" "0:data"
run tok "$CI" put file R:/y -f "$T_DIR/idgate.conf"
is "but not write" "$RC:$ERR" "1:$(denial robot:ci REPO_WRITE 'REPO default/R')"

# ---------- who may mint ----------
run as $BOB auth get-robot-token ci
is "a user without robotUser cannot mint a robot token" "$RC:$OUT:$ERR" \
	"1::$(denial $BOB CLUSTER_AUTH_GET_ROBOT_TOKEN 'CLUSTER ')"
ctl auth set project default robotUser $BOB
run as $BOB auth get-robot-token ci
is "robotUser on a project does not count (the permission is on the cluster)" "$RC:$ERR" \
	"1:$(denial $BOB CLUSTER_AUTH_GET_ROBOT_TOKEN 'CLUSTER ')"
ctl auth set project default none $BOB
ctl auth set cluster robotUser $BOB
run as $BOB auth get-robot-token builder -q
like "robotUser on the cluster may mint" "$RC:$OUT" "^0:$TOKEN_RE\$"
BUILDER=$OUT
run tok "$CI" auth get-robot-token other
is "a robot's token does not mint tokens" "$RC:$ERR" \
	"1:$(denial robot:ci CLUSTER_AUTH_GET_ROBOT_TOKEN 'CLUSTER ')"
if [ "$HAVE_SETPRIV" = yes ]; then
	run as_uid $U1 "$IDGATECTL" --socket "$SOCK" auth get-robot-token other
	is "a local uid without an identity cannot mint" "$RC:$ERR" \
		"1:uid $U1 has no idgate identity, so it holds no permissions: log in as an identity-provider user, or pass a robot token (--token or IDGATE_TOKEN)"
else
	pass "# SKIP setpriv is not installed"
fi
if [ "$HAVE_SQLITE" = yes ]; then
	is "only the allowed mints were stored (ci x2, builder)" "$(ntokens)" 3
else
	pass "# SKIP sqlite3 is not installed"
fi

# ---------- --ttl ----------
T0=$(now)
run ctl auth get-robot-token short --ttl 3s
is "--ttl 3s is accepted" "$RC" 0
SHORT=$(printf '%s\n' "$OUT" | sed -n 's/^Token: //p')
run tok "$SHORT" auth whoami
is "the 3 s token works at once" "$RC:$OUT" '0:You are "robot:short"'
like "... and the expiry was printed" "$(ctl auth get-robot-token short2 -t 3s)" \
	"^Expires: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\$"
run ctl -o json auth get-robot-token short2 -t 90s
EXP=$(printf '%s\n' "$OUT" | sed -n 's/.*"expires":[[:space:]]*\([0-9]*\).*/\1/p')
ok "json: -t 90s expires 90 s from now (+-2 s)" test "$((${EXP:-0} - T0))" -ge 89 -a "$((${EXP:-0} - T0))" -le 92
sleep 4
run tok "$SHORT" auth whoami
is "4 s later it is refused as unauthenticated (exit 1), with the exact message" \
	"$RC:$OUT:$ERR" "1::$INVALID"
run tok "$SHORT" list repo
is "... for every command" "$RC:$ERR" "1:$INVALID"
like "the audit log records the refusal" "$(cat "$T_DIR/log/audit.log")" \
	'"result":"denied","reason":"invalid, expired or revoked token"'
for BAD in 0s 0 bogus -5s 10x; do
	run ctl auth get-robot-token ci --ttl "$BAD"
	is "--ttl $BAD is a usage error (exit 2)" "$RC:$OUT" "2:"
	like "... that says what a duration looks like" "$ERR" \
		"^idgatectl: --ttl must be a duration such as 90s, 12h, 30d or 1h30m"
done
run ctl auth get-robot-token ci --ttl 3651d
is "--ttl of more than ten years is refused" "$RC:$ERR" "2:--ttl is longer than ten years"
if [ -x "$top_builddir/tests/integ/wireprobe" ]; then
	run "$top_builddir/tests/integ/wireprobe" -t 5000 "$SOCK" send --shut op:16 str:9:ci u64:12:0
	like "a raw request with a ttl of 0 s is refused by the daemon itself" "$OUT" \
		"^reply status=2 .*error=--ttl must be longer than 0 seconds"
else
	fail "wireprobe is not built"
fi

# ---------- revoke ----------
A1=$(ctl auth get-robot-token ci3 -q) A2=$(ctl auth get-robot-token ci3 -q)
A3=$(ctl auth get-robot-token ci3 -t 1h -q)
run ctl auth revoke --token "$A1"
is "revoking one token" "$RC:$OUT" "0:1 auth token(s) revoked"
run tok "$A1" auth whoami
is "the revoked token is refused" "$RC:$ERR" "1:$INVALID"
run tok "$A2" auth whoami
is "the robot's other tokens still work" "$RC:$OUT" '0:You are "robot:ci3"'
run ctl auth revoke --token "$A1"
is "revoking it again revokes nothing" "$RC:$OUT" "0:0 auth token(s) revoked"
run ctl -o json auth revoke --token garbage
is "a token that was never issued: nothing revoked (json)" "$RC:$(printf '%s' "$OUT" | tr -d ' \t\n')" \
	'0:{"revoked":0}'
run as $BOB auth revoke --user robot:ci3
is "revoking someone else's tokens needs CLUSTER_AUTH_REVOKE_USER_TOKENS" "$RC:$ERR" \
	"1:$(denial $BOB CLUSTER_AUTH_REVOKE_USER_TOKENS 'CLUSTER ')"
run tok "$A2" auth whoami
is "... and the refusal revoked nothing" "$RC" 0
run ctl auth revoke --user robot:ci3
is "revoking every token of robot:ci3 (2 left)" "$RC:$OUT" "0:2 auth token(s) revoked"
run tok "$A2" auth whoami
is "both are refused" "$RC:$ERR" "1:$INVALID"
run tok "$A3" auth whoami
is "... the one with a ttl too" "$RC:$ERR" "1:$INVALID"
run ctl auth revoke --user robot:ci3
is "revoking them again: 0" "$RC:$OUT" "0:0 auth token(s) revoked"
run tok "$CI" auth whoami
is "other robots' tokens are untouched" "$RC:$OUT" '0:You are "robot:ci"'
# A robot revokes its own token (authenticating with IDGATE_TOKEN), and all of its own.
B1=$(ctl auth get-robot-token self -q) B2=$(ctl auth get-robot-token self -q)
B3=$(ctl auth get-robot-token self -q)
run env IDGATE_TOKEN="$B1" "$IDGATECTL" --socket "$SOCK" auth revoke --token "$B1"
is "a robot revokes the token it holds" "$RC:$OUT" "0:1 auth token(s) revoked"
run env IDGATE_TOKEN="$B2" "$IDGATECTL" --socket "$SOCK" auth revoke --user robot:self
is "a robot revokes all of its own tokens" "$RC:$OUT" "0:2 auth token(s) revoked"
run tok "$B3" auth whoami
is "... and they stop working" "$RC:$ERR" "1:$INVALID"
run as $BOB auth revoke --user $BOB
is "a user may revoke their own (zero) tokens" "$RC:$OUT" "0:0 auth token(s) revoked"
run ctl auth revoke
is "revoke with neither --token nor --user is a usage error" "$RC" 2
like "... saying so" "$ERR" "name exactly one of --token TOKEN or --user SUBJECT"
run ctl auth revoke --user usr:x
is "revoke --user with an unknown prefix" "$RC:$ERR" "2:subject has unrecognized prefix: usr:"

# ---------- garbage tokens ----------
for BAD in garbage "idgr_$(head -c 43 /dev/zero | tr '\0' A)" "idgr_short" \
	"$(printf 'idgr_\001')" "$CI " "$(printf '%s' "$CI" | tr 'A-Za-z' 'N-ZA-Mn-za-m')"; do
	run tok "$BAD" auth whoami
	is "a malformed or unknown token ($(printf '%.12s' "$BAD" | tr -d '\001')...) is refused (exit 1)" \
		"$RC:$OUT:$ERR" "1::$INVALID"
done
LONG=$(head -c 5000 /dev/zero | tr '\0' A)
run tok "$LONG" auth whoami
is "a 5000-byte token is an input error (exit 2) that says why" "$RC:$OUT:$ERR" \
	"2::token is 5000 bytes long: at most 128 are allowed"

# ---------- tokens survive a restart; revoked ones stay revoked ----------
ok "idgated stops" daemon_stop
ok "idgated starts again" daemon_start
run tok "$CI" auth whoami
is "a token still works after a restart" "$RC:$OUT" '0:You are "robot:ci"'
run tok "$BUILDER" auth whoami
is "... the one bob minted too" "$RC:$OUT" '0:You are "robot:builder"'
run tok "$A2" auth whoami
is "a revoked token stays revoked" "$RC:$ERR" "1:$INVALID"
run tok "$SHORT" auth whoami
is "an expired token stays expired" "$RC:$ERR" "1:$INVALID"
ok "idgated stops" daemon_stop

# ---------- [auth] robot_token_max_ttl ----------
daemon_config "[auth]" "robot_token_max_ttl = 1h"
ok "idgated starts with robot_token_max_ttl = 1h" daemon_start
[ "$HAVE_SQLITE" = yes ] && N0=$(ntokens)
MAXMSG="robot tokens may last at most 1h on this node (robot_token_max_ttl): pass --ttl 1h or shorter"
run ctl auth get-robot-token capped --ttl 2h
is "--ttl 2h is refused, not silently capped (exit 2, says the limit)" "$RC:$OUT:$ERR" "2::$MAXMSG"
run ctl auth get-robot-token capped --ttl 1h1s
is "--ttl 1h1s is refused too" "$RC:$ERR" "2:$MAXMSG"
run ctl auth get-robot-token capped
is "no --ttl (robot_token_default_ttl 0: no expiry) is refused as well" "$RC:$ERR" "2:$MAXMSG"
if [ "$HAVE_SQLITE" = yes ]; then
	is "the refusals stored no token" "$(ntokens)" "$N0"
else
	pass "# SKIP sqlite3 is not installed"
fi
T0=$(now)
run ctl -o json auth get-robot-token capped --ttl 1h
is "--ttl 1h (the limit) is accepted" "$RC" 0
EXP=$(printf '%s\n' "$OUT" | sed -n 's/.*"expires":[[:space:]]*\([0-9]*\).*/\1/p')
ok "... and expires in 1 h (+-2 s)" test "$((${EXP:-0} - T0))" -ge 3599 -a "$((${EXP:-0} - T0))" -le 3602
run ctl auth get-robot-token capped --ttl 30m -q
like "--ttl 30m is accepted" "$RC:$OUT" "^0:$TOKEN_RE\$"
ok "idgated stops" daemon_stop

daemon_config "[auth]" "robot_token_max_ttl = 1h" "robot_token_default_ttl = 30m"
ok "idgated starts with robot_token_default_ttl = 30m" daemon_start
T0=$(now)
run ctl -o json auth get-robot-token dflt
is "no --ttl: robot_token_default_ttl applies" "$RC" 0
EXP=$(printf '%s\n' "$OUT" | sed -n 's/.*"expires":[[:space:]]*\([0-9]*\).*/\1/p')
ok "... the token expires in 30 min (+-2 s)" test "$((${EXP:-0} - T0))" -ge 1799 -a "$((${EXP:-0} - T0))" -le 1802
run ctl auth get-robot-token dflt
like "... and the text output prints when" "$OUT" "^Expires: "
run ctl auth get-robot-token dflt --ttl 2h
is "--ttl 2h is still refused" "$RC:$ERR" "2:$MAXMSG"
ok "idgated stops cleanly on SIGTERM" daemon_stop
unlike "no token string in the daemon's log" "$(cat "$T_DIR/daemon.log")" "$CI|$CI2|$BUILDER"
done_testing
