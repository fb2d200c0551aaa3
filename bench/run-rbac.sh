#!/bin/sh
# Run bench/rbac from a build directory against the idgated built next to it.
# Usage: bench/run-rbac.sh [BUILD_DIR] [bench/rbac options...]
# BUILD_DIR defaults to the current directory; options go to bench/rbac (--quick,
# --no-socket). The api.sock part needs root; without it that part is skipped.
set -eu
builddir=.
if [ $# -gt 0 ] && [ -d "$1" ]; then
	builddir=$1
	shift
fi
bench=$builddir/bench/rbac
if [ ! -x "$bench" ]; then
	echo "run-rbac.sh: no $bench: build it first (make bench/rbac idgated)" >&2
	exit 1
fi
exec "$bench" --idgated "$builddir/idgated" "$@"
