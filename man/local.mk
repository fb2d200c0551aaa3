# Man pages: hand-written troff; paths and version filled in at build time.
man_MANS = man/idgated.8 man/idgatectl.1 man/idgate.conf.5 man/pam_idgate.8 man/idgate-check.1
EXTRA_DIST += man/idgated.8.in man/idgatectl.1.in man/idgate.conf.5.in man/pam_idgate.8.in \
	man/idgate-check.1.in
CLEANFILES += $(man_MANS)

man/idgated.8: $(srcdir)/man/idgated.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(subst) $(srcdir)/man/idgated.8.in >$@
man/idgatectl.1: $(srcdir)/man/idgatectl.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(subst) $(srcdir)/man/idgatectl.1.in >$@
man/idgate.conf.5: $(srcdir)/man/idgate.conf.5.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(subst) $(srcdir)/man/idgate.conf.5.in >$@
man/pam_idgate.8: $(srcdir)/man/pam_idgate.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(subst) $(srcdir)/man/pam_idgate.8.in >$@
man/idgate-check.1: $(srcdir)/man/idgate-check.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && $(subst) $(srcdir)/man/idgate-check.1.in >$@

TESTS += tests/integ/t_man.sh
