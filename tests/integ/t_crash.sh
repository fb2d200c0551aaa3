#!/bin/sh
# Crash safety of the store: idgated killed with SIGKILL mid-way through 1,000 binding changes
# (at three points), through repo creations (repo + owner binding) and through group renames
# (a hundred mutations each) restarts with every acknowledged change present and no change
# half-applied. The probe records each change the moment its OK arrives and sends the kill
# with the next change in flight.
. "$top_srcdir/tests/integ/lib.sh"
# The sqlite3 command-line tool reads and edits the store behind idgated's back.
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command-line tool is not installed"; exit 0; }

WP=$top_builddir/tests/integ/wireprobe
DB=

# A number in [0, $1) from the kernel: the kill points differ from run to run.
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 )); }
sql() { sqlite3 "$DB" "$1"; }
# killed_loop AFTER ACKFILE FROM TO FIELD...: the probe loop, killing idgated after AFTER acks.
killed_loop() {
	_after=$1; shift
	run "$WP" -t 10000 "$SOCK" loop --kill "$T_PID" "$_after" "$@"
	daemon_kill	# reap it
}

t_setup
# synchronous = full, the default, written out: an acknowledged change is on disk.
sed -i 's/^synchronous = normal$/synchronous = full/' "$T_DIR/idgate.conf"
DB=$T_DIR/state/state.db
run grep -c '^synchronous = full$' "$T_DIR/idgate.conf"
is "the store runs with synchronous = full" "$OUT" 1
ok "idgated starts" daemon_start
run ctl create repo R
is "repo R is created" "$RC" 0

# ---------- 1,000 binding changes, killed at three points ----------
for ROUND in 1 2 3; do
	case $ROUND in 1) BASE=100 ;; 2) BASE=450 ;; 3) BASE=800 ;; esac
	AFTER=$((BASE + $(rnd 100)))
	ACK=$T_DIR/ack.$ROUND
	killed_loop "$AFTER" "$ACK" 1 1000 op:10 str:4:repo str:5:R str:7:repoReader \
		"str:6:user:r$ROUND-u{N}@example.com"
	like "round $ROUND: idgated was killed with change $((AFTER + 1)) of 1000 in flight" "$OUT" \
		"^killed [0-9]+ with request $((AFTER + 1)) in flight"
	like "... and the probe saw the connection go" "$OUT" "^lost at [0-9]+"
	A=$(wc -l <"$ACK")
	ok "... after $A acknowledged changes (at least $AFTER)" test "$A" -ge "$AFTER" -a "$A" -le "$((AFTER + 1))"
	ok "round $ROUND: idgated restarts on the killed store" daemon_start
	ctl auth get repo R | grep "^user:r$ROUND-u" | sort >"$T_DIR/got.$ROUND"
	sed "s/.*/user:r$ROUND-u&@example.com: [repoReader]/" "$ACK" | sort >"$T_DIR/want.$ROUND"
	MISSING=$(comm -23 "$T_DIR/want.$ROUND" "$T_DIR/got.$ROUND")
	is "round $ROUND: every acknowledged change is present" "$MISSING" ""
	N=$(wc -l <"$T_DIR/got.$ROUND")
	ok "... plus at most the one in flight ($N present, $A acknowledged)" \
		test "$N" -ge "$A" -a "$N" -le "$((A + 1))"
	is "... exactly users 1..$N, each with exactly [repoReader]" \
		"$(cat "$T_DIR/got.$ROUND")" \
		"$(seq 1 "$N" | sed "s/.*/user:r$ROUND-u&@example.com: [repoReader]/" | sort)"
done
for ROUND in 1 2 3; do
	is "round $ROUND's changes are all still there at the end" \
		"$(ctl auth get repo R | grep -c "^user:r$ROUND-u")" "$(wc -l <"$T_DIR/got.$ROUND")"
done

# ---------- repo creation: a repo and its owner binding, all or nothing ----------
AFTER=$((120 + $(rnd 100)))
killed_loop "$AFTER" "$T_DIR/ack.repo" 1 400 op:43 'str:9:c{N}'
like "repo creations: killed with creation $((AFTER + 1)) in flight" "$OUT" \
	"^killed [0-9]+ with request $((AFTER + 1)) in flight"
A=$(wc -l <"$T_DIR/ack.repo")
ok "idgated restarts" daemon_start
N=$(ctl list repo | grep -c "^default  *c[0-9]")
ok "every acknowledged repo exists, plus at most the one in flight ($N present, $A acknowledged)" \
	test "$N" -ge "$A" -a "$N" -le "$((A + 1))"
run ctl auth get repo "c$N"
is "the last repo created has its owner binding" "$OUT" "root: [repoOwner]"
ok "idgated stops" daemon_stop
is "the store has repos c1..c$N and nothing else" \
	"$(sql "SELECT count(*), min(created > 0) FROM repos WHERE name GLOB 'default/c[0-9]*'")" "$N|1"
is "every repo has its owner binding" \
	"$(sql "SELECT count(*) FROM repos r WHERE name GLOB 'default/c[0-9]*' AND NOT EXISTS
	    (SELECT 1 FROM bindings b WHERE b.rtype = 2 AND b.resource = r.name AND
	    b.subject = 'root' AND b.roles = 'repoOwner')")" 0
is "no binding names a repo that does not exist" \
	"$(sql "SELECT count(*) FROM bindings b WHERE rtype = 2 AND NOT EXISTS
	    (SELECT 1 FROM repos r WHERE r.name = b.resource)")" 0
is "the store passes SQLite's integrity check" "$(sql 'PRAGMA integrity_check')" ok

# ---------- a crash between a repo's directory and its commit ----------
# Another process holds the store's write lock, so idgated's create waits inside the change
# (its directory made, its transaction not yet begun) and is killed there.
ok "idgated restarts" daemon_start
mkfifo "$T_DIR/lock.fifo"
sqlite3 "$DB" <"$T_DIR/lock.fifo" >/dev/null 2>&1 &
LOCKER=$!
exec 7>"$T_DIR/lock.fifo"
echo "BEGIN IMMEDIATE;" >&7
sleep 0.3
killed_loop 0 --delay 500000 "$T_DIR/ack.cut" 1 1 op:43 str:9:cut
like "create repo 'cut' was in flight when idgated was killed" "$OUT" "^killed [0-9]+ with request 1 "
echo "ROLLBACK;" >&7
exec 7>&-
wait "$LOCKER"
ok "idgated restarts" daemon_start
run ctl list repo
unlike "repo 'cut' does not exist: it was never committed" "$OUT" "^default +cut "
run ctl create repo cut
is "... and creating it again works (no half of it is left behind)" "$RC:$ERR" "0:"

# ---------- group renames: a hundred mutations each, all or nothing ----------
# group:g0 with 40 members and a repoReader binding on 40 repos; then g0 -> g1 -> g2 ...
M=40
MEMBERS=$(seq -f 'm%g@example.com' 1 $M | paste -sd, -)
run ctl group create g0 "$MEMBERS"
is "group g0 is created with $M members" "$RC" 0
run "$WP" "$SOCK" loop "$T_DIR/ack.bind" 1 $M op:10 str:4:repo 'str:5:c{N}' str:7:repoReader str:6:group:g0
is "g0 is bound on $M repos" "$OUT" "done 1..$M"
AFTER=$((40 + $(rnd 60)))
killed_loop "$AFTER" "$T_DIR/ack.rename" 0 400 op:66 'str:9:g{N}' 'str:10:g{N1}'
like "renames: killed with rename $((AFTER + 1)) in flight" "$OUT" "^killed [0-9]+ with request $AFTER "
A=$(wc -l <"$T_DIR/ack.rename")
ok "idgated restarts" daemon_start
GRPS=$(ctl group list | grep '^group:g[0-9]')
is "exactly one group g* exists" "$(printf '%s\n' "$GRPS" | grep -c .)" 1
G=$(printf '%s\n' "$GRPS" | sed -n 's/^group:\(g[0-9]*\) .*/\1/p')
ok "... it is g$A (all acknowledged renames) or g$((A + 1)) (the one in flight): $G" \
	test "$G" = "g$A" -o "$G" = "g$((A + 1))"
like "... with its $M members" "$GRPS" "^group:$G +local +[0-9]+ +$M$"
run ctl auth get repo c7
is "... and it holds the bindings (c7)" "$OUT" "root: [repoOwner]
group:$G: [repoReader]"
ok "idgated stops" daemon_stop
is "the store: one group, $M members, all of it" \
	"$(sql "SELECT count(DISTINCT g.name), count(m.member), min(m.grp = g.name) FROM groups g JOIN members m ON m.grp = g.name WHERE g.name GLOB 'g[0-9]*'")" \
	"1|$M|1"
is "the store: $M bindings of group:$G, none of any other g*" \
	"$(sql "SELECT count(*), sum(subject = 'group:$G') FROM bindings WHERE subject GLOB 'group:g[0-9]*'")" \
	"$M|$M"
is "no member rows of a group that is gone" \
	"$(sql 'SELECT count(*) FROM members WHERE grp NOT IN (SELECT name FROM groups)')" 0
is "the store passes SQLite's integrity check" "$(sql 'PRAGMA integrity_check')" ok
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log" 2>/dev/null)" \
	"Sanitizer|runtime error:"
done_testing
