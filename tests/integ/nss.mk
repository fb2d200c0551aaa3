# The NSS snapshot and module: snapgen (makes snapshots for tests and benchmarks), the glibc
# integration test and its driver, and the snapshot fuzz target's deterministic driver.
check_PROGRAMS += tests/integ/snapgen
tests_integ_snapgen_SOURCES = tests/integ/snapgen.c
tests_integ_snapgen_LDADD = libidgcommon.la

check_PROGRAMS += tests/integ/nss_driver
tests_integ_nss_driver_SOURCES = tests/integ/nss_driver.c
tests_integ_nss_driver_LDADD = libidgcommon.la -ldl
TESTS += tests/integ/t_nss_glibc.sh
EXTRA_DIST += tests/integ/t_nss_glibc.sh

# The snapshot fuzz target, driven deterministically (gcc; ASan in the sanitizer build).
# tests/fuzz/run.sh builds the same target with libFuzzer for open-ended runs.
check_PROGRAMS += tests/fuzz/fuzz_snapshot_det
TESTS += tests/fuzz/fuzz_snapshot_det
tests_fuzz_fuzz_snapshot_det_SOURCES = tests/fuzz/fuzz_snapshot.c tests/fuzz/fuzz_main.c
tests_fuzz_fuzz_snapshot_det_LDADD = libidgcommon.la
# 'make fuzz' (tests/fuzz/local.mk) runs it under libFuzzer with the parser targets.
