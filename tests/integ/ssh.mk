# End-to-end tests with a real sshd (OpenSSH, on loopback in a mount and network namespace with
# a private /etc; see ssh_lib.sh): t_ssh_harness.sh checks that sshd runs with the configuration
# lines a test gives sshd_start; t_ssh_local.sh proves the harness with local accounts and
# pam_unix; t_ssh_idgate.sh logs IdP users in through pam_idgate.so; t_ssh_enforce.sh checks the
# enforcer's repo ACLs against real reads and writes in SSH sessions; t_demo.sh runs
# scripts/demo (the README's first command) against the build. pam_fixture.so is a test-only module playing device prompts and refusals;
# like the real modules it is never built with the sanitizers (sshd loads it).
SSH_TESTS = \
	tests/integ/t_ssh_harness.sh \
	tests/integ/t_ssh_local.sh \
	tests/integ/t_ssh_idgate.sh \
	tests/integ/t_ssh_enforce.sh \
	tests/integ/t_demo.sh
TESTS += $(SSH_TESTS)
EXTRA_DIST += $(SSH_TESTS) tests/integ/ssh_lib.sh tests/integ/ssh_askpass.sh tests/integ/acl_lib.sh

check_LTLIBRARIES = tests/integ/pam_fixture.la
tests_integ_pam_fixture_la_SOURCES = tests/integ/pam_fixture.c
tests_integ_pam_fixture_la_CFLAGS = $(MODULE_CFLAGS)
tests_integ_pam_fixture_la_LDFLAGS = $(MODULE_LDFLAGS) -avoid-version -rpath $(abs_builddir)
tests_integ_pam_fixture_la_LIBADD = $(PAM_LIBS) -lc
