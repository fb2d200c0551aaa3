# OIDC logins against the real test IdP (tests/idp/oidc: oidc-provider over TLS on loopback, in
# the Keycloak, Auth0 and Okta shapes): logins, refusals, resilience. They skip when node or the
# IdP's node modules are missing. t_oidc_lib.sh holds their shared helpers.
OIDC_TESTS = \
	tests/integ/t_oidc_login.sh \
	tests/integ/t_oidc_refuse.sh \
	tests/integ/t_oidc_resilience.sh \
	tests/integ/t_oidc_other_idp.sh \
	tests/integ/t_directory.sh \
	tests/integ/t_pam_daemon.sh \
	tests/integ/t_login_load.sh \
	tests/integ/t_names.sh \
	tests/integ/t_offline_clock.sh \
	tests/integ/t_pam_abandoned.sh \
	tests/integ/t_offline_queue.sh
TESTS += $(OIDC_TESTS)
EXTRA_DIST += $(OIDC_TESTS) tests/integ/t_oidc_lib.sh

# t_pam_daemon.sh and t_names.sh: PAM's requests on pam.sock, through pamprobe, a client that
# speaks them as pam_idgate.so does.
check_PROGRAMS += tests/integ/pamprobe
tests_integ_pamprobe_SOURCES = tests/integ/pamprobe.c
tests_integ_pamprobe_LDADD = libidgcommon.la

# t_sandbox.sh: the connector child's sandbox (src/sandbox/) holds, logins pass through it,
# and it dies with idgated.
TESTS += tests/integ/t_sandbox.sh
EXTRA_DIST += tests/integ/t_sandbox.sh
