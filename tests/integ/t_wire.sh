#!/bin/sh
# The wire protocol under bad input and hostile clients: every malformed, oversized or truncated
# frame gets an error reply (status 2) and a closed connection, and changes nothing; slow,
# idle, flooding and never-reading clients do not stall anyone else and are cut off.
. "$top_srcdir/tests/integ/lib.sh"
command -v setpriv >/dev/null || { echo "1..0 # SKIP setpriv (util-linux) is not installed"; exit 0; }

WP=$top_builddir/tests/integ/wireprobe
U1=1234	# a local uid with no idgate identity
U2=1235

now_ms() { date +%s%3N; }
# probe ARGS...: wireprobe against api.sock (replies waited for 2 s), into OUT/ERR/RC.
probe() { run "$WP" -t 2000 "$SOCK" "$@"; }
# wait_for FILE PATTERN [TENTHS]: until FILE has a line matching PATTERN (at most TENTHS/10 s).
wait_for() {
	for _w in $(seq 1 "${3:-100}"); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# The state as the API shows it: bindings, repos, groups.
snapshot() {
	ctl -o json auth get cluster
	ctl -o json auth get project default
	ctl -o json auth get repo R
	ctl -o json list repo
	ctl group list
}
# max_ping_ms N: the slowest of N idgatectl pings, in ms (a failed ping counts as 99999).
max_ping_ms() {
	_max=0
	for _i in $(seq 1 "$1"); do
		_s=$(now_ms)
		if ctl ping >/dev/null 2>&1; then _d=$(($(now_ms) - _s)); else _d=99999; fi
		[ "$_d" -gt "$_max" ] && _max=$_d
	done
	echo "$_max"
}
# refused DESC ERROR-PATTERN PROBE-ARGS...: status 2 with that error, then the daemon hangs up.
refused() {
	_desc=$1 _pat=$2; shift 2
	probe send "$@"
	like "$_desc: error reply (status 2)" "$OUT" "^reply status=2 .*error=.*$_pat"
	like "$_desc: the connection is closed" "$OUT" "^after: closed$"
}

t_setup "[daemon]" "request_timeout = 2s" "max_connections_per_uid = 4"
# Other uids must reach api.sock; the run dir's own mode is t_daemon.sh's business.
mkdir -p "$T_DIR/run" && chmod 0755 "$T_DIR/run"
ok "idgated starts" daemon_start
ctl create repo R >/dev/null && ctl auth set repo R repoReader user:alice@example.com &&
	ctl group create team bob@example.com >/dev/null
BEFORE=$(snapshot)
like "the state to compare is there" "$BEFORE" "user:alice@example.com"

# ---------- well-formed requests, for contrast ----------
probe send op:1
like "a well-formed ping is answered" "$OUT" '^reply status=0 .*"api":1'
probe send op:10 str:4:repo str:5:R str:7:noSuchRole str:6:user:x@example.com
like "a well-formed request with a bad argument gets status 2" "$OUT" \
	'^reply status=2 .*error=unknown role "noSuchRole"'
like "... and the connection stays open for the next request" "$OUT" "^after: open$"

# ---------- malformed frames ----------
refused "a field whose length runs past the body" "malformed request" op:11 over:4:100:cluster
refused "a field header cut short by the end of the body" "malformed request" op:1 junk:0004
refused "a field length of 4 GiB" "malformed request" op:1 over:5:4294967295:x
refused "a body without the op field" "malformed request" str:4:cluster
refused "an op field of 2 bytes instead of 4" "malformed request" hex:1:0001
refused "an empty body" "malformed request"
refused "a string field without its NUL" "malformed" op:11 raw:4:cluster
refused "an --as subject without its NUL" "malformed" op:1 raw:3:user:x@example.com
refused "an unknown op" "unknown request" op:999
refused "a retired op (71)" "unknown request" op:71
refused "op 2^32-1" "unknown request" op:4294967295

# ---------- sizes ----------
refused "a header announcing 64 KiB + 1" "request too large" --len 65537 op:1
refused "a header announcing 4 GiB - 1" "request too large" --len 4294967295 op:1
# A body of exactly IDG_WIRE_REQUEST_MAX: op (10 bytes) + a padding field (6 + 65520): a
# description (tag 18, a string), since unknown tags are refused.
PAD=$(head -c 65519 /dev/zero | tr '\0' a)
probe send op:1 "str:18:$PAD"
like "a body of exactly 64 KiB is accepted" "$OUT" '^reply status=0 '
refused "a body of 64 KiB + 1 actually sent" "request too large" op:1 "raw:18:${PAD}aa"

# ---------- truncated frames ----------
probe send --cut 8 --close op:10 str:4:repo str:5:R str:7:repoWriter str:6:user:cut@example.com
like "a truncated frame followed by close is sent" "$OUT" "^sent 8 bytes"
probe send --cut 20 --shut op:10 str:4:repo str:5:R str:7:repoWriter str:6:user:cut@example.com
is "a truncated frame and a half-close: the daemon hangs up, nothing half-done" \
	"$(printf '%s\n' "$OUT" | tail -n 1)" "noreply: closed"
T0=$(now_ms)
run "$WP" -t 8000 "$SOCK" send --cut 3 op:1
T1=$(now_ms)
is "a truncated frame left hanging gets no reply and is closed" \
	"$(printf '%s\n' "$OUT" | tail -n 1)" "noreply: closed"
ok "... after request_timeout (2 s), not before 1.5 s nor after 4.5 s ($((T1 - T0)) ms)" \
	test $((T1 - T0)) -ge 1500 -a $((T1 - T0)) -le 4500

# ---------- the daemon survived and nothing changed ----------
ok "idgated is still running" kill -0 "$T_PID"
run ctl ping
is "idgatectl ping works after the bad frames" "$RC" 0
run ctl auth get cluster
like "auth get cluster works after the bad frames" "$OUT" "^root: \[clusterAdmin\]"
is "the state is unchanged (bindings, repos, groups)" "$(snapshot)" "$BEFORE"
LOG=$(cat "$T_DIR/daemon.log")
like "the daemon logs the oversized request with the caller" "$LOG" \
	"uid 0 pid [0-9]+: request of 65537 bytes is over the 65536-byte limit"
like "... and the unknown op" "$LOG" "unknown request 999; closing the connection"

# ---------- passed file descriptors ----------
# Only a put carries an fd, with its frame's first byte; anything else is a malformed request.
refused "an fd passed with a ping (not a put)" "malformed" --fd "$T_DIR/idgate.conf" op:1
refused "an fd passed with auth set (not a put)" "malformed" \
	--fd "$T_DIR/idgate.conf" op:10 str:4:repo str:5:R str:7:repoWriter str:6:user:fd@example.com
run ctl auth get repo R
unlike "... and that auth set was not applied" "$OUT" "user:fd@example.com"
refused "two fds with one frame" "malformed request" --fd2 "$T_DIR/idgate.conf" op:70 str:9:R str:15:/x
refused "an fd that arrives after the frame's first byte" "malformed request" \
	--fd-late --fd "$T_DIR/idgate.conf" op:70 str:9:R str:15:/x
ok "idgated is still running after the fds" kill -0 "$T_PID"
# The checks above report their own damage; the hostile-client part starts from here.
BEFORE=$(snapshot)

# ---------- slow and hostile clients do not stall the others ----------
"$WP" "$SOCK" trickle 12 op:1 >"$T_DIR/trickle.out" 2>&1 &
TRICKLE=$!
"$WP" "$SOCK" hold 30 6 idle >"$T_DIR/idle.out" 2>&1 &
IDLE=$!
as_uid $U1 "$WP" "$SOCK" hold 6 6 ping >"$T_DIR/u1.out" 2>&1 &
HOLD_U1=$!
ok "30 idle root connections are open" wait_for "$T_DIR/idle.out" "^held 30 ok 30 "
ok "uid $U1 holds its connections" wait_for "$T_DIR/u1.out" "^held 6 "
MAX=$(max_ping_ms 5)
ok "with a trickler, 30 idle and 4 held connections, 5 pings each take < 1 s (max $MAX ms)" \
	test "$MAX" -lt 1000
U1_OUT=$(cat "$T_DIR/u1.out")
like "the per-uid cap (4) lets uid $U1 have 4 connections and refuses 2" "$U1_OUT" \
	"^held 6 ok 4 refused 2 failed 0"
like "... with a reply saying why" "$U1_OUT" "^refusal: status=3 error=too many connections from this user"
run as_uid $U2 "$WP" "$SOCK" hold 3 0 ping
like "another uid still connects while uid $U1 is at its cap" "$OUT" "^held 3 ok 3 refused 0"
run ctl ping
is "root still connects" "$RC" 0
ok "the trickling client finished" wait_for "$T_DIR/trickle.out" "." 150
wait "$TRICKLE"
TR=$(cat "$T_DIR/trickle.out")
like "the client trickling 1 byte/s is disconnected before its request completes" "$TR" \
	"^closed after [0-9]+ bytes"
TR_MS=$(printf '%s\n' "$TR" | sed -n 's/^closed after [0-9]* bytes, \([0-9]*\) ms.*/\1/p')
ok "... after request_timeout: 1.5-4.5 s (${TR_MS:-?} ms)" \
	test "${TR_MS:-0}" -ge 1500 -a "${TR_MS:-99999}" -le 4500
like "the daemon logs why" "$(cat "$T_DIR/daemon.log")" \
	"sent an incomplete request for too long; closing the connection"
wait "$IDLE" "$HOLD_U1"
like "idle connections inside idle_timeout are left alone" "$(cat "$T_DIR/idle.out")" \
	"^end: 0 of 30 closed"

# A client that pipelines requests and never reads a reply. First one that keeps sending,
# then one that sends 20,000 pings (about 1 MB of replies, more than the socket holds) and
# waits: both are cut off after request_timeout, and others are served meanwhile.
"$WP" "$SOCK" pipeline 9 >"$T_DIR/pipe1.out" 2>&1 &
P1=$!
"$WP" "$SOCK" pipeline 9 20000 >"$T_DIR/pipe2.out" 2>&1 &
P2=$!
sleep 0.5
MAX=$(max_ping_ms 5)
ok "while two clients pipeline without reading, pings take < 1 s (max $MAX ms)" test "$MAX" -lt 1000
wait "$P1" "$P2"
like "a client that keeps sending and never reads is disconnected within 6 s" \
	"$(cat "$T_DIR/pipe1.out")" "^closed after [0-5][0-9]{3} ms|^closed after [0-9]{1,3} ms"
like "a client that sent 20,000 requests and never reads is disconnected within 6 s" \
	"$(cat "$T_DIR/pipe2.out")" "^closed after [0-5][0-9]{3} ms|^closed after [0-9]{1,3} ms"
diag "pipelining clients: $(cat "$T_DIR/pipe1.out") / $(cat "$T_DIR/pipe2.out")"

# 10 MB of garbage: refused at the first header, long before the 10 MB are taken.
for PAT in ff 00 rand; do
	run "$WP" -t 5000 "$SOCK" flood 10000000 $PAT
	like "10 MB of $PAT garbage is refused within 2 s" "$OUT" "^stopped after 1?[0-9]{1,3} ms"
	like "... having taken at most 1 MB of it" "$OUT" "sent [0-9]{1,6} of 10000000 bytes"
	like "... with an error reply" "$OUT" "^reply status=2 .*error=(request too large|malformed request)"
done

ok "idgated is still running after the hostile clients" kill -0 "$T_PID"
is "... and the state is unchanged" "$(snapshot)" "$BEFORE"
ok "idgated stops cleanly on SIGTERM" daemon_stop
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log" 2>/dev/null)" \
	"Sanitizer|runtime error:"
done_testing
