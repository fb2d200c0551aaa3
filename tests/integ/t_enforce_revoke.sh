#!/bin/sh
# Revocation holds against a repo writer who prepared for it (issue 13, items 4, 9, 10), with
# real reads and writes by IdP users (the built NSS module in a mount namespace):
#   - a hard link alice plants in her own directory to a repo file, and a file of her own she
#     links into the repo: once her role is gone she can neither read nor rewrite either
#     through her names (the ACL is on the inode);
#   - a process of alice holding a directory deep inside a repo (as its cwd and as an open
#     descriptor) while the repo is deleted: it can no longer read, write or create there,
#     and no entry but the owner's is left anywhere in the retired tree;
#   - setgid and sticky bits a writer puts on its directories (and files) are cleared.
. "$top_srcdir/tests/integ/lib.sh"
. "$top_srcdir/tests/integ/acl_lib.sh"

B=$top_builddir
NSS=$B/.libs/libnss_idgate.so.2

acl_enter_namespace "$@"

t_setup
nss_private_world "$NSS"
daemon_config
# Repairs every 2 s, so the set-id test waits little.
sed -i 's|^root = .*|&\nrepair_interval = 2s|' "$T_DIR/idgate.conf"
export LD_LIBRARY_PATH="$B/.libs"
LOG=$T_DIR/daemon.log
R=$T_DIR/repos/p/data

as_user() { _n=$1; shift; setpriv --reuid="$_n" --regid="$_n" --init-groups "$@"; }
repairs() { grep -c "enforce: repair:" "$LOG"; }
next_repair() { _c=$(repairs); within 30 sh -c "[ \$(grep -c 'enforce: repair:' '$LOG') -ge $((_c + 2)) ]"; }

ok "idgated starts" daemon_start
ok "user add alice, bob" sh -c "'$IDGATECTL' user add alice >/dev/null && '$IDGATECTL' user add bob >/dev/null"
ok "NSS sees them" sh -c 'id alice >/dev/null && id bob >/dev/null'
AUID=$(id -u alice)
# alice's own directory, on the same filesystem as the data root (hard links need that).
H=$T_DIR/home/alice
mkdir -p "$H" && chown alice:alice "$H" && chmod 0700 "$H"

ok "create project p, repo p/data" sh -c "'$IDGATECTL' create project p && '$IDGATECTL' create repo p/data"
ok "auth set repo p/data repoWriter user:alice, repoReader user:bob" sh -c \
	"'$IDGATECTL' auth set repo p/data repoWriter user:alice && '$IDGATECTL' auth set repo p/data repoReader user:bob"
ok "... on disk within 1 s" within 1 acl_has "$R" "user:$AUID:rwx"

# ---------- item 4: a planted hard link does not outlive the role ----------
printf 'id,amount\n1,10\n' >"$T_DIR/report.src"
ok "put file p/data:/report.csv (the data owner's file, the repo's ACL)" \
	ctl put file p/data:/report.csv -f "$T_DIR/report.src"
is "... owned by root" "$(stat -c %U "$R/report.csv")" root
if [ "$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)" = 1 ]; then
	ok "alice (a writer) hard-links it into her own directory" \
		as_user alice ln "$R/report.csv" "$H/mine.csv"
	is "... it has two links" "$(stat -c %h "$R/report.csv")" 2
	ok "... and reads and writes it through her link" as_user alice sh -c \
		"cat '$H/mine.csv' >/dev/null && echo '2,20' >>'$H/mine.csv'"
	# The same with a file of her own: made in her directory and linked into the repo (as if
	# she had linked out a file she made in the repo before any walk gave it to root).
	ok "alice links a file of her own into the repo" as_user alice sh -c \
		"echo 'a,1' >'$H/own.csv' && ln '$H/own.csv' '$R/own.csv'"
	ok "the next repair keeps the repo's ACL on them (alice still a writer)" next_repair
	is "... her own file is now the data owner's" "$(stat -c %U:%G "$R/own.csv")" root:root
	ok "... alice still writes through her links" as_user alice sh -c \
		"echo '3,30' >>'$H/mine.csv' && echo 'a,2' >>'$H/own.csv'"
	ok "auth set repo p/data none user:alice" ctl auth set repo p/data none user:alice
	ok "within 1 s alice cannot read the file through her link" within 1 sh -c \
		"! setpriv --reuid=alice --regid=alice --init-groups cat '$H/mine.csv' >/dev/null 2>&1"
	run as_user alice sh -c "echo 'evil' >>'$H/mine.csv'"
	like "... nor append to it: Permission denied" "$ERR" "Permission denied"
	run as_user alice sh -c "echo 'evil' >'$H/mine.csv'"
	like "... nor truncate it" "$ERR" "Permission denied"
	run as_user alice chmod 666 "$H/mine.csv"
	like "... nor chmod it (not hers)" "$ERR" "Operation not permitted"
	unlike "... no entry for alice is left on the file" "$(acl "$R/report.csv")" "user:$AUID:"
	is "... the repo's file holds what alice wrote while she could, nothing after" \
		"$(cat "$R/report.csv")" "$(printf 'id,amount\n1,10\n2,20\n3,30')"
	is "bob (a reader) still reads it" "$(as_user bob cat "$R/report.csv" 2>&1 | head -n 1)" "id,amount"
	run as_user alice sh -c "cat '$H/own.csv'"
	like "the file she linked in: she cannot read it" "$ERR" "Permission denied"
	run as_user alice sh -c "echo 'evil' >>'$H/own.csv'"
	like "... nor write it" "$ERR" "Permission denied"
	run as_user alice chmod 666 "$H/own.csv"
	like "... nor chmod it" "$ERR" "Operation not permitted"
	is "... it holds what she wrote while she could" "$(cat "$R/own.csv" | tr '\n' ' ')" "a,1 a,2 "
	ok "alice may still drop her own names for them" as_user alice rm -f "$H/mine.csv" "$H/own.csv"
	ok "auth set repo p/data repoWriter user:alice (back, for what follows)" \
		ctl auth set repo p/data repoWriter user:alice
	ok "... on disk within 1 s" within 1 acl_has "$R" "user:$AUID:rwx"
else
	pass "# SKIP fs.protected_hardlinks is not 1: multi-link files are left alone"
fi

# ---------- item 10: set-id and sticky bits on what a writer made ----------
ok "alice makes directories and a file and sets chmod 2770, 1770, 2660" as_user alice sh -c \
	"mkdir '$R/sg' '$R/st' && chmod 2770 '$R/sg' && chmod 1770 '$R/st' && echo x >'$R/sf' && chmod 2660 '$R/sf'"
is "... the bits are set" "$(stat -c %a "$R/sg" "$R/st" "$R/sf" | tr '\n' ' ')" "2770 1770 2660 "
ok "the next repair runs" next_repair
is "... it cleared them all (owner root:root)" \
	"$(stat -c '%a %U:%G' "$R/sg" "$R/st" "$R/sf" | tr '\n' ' ')" \
	"770 root:root 770 root:root 660 root:root "
ok "... and logged what the directory's mode was" grep -q \
	"enforce: repaired p/data/sg: mode was 2770 (set-id and sticky bits are cleared)" "$LOG"
ok "a file alice makes in sg now gets her own group, not the data group" as_user alice sh -c \
	"echo y >'$R/sg/after'"
is "... group alice" "$(stat -c %G "$R/sg/after")" alice

# ---------- item 9: deleting a repo closes its whole tree ----------
ok "create repo p/gone; repoWriter user:alice" sh -c \
	"'$IDGATECTL' create repo p/gone && '$IDGATECTL' auth set repo p/gone repoWriter user:alice"
G=$T_DIR/repos/p/gone
ok "... on disk within 1 s" within 1 acl_has "$G" "user:$AUID:rwx"
ok "alice makes a/b with a file in it" as_user alice sh -c "mkdir -p '$G/a/b' && echo secret >'$G/a/b/f'"
ok "a repair gives everything to the owner" next_repair
is "... a/b/f is root's" "$(stat -c %U "$G/a/b/f")" root

# A process of alice in a/b (its cwd) that also holds a/b open as fd 3; it reports readiness,
# waits for the go, then tries to read, write and create there by both ways.
cat >"$T_DIR/holder.sh" <<'EOF'
cd "$1" || exit 1
exec 3<.
echo ready >"$2/ready"
i=0
while [ ! -e "$2/go" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
r() { if "$@" >/dev/null 2>&1; then echo yes; else echo no; fi; }
{
	echo "cwd-read $(r cat f)"
	echo "cwd-write $(r sh -c 'echo w >>f')"
	echo "cwd-create $(r sh -c 'echo c >new1')"
	echo "cwd-mkdir $(r mkdir newdir)"
	echo "fd-read $(r cat /proc/self/fd/3/f)"
	echo "fd-write $(r sh -c 'echo w >>/proc/self/fd/3/f')"
	echo "fd-create $(r sh -c 'echo c >/proc/self/fd/3/new2')"
} >"$2/result"
EOF
S=$H/sync
as_user alice mkdir "$S"
as_user alice sh "$T_DIR/holder.sh" "$G/a/b" "$S" &
HOLDER=$!
ok "alice's process sits in p/gone/a/b" within 10 test -e "$S/ready"
ok "delete repo p/gone" ctl delete repo p/gone
as_user alice touch "$S/go"
wait "$HOLDER"
is "... then it can neither read, write nor create there (cwd or fd)" \
	"$(tr '\n' ' ' <"$S/result" 2>/dev/null)" \
	"cwd-read no cwd-write no cwd-create no cwd-mkdir no fd-read no fd-write no fd-create no "
MOVED=$(ls -d "$T_DIR"/repos/.deleted/p.gone.* 2>/dev/null | head -n 1)
ok "the data is kept under .deleted" test -f "$MOVED/a/b/f"
is "... unchanged" "$(cat "$MOVED/a/b/f")" secret
unlike "no named or group entry, no access for the owning group or others, anywhere in it" \
	"$(getfacl -Rpcn "$MOVED" 2>/dev/null | grep -v '^#')" \
	"^(default:)?((user|group):[0-9]+:|(group|other)::.*[rwx])"
unlike "... and no ACL mask either" "$(getfacl -Rpcn "$MOVED" 2>/dev/null)" "mask::"

ok "idgated stops cleanly" daemon_stop
ok "no error from the enforcer" sh -c "! grep 'enforce:' '$LOG' | grep -E 'err|cannot'"
done_testing
