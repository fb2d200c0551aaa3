#!/bin/sh
# Build the snapshot fuzz target with libFuzzer (clang -fsanitize=fuzzer,address,undefined)
# and run it for a bounded time: tests/fuzz/run.sh [SECONDS] (default 60). Seeds come from
# snapgen-like snapshots built by the deterministic driver's seeds; a crash leaves its input
# in the work directory, which is removed after a clean run unless IDG_FUZZ_KEEP is set.
# Without clang it says so and exits 0. 'make fuzz FUZZ_SECONDS=N' runs it from a build tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
if ! command -v clang >/dev/null 2>&1; then
	echo "run.sh: clang is not installed; nothing to do"
	exit 0
fi
work=$(mktemp -d /tmp/idgate-fuzz.XXXXXX)
printf '#define _GNU_SOURCE 1\n' >"$work/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$top/src" -I"$work" -include config.h \
	"$here/fuzz_snapshot.c" "$top/src/proto/snap_read.c" -o "$work/fuzz_snapshot"
# seeds: built by the writer (the same shapes the deterministic driver starts from)
clang -g -O1 -I"$top/src" -I"$work" -include config.h \
	-x c - "$top/src/proto/snap_write.c" "$top/src/proto/snap_read.c" \
	-o "$work/seeds" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "proto/snapshot.h"
int main(int argc, char **argv)
{
	static const uint32_t gids[] = { 10100, 10101 }, mem[] = { 0, 1 };
	struct idg_snap_in_user u[2] = {
		{ "alice", "Alice", "/home/alice", "/bin/bash", 10001, 10100, gids, 2 },
		{ "bob", "", "/home/bob", "/bin/sh", 10002, 10101, NULL, 0 } };
	struct idg_snap_in_group g[2] = { { "devs", 10100, mem, 2 }, { "ops", 10101, mem, 1 } };
	struct idg_snap_in in = { 1, 3, 500, 10000, 20000, "/run/idgate/pam.sock", u, 2, g, 2 };
	uint8_t *buf;
	size_t len;
	FILE *f;

	(void)argc;
	if (idg_snap_build(&in, &buf, &len) != 0 || (f = fopen(argv[1], "wb")) == NULL)
		return 1;
	fwrite(buf, 1, len, f);
	return fclose(f) != 0;
}
C
mkdir -p "$work/corpus"
"$work/seeds" "$work/corpus/seed1"
echo "run.sh: fuzzing for $secs s in $work"
cd "$work"
./fuzz_snapshot -max_total_time="$secs" -max_len=65536 -print_final_stats=1 corpus
if [ -n "${IDG_FUZZ_KEEP:-}" ]; then
	echo "run.sh: no crash; corpus and binary in $work"
else
	rm -rf "$work"
	echo "run.sh: no crash (IDG_FUZZ_KEEP=1 keeps the corpus and binary)"
fi
