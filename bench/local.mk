# bench: one program per benchmark (see bench/README.md). Built with the project, never run
# by 'make check': benchmarks print figures and ratios, they do not pass or fail.
noinst_PROGRAMS += bench/rbac
bench_rbac_SOURCES = bench/rbac.c
bench_rbac_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_rbac_LDADD = libidgstore.la libidgrbac.la libidgcommon.la $(SQLITE_LIBS)
EXTRA_DIST += bench/README.md bench/run-rbac.sh
