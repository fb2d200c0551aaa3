# The real-sshd harness: OpenSSH's sshd on loopback in a mount (and network) namespace with a
# private copy of /etc — its own /etc/pam.d/sshd, nsswitch.conf ("files idgate"), local
# accounts made with useradd — the NSS and PAM modules from the build, and the real ssh client
# driven by sshpass or by ssh_askpass.sh (keyboard-interactive, device-code prompts).
# Nothing outside the namespace changes: /etc, /home, /run and /var/log are private copies or
# empty directories mounted over the real ones, seen only by this test's processes.
#
# Use from a test script (see t_ssh_local.sh, t_ssh_idgate.sh):
#   . "$top_srcdir/tests/integ/t_oidc_lib.sh"; . "$top_srcdir/tests/integ/ssh_lib.sh"
#   ssh_require; ssh_enter_namespace "$@"     # re-runs the script inside the namespace
#   t_setup (or oidc_setup); ssh_world        # the private /etc, /home, /run, /var/log
#   ssh_pam_local | ssh_pam_idgate ARGS | ssh_pam_profile | ssh_pam_write TEXT
#   sshd_start; ssh_pw USER PASSWORD CMD...; ssh_kbd USER CMD...; sshd_stop
# shellcheck shell=sh disable=SC2034  # RC, OUT, ERR, PROMPTS are for the tests

SSHD=/usr/sbin/sshd
SSH_B=$top_builddir
PAM_IDGATE=$SSH_B/.libs/pam_idgate.so
PAM_FIXTURE=$SSH_B/tests/integ/.libs/pam_fixture.so
SSHD_PID=
SSH_PORT=
SSH_TIMEOUT=${SSH_TIMEOUT:-30}
# ssh's ConnectTimeout, which also bounds the wait for sshd's banner: a burst of connections on
# a loaded machine may need longer (bench/run-login.sh).
SSH_CONNECT_TIMEOUT=${SSH_CONNECT_TIMEOUT:-10}
SSH_SEQ=0

# How the tests, bench/run-login.sh and scripts/demo choose pam_idgate.so's login method:
# its arguments on the auth line, one stack per method. One place to change when the module
# settles otherwise (pam_idgate(8)); the IDG_T_ARGS_* variables override them.
PAM_ARGS_PASSWORD=${IDG_T_ARGS_PASSWORD-"methods=password"}
PAM_ARGS_DEVICE=${IDG_T_ARGS_DEVICE-"methods=device"}
PAM_ARGS_TOKEN=${IDG_T_ARGS_TOKEN-"methods=token"}

# ---------- prerequisites and the namespace ----------

# ssh_require [COMMAND...]: skip the whole script (TAP 1..0) unless root, mount namespaces,
# sshd, ssh, ssh-keygen, sshpass, useradd, chpasswd and the extra COMMANDs are there.
ssh_require() {
	_why=
	if [ "$(id -u)" -ne 0 ]; then _why="must run as root (sshd, useradd, namespaces)"
	elif [ ! -x "$SSHD" ]; then _why="sshd is not installed (Debian package openssh-server; scripts/install-deps)"
	elif ! command -v ssh >/dev/null 2>&1; then _why="ssh is not installed (openssh-client)"
	elif ! command -v sshpass >/dev/null 2>&1; then _why="sshpass is not installed (scripts/install-deps)"
	fi
	if [ -z "$_why" ]; then
		for _c in ssh-keygen useradd chpasswd unshare mount timeout ss "$@"; do
			command -v "$_c" >/dev/null 2>&1 || { _why="$_c is not installed"; break; }
		done
	fi
	if [ -z "$_why" ] && [ "${SSH_INNER:-}" != 1 ] && ! unshare --mount true 2>/dev/null; then
		_why="mount namespaces are not available (unshare --mount)"
	fi
	if [ -n "$_why" ]; then
		echo "1..0 # SKIP $_why"
		exit 0
	fi
}

# ssh_enter_namespace "$@": unless already inside, re-run this script in new mount and network
# namespaces (loopback only: its ports never meet another test's) and exit with its status.
# Inside, SSH_OUTER_PID is a process still in the caller's namespaces (for ssh_real_etc_check).
ssh_enter_namespace() {
	[ "${SSH_INNER:-}" = 1 ] && return 0
	trap - EXIT
	SSH_INNER=1 SSH_OUTER_PID=$PPID
	export SSH_INNER SSH_OUTER_PID
	if unshare --mount --net true 2>/dev/null; then
		exec unshare --mount --net --fork sh "$0" "$@"
	fi
	exec unshare --mount --fork sh "$0" "$@"
}

# ---------- the private world ----------

# ssh_world: inside the namespace, after t_setup/oidc_setup: private copies of /etc (real
# one's checksums kept for ssh_real_etc_check), /home, /run (with /run/sshd), /var/log; the
# NSS snapshot and idgated's run directory at the paths compiled into the modules, over
# directories in $T_DIR; nsswitch "files idgate"; loopback up. Sets SNAP, IDG_RUNDIR and
# T_SNAPSHOT, and LD_LIBRARY_PATH for the built NSS module.
ssh_world() {
	mount --make-rprivate / 2>/dev/null
	ip link set lo up 2>/dev/null
	SSH_ETC_SUM=$(ssh_etc_sum)
	cp -a /etc "$T_DIR/etc"
	mount --bind "$T_DIR/etc" /etc
	cp /etc/pam.d/sshd "$T_DIR/pam.d.sshd.debian" 2>/dev/null
	mkdir -p "$T_DIR/home" "$T_DIR/varlog" "$T_DIR/snap" "$T_DIR/run"
	chmod 0755 "$T_DIR/home" "$T_DIR/varlog" "$T_DIR/snap" "$T_DIR/run"
	mount --bind "$T_DIR/home" /home
	mount --bind "$T_DIR/varlog" /var/log
	# sshd's privilege-separation directory is compiled in (/run/sshd); utmp lives in /run.
	mount -t tmpfs -o mode=0755 idgate-test-run /run
	mkdir -m 0755 /run/sshd
	ssh_nsswitch "files idgate"
	# The snapshot where the built NSS module looks for it, and idgated's run directory where
	# the built modules look for pam.sock, both over private directories (as t_directory.sh).
	SNAP=$(strings -a "$SSH_B/.libs/libnss_idgate.so.2" | grep '/nss\.snapshot$' | head -n 1)
	IDG_RUNDIR=$(strings -a "$SSH_B/idgated" | grep '/run/idgate$' | head -n 1)
	mkdir -p "$(dirname "$SNAP")" "$IDG_RUNDIR"
	mount --bind "$T_DIR/snap" "$(dirname "$SNAP")"
	mount --bind "$T_DIR/run" "$IDG_RUNDIR"
	T_SNAPSHOT=$SNAP
	LD_LIBRARY_PATH=$SSH_B/.libs
	export LD_LIBRARY_PATH
	SSH_ASKPASS_BIN=$T_DIR/askpass
	cp "$top_srcdir/tests/integ/ssh_askpass.sh" "$SSH_ASKPASS_BIN"
	chmod 0755 "$SSH_ASKPASS_BIN"
	mkdir -p "$T_DIR/ssh"
}

# What a test could change on the machine if the namespace leaked, checksummed: the PAM and
# NSS configuration of /etc, sshd's, pam-auth-update's profiles and state. (The account files
# are checked by name instead: other programs may add accounts meanwhile.) The same command
# runs here before ssh_world and in the caller's namespace (ssh_real_etc_check).
SSH_SUM_CMD='cd /etc && sha256sum nsswitch.conf pam.d/sshd pam.d/common-auth pam.d/common-account \
pam.d/common-session pam.d/common-password ssh/sshd_config /var/lib/pam/* 2>/dev/null;
ls /usr/share/pam-configs'
ssh_etc_sum() { sh -c "$SSH_SUM_CMD"; }

# ssh_real_etc_check [NAME...]: pass when the machine's own files (seen from SSH_OUTER_PID's
# namespace) are what they were before the test, and no NAME (an account the test made) is in
# its passwd, group or shadow, nor has a directory in its /home.
ssh_real_etc_check() {
	_names=$*
	if [ -z "${SSH_OUTER_PID:-}" ] || ! command -v nsenter >/dev/null 2>&1 ||
	    ! _now=$(nsenter --mount="/proc/$SSH_OUTER_PID/ns/mnt" sh -c "$SSH_SUM_CMD"); then
		pass "# SKIP the machine's own /etc cannot be seen from here (nsenter)"
		return
	fi
	is "the machine's own PAM, NSS, sshd and pam-auth-update files are untouched" \
		"$_now" "$SSH_ETC_SUM"
	[ -n "$_names" ] || return 0
	_leaks=$(nsenter --mount="/proc/$SSH_OUTER_PID/ns/mnt" sh -c '
		for n in '"$_names"'; do
			cut -d: -f1 /etc/passwd /etc/group /etc/shadow | grep -qx "$n" && echo "$n"
			[ -e "/home/$n" ] && echo "/home/$n"
		done' 2>/dev/null)
	is "... and none of the test's accounts reached its /etc/passwd, group, shadow or /home" "$_leaks" ""
}

# ssh_nsswitch SOURCES: passwd and group lookups from SOURCES ("files", "files idgate").
ssh_nsswitch() {
	sed -i -e "s/^passwd:.*/passwd: $1/" -e "s/^group:.*/group: $1/" /etc/nsswitch.conf
}

# local_user NAME PASSWORD [useradd ARGS...]: a local account in the private /etc, with a home.
local_user() {
	_n=$1 _p=$2
	shift 2
	useradd -m -s /bin/sh "$@" "$_n" >/dev/null 2>&1 || return 1
	printf '%s:%s\n' "$_n" "$_p" | chpasswd 2>/dev/null
}

# ---------- /etc/pam.d/sshd ----------

# ssh_pam_write TEXT: /etc/pam.d/sshd is TEXT (sshd reads it at every connection, so a test
# may change the stack between logins without restarting sshd). Kept in $T_DIR/pam.d.sshd.N.
ssh_pam_write() {
	printf '%s\n' "$1" >/etc/pam.d/sshd
	SSH_SEQ=$((SSH_SEQ + 1))
	cp /etc/pam.d/sshd "$T_DIR/pam.d.sshd.$SSH_SEQ"
}

# ssh_pam_local: pam_unix only (a plain local stack, no idgate).
ssh_pam_local() {
	ssh_pam_write "# t_ssh: pam_unix only
auth     required pam_unix.so
account  required pam_unix.so
password required pam_unix.so
session  required pam_unix.so"
}

# ssh_pam_idgate [AUTH ARGS...]: the hand-written idgate stack: pam_idgate.so from the build
# (by absolute path) first, pam_unix for everyone idgate does not know (PAM_USER_UNKNOWN or
# PAM_IGNORE from pam_idgate, as documented on pam.sock), anything else decisive.
# ACCOUNT_ARGS and SESSION_ARGS, when set, go on those lines.
ssh_pam_idgate() {
	ssh_pam_write "# t_ssh: hand-written idgate stack
auth     [success=done new_authtok_reqd=done user_unknown=ignore ignore=ignore default=die] $PAM_IDGATE $*
auth     required pam_unix.so try_first_pass
account  [success=done new_authtok_reqd=done user_unknown=ignore ignore=ignore default=die] $PAM_IDGATE ${ACCOUNT_ARGS:-}
account  required pam_unix.so
password required pam_unix.so
session  [success=ok user_unknown=ignore ignore=ignore default=bad] $PAM_IDGATE ${SESSION_ARGS:-}
session  required pam_unix.so"
}

# ssh_pam_profile_file: the pam-auth-update profile shipped with the source, if any (the PAM
# module's issue adds it; IDG_PAM_PROFILE overrides).
ssh_pam_profile_file() {
	for _f in ${IDG_PAM_PROFILE:-} "$top_srcdir/dist/pam-configs/idgate" \
	    "$top_srcdir/pam/pam-configs/idgate" "$top_builddir/dist/pam-configs/idgate" \
	    "$top_srcdir/dist/idgate.pam-config" "$top_srcdir/pam/idgate.pam-config"; do
		[ -f "$_f" ] && { echo "$_f"; return 0; }
	done
	return 1
}

# ssh_pam_profile: the stack Debian's pam-auth-update makes from the shipped profile: the
# profile (with pam_idgate.so named by its path in the build) in a private
# /usr/share/pam-configs, pam-auth-update run against the private /etc and a private
# /var/lib/pam, and Debian's own /etc/pam.d/sshd, which includes the common-* files it wrote.
ssh_pam_profile() {
	_prof=$(ssh_pam_profile_file) || { diag "no pam-auth-update profile in the source"; return 1; }
	command -v pam-auth-update >/dev/null 2>&1 || { diag "pam-auth-update is missing"; return 1; }
	if [ ! -d "$T_DIR/pam-configs" ]; then
		cp -a /usr/share/pam-configs "$T_DIR/pam-configs"
		mount --bind "$T_DIR/pam-configs" /usr/share/pam-configs
		cp -a /var/lib/pam "$T_DIR/var-lib-pam"
		mount --bind "$T_DIR/var-lib-pam" /var/lib/pam
	fi
	sed "s|\([[:space:]]\)pam_idgate\.so|\1$PAM_IDGATE|" "$_prof" >/usr/share/pam-configs/idgate
	DEBIAN_FRONTEND=noninteractive pam-auth-update --package --force --enable idgate \
		>"$T_DIR/pam-auth-update.out" 2>&1 || { diag "$(cat "$T_DIR/pam-auth-update.out")"; return 1; }
	grep -q "$PAM_IDGATE" /etc/pam.d/common-auth || { diag "pam-auth-update did not add pam_idgate.so"; return 1; }
	# Debian's sshd stack as the package installed it (saved by ssh_world).
	cp "$T_DIR/pam.d.sshd.debian" /etc/pam.d/sshd || return 1
	SSH_SEQ=$((SSH_SEQ + 1))
	cat /etc/pam.d/sshd /etc/pam.d/common-auth /etc/pam.d/common-account \
		/etc/pam.d/common-session >"$T_DIR/pam.d.sshd.$SSH_SEQ"
}

# ---------- sshd ----------

# ssh_free_port: a TCP port nobody listens on (in our network namespace).
ssh_free_port() {
	_used=$(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	for _i in $(seq 1 50); do
		_p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
		printf '%s\n' "$_used" | grep -qx "$_p" || { echo "$_p"; return 0; }
	done
	return 1
}

# sshd_start [CONFIG LINES...]: sshd -D on 127.0.0.1 and a free port with its own host key,
# PID file and log file ($T_DIR/sshd.log), PAM on, keyboard-interactive and password
# authentication, no keys, enough MaxStartups for 20 concurrent logins. Sets SSHD_PID,
# SSH_PORT. Each CONFIG LINE ("Keyword value") replaces the default line of the same keyword
# (any case), so it takes effect whether sshd keeps a keyword's first value (most keywords)
# or its last (MaxStartups, among others, is simply overwritten by each line sshd reads);
# no Match blocks. The environment it starts with (LD_LIBRARY_PATH: the built NSS module) is
# kept by its re-executed children; sessions get LD_LIBRARY_PATH through SetEnv.
sshd_start() {
	_k=$T_DIR/ssh/host_ed25519_key
	[ -f "$_k" ] || ssh-keygen -q -t ed25519 -N '' -f "$_k" || return 1
	for _try in 1 2 3 4 5; do
		SSH_PORT=$(ssh_free_port) || return 1
		# The caller's lines, then the defaults without the keywords the caller gave: a
		# keyword appears once, whichever of its values sshd would otherwise keep.
		{ echo "# t_ssh: a private sshd for one test"
		  [ $# -gt 0 ] && printf '%s\n' "$@"; } >"$T_DIR/ssh/sshd_config"
		_given=$(printf '%s\n' "$@" | awk 'NF { print tolower($1) }')
		awk -v given="$_given" 'BEGIN { n = split(given, g, "\n"); for (i = 1; i <= n; i++) skip[g[i]] = 1 }
			!(tolower($1) in skip)' >>"$T_DIR/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $_k
PidFile $T_DIR/ssh/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication yes
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
PermitEmptyPasswords no
AuthenticationMethods any
MaxStartups 64
MaxAuthTries 3
LoginGraceTime 60
UseDNS no
PrintMotd no
PrintLastLog no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
Subsystem sftp internal-sftp
LogLevel ${SSHD_LOGLEVEL:-VERBOSE}
SetEnv LD_LIBRARY_PATH=$SSH_B/.libs
CONF
		# Newer sshd (9.8+) penalizes addresses whose logins fail: not in a test of failures.
		if ! printf '%s\n' "$_given" | grep -qx persourcepenalties &&
		    "$SSHD" -t -f "$T_DIR/ssh/sshd_config" -o PerSourcePenalties=no 2>/dev/null; then
			echo "PerSourcePenalties no" >>"$T_DIR/ssh/sshd_config"
		fi
		if ! "$SSHD" -t -f "$T_DIR/ssh/sshd_config" 2>"$T_DIR/ssh/sshd-t.err"; then
			diag "sshd -t refused the configuration:" "$(cat "$T_DIR/ssh/sshd-t.err")"
			return 1
		fi
		: >"$T_DIR/sshd.log"
		"$SSHD" -D -f "$T_DIR/ssh/sshd_config" -E "$T_DIR/sshd.log" </dev/null &
		SSHD_PID=$!
		for _i in $(seq 1 100); do
			ss -Htln 2>/dev/null | awk '{ print $4 }' | grep -qx "127.0.0.1:$SSH_PORT" && break
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$SSHD_PID" 2>/dev/null; then
			echo "[127.0.0.1]:$SSH_PORT $(cat "$_k.pub")" >"$T_DIR/ssh/known_hosts"
			return 0
		fi
		wait "$SSHD_PID" 2>/dev/null
		SSHD_PID=
		grep -q 'Address already in use' "$T_DIR/sshd.log" || break
	done
	diag "sshd did not start:" "$(tail -n 20 "$T_DIR/sshd.log")"
	return 1
}

# sshd_stop: SIGTERM to sshd and to its per-connection children; wait.
sshd_stop() {
	[ -n "$SSHD_PID" ] || return 0
	pkill -TERM -P "$SSHD_PID" 2>/dev/null
	kill -TERM "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# SSH_KEEP=DIR: keep the logs, sshd's configuration and the pam.d files written, for a look
# after the test (the rest of $T_DIR goes).
ssh_cleanup() {
	sshd_stop
	if [ -n "${SSH_KEEP:-}" ] && [ -n "${T_DIR:-}" ] && [ -d "$T_DIR" ]; then
		mkdir -p "$SSH_KEEP"
		(cd "$T_DIR" && cp -a ./*.log ./*.out ./*.err pam.d.* ssh "$SSH_KEEP/" 2>/dev/null)
	fi
	oidc_cleanup
}
trap ssh_cleanup EXIT
trap 'exit 1' INT TERM

# ---------- clients ----------

# The client's options: only our known_hosts, no configuration files, no keys, one attempt,
# bounded. SSH_AUTH (keyboard-interactive by default, or password) picks the method.
ssh_opts() {
	echo "-F /dev/null -p $SSH_PORT -o UserKnownHostsFile=$T_DIR/ssh/known_hosts \
-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o CheckHostIP=no \
-o PreferredAuthentications=${SSH_AUTH:-keyboard-interactive} -o PubkeyAuthentication=no \
-o NumberOfPasswordPrompts=1 -o ConnectTimeout=$SSH_CONNECT_TIMEOUT \
-o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o LogLevel=INFO -T"
}

# ssh_pw USER PASSWORD [COMMAND...]: ssh with sshpass typing PASSWORD at the first password
# prompt (SSH_AUTH=keyboard-interactive, the default, or password). Sets RC, OUT, ERR; RC 255
# is ssh's own failure (refused, unreachable), 124 the timeout ($SSH_TIMEOUT seconds).
ssh_pw() {
	_u=$1
	_pwf=$(mktemp "$T_DIR/ssh/pw.XXXXXX")
	printf '%s\n' "$2" >"$_pwf"
	shift 2
	# shellcheck disable=SC2046
	run timeout -k 5 "$SSH_TIMEOUT" sshpass -f "$_pwf" ssh $(ssh_opts) "$_u@127.0.0.1" "$@" </dev/null
	rm -f "$_pwf"
}

# ssh_kbd USER [COMMAND...]: ssh answering keyboard-interactive prompts with ssh_askpass.sh.
# Before calling, set (all optional): KBD_SECRET (the answer to a password/token prompt),
# KBD_RULES (lines "ERE<TAB>ANSWER"), KBD_DEVICE ("approve USER PASSWORD", "deny USER
# PASSWORD", "abort USER PASSWORD", "none", or a command: what to do with a device-code
# prompt's code). Sets RC, OUT, ERR, PROMPTS (every prompt text seen), DEVICE_CODE (the code
# the prompt showed), DEVICE_URL, CALLBACK (the callback's output) and KBD_DIR.
ssh_kbd() {
	_u=$1
	shift
	KBD_DIR=$(mktemp -d "$T_DIR/ssh/kbd.XXXXXX")
	[ -n "${KBD_SECRET+x}" ] && printf '%s\n' "$KBD_SECRET" >"$KBD_DIR/secret"
	[ -n "${KBD_RULES:-}" ] && printf '%s\n' "$KBD_RULES" >"$KBD_DIR/rules"
	_cb=
	case ${KBD_DEVICE:-none} in
	none) ;;
	approve\ *|deny\ *|abort\ *)
		printf '%s\n' "$KBD_DEVICE" >"$KBD_DIR/device.how"
		_cb="$T_DIR/device-cb $KBD_DIR" ;;
	*) _cb=$KBD_DEVICE ;;
	esac
	ssh_device_cb_write
	# shellcheck disable=SC2046
	run env ASKPASS_DIR="$KBD_DIR" ASKPASS_DEVICE_CB="$_cb" SSH_ASKPASS="$SSH_ASKPASS_BIN" \
		DEVICE_CA="${CA:-}" DEVICE_IDP_DIR="${IDP_DIR:-}" \
		SSH_ASKPASS_REQUIRE=force DISPLAY= timeout -k 5 "$SSH_TIMEOUT" \
		ssh $(ssh_opts) "$_u@127.0.0.1" "$@" </dev/null
	PROMPTS=$(cat "$KBD_DIR/prompts" 2>/dev/null)
	DEVICE_CODE=$(sed -n 1p "$KBD_DIR/device" 2>/dev/null)
	DEVICE_URL=$(sed -n 2p "$KBD_DIR/device" 2>/dev/null)
	CALLBACK=$(cat "$KBD_DIR/callback.out" 2>/dev/null)
}

# The device callback ssh_askpass.sh runs: approve (or deny, abort) the code at the test IdP
# as a person in a browser would (approve-device.mjs), as KBD_DEVICE says. The IdP's CA and
# directory come from ssh_kbd's environment (DEVICE_CA, DEVICE_IDP_DIR).
ssh_device_cb_write() {
	[ -x "$T_DIR/device-cb" ] && return 0
	cat >"$T_DIR/device-cb" <<'CB'
#!/bin/sh
# device-cb KBD_DIR CODE URL [COMPLETE_URL]: approve-device.mjs as $KBD_DIR/device.how says.
read -r how user pw <"$1/device.how"
flag=
[ "$how" = approve ] || flag=--$how
exec node "$DEVICE_IDP_DIR/approve-device.mjs" --verification-uri "$3" --ca "$DEVICE_CA" \
	--user-code "$2" --username "$user" --password "$pw" $flag
CB
	chmod 0755 "$T_DIR/device-cb"
}

# ssh_clean_err: ERR without the lines every ssh client prints (a closed connection).
ssh_clean_err() { printf '%s\n' "$ERR" | grep -v -e '^Connection to .* closed' -e '^$'; }

# sshd_log_has ERE: sshd's log has a line matching ERE.
sshd_log_has() { grep -Eq -- "$1" "$T_DIR/sshd.log"; }

# ---------- the PAM module's state ----------

# pam_idgate_ready: whether the built pam_idgate.so implements auth. It must export
# pam_sm_authenticate, and answer something other than PAM_IGNORE for a name no local account
# has (with idgated unreachable that is PAM_AUTHINFO_UNAVAIL, or anything but "ignore"),
# probed with pamtester under pam_wrapper (no /etc/pam.d involved). Sets PAM_IDGATE_WHY.
pam_idgate_ready() {
	PAM_IDGATE_WHY=
	if [ ! -f "$PAM_IDGATE" ]; then PAM_IDGATE_WHY="$PAM_IDGATE was not built"; return 1; fi
	if ! nm -D --defined-only "$PAM_IDGATE" | grep -q ' pam_sm_authenticate$'; then
		PAM_IDGATE_WHY="pam_idgate.so does not export pam_sm_authenticate"; return 1
	fi
	[ "${IDG_PAM_READY:-}" = yes ] && return 0
	_pw=$(pam_wrapper_lib) || { PAM_IDGATE_WHY="libpam_wrapper.so is missing (libpam-wrapper)"; return 1; }
	command -v pamtester >/dev/null 2>&1 || { PAM_IDGATE_WHY="pamtester is missing"; return 1; }
	_sd=$(mktemp -d /tmp/idgate-pamprobe.XXXXXX)
	# ignore -> the next line (deny); any other answer -> skip it (permit)
	printf '%s\n' "auth [ignore=ignore default=1] $PAM_IDGATE" "auth requisite pam_deny.so" \
		"auth required pam_permit.so" >"$_sd/probe"
	echo "auth required pam_deny.so" >"$_sd/other"
	echo "not-the-password" | PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$_sd" LD_PRELOAD="$_pw" \
		timeout -k 2 20 pamtester probe idgate-probe-nobody authenticate >/dev/null 2>&1
	_rc=$?
	rm -rf "$_sd"
	[ "$_rc" -eq 0 ] && return 0
	PAM_IDGATE_WHY="pam_idgate.so does not implement auth yet (pam_sm_authenticate answers PAM_IGNORE; set IDG_PAM_READY=yes to run anyway)"
	return 1
}

# pam_wrapper_lib: the path of libpam_wrapper.so.
pam_wrapper_lib() {
	for _l in /usr/lib/*/libpam_wrapper.so /usr/lib/libpam_wrapper.so /usr/lib64/libpam_wrapper.so; do
		[ -f "$_l" ] && { echo "$_l"; return 0; }
	done
	return 1
}
