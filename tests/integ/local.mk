# Integration tests: shell scripts (TAP) against a private idgated; see lib.sh.
EXTRA_DIST += tests/integ/lib.sh
TESTS += \
	tests/integ/t_walkthrough1.sh \
	tests/integ/t_walkthrough2.sh

include $(srcdir)/tests/integ/robust.mk
include $(srcdir)/tests/integ/access.mk
