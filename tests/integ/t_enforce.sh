#!/bin/sh
# The enforcer: repo directories' POSIX ACLs follow the bindings, and the kernel enforces
# them on real reads and writes by IdP users (their uids and groups from the built NSS
# module, in a mount namespace with a private /etc and snapshot directory). Readers read and
# cannot write, writers write, others cannot list or read; a binding change is on disk within
# 1 s; new files inherit; drift (chmod 777, setfacl -m u:carol:rwx) is repaired and logged;
# names that would leave the data root are refused and a planted symlink is never followed;
# deleting a repo closes it at once; deactivation leaves owner-only directories; with idgated
# stopped the ACLs stay.
. "$top_srcdir/tests/integ/lib.sh"
. "$top_srcdir/tests/integ/acl_lib.sh"

B=$top_builddir
NSS=$B/.libs/libnss_idgate.so.2

acl_enter_namespace "$@"

# ---------- the private world ----------
t_setup
nss_private_world "$NSS"
daemon_config
# Repairs every 3 s, so the drift tests wait little.
sed -i 's|^root = .*|&\nrepair_interval = 3s|' "$T_DIR/idgate.conf"
export LD_LIBRARY_PATH="$B/.libs"

R=$T_DIR/repos/images/raw
LOG=$T_DIR/daemon.log

# as_user NAME COMMAND...: run as an IdP user with the groups NSS gives it.
as_user() { _n=$1; shift; setpriv --reuid="$_n" --regid="$_n" --init-groups "$@"; }
repairs() { grep -c "enforce: repair:" "$LOG"; }
# next_repair: wait for a repair pass that starts after now to end.
next_repair() { _c=$(repairs); within 30 sh -c "[ \$(grep -c 'enforce: repair:' '$LOG') -ge $((_c + 2)) ]"; }

ok "idgated starts" daemon_start
ok "user add alice, bob (group readers), carol" sh -c \
	"'$IDGATECTL' user add alice >/dev/null && '$IDGATECTL' user add bob --group readers >/dev/null && '$IDGATECTL' user add carol >/dev/null"
ok "NSS sees them" sh -c 'id alice >/dev/null && id bob >/dev/null && id carol >/dev/null'
AUID=$(id -u alice) BUID=$(id -u bob) CUID=$(id -u carol)
RGID=$(getent group readers | cut -d: -f3)
UGID=$(getent group idgate-users | cut -d: -f3)
like "bob is in group readers" "$(id -Gn bob)" "readers"

ok "create project images, repo images/raw" sh -c \
	"'$IDGATECTL' create project images && '$IDGATECTL' create repo images/raw"
ok "auth set repo images/raw repoOwner user:alice" ctl auth set repo images/raw repoOwner user:alice
ok "auth set cluster repoReader group:readers" ctl auth set cluster repoReader group:readers

ok "within 1 s the directory's ACL has alice rwx and readers r-x" within 1 acl_has "$R" \
	"user:$AUID:rwx .*group:$RGID:r-x"
like "... access ACL: owner root, nobody else, mask rwx" "$(acl "$R")" \
	"^user::rwx user:$AUID:rwx group::r-x group:$RGID:r-x mask::rwx other::--- "
like "... and the same default ACL (new files inherit)" "$(acl "$R")" \
	"default:user:$AUID:rwx default:group::r-x default:group:$RGID:r-x default:mask::rwx default:other::---"
is "... owned by root:root, mode 0750 with the mask" "$(stat -c '%U:%G:%a' "$R")" "root:root:770"
unlike "... carol and bob by uid are not in it" "$(acl "$R")" "user:($CUID|$BUID):"

# ---------- real reads and writes ----------
ok "alice writes a file" as_user alice sh -c "echo data >'$R/f1'"
is "bob reads it" "$(as_user bob cat "$R/f1" 2>&1)" "data"
run as_user bob sh -c "echo x >>'$R/f1'"
like "bob cannot write it: Permission denied" "$ERR" "Permission denied"
run as_user bob sh -c "echo x >'$R/f2'"
like "bob cannot create a file: Permission denied" "$ERR" "Permission denied"
run as_user carol ls "$R"
like "carol cannot list the repo" "$ERR" "Permission denied"
run as_user carol cat "$R/f1"
like "carol cannot read the file" "$ERR" "Permission denied"
like "the new file inherited the ACL (alice rw, readers r)" "$(acl "$R/f1")" \
	"user:$AUID:rwx.*#effective:rw-.*group:$RGID:r-x.*#effective:r--|user:$AUID:rw-.*group:$RGID:r--"
ok "alice makes a subdirectory and a file in it" as_user alice sh -c "mkdir '$R/sub' && echo deep >'$R/sub/f3'"
is "bob reads that too" "$(as_user bob cat "$R/sub/f3" 2>&1)" "deep"
run as_user bob sh -c "echo x >'$R/sub/f4'"
like "... and cannot write there" "$ERR" "Permission denied"

# ---------- a binding change within 1 s ----------
ok "auth set repo images/raw repoWriter user:bob" ctl auth set repo images/raw repoWriter user:bob
ok "within 1 s bob writes (the existing file and a new one)" within 1 as_user bob sh -c \
	"echo more >>'$R/f1' && echo b >'$R/f2'"
like "... the existing file below has bob rw" "$(acl "$R/sub/f3")" "user:$BUID:rw"
echo put-data >"$T_DIR/putsrc"
ok "root puts a file into a new directory through idgated (put file)" \
	ctl put file images/raw:/made/by/put.txt -f "$T_DIR/putsrc"
ok "... at once bob (a writer) appends to it and writes in its new directory" as_user bob sh -c \
	"echo more >>'$R/made/by/put.txt' && echo b >'$R/made/by/bob.txt'"
like "... the put file has the repo's ACL, mask rw-" "$(acl "$R/made/by/put.txt")" \
	"user:$BUID:rw-.*mask::rw-"
ok "auth set repo images/raw none user:bob; auth set cluster none group:readers" sh -c \
	"'$IDGATECTL' auth set repo images/raw none user:bob && '$IDGATECTL' auth set cluster none group:readers"
ok "within 1 s bob can no longer read" within 1 sh -c "! setpriv --reuid=bob --regid=bob --init-groups cat '$R/f1' >/dev/null 2>&1"
unlike "... and no entry for bob or readers is left on any file" \
	"$(getfacl -Rpn "$R" 2>/dev/null)" "(user:$BUID|group:$RGID):"
ok "alice still reads and writes" as_user alice sh -c "cat '$R/f1' >/dev/null && echo y >>'$R/f1'"

ok "auth set repo images/raw repoReader allClusterUsers" ctl auth set repo images/raw repoReader allClusterUsers
ok "... idgate-users ($UGID) gets r-x within 1 s" within 1 acl_has "$R" "group:$UGID:r-x"
is "... so carol reads" "$(as_user carol cat "$R/sub/f3" 2>&1)" "deep"
ok "auth set repo images/raw none allClusterUsers" ctl auth set repo images/raw none allClusterUsers
ok "... carol cannot within 1 s" within 1 sh -c "! setpriv --reuid=carol --regid=carol --init-groups cat '$R/sub/f3' >/dev/null 2>&1"

# ---------- drift ----------
BEFORE=$(acl "$R")
chmod 777 "$R"
setfacl -m "u:$CUID:rwx" "$R"
chmod 666 "$R/f1"
ok "drift by hand: carol could list now" sh -c "setpriv --reuid=carol --regid=carol --init-groups ls '$R' >/dev/null"
ok "the next repair undoes it" next_repair
is "... the directory's ACL is as before" "$(acl "$R")" "$BEFORE"
unlike "... no carol" "$(acl "$R")" "user:$CUID"
run as_user carol ls "$R"
like "... carol cannot list again" "$ERR" "Permission denied"
is "... f1 is back to 0660 with its mask" "$(stat -c %a "$R/f1")" "660"
ok "... and the repair is logged with what was wrong" grep -q \
	"enforce: repaired images/raw/.: access ACL was .*user:$CUID:rwx" "$LOG"
ok "... also for the file" grep -q "enforce: repaired images/raw/f1: access ACL was .*other::rw-" "$LOG"
grep -q "enforce: repaired" "$LOG" || diag "$(grep enforce: "$LOG" | tail -n 20)"

# ---------- SIGHUP: [data] mode and enforce ----------
sed -i 's|^repair_interval = 3s|&\nmode = 0700|' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
ok "[data] mode = 0700 and SIGHUP: the owning group loses r-x at the next repair" within 20 \
	acl_has "$R" "^user::rwx .*group::--- "
like "... files too" "$(acl "$R/f1")" "group::--- "
ok "... alice still writes" as_user alice sh -c "echo z >>'$R/f1'"
sed -i -e '/^mode = 0700$/d' -e 's|^repair_interval = 3s|&\nenforce = no|' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
ok "enforce = no and SIGHUP: reloaded" within 10 sh -c "[ \$(grep -c 'configuration reloaded' '$LOG') -ge 2 ]"
setfacl -m "u:$CUID:r-x" "$R"
sleep 7	# more than two repair intervals
ok "... a setfacl by hand stays (nothing is touched)" acl_has "$R" "user:$CUID:r-x"
sed -i '/^enforce = no$/d' "$T_DIR/idgate.conf"
kill -HUP "$T_PID"
ok "enforce back on: the next repair removes it and restores mode 0750" within 20 sh -c \
	"! getfacl -pcn '$R' | grep -q '^user:$CUID:' && getfacl -pcn '$R' | grep -q '^group::r-x'"

# ---------- bad names, planted symlinks ----------
for n in .. images/.. ../x images/a/b /etc x/../../y; do
	run ctl create repo "$n"
	is "create repo '$n': refused (exit 2)" "$RC" 2
done
mkdir "$T_DIR/outside"
echo secret >"$T_DIR/outside/target"
chmod 600 "$T_DIR/outside/target"
chown 12345:12345 "$T_DIR/outside/target"
outside() { stat -c '%u:%g:%a' "$T_DIR/outside" "$T_DIR/outside/target" "$T_DIR/outside/linked" 2>&1; acl "$T_DIR/outside"; acl "$T_DIR/outside/target"; acl "$T_DIR/outside/linked"; }
ln -s "$T_DIR/outside/target" "$R/link"
echo shared >"$T_DIR/outside/linked"
chown 12345:12345 "$T_DIR/outside/linked"
chmod 606 "$T_DIR/outside/linked"
ln "$T_DIR/outside/linked" "$R/hardlink"
ln -s "$T_DIR/outside" "$R/dirlink"
OUTSIDE_BEFORE=$(outside)
ctl create repo images/lnk >/dev/null
mv "$T_DIR/repos/images/lnk" "$T_DIR/lnk.real"
ln -s "$T_DIR/outside" "$T_DIR/repos/images/lnk"
ok "auth set repo images/lnk repoWriter user:carol (its directory is now a symlink)" \
	ctl auth set repo images/lnk repoWriter user:carol
ok "a repair runs over the planted symlinks" next_repair
is "the targets outside the data root (symlinked, hard-linked) are untouched" "$(outside)" \
	"$OUTSIDE_BEFORE"
ok "... the hard-linked file is logged as left alone" grep -q \
	"enforce: left alone images/raw/hardlink: it has more than one hard link" "$LOG"
ok "the symlinked repo directory is refused and logged" grep -q \
	"enforce: repo images/lnk: cannot open its directory .* without following a symlink" "$LOG"
run as_user carol cat "$R/link"
like "carol cannot reach the target through the repo either" "$ERR" "Permission denied"
rm -f "$T_DIR/repos/images/lnk"
mv "$T_DIR/lnk.real" "$T_DIR/repos/images/lnk"

# ---------- idgated stopped: ACLs stay ----------
ok "auth set repo images/raw repoReader user:bob" ctl auth set repo images/raw repoReader user:bob
ok "... on disk within 1 s" within 1 acl_has "$R" "user:$BUID:r-x"
SNAPSHOT_ACL=$(getfacl -Rpn "$R" 2>/dev/null)
ok "idgated stops" daemon_stop
is "the ACLs on disk are unchanged with idgated stopped" "$(getfacl -Rpn "$R" 2>/dev/null)" "$SNAPSHOT_ACL"
is "bob still reads" "$(as_user bob cat "$R/sub/f3" 2>&1)" "deep"
run as_user carol cat "$R/f1"
like "carol still cannot" "$ERR" "Permission denied"
ok "idgated starts again" daemon_start
ok "its start-up repair finds nothing to repair" within 10 grep -q \
	"enforce: repair: .* 0 repaired" "$LOG"

# ---------- idgate-check: "may I?" by exit status ----------
CHECK=$B/dist/idgate-check
export IDGATECTL
ok "alice: idgate-check REPO_WRITE repo images/raw (exit 0, silent)" sh -c \
	"[ -z \"\$(setpriv --reuid=alice --regid=alice --init-groups '$CHECK' REPO_WRITE repo images/raw 2>&1)\" ]"
run as_user carol "$CHECK" REPO_READ repo images/raw
is "carol: idgate-check REPO_READ repo images/raw: exit 1" "$RC" 1
like "... with the refusal on stderr" "$ERR" "^user:carol is not authorized to perform this operation - needs permissions \[REPO_READ\] on REPO images/raw"
run as_user carol "$CHECK" -q REPO_READ repo images/raw
is "... -q: exit 1, nothing printed" "$RC:$OUT$ERR" "1:"
run "$CHECK" --subject user:bob REPO_READ repo images/raw
is "root: --subject user:bob REPO_READ: allowed" "$RC" 0
run "$CHECK" --subject user:bob REPO_WRITE repo images/raw
is "root: --subject user:bob REPO_WRITE: denied" "$RC" 1
run "$CHECK" NO_SUCH_PERM repo images/raw
is "an unknown permission: exit 2" "$RC" 2
run "$CHECK" REPO_READ bucket x
is "an unknown resource type: exit 2" "$RC" 2
run as_user alice env SSH_ORIGINAL_COMMAND="cat $R/sub/f3" "$CHECK" --exec REPO_READ repo images/raw
is "--exec (ForceCommand): alice's SSH_ORIGINAL_COMMAND runs" "$RC:$OUT" "0:deep"
run as_user alice "$CHECK" --exec REPO_READ repo images/raw -- echo ran
is "--exec -- COMMAND runs when allowed" "$RC:$OUT" "0:ran"
run as_user carol env SSH_ORIGINAL_COMMAND="echo ran" "$CHECK" --exec REPO_READ repo images/raw
is "--exec denied: nothing runs, exit 1" "$RC:$OUT" "1:"
like "... the refusal is shown" "$ERR" "needs permissions \[REPO_READ\]"
run env IDGATE_SOCKET="$T_DIR/nonexistent.sock" "$CHECK" REPO_READ repo images/raw
is "idgated unreachable: exit 3" "$RC" 3

# ---------- delete: access ends at once ----------
ok "alice can read before the delete" sh -c "setpriv --reuid=alice --regid=alice --init-groups cat '$R/f1' >/dev/null"
ok "delete repo images/raw" ctl delete repo images/raw
run as_user alice cat "$R/f1"
is "alice cannot read the file at the old path" "$RC" 1
MOVED=$(ls -d "$T_DIR"/repos/.deleted/images.raw.* 2>/dev/null | head -1)
ok "the data is kept under .deleted" test -f "$MOVED/f1"
run as_user alice cat "$MOVED/f1"
like "... where alice cannot reach it" "$ERR" "Permission denied"

# ---------- deactivation ----------
ok "create repo images/two, repoReader for bob" sh -c \
	"'$IDGATECTL' create repo images/two && '$IDGATECTL' auth set repo images/two repoReader user:bob"
ok "... on disk within 1 s" within 1 acl_has "$T_DIR/repos/images/two" "user:$BUID:r-x"
ok "auth deactivate --yes" sh -c "'$IDGATECTL' auth deactivate --yes >/dev/null"
ok "within 1 s images/two is owner-only (every binding is gone)" within 1 acl_lacks \
	"$T_DIR/repos/images/two" "(user|group):[0-9]+:"
is "... access and default ACL: owner rwx, group r-x, others nothing" \
	"$(acl "$T_DIR/repos/images/two")" \
	"user::rwx group::r-x other::--- default:user::rwx default:group::r-x default:other::--- "

ok "idgated stops cleanly" daemon_stop
ok "no error from the enforcer but the symlinked repo's" sh -c \
	"! grep 'enforce:' '$LOG' | grep -E 'err|cannot' | grep -v 'images/lnk'"
done_testing
