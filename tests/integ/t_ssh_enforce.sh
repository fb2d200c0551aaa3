#!/bin/sh
# Issue 6's "Done when", end to end over real SSH: OpenSSH's sshd with pam_idgate.so and the
# built NSS module (ssh_lib.sh: private /etc, /home, /run in mount and network namespaces),
# idgated with the test IdP (keycloak shape), and the enforcer's ACLs on a private data root.
#   alice (repoOwner on images/raw) writes a file; bob, whose IdP group (ops) has repoReader
#   on the cluster, reads it and fails to write (Permission denied); carol, with no role on the
#   repo (projectViewer on another project, so she may log in), can neither list nor read it;
#   after `auth set repo images/raw repoWriter user:bob` the ACL is on disk within 1 s and bob
#   writes; after `... none user:bob` and removing the group binding he can no longer read; a
#   file alice creates later inherits the right ACL; drift is repaired and logged.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
. "$top_srcdir/tests/integ/ssh_lib.sh"
. "$top_srcdir/tests/integ/acl_lib.sh"

ssh_require node pamtester getfacl
if [ "${SSH_INNER:-}" != 1 ] && ! pam_idgate_ready; then
	echo "Bail out! pam_idgate.so is not usable: $PAM_IDGATE_WHY"
	exit 1
fi
ssh_enter_namespace "$@"
oidc_require

oidc_setup
ssh_world

BOB_PW='b0b & co=+%/ pw'
R=$T_DIR/repos/images/raw
LOG=$T_DIR/daemon.log

# on_disk_ms COMMAND...: milliseconds until COMMAND succeeds (polled), or "never" after 10 s.
on_disk_ms() {
	_t0=$(date +%s%N)
	if within 10 "$@"; then echo $((($(date +%s%N) - _t0) / 1000000)); else echo never; fi
}

ok "the test IdP starts (keycloak shape)" idp_start kc keycloak --alg ES256
idp_config keycloak "[data]" "repair_interval = 2s"
ok "idgated starts" daemon_start
ok "project images, repo images/raw, project misc" sh -c \
	"'$IDGATECTL' create project images && '$IDGATECTL' create repo images/raw && '$IDGATECTL' create project misc"
ok "auth set repo images/raw repoOwner user:alice" ctl auth set repo images/raw repoOwner user:alice
ok "auth set cluster repoReader group:ops (bob's IdP group)" ctl auth set cluster repoReader group:ops
# Roles elsewhere so carol, and bob once his repo roles are gone, may still log in (the
# default login rule wants a role bound to the user or one of its groups).
ok "auth set project misc projectViewer user:carol, user:bob" sh -c \
	"'$IDGATECTL' auth set project misc projectViewer user:carol && '$IDGATECTL' auth set project misc projectViewer user:bob"

ssh_pam_idgate $PAM_ARGS_PASSWORD
ok "sshd starts" sshd_start

# First logins make the users (and give them uids); the enforcer names them within 1 s.
ssh_pw alice alice-password id -u
is "alice logs in over SSH" "$RC" 0
AUID=$OUT
ssh_pw bob "$BOB_PW" id -Gn
is "bob logs in over SSH" "$RC" 0
like "... with his IdP group ops" "$OUT" "(^| )ops( |$)"
ssh_pw carol carol-password id -u
is "carol logs in over SSH" "$RC" 0
CUID=$OUT
BUID=$(id -u bob) OGID=$(getent group ops | cut -d: -f3)
ok "the repo's ACL names alice (rwx) and ops (r-x)" within 5 acl_has "$R" \
	"user:$AUID:rwx .*group:$OGID:r-x"

ssh_pw alice alice-password sh -c "'echo from-alice >$R/hello.txt && cat $R/hello.txt'"
is "alice writes a file over SSH" "$RC:$OUT" "0:from-alice"
ssh_pw bob "$BOB_PW" cat "$R/hello.txt"
is "bob reads it" "$RC:$OUT" "0:from-alice"
ssh_pw bob "$BOB_PW" sh -c "'echo from-bob >>$R/hello.txt'"
like "bob cannot write it: Permission denied" "$RC:$ERR" "^[12]:.*Permission denied"
ssh_pw bob "$BOB_PW" sh -c "'echo from-bob >$R/bob.txt'"
like "bob cannot create a file: Permission denied" "$RC:$ERR" "^[12]:.*Permission denied"
ssh_pw carol carol-password ls "$R"
like "carol cannot list the repo: Permission denied" "$RC:$ERR" "^[12]:.*Permission denied"
ssh_pw carol carol-password cat "$R/hello.txt"
like "carol cannot read the file: Permission denied" "$RC:$ERR" "^[12]:.*Permission denied"

ok "auth set repo images/raw repoWriter user:bob" ctl auth set repo images/raw repoWriter user:bob
MS=$(on_disk_ms acl_has "$R/hello.txt" "user:$BUID:rw")
diag "bob's entry on the existing file after $MS ms"
ok "... on disk (on the existing file) within 1 s" test "$MS" != never -a "${MS:-99999}" -le 1000
ssh_pw bob "$BOB_PW" sh -c "'echo from-bob >>$R/hello.txt && echo new >$R/bob.txt'"
is "bob writes (appends, creates)" "$RC" 0
is "... alice sees his line" "$(tail -n 1 "$R/hello.txt")" "from-bob"

ok "auth set repo images/raw none user:bob" ctl auth set repo images/raw none user:bob
ok "auth set cluster none group:ops" ctl auth set cluster none group:ops
ok "... both gone from disk within 1 s" within 1 acl_lacks "$R" "(user:$BUID|group:$OGID):"
ssh_pw bob "$BOB_PW" cat "$R/hello.txt"
like "bob can no longer read: Permission denied" "$RC:$ERR" "^[12]:.*Permission denied"
ssh_pw bob "$BOB_PW" ls "$R"
like "... nor list" "$RC:$ERR" "^[12]:.*Permission denied"

ok "auth set repo images/raw repoReader user:carol" ctl auth set repo images/raw repoReader user:carol
ok "... on disk within 1 s" within 1 acl_has "$R" "user:$CUID:r-x"
ssh_pw alice alice-password sh -c "'mkdir $R/later && echo later >$R/later/file.txt'"
is "alice creates a directory and a file later" "$RC" 0
like "... the file inherited: alice rw, carol r, nobody else" "$(acl "$R/later/file.txt")" \
	"^user::rw- user:$AUID:rwx[[:space:]]+#effective:rw- user:$CUID:r-x[[:space:]]+#effective:r-- group::r-x[[:space:]]+#effective:r-- mask::rw- other::--- $"
like "... the directory inherited the default ACL too" "$(acl "$R/later")" \
	"default:user:$CUID:r-x"
ssh_pw carol carol-password cat "$R/later/file.txt"
is "carol reads it over SSH" "$RC:$OUT" "0:later"
ssh_pw carol carol-password sh -c "'echo x >>$R/later/file.txt'"
like "... and cannot write it" "$RC:$ERR" "^[12]:.*Permission denied"
ssh_pw bob "$BOB_PW" cat "$R/later/file.txt"
like "bob cannot read it" "$RC:$ERR" "^[12]:.*Permission denied"

# Drift: by hand, then the next repair (every 2 s here).
chmod 777 "$R"
setfacl -m "u:$BUID:rwx" "$R"
ok "drift (chmod 777, setfacl -m u:bob:rwx) is repaired" within 20 sh -c \
	"getfacl -pcn '$R' | grep -q '^other::---' && ! getfacl -pcn '$R' | grep -q '^user:$BUID:'"
ok "... and logged with what was wrong" grep -q \
	"enforce: repaired images/raw/.: access ACL was .*user:$BUID:rwx.*other::rwx" "$LOG"
ssh_pw bob "$BOB_PW" ls "$R"
like "... bob cannot list again" "$RC:$ERR" "^[12]:.*Permission denied"

sshd_stop
ok "idgated stops cleanly" daemon_stop
ssh_real_etc_check
done_testing
