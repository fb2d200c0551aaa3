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

# acl_enter_namespace "$@": unless inside already, re-run the script in a mount namespace of
# its own (its private /etc and snapshot directory, lib.sh's nss_private_world), or skip it
# (TAP plan 1..0) without root, namespaces or getfacl.
acl_enter_namespace() {
	[ "${1:-}" = --inner ] && return 0
	if [ "$(id -u)" != 0 ] || ! unshare --mount true 2>/dev/null; then
		echo "1..0 # SKIP needs root and mount namespaces"
		exit 0
	fi
	command -v getfacl >/dev/null 2>&1 || { echo "1..0 # SKIP getfacl is missing (acl)"; exit 0; }
	trap - EXIT
	exec unshare --mount --fork sh "$0" --inner
}
