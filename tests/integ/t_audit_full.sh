#!/bin/sh
# The audit log on a disk that fills up and then gets space back (issue 14, item 14): a
# record that no longer fits is not left cut off with the next one glued to it; records are
# written whole or not at all, every line of the log parses as JSON, the lost records are
# counted in the log (once, not once per record) and in an "audit.lost" record, and records
# are written again once there is room. The audit log lives on a 64 KiB tmpfs mounted in a
# private mount namespace.
. "$top_srcdir/tests/integ/lib.sh"
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
if [ "${1:-}" != --inner ]; then
	if [ "$(id -u)" != 0 ] || ! unshare --mount true 2>/dev/null; then
		echo "1..0 # SKIP needs root and mount namespaces (unshare --mount)"
		exit 0
	fi
	exec unshare --mount --fork sh "$0" --inner
fi

t_setup
mount --make-rprivate / 2>/dev/null
LOG=$T_DIR/log
AUDIT=$LOG/audit.log
mkdir -p "$LOG"
ok "a 64 KiB tmpfs for the audit log" mount -t tmpfs -o size=64k,mode=0750 tmpfs "$LOG"
unmount() { umount "$LOG" 2>/dev/null; t_cleanup; }
trap unmount EXIT

ok "idgated starts" daemon_start
for i in 1 2 3; do ctl create repo "before$i" >/dev/null; done
is "three repo.create records" "$(grep -c '"action":"repo.create"' "$AUDIT")" 3

# Pad the log (with a JSON line of our own) so that 96 bytes are left in its last page, then
# fill the file system: the next record fits only in part, and tmpfs writes that part.
SIZE=$(stat -c %s "$AUDIT")
PAD=$(( (4000 - SIZE % 4096 + 4096) % 4096 ))
[ "$PAD" -lt 20 ] && PAD=$((PAD + 4096))
python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.write("{\"pad\":\"" + "x" * (n - 11) + "\"}\n")' "$PAD" >>"$AUDIT"
is "the log ends 96 bytes short of a page" "$(( $(stat -c %s "$AUDIT") % 4096 ))" 4000
dd if=/dev/zero of="$LOG/filler" bs=1k count=1000 2>/dev/null
ok "the file system is full" test "$(df --output=avail "$LOG" | tail -n 1 | tr -d ' ')" -eq 0

for i in 1 2 3 4 5; do
	run ctl create repo "full$i"
	[ "$RC" = 0 ] || break
done
is "five repos are created while the disk is full" "$RC" 0
is "... their records are not in the log" "$(grep -c '"target":"REPO default/full' "$AUDIT")" 0
ok "... the log did not grow past its last page" test "$(stat -c %s "$AUDIT")" -le "$(( SIZE + PAD ))"
like "... the log says records are lost, naming the audit log" "$(cat "$T_DIR/daemon.log")" \
	"audit log $AUDIT: 1 record not written so far \(No space left on device\)"
is "... once, not once per record" "$(grep -c 'not written so far' "$T_DIR/daemon.log")" 1

rm -f "$LOG/filler"
for i in 1 2 3; do ctl create repo "after$i" >/dev/null; done
run python3 -c '
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        json.loads(line)
    except ValueError:
        bad += 1
        print("line %d: %r" % (n, line[:200]))
sys.exit(1 if bad else 0)' "$AUDIT"
is "with space back, every line of the audit log parses as JSON" "$RC:$OUT" "0:"
is "... the records after it are all there" "$(grep -c '"target":"REPO default/after' "$AUDIT")" 3
like "... after an audit.lost record counting the lost ones" \
	"$(grep '"action":"audit.lost"' "$AUDIT")" \
	'"caller":"idgated","action":"audit.lost","target":"'"$AUDIT"'","result":"error","reason":"[5-9] audit records could not be written \(No space left on device\)","detail":"since 20[0-9-]+T[0-9:.]+Z"'
like "... and the log says it is written again" "$(cat "$T_DIR/daemon.log")" \
	"audit log $AUDIT is written again; [5-9] audit records could not be written"
ok "idgated stops" daemon_stop
done_testing
