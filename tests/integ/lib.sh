# Integration-test library: TAP output and a private idgated per test script.
# Source it from a test; top_builddir and top_srcdir come from 'make check'
# (or set them by hand to run one script: top_builddir=/path/to/build sh t_x.sh).
# shellcheck shell=sh

set -u
: "${top_builddir:?set top_builddir to the build directory}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
IDGATED=$top_builddir/idgated
IDGATECTL=$top_builddir/idgatectl

T_N=0
T_FAILED=0
T_DIR=
T_PID=

# ---------- TAP ----------

pass() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
fail() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# ok DESCRIPTION COMMAND...: passes when COMMAND succeeds.
ok() {
	desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# is DESCRIPTION GOT EXPECTED
is() {
	if [ "$2" = "$3" ]; then pass "$1"; else
		fail "$1"; diag "expected: $3" "     got: $2"
	fi
}

# like DESCRIPTION GOT PATTERN (grep -E on the whole text)
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then pass "$1"; else
		fail "$1"; diag "pattern: $3" "    got: $2"
	fi
}

unlike() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1"; diag "unwanted pattern: $3" "    got: $2"
	else pass "$1"; fi
}

# run COMMAND...: sets OUT, ERR and RC.
run() {
	_o=$(mktemp) _e=$(mktemp)
	"$@" >"$_o" 2>"$_e"
	RC=$?
	OUT=$(cat "$_o")
	ERR=$(cat "$_e")
	rm -f "$_o" "$_e"
}

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

# ---------- what every test with a real IdP needs ----------

# idp_test_skip_unless WHY: skip the whole test (TAP "1..0 # SKIP") with WHY when it is not
# empty, or when curl, openssl, the connector user _idgate or root is missing.
idp_test_skip_unless() {
	_why=$1
	if [ -n "$_why" ]; then :
	elif ! command -v curl >/dev/null 2>&1; then _why="curl is not installed"
	elif ! command -v openssl >/dev/null 2>&1; then _why="openssl is not installed"
	elif ! id _idgate >/dev/null 2>&1; then _why="the connector user _idgate does not exist (scripts/install-deps)"
	elif [ "$(id -u)" -ne 0 ]; then _why="must run as root (idgated, the _idgate connector child)"
	fi
	if [ -n "$_why" ]; then
		echo "1..0 # SKIP $_why"
		exit 0
	fi
}

# ---------- a private world for NSS (inside a mount namespace) ----------

# nss_private_world MODULE: a private copy of /etc bound over /etc with nsswitch.conf saying
# "files idgate" for passwd and group, and a private directory bound over the directory of
# the snapshot path compiled into MODULE; sets SNAP, SDIR and T_SNAPSHOT (so daemon_config
# tells idgated the same path). Call after t_setup, in the test's own mount namespace.
nss_private_world() {
	mount --make-rprivate / 2>/dev/null
	cp -a /etc "$T_DIR/etc"
	mount --bind "$T_DIR/etc" /etc
	sed -i -e 's/^passwd:.*/passwd: files idgate/' -e 's/^group:.*/group: files idgate/' \
		/etc/nsswitch.conf
	SNAP=$(strings -a "$1" | grep '/nss\.snapshot$' | head -n 1)
	SDIR=$(dirname "$SNAP")
	mkdir -p "$SDIR" "$T_DIR/snap"
	mount --bind "$T_DIR/snap" "$SDIR"
	T_SNAPSHOT=$SNAP
}

# ---------- a private idgated ----------

# daemon_config [EXTRA LINES]: write $T_DIR/idgate.conf (extra lines go at the end, so they
# may open sections of their own).
daemon_config() {
	cat >"$T_DIR/idgate.conf" <<CONF
[daemon]
run_dir = $T_DIR/run
state_dir = $T_DIR/state
audit_log = $T_DIR/log/audit.log
log = stderr
log_level = info
[store]
path = $T_DIR/state/state.db
synchronous = normal
[data]
root = $T_DIR/repos
[nss]
snapshot = ${T_SNAPSHOT:-$T_DIR/nss/nss.snapshot}
[idmap]
fold_domains = ${T_FOLD_DOMAINS-example.com}
CONF
	[ $# -gt 0 ] && printf '%s\n' "$@" >>"$T_DIR/idgate.conf"
	chmod 0644 "$T_DIR/idgate.conf"
}

t_setup() {
	T_DIR=$(mktemp -d /tmp/idgate-test.XXXXXX)
	chmod 0755 "$T_DIR"
	SOCK=$T_DIR/run/api.sock
	export IDGATE_SOCKET="$SOCK"
	unset IDGATE_TOKEN
	daemon_config "$@"
}

# daemon_start: start idgated in the foreground and wait for its socket.
daemon_start() {
	"$IDGATED" -f -c "$T_DIR/idgate.conf" 2>>"$T_DIR/daemon.log" &
	T_PID=$!
	for _i in $(seq 1 100); do
		[ -S "$SOCK" ] && "$IDGATECTL" ping >/dev/null 2>&1 && return 0
		kill -0 "$T_PID" 2>/dev/null || break
		sleep 0.05
	done
	diag "idgated did not start:" "$(cat "$T_DIR/daemon.log")"
	return 1
}

# daemon_stop: SIGTERM, wait; returns idgated's exit status.
daemon_stop() {
	[ -n "$T_PID" ] || return 0
	kill -TERM "$T_PID" 2>/dev/null
	wait "$T_PID"
	_rc=$?
	T_PID=
	return $_rc
}

daemon_kill() {
	[ -n "$T_PID" ] || return 0
	kill -KILL "$T_PID" 2>/dev/null
	wait "$T_PID" 2>/dev/null
	T_PID=
}

t_cleanup() {
	if [ -n "$T_PID" ]; then
		kill -TERM "$T_PID" 2>/dev/null
		wait "$T_PID" 2>/dev/null
	fi
	[ -n "$T_DIR" ] && rm -rf "$T_DIR"
}
trap t_cleanup EXIT

# ctl ARGS...: idgatectl against the private daemon, as root.
ctl() { "$IDGATECTL" --socket "$SOCK" "$@"; }
# as SUBJECT ARGS...: root acting as SUBJECT.
as() { _s=$1; shift; "$IDGATECTL" --socket "$SOCK" --as "$_s" "$@"; }
# as_uid UID COMMAND...: run a command as a local uid with no groups (an unknown local user).
as_uid() { _u=$1; shift; setpriv --reuid="$_u" --regid="$_u" --clear-groups "$@"; }

# The exact Pachyderm-form refusal.
denial() {
	printf '%s is not authorized to perform this operation - needs permissions [%s] on %s. Run `idgatectl auth roles-for-permission` to find roles that grant a given permission.' "$1" "$2" "$3"
}
