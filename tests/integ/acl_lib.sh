# ACL helpers for the enforcer's tests (t_enforce.sh, t_ssh_enforce.sh). Source after lib.sh.
# shellcheck shell=sh

# acl PATH: getfacl's entries, numeric ids, no comments, on one line.
acl() { getfacl -pcn "$1" 2>/dev/null | grep -v '^$' | tr '\n' ' '; }
acl_has() { acl "$1" | grep -Eq -- "$2"; }
acl_lacks() { ! acl "$1" | grep -Eq -- "$2"; }
# within SECONDS COMMAND...: poll until COMMAND succeeds; false when the time runs out.
within() {
	_end=$(($(date +%s%N) / 1000000 + $1 * 1000)); shift
	while :; do
		"$@" 2>/dev/null && return 0
		[ "$(($(date +%s%N) / 1000000))" -ge "$_end" ] && return 1
		sleep 0.05
	done
}
