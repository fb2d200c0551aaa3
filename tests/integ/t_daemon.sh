#!/bin/sh
# idgated as a process: its sockets (modes, owners, who may use which), the pid lock, daemon
# mode (readiness, pid file, start-up errors on the launching terminal), SIGHUP reloads (a
# broken file keeps the running configuration), SIGTERM stops cleanly and leaves the store
# consistent.
. "$top_srcdir/tests/integ/lib.sh"
command -v setpriv >/dev/null || { echo "1..0 # SKIP setpriv (util-linux) is not installed"; exit 0; }
# The sqlite3 command-line tool reads and edits the store behind idgated's back.
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command-line tool is not installed"; exit 0; }

WP=$top_builddir/tests/integ/wireprobe
U1=1234	# a local uid with no idgate identity
BG_PID=	# a daemon-mode idgated, stopped at exit

# wait_for FILE PATTERN [TENTHS]: until FILE has a line matching PATTERN.
wait_for() {
	for _w in $(seq 1 "${3:-100}"); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# gone PID [TENTHS]: until the process has exited.
gone() {
	for _w in $(seq 1 "${2:-100}"); do
		kill -0 "$1" 2>/dev/null || return 0
		# Our own child stays a zombie until waited for: that counts as gone.
		[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.1
	done
	return 1
}
# settle: let the daemon notice that earlier clients hung up (connection limits count them).
settle() { sleep 0.3; }
sock_info() { stat -c '%F %a %U:%G' "$1" 2>&1; }
bg_cleanup() {
	if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -TERM "$BG_PID"
		gone "$BG_PID" 50 || kill -KILL "$BG_PID"
	fi
	t_cleanup
}
trap bg_cleanup EXIT

t_setup
RUN=$T_DIR/run
PAM=$RUN/pam.sock
ok "idgated starts (foreground)" daemon_start

# ---------- the run directory and the sockets ----------
# api.sock is for every uid: the run dir idgated makes must let them reach it.
is "the run dir idgated created is 0755, so other uids can reach api.sock" \
	"$(stat -c %a "$RUN")" 755
chmod 0755 "$RUN"	# so that what follows tests the sockets themselves
is "api.sock is a socket, mode 0666, owned by root" "$(sock_info "$SOCK")" "socket 666 root:root"
is "pam.sock is a socket, mode 0600, owned by root" "$(sock_info "$PAM")" "socket 600 root:root"
is "the pid file holds idgated's pid" "$(cat "$RUN/idgated.pid")" "$T_PID"

run "$WP" -t 1000 "$PAM" send op:1
like "root pings over pam.sock" "$OUT" '^reply status=0 .*"api":1'
run "$WP" -t 1000 "$PAM" send op:2
like "a request pam.sock does not serve (whoami) is refused" "$OUT" \
	"^reply status=2 .*error=this request is not served on pam.sock"
run "$WP" -t 1000 "$PAM" send op:10 str:4:cluster str:7:clusterAdmin str:6:user:evil@example.com
like "a binding change over pam.sock is refused" "$OUT" "^reply status=2 .*not served on pam.sock"
run ctl auth get cluster
unlike "... and not applied" "$OUT" "user:evil@example.com"
run "$WP" -t 1000 "$PAM" send op:999
like "an unknown request on pam.sock gets an error" "$OUT" "^reply status=2 .*unknown request"
like "... and the connection is closed" "$OUT" "^after: closed$"
run as_uid $U1 "$WP" -t 1000 "$PAM" send op:1
like "uid $U1 cannot connect to pam.sock (mode 0600)" "$OUT" "^connect: Permission denied"
# Past the mode (CAP_DAC_OVERRIDE), SO_PEERCRED still says uid 1234: the daemon hangs up.
run setpriv --reuid=$U1 --regid=$U1 --clear-groups --inh-caps=+dac_override \
	--ambient-caps=+dac_override "$WP" -t 2000 "$PAM" send op:1
like "uid $U1 with CAP_DAC_OVERRIDE reaches pam.sock and is hung up on" "$OUT" "^noreply: closed$"
like "... and the daemon logs it" "$(cat "$T_DIR/daemon.log")" "pam.sock: refused uid $U1 pid [0-9]+ \(root only\)"

# ---------- a local uid without an idgate identity on api.sock ----------
run as_uid $U1 "$IDGATECTL" --socket "$SOCK" ping
is "uid $U1 reaches api.sock (ping)" "$RC" 0
run as_uid $U1 "$IDGATECTL" --socket "$SOCK" auth whoami
is "auth whoami as uid $U1: exit 1" "$RC" 1
like "... saying it has no idgate identity" "$OUT$ERR" "uid $U1 has no idgate identity"
run as_uid $U1 "$IDGATECTL" --socket "$SOCK" create repo sneaky
is "create repo as uid $U1 is refused (exit 1)" "$RC" 1
like "... with the reason" "$ERR" "uid $U1 has no idgate identity, so it holds no permissions"
run as_uid $U1 "$IDGATECTL" --socket "$SOCK" --as root create repo sneaky
is "--as from a non-root uid is refused (exit 1)" "$RC:$ERR" "1:only root may act as another subject (--as)"
run ctl list repo
unlike "no repo was created" "$OUT" "sneaky"

# ---------- one idgated per run dir ----------
run "$IDGATED" -f -c "$T_DIR/idgate.conf"
is "a second idgated (foreground) on the same run dir exits 1" "$RC" 1
like "... saying another one runs, with its pid" "$ERR" "another idgated is running \(pid $T_PID,"
run timeout 10 "$IDGATED" -c "$T_DIR/idgate.conf"
is "a second idgated (daemon mode) exits 1 too" "$RC" 1
like "... with the same reason on stderr" "$ERR" "another idgated is running \(pid $T_PID,"
is "the first one still answers, and still owns the pid file" \
	"$(ctl ping >/dev/null && cat "$RUN/idgated.pid")" "$T_PID"

# ---------- SIGHUP ----------
ctl create repo kept >/dev/null
daemon_config "[daemon]" "max_connections = 6"
sed -i 's/^log_level = info$/log_level = debug/' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
ok "SIGHUP with a changed file: 'configuration reloaded' is logged" \
	wait_for "$T_DIR/daemon.log" "configuration reloaded"
settle
run "$WP" "$SOCK" hold 8 0 ping
like "the new max_connections (6) is in force: 6 of 8 connections served" "$OUT" "^held 8 ok 6 refused 2"
like "... the others told the daemon is busy" "$OUT" "^refusal: status=3 error=idgated is busy: too many connections"
# log_level: at info a refused request is logged; at notice it is not.
like "at log_level info, uid $U1's refused request was logged" "$(cat "$T_DIR/daemon.log")" \
	"uid:$U1 repo.create .*denied"
daemon_config "[daemon]" "max_connections = 6"
sed -i 's/^log_level = info$/log_level = notice/' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
for _w in $(seq 1 50); do
	[ "$(grep -c 'configuration reloaded' "$T_DIR/daemon.log")" -ge 2 ] && break
	sleep 0.1
done
is "SIGHUP with log_level = notice: a second 'configuration reloaded' line" "$(grep -c 'configuration reloaded' "$T_DIR/daemon.log")" 2
DENIED=$(grep -c "uid:$U1 repo.create .*denied" "$T_DIR/daemon.log")
as_uid $U1 "$IDGATECTL" --socket "$SOCK" create repo sneaky2 >/dev/null 2>&1
sleep 0.2
is "... after which a refused request is no longer logged" \
	"$(grep -c "uid:$U1 repo.create .*denied" "$T_DIR/daemon.log")" "$DENIED"
LINES=$(wc -l <"$T_DIR/daemon.log")
daemon_config "[daemon]" "max_connections = 6" "max_connextions = 9"
BAD_LINE=$(grep -n max_connextions "$T_DIR/idgate.conf" | cut -d: -f1)
kill -HUP "$T_PID"
ok "SIGHUP with a broken file: the daemon says it keeps the running configuration" \
	wait_for "$T_DIR/daemon.log" "configuration not reloaded: keeping the running one"
NEWLOG=$(tail -n +"$((LINES + 1))" "$T_DIR/daemon.log")
like "... and names the file, line and problem" "$NEWLOG" \
	"$T_DIR/idgate.conf:$BAD_LINE: unknown key 'max_connextions' in \[daemon\]"
unlike "... and does not claim to have reloaded" "$NEWLOG" "configuration reloaded"
run ctl ping
is "requests are still answered" "$RC" 0
settle
run "$WP" "$SOCK" hold 8 0 ping
like "the running configuration (max_connections 6) is kept" "$OUT" "^held 8 ok 6 refused 2"
LINES=$(wc -l <"$T_DIR/daemon.log")
daemon_config "[daemon]" "max_connections = 100"
chmod 0666 "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
ok "SIGHUP with a world-writable file is refused too" \
	wait_for "$T_DIR/daemon.log" "must be owned by root and not writable by group or others"
settle
run "$WP" "$SOCK" hold 8 0 ping
like "... and max_connections stays 6" "$OUT" "^held 8 ok 6 refused 2"
chmod 0644 "$T_DIR/idgate.conf"
daemon_config "[daemon]" "max_connections = 6" "[connector]" "user = nobody"
kill -HUP "$T_PID"
ok "SIGHUP with [connector] changed: a warning that it needs a restart" \
	wait_for "$T_DIR/daemon.log" "\\[idp\\] and \\[connector\\] changes take effect only after a restart"
daemon_config
kill -HUP "$T_PID"
sleep 0.3
ok "idgated survived six reloads" kill -0 "$T_PID"

# ---------- SIGTERM ----------
"$WP" "$SOCK" hold 5 30 idle >"$T_DIR/idle.out" 2>&1 &
IDLE=$!
ok "5 idle connections are open" wait_for "$T_DIR/idle.out" "^held 5 ok 5"
PID=$T_PID
kill -TERM "$PID"
ok "SIGTERM stops idgated within 3 s despite open connections" gone "$PID" 30
daemon_stop
is "... with exit status 0" "$?" 0
kill "$IDLE" 2>/dev/null; wait "$IDLE" 2>/dev/null
ok "api.sock is removed" test ! -e "$SOCK"
ok "pam.sock is removed" test ! -e "$PAM"
ok "the pid file is removed" test ! -e "$RUN/idgated.pid"
is "the store passes SQLite's integrity check" \
	"$(sqlite3 "$T_DIR/state/state.db" 'PRAGMA integrity_check')" ok
is "... and is still in WAL mode" "$(sqlite3 "$T_DIR/state/state.db" 'PRAGMA journal_mode')" wal
ok "a restart on the same store works" daemon_start
run ctl list repo
like "... and has the repo made before the stop" "$OUT" "^default +kept "
daemon_stop

# ---------- daemon mode ----------
daemon_config
sed -i 's/^log = stderr$/log = auto/' "$T_DIR/idgate.conf"	# auto: syslog once detached
T0=$(date +%s%3N)
run timeout 10 "$IDGATED" -c "$T_DIR/idgate.conf"
T1=$(date +%s%3N)
is "idgated (daemon mode) returns 0 once ready" "$RC" 0
is "... and prints nothing (logs go to syslog)" "$OUT$ERR" ""
diag "daemon mode start-up took $((T1 - T0)) ms"
BG_PID=$(cat "$RUN/idgated.pid" 2>/dev/null)
like "the pid file holds a pid" "$BG_PID" "^[0-9]+$"
BG_PID=${BG_PID:-0}
like "... that is a running idgated" "$(tr '\0' ' ' <"/proc/$BG_PID/cmdline" 2>&1)" "idgated -c "
run ps -o ppid=,sid= -p "$BG_PID"
# shellcheck disable=SC2086 # split "PPID SID"
set -- $OUT
ok "... detached: not our child, in a session of its own" \
	test "${1:-$$}" != "$$" -a "${2:-0}" != "$(ps -o sid= -p $$ | tr -d ' ')"
run ctl ping
is "it answers at once: the sockets existed before the launcher returned" "$RC" 0
is "api.sock is mode 0666 in daemon mode too" "$(sock_info "$SOCK")" "socket 666 root:root"
kill -TERM "$BG_PID"
ok "SIGTERM stops the daemon" gone "$BG_PID" 50
ok "... which removes api.sock, pam.sock and the pid file" \
	test ! -e "$SOCK" -a ! -e "$PAM" -a ! -e "$RUN/idgated.pid"
BG_PID=

# Start-up errors after the fork still reach the launching command.
cp "$T_DIR/state/state.db" "$T_DIR/good.db"
rm -f "$T_DIR/state/state.db-wal" "$T_DIR/state/state.db-shm"
head -c 8192 /dev/urandom >"$T_DIR/state/state.db"
SUM=$(md5sum <"$T_DIR/state/state.db")
run timeout 10 "$IDGATED" -c "$T_DIR/idgate.conf"
is "daemon mode, a garbage state.db: the launcher exits 1" "$RC" 1
like "... with the reason on stderr" "$ERR" "^idgated: opening the state database: file is not a database"
ok "... and leaves no daemon, socket or pid file" test ! -e "$SOCK" -a ! -e "$RUN/idgated.pid"
is "... and the file is untouched" "$(md5sum <"$T_DIR/state/state.db")" "$SUM"
rm -f "$T_DIR/state/state.db"
mkdir "$T_DIR/state/state.db"
run timeout 10 "$IDGATED" -c "$T_DIR/idgate.conf"
is "daemon mode, state.db is a directory: the launcher exits 1" "$RC" 1
like "... with the reason on stderr" "$ERR" "^idgated: opening the state database: unable to open"
rmdir "$T_DIR/state/state.db"
mv "$T_DIR/good.db" "$T_DIR/state/state.db"
daemon_config
sed -i 's/^log = stderr$/log = syslog/' "$T_DIR/idgate.conf"
run timeout 10 "$IDGATED" -c "$T_DIR/idgate.conf"
is "daemon mode with log = syslog starts on the restored store" "$RC" 0
BG_PID=$(cat "$RUN/idgated.pid" 2>/dev/null || echo 0)
run ctl list repo
like "... and serves it" "$OUT" "^default +kept "
kill -TERM "$BG_PID" 2>/dev/null
ok "... and stops on SIGTERM" gone "$BG_PID" 50
BG_PID=
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log" 2>/dev/null)" \
	"Sanitizer|runtime error:"
done_testing
