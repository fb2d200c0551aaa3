#!/bin/sh
# The POSIX directory end to end: idgated with the real test IdP (Keycloak shape, TLS on
# loopback) writes the NSS snapshot, and glibc (getent, id, chown, stat, ls) answers through
# the built libnss_idgate.so.2 — in a mount namespace with a private copy of /etc (so
# useradd and nsswitch.conf "passwd: files idgate" touch nothing outside) and a private
# directory over the snapshot's. Covers pre-provisioning, logins, ids that never change,
# group membership replaced at login, the refusals (a local account's name, a name hashing
# onto a local id, a second subject), sshd's provisional entries, and idgated stopped.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"

B=$top_builddir
NSS=$B/.libs/libnss_idgate.so.2
DRV=$B/tests/integ/nss_driver

if [ "${1:-}" != --inner ]; then
	if [ "$(id -u)" != 0 ] || ! unshare --mount true 2>/dev/null; then
		echo "1..0 # SKIP needs root and mount namespaces"
		exit 0
	fi
	trap - EXIT
	exec unshare --mount --fork sh "$0" --inner
fi

oidc_require
command -v useradd >/dev/null 2>&1 || { echo "1..0 # SKIP useradd is missing"; exit 0; }

# ---------- the private world ----------
oidc_setup
nss_private_world "$NSS"
export LD_LIBRARY_PATH="$B/.libs"

# The uid idgated tries first for a name: FNV-1a 64 of it into the default range.
hash_id() {
	node -e 'let h = 0xcbf29ce484222325n;
for (const b of Buffer.from(process.argv[1])) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
console.log((200000n + h % (2000200000n - 200000n + 1n)).toString());' "$1"
}
# Local accounts of this test: carol (also an IdP user) and one holding bob's hashed uid.
useradd -M -s /usr/sbin/nologin carol 2>/dev/null
BOB_HASH=$(hash_id bob)
useradd -M -s /usr/sbin/nologin -u "$BOB_HASH" clash 2>/dev/null
ok "test set-up: local accounts carol and clash (uid $BOB_HASH, bob's hashed uid)" \
	sh -c 'grep -q "^carol:" /etc/passwd && grep -q "^clash:x:'"$BOB_HASH"':" /etc/passwd'

ok "the test IdP starts (keycloak shape)" idp_start kc keycloak
idp_config keycloak
ok "idgated starts" daemon_start
ok "the first snapshot is published" test -f "$SNAP"
is "... owned by root, mode 0644" "$(stat -c '%U %a' "$SNAP")" "root 644"
run getent group idgate-users
like "getent group idgate-users: idgate's own group, inside the range" "$OUT" \
	"^idgate-users:x:[0-9]{6,10}:$"

logged() { grep -q "$1" "$T_DIR/daemon.log"; }

# ---------- refusals: never a local name, never a local id ----------
for n in root daemon carol; do
	run ctl user add "$n"
	is "user add $n: refused (exit 2)" "$RC" 2
	like "... because $n is a local account" "$ERR" "'$n' is a local account on this host"
done
ok "... and logged" logged "user carol refused: 'carol' is a local account"
run ctl user add bob
is "user add bob (hashes onto clash's uid $BOB_HASH): refused" "$RC" 2
like "... and says so" "$ERR" "maps onto an existing local id $BOB_HASH \(clash\)"
ok "... and logged" logged "user bob refused: 'bob' maps onto an existing local id"
run ctl user list
is "nothing was added" "$(printf '%s\n' "$OUT" | sed 1d)" ""

login_pw root root-password
is "IdP login of root: refused" "$RC" 1
like "... a local account" "$ERR" "'root' is a local account on this host"
login_pw carol carol-password
is "IdP login of carol (a local account added with useradd): refused" "$RC" 1
like "... a local account" "$ERR" "'carol' is a local account on this host"
login_pw bob 'b0b & co=+%/ pw'
is "IdP login of bob (hashes onto a local uid): refused" "$RC" 1
like "... a local id" "$ERR" "maps onto an existing local id $BOB_HASH"
ok "IdP refusals are logged" sh -c "grep -q 'user:carol.*local account' '$T_DIR/daemon.log' && \
	grep -q 'user:bob.*maps onto an existing local id' '$T_DIR/daemon.log'"
run getent passwd bob
is "bob is not in the POSIX view" "$RC" 2

# ---------- pre-provisioning: files before the first login ----------
run ctl user add alice --group early-team --gecos "Alice (pre-provisioned)"
is "user add alice --group early-team: exit 0" "$RC" 0
ALICE_UID=$(printf '%s\n' "$OUT" | sed -n 's/.*: uid \([0-9]*\), gid.*/\1/p')
is "alice gets her hashed uid" "$ALICE_UID" "$(hash_id alice)"
run getent passwd alice
is "getent passwd alice (before any login)" "$OUT" \
	"alice:x:$ALICE_UID:$ALICE_UID:Alice (pre-provisioned):/home/alice:/bin/bash"
EARLY_GID=$(getent group early-team | cut -d: -f3)
run getent group early-team
is "getent group early-team lists alice" "$OUT" "early-team:x:$EARLY_GID:alice"
echo data >"$T_DIR/f"
run chown alice:early-team "$T_DIR/f"
is "chown alice:early-team f (by name, through NSS)" "$RC:$ERR" "0:"
is "stat shows the file's owner and group by name and number" \
	"$(stat -c '%U:%G %u:%g' "$T_DIR/f")" "alice:early-team $ALICE_UID:$EARLY_GID"
like "ls -l shows the names" "$(ls -l "$T_DIR/f")" " alice early-team "
run ctl user list
like "user list: alice, pre-provisioned" "$OUT" "^alice +$ALICE_UID +$ALICE_UID +early-team +pre-provisioned$"

# ---------- the first login pins the name; the IdP's groups replace the early ones ----------
login_pw alice alice-password
is "IdP login of alice: exit 0" "$RC:$ERR" "0:"
run getent passwd alice
is "alice keeps her uid; the IdP's name is her gecos" "$OUT" \
	"alice:x:$ALICE_UID:$ALICE_UID:Alice Anderson:/home/alice:/bin/bash"
run id alice
is "id alice: exit 0" "$RC" 0
like "id alice shows her IdP groups" "$OUT" "groups=$ALICE_UID\(alice\),.*\(engineering\)"
like "... the nested one too" "$OUT" "\(engineering\.data-team\)"
like "... and idgate-users" "$OUT" "\(idgate-users\)"
unlike "... but no longer early-team (membership is what the IdP says)" "$OUT" "early-team"
ENG_GID=$(getent group engineering | cut -d: -f3)
run getent group engineering
is "getent group engineering" "$OUT" "engineering:x:$ENG_GID:alice"
run getent group alice
is "alice's private group: gid = uid, no listed members" "$OUT" "alice:x:$ALICE_UID:"
run getent passwd "$ALICE_UID"
like "getent passwd by uid" "$OUT" "^alice:x:$ALICE_UID:"
run chown alice:engineering "$T_DIR/f"
is "chown alice:engineering f" "$(stat -c '%U:%G %u:%g' "$T_DIR/f")" \
	"alice:engineering $ALICE_UID:$ENG_GID"
run ctl user list
like "user list: alice, logged in" "$OUT" "^alice +$ALICE_UID +$ALICE_UID +.*engineering.* +logged in$"

run as_uid "$ALICE_UID" "$IDGATECTL" --socket "$SOCK" auth whoami
like "a process running as alice's uid is user:alice to idgated" "$OUT" "user:alice"
run as_uid "$BOB_HASH" "$IDGATECTL" --socket "$SOCK" auth whoami
unlike "... a local account's uid is not an IdP user" "$OUT" "user:"

# A token whose groups claim holds only /engineering: the nested group goes.
TOK=$(mint '{"user": "alice", "claims": {"groups": ["/engineering"]}}')
login_token "$TOK"
is "a second login (token) with fewer groups: exit 0" "$RC:$ERR" "0:"
run id -Gn alice
unlike "... engineering.data-team is gone from id alice" "$OUT" "engineering\.data-team"
like "... engineering stays" "$OUT" "engineering"

# ---------- a second subject for a known name ----------
TOK=$(mint '{"user": "alice", "claims": {"sub": "6f1c3a52-0000-4000-8000-00000000beef"}}')
login_token "$TOK"
is "a login as alice with another subject: refused" "$RC" 1
like "... the name belongs to another IdP identity" "$ERR" \
	"login name 'alice' already belongs to another IdP identity"
ok "... and logged" logged "already belongs to another IdP identity"
run getent passwd alice
like "alice's entry is unchanged" "$OUT" "^alice:x:$ALICE_UID:$ALICE_UID:Alice Anderson:"

# ---------- ids never change ----------
run ctl user add dora --group early-team
DORA_UID=$(printf '%s\n' "$OUT" | sed -n 's/.*: uid \([0-9]*\), gid.*/\1/p')
ok "user add dora: a uid in range" test "${DORA_UID:-0}" -ge 200000
run ctl user delete dora
is "user delete dora: exit 0" "$RC" 0
run getent passwd dora
is "dora left the POSIX view" "$RC" 2
run ctl user add newcomer
unlike "nobody else gets dora's held uid" "$OUT" "uid $DORA_UID,"
run ctl user add dora
like "dora added again: the same uid" "$OUT" "uid $DORA_UID, gid $DORA_UID"
run ctl user del dora
is "'user del' is an alias" "$RC" 0

ok "idgated stops" daemon_stop
ok "idgated restarts" daemon_start
run getent passwd alice
like "after a restart alice has the same uid" "$OUT" "^alice:x:$ALICE_UID:"

# ---------- enumeration: off by default, on by config (SIGHUP) ----------
run sh -c 'getent passwd | grep "^alice:"'
is "enumerate off: getent passwd does not list alice" "$OUT" ""
idp_config keycloak "[nss]" "enumerate = yes"
kill -HUP "$T_PID"
for _i in $(seq 1 100); do
	getent passwd | grep -q "^alice:" && break
	sleep 0.05
done
run sh -c 'getent passwd | grep "^alice:"'
like "enumerate = yes and SIGHUP: getent passwd lists alice" "$OUT" "^alice:x:$ALICE_UID:"
run sh -c 'getent group | grep "^engineering:"'
like "... and getent group lists engineering" "$OUT" "^engineering:x:[0-9]+:alice$"

# ---------- sshd's provisional entries ----------
cp "$DRV" "$T_DIR/sshd"
NEWBIE_HASH=$(hash_id newbie)
run "$T_DIR/sshd" pwnam newbie 1024
is "sshd: a name idgated does not know gets a provisional entry with its future uid" "$OUT" \
	"rc=0
newbie:x:$NEWBIE_HASH:$NEWBIE_HASH::/home/newbie:/bin/bash"
run getent passwd newbie
is "... which no other program sees" "$RC" 2
run "$T_DIR/sshd" pwnam bob 1024
is "sshd: bob (hashes onto a local uid) gets none" "$OUT" "rc=0"
run "$T_DIR/sshd" pwnam carol 1024
like "sshd: carol is the local account (files answer first)" "$OUT" "^carol:x:[0-9]+:.*nologin$"
run ctl user add newbie
like "the provisional uid is the one the name keeps" "$OUT" "uid $NEWBIE_HASH,"

# ---------- idgated stopped: every answer still comes from the snapshot ----------
ok "idgated stops" daemon_stop
run getent passwd alice
like "idgated stopped: getent passwd alice" "$OUT" "^alice:x:$ALICE_UID:"
run id alice
like "idgated stopped: id alice" "$OUT" "\(engineering\)"
is "idgated stopped: stat still names the owner" "$(stat -c '%U:%G' "$T_DIR/f")" \
	"alice:engineering"
run getent passwd nobody-here
is "idgated stopped: a miss is a miss" "$RC" 2
t0=$(now_ms)
run "$T_DIR/sshd" pwnam stranger 1024
t1=$(now_ms)
like "idgated stopped: sshd's question about an unknown name finds nothing (the module is unavailable: ENOENT)" "$OUT" "^rc=(0|2)$"
ok "... within the ask timeout (500 ms; took $((t1 - t0)) ms)" test $((t1 - t0)) -lt 2000

done_testing
