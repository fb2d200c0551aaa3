#!/bin/sh
# Build idgate's fuzz targets with libFuzzer (clang -fsanitize=fuzzer,address,undefined) and
# run each in turn for a bounded time: tests/fuzz/run.sh [SECONDS] [TARGET...] (default 60 s
# each; every target: snapshot wire conf idmap jwt oidc_json saml_response saml_metadata). Seeds are
# tests/fuzz/corpus/TARGET and the regression inputs tests/fuzz/regress/TARGET (the snapshot
# target's seeds are built by the snapshot writer); tests/fuzz/dict/ has their dictionaries. A crash, leak or hang leaves its input in
# the work directory, which is kept then (and removed after a clean run unless IDG_FUZZ_KEEP
# is set); the exit status is 1 when any target found something. Without clang it says so and
# exits 0. 'make fuzz FUZZ_SECONDS=N' runs it from a build tree. Runs one target at a time
# (-jobs=1): the machine's cores are shared.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-snapshot wire conf idmap jwt oidc_json saml_response saml_metadata}
if ! command -v clang >/dev/null 2>&1; then
	echo "run.sh: clang is not installed; nothing to do"
	exit 0
fi
work=$(mktemp -d /tmp/idgate-fuzz.XXXXXX)
printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "fuzz"\n' >"$work/config.h"
pkgs="libcurl libcjson openssl xmlsec1-openssl libxml-2.0 libmicrohttpd"
CC="clang -g -O1 -fno-omit-frame-pointer -I$top -I$top/src -I$work -include config.h"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
PATHS="-DIDG_SYSCONFDIR=\"/etc/idgate\" -DIDG_RUNDIR=\"/run/idgate\" \
-DIDG_STATEDIR=\"/var/lib/idgate\" -DIDG_LOGDIR=\"/var/log/idgate\" \
-DIDG_NSS_SNAPSHOT=\"/var/cache/idgate/nss.snapshot\""

# The code under test, instrumented once, in one archive each target takes what it needs from.
echo "run.sh: building the instrumented library in $work"
mkdir -p "$work/obj"
for src in "$top"/src/common/*.c "$top"/src/proto/*.c "$top"/src/rbac/*.c "$top"/src/idmap/*.c \
    "$top"/connectors/*.c "$top/src/daemon/config.c" "$top/tests/unit/connectors/fixture.c" \
    "$top/tests/fuzz/saml_cred.c"; do
	obj=$work/obj/$(echo "${src#"$top"/}" | tr / _).o
	# shellcheck disable=SC2086
	$CC $SAN -fsanitize=fuzzer-no-link $PATHS $(pkg-config --cflags $pkgs) -c "$src" -o "$obj"
done
ar rcs "$work/libidg.a" "$work"/obj/*.o
# shellcheck disable=SC2086
LIBS="$work/libidg.a $(pkg-config --libs $pkgs) -lz -lpthread"

found=0
for t in $targets; do
	[ -f "$here/fuzz_$t.c" ] || { echo "run.sh: no target $t"; exit 2; }
	# shellcheck disable=SC2086
	$CC $SAN -fsanitize=fuzzer $(pkg-config --cflags $pkgs) "$here/fuzz_$t.c" $LIBS \
		-o "$work/fuzz_$t"
	mkdir -p "$work/corpus-$t" "$work/crash-$t"
	if [ "$t" = snapshot ]; then
		# seeds: built by the writer (the shapes the deterministic driver starts from)
		$CC -x c - "$top/src/proto/snap_write.c" "$top/src/proto/snap_read.c" \
			-o "$work/snapseeds" <<'C'
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
		"$work/snapseeds" "$work/corpus-$t/seed1"
	fi
	for d in "$here/corpus/$t" "$here/regress/$t"; do
		[ -d "$d" ] && find "$d" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$work/corpus-$t/" \;
	done
	case $t in
	saml_*) dict=$here/dict/saml.dict ;;
	jwt|oidc_json) dict=$here/dict/json.dict ;;
	conf) dict=$here/dict/conf.dict ;;
	*) dict= ;;
	esac
	echo "run.sh: fuzzing $t for $secs s"
	if (cd "$work/crash-$t" && "$work/fuzz_$t" -max_total_time="$secs" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${dict:+-dict="$dict"} \
	    "$work/corpus-$t" \
	    >"$work/fuzz_$t.log" 2>&1); then
		grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$work/fuzz_$t.log" |
			sed "s/^/run.sh: $t: /"
	else
		found=1
		echo "run.sh: $t FOUND SOMETHING: $work/fuzz_$t.log; inputs in $work/crash-$t:"
		ls "$work/crash-$t"
		grep -E 'ERROR|SUMMARY|runtime error' "$work/fuzz_$t.log" | head -5
	fi
done
if [ "$found" -ne 0 ]; then
	echo "run.sh: findings kept in $work"
	exit 1
fi
if [ -n "${IDG_FUZZ_KEEP:-}" ]; then
	echo "run.sh: no crash; corpora and binaries in $work"
else
	rm -rf "$work"
	echo "run.sh: no crash (IDG_FUZZ_KEEP=1 keeps the corpora and binaries)"
fi
