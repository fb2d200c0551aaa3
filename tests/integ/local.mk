# Integration tests: shell scripts (TAP) against a private idgated; see lib.sh.
EXTRA_DIST += tests/integ/lib.sh
TESTS += \
	tests/integ/t_walkthrough1.sh \
	tests/integ/t_walkthrough2.sh \
	tests/integ/t_modules.sh \
	tests/integ/t_install.sh

check_PROGRAMS += tests/integ/dlopen_check
tests_integ_dlopen_check_SOURCES = tests/integ/dlopen_check.c
tests_integ_dlopen_check_LDADD = -ldl

include $(srcdir)/tests/integ/robust.mk
include $(srcdir)/tests/integ/access.mk
include $(srcdir)/tests/integ/access2.mk
include $(srcdir)/tests/integ/oidc.mk
include $(srcdir)/tests/integ/nss.mk
include $(srcdir)/tests/integ/pam.mk
include $(srcdir)/tests/integ/ssh.mk
include $(srcdir)/tests/integ/saml.mk
