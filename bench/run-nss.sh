#!/bin/sh
# Run bench/nss from a build directory with the libnss_idgate.so.2 built next to it.
# Usage: bench/run-nss.sh [BUILD_DIR] [bench/nss options...]
# BUILD_DIR defaults to the current directory; options go to bench/nss (--quick, --no-sss,
# --sizes N,N,...). Needs root: bench/nss works in its own mount namespace.
set -eu
builddir=.
if [ $# -gt 0 ] && [ -d "$1" ]; then
	builddir=$1
	shift
fi
bench=$builddir/bench/nss
if [ ! -x "$bench" ] || [ ! -e "$builddir/.libs/libnss_idgate.so.2" ]; then
	echo "run-nss.sh: no $bench or $builddir/.libs/libnss_idgate.so.2: build them first" \
		"(make bench/nss libnss_idgate.la)" >&2
	exit 1
fi
LD_LIBRARY_PATH=$(cd "$builddir/.libs" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec "$bench" "$@"
