# Robustness tests (wire, daemon, config, crash): see t_*.sh listed here.
ROBUST_TESTS = \
	tests/integ/t_wire.sh \
	tests/integ/t_daemon.sh \
	tests/integ/t_config.sh \
	tests/integ/t_crash.sh \
	tests/integ/t_peer_log.sh \
	tests/integ/t_state_file.sh \
	tests/integ/t_audit_full.sh
TESTS += $(ROBUST_TESTS)
EXTRA_DIST += $(ROBUST_TESTS)

# A raw client of idgated's sockets: malformed frames, slow and hostile clients, kill loops.
check_PROGRAMS += tests/integ/wireprobe
tests_integ_wireprobe_SOURCES = tests/integ/wireprobe.c
tests_integ_wireprobe_CFLAGS = $(AM_CFLAGS)
tests_integ_wireprobe_LDADD = libidgcommon.la
