#!/bin/sh
# A damaged state file is never taken for a first start (issue 14, item 13): a zero-length
# state.db (truncated in place, as by a botched restore or a full disk's repair) and one of a
# few bytes of text make idgated refuse to start, naming the file and what to do, leaving it
# as it is; a first start is a missing file, and a first start cut short (a leftover
# state.db.new) does not leave a zero-length state.db behind.
. "$top_srcdir/tests/integ/lib.sh"
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command-line tool is not installed"; exit 0; }

t_setup
DB=$T_DIR/state/state.db
sum() { md5sum "$DB" | cut -d' ' -f1; }
start_fails() { run timeout 10 "$IDGATED" -f -c "$T_DIR/idgate.conf"; }

ok "idgated starts with no state file (a first start)" daemon_start
like "... and says the store is new" "$(cat "$T_DIR/daemon.log")" "new store activated"
ctl create repo keep >/dev/null
run ctl auth set repo default/keep repoWriter user:alice@example.com
is "a binding is made" "$RC" 0
ok "idgated stops" daemon_stop
ok "... the state file is a database of at least one page" test "$(stat -c %s "$DB")" -ge 512
ok "... no temporary file is left beside it" test ! -e "$DB.new"
cp "$DB" "$T_DIR/good.db"

# ---------- truncated in place ----------
: >"$DB"
rm -f "$DB-wal" "$DB-shm"
start_fails
is "a zero-length state.db: idgated refuses to start (exit 1)" "$RC" 1
like "... naming the file and calling it damaged, not new" "$ERR" \
	"the state database $DB is empty \(0 bytes\): it is damaged, not new \(a first start has no state file at all\)"
like "... saying how to recover (restore with -wal and -shm, idgated(8))" "$ERR" \
	"restore it from a backup, together with its -wal and -shm files \(idgated\(8\), \"Restoring the state\"\)"
is "... and the file is left as it was: empty" "$(stat -c %s "$DB")" 0
ok "... with no -wal or -shm made beside it" test ! -e "$DB-wal" -a ! -e "$DB-shm"
ok "... and no sockets" test ! -e "$SOCK"

# The same after a SIGKILL (the -wal left beside the truncated file).
cp "$T_DIR/good.db" "$DB"
ok "the good copy starts" daemon_start
run ctl auth set repo default/keep repoReader user:bob@example.com
daemon_kill
: >"$DB"
start_fails
is "zero-length after a SIGKILL, with its -wal beside it: refused (exit 1)" "$RC" 1
is "... the file still empty" "$(stat -c %s "$DB")" 0

# ---------- not a database ----------
printf 'not a database\n' >"$DB"
rm -f "$DB-wal" "$DB-shm"
SUM=$(sum)
start_fails
is "a state.db of 15 bytes of text: refused (exit 1)" "$RC" 1
like "... naming the file and what to do" "$ERR" \
	"file is not a database \($DB is damaged or not a state database: restore it from a backup, together with its -wal and -shm files"
is "... and the file is untouched" "$(sum)" "$SUM"

# ---------- a first start cut short ----------
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$DB.new"
ok "a leftover state.db.new from a first start cut short: idgated starts" daemon_start
like "... as a new store" "$(cat "$T_DIR/daemon.log")" "new store activated"
ok "... the leftover is gone" test ! -e "$DB.new"
ok "idgated stops" daemon_stop

# ---------- restored from the backup ----------
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$T_DIR/good.db" "$DB"
ok "restored from the copy, idgated starts" daemon_start
run ctl auth get repo default/keep
like "... with the binding made before" "$OUT" "user:alice@example.com"
done_testing
