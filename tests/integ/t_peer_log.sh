#!/bin/sh
# What a local user can make idgated log (issue 13): a uid looping on connections past its
# cap, on malformed requests or on refused requests gets a few lines carrying counts, not one
# line per attempt (the audit log keeps a record of each refusal).
. "$top_srcdir/tests/integ/lib.sh"
command -v setpriv >/dev/null || { echo "1..0 # SKIP setpriv (util-linux) is not installed"; exit 0; }

WP=$top_builddir/tests/integ/wireprobe
U1=1237	# a local uid with no idgate identity
LOGF=

# lines PATTERN: how many lines of the daemon log match PATTERN.
lines() { grep -Ec -- "$1" "$LOGF"; }
# said PATTERN: the attempts the log accounts for: one per line matching PATTERN, plus the
# N of each "(and N more like it ...)" among them.
said() {
	grep -E -- "$1" "$LOGF" | awk '
		{ n++ }
		match($0, /\(and [0-9]+ more like it in the last [0-9]+ s\)$/) {
			split(substr($0, RSTART, RLENGTH), w, " "); n += w[2] - 1
		}
		END { print n + 0 }'
}
# wait_said PATTERN N: until the log accounts for N attempts (at most 15 s).
wait_said() {
	for _w in $(seq 1 150); do
		[ "$(said "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

t_setup "[daemon]" "max_connections_per_uid = 4"
mkdir -p "$T_DIR/run" && chmod 0755 "$T_DIR/run"
LOGF=$T_DIR/daemon.log
ok "idgated starts" daemon_start

# ---------- connections past the per-uid cap, for 2 s ----------
CAP="per-uid connection limit \(4\) reached for uid $U1"
run as_uid $U1 "$WP" -t 2000 "$SOCK" connflood 4 2 200000
diag "$OUT"
REFUSED=$(printf '%s\n' "$OUT" | sed -n 's/^held 4 tries [0-9]* refused \([0-9]*\) .*/\1/p')
ok "uid $U1 holds 4 connections and is refused many times in 2 s (${REFUSED:-none})" \
	test "${REFUSED:-0}" -ge 200
ok "the log accounts for every refusal, with counts (within the 5 s window and a tick)" \
	wait_said "$CAP" "${REFUSED:-1}"
N=$(lines "$CAP")
ok "... in at most 3 lines, not one per refusal ($N lines for ${REFUSED:-?} refusals)" \
	test "$N" -ge 1 -a "$N" -le 3
like "... a summary line carries the count" "$(grep -E -- "$CAP" "$LOGF" | tail -n 1)" \
	"\(and [0-9]+ more like it in the last [0-9]+ s\)$"
is "... and no attempt is counted twice" "$(said "$CAP")" "${REFUSED:-?}"

# ---------- malformed requests, one connection each ----------
BAD="uid $U1 pid [0-9]+: malformed request; closing the connection"
for _i in $(seq 1 40); do
	as_uid $U1 "$WP" -t 2000 "$SOCK" send str:4:cluster >/dev/null 2>&1
done
ok "40 malformed requests are all accounted for" wait_said "$BAD" 40
N=$(lines "$BAD")
ok "... in at most 3 lines ($N)" test "$N" -ge 1 -a "$N" -le 3

# ---------- refused requests, as fast as the daemon answers, for 2 s ----------
ctl create repo R >/dev/null
DENY="uid:$U1 auth.set REPO default/R: denied"
run as_uid $U1 "$WP" -t 2000 "$SOCK" repeat 2 200000 op:10 str:4:repo str:5:R str:7:repoWriter \
	str:6:user:x@example.com
diag "$OUT"
NDENIED=$(printf '%s\n' "$OUT" | sed -n 's/^sent [0-9]* ok 0 denied \([0-9]*\) .*/\1/p')
ok "uid $U1 has many requests refused in 2 s (${NDENIED:-none})" test "${NDENIED:-0}" -ge 200
ok "the log accounts for every refusal" wait_said "$DENY" "${NDENIED:-1}"
N=$(lines "$DENY")
ok "... in at most 3 lines ($N lines for ${NDENIED:-?} refusals)" test "$N" -ge 1 -a "$N" -le 3
is "... none counted twice" "$(said "$DENY")" "${NDENIED:-?}"
is "the audit log still has a record for each" \
	"$(grep -c "\"caller\":\"uid:$U1\",.*\"action\":\"auth.set\".*\"result\":\"denied\"" \
	"$T_DIR/log/audit.log")" "${NDENIED:-?}"

# ---------- the daemon is well, and another uid's lines are its own ----------
run ctl ping
is "root still connects" "$RC" 0
ok "idgated is still running" kill -0 "$T_PID"
ok "the log has no line per attempt: under 40 lines in all ($(wc -l <"$LOGF"))" \
	test "$(wc -l <"$LOGF")" -lt 40
unlike "no sanitizer report in the daemon's log" "$(cat "$LOGF")" "Sanitizer|runtime error:"
done_testing
