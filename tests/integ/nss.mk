# The NSS snapshot and module: snapgen (makes snapshots for tests and benchmarks), the glibc
# integration test and its driver, and the snapshot fuzz target's deterministic driver.
check_PROGRAMS += tests/integ/snapgen
tests_integ_snapgen_SOURCES = tests/integ/snapgen.c
tests_integ_snapgen_LDADD = libidgcommon.la
