# pam_idgate.so through libpam: a fake idgated that answers scripted replies and records the
# requests (the daemon side is tested against the same requests in its own tests), a PAM
# application with a scripted conversation, and the test scripts: the module through
# pam_wrapper (and valgrind), and the shipped pam-auth-update profile through Debian's own
# pam-auth-update and libpam in a mount namespace.
check_PROGRAMS += tests/integ/fake_idgated
tests_integ_fake_idgated_SOURCES = tests/integ/fake_idgated.c
tests_integ_fake_idgated_LDADD = libidgcommon.la

check_PROGRAMS += tests/integ/pam_driver
tests_integ_pam_driver_SOURCES = tests/integ/pam_driver.c
tests_integ_pam_driver_LDADD = $(PAM_LIBS)
# Never instrumented, like the module it loads: pam_wrapper is preloaded into it (an ASan
# binary refuses a preload ahead of its runtime) and valgrind runs it in both builds.
tests_integ_pam_driver_CFLAGS = $(MODULE_CFLAGS)
tests_integ_pam_driver_LDFLAGS = -Wl,-z,relro,-z,now

TESTS += tests/integ/t_pam_module.sh tests/integ/t_pam_profile.sh
EXTRA_DIST += tests/integ/t_pam_module.sh tests/integ/t_pam_profile.sh
