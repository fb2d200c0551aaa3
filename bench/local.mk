# bench: one program per benchmark (see bench/README.md). Built with the project, never run
# by 'make check': benchmarks print figures and ratios, they do not pass or fail.
noinst_PROGRAMS += bench/rbac
bench_rbac_SOURCES = bench/rbac.c bench/util.c bench/util.h
bench_rbac_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_rbac_LDADD = libidgstore.la libidgrbac.la libidgcommon.la $(SQLITE_LIBS)
EXTRA_DIST += bench/README.md bench/run-rbac.sh

noinst_PROGRAMS += bench/token
bench_token_SOURCES = bench/token.c
bench_token_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) -I$(top_srcdir)
bench_token_LDADD = libidgconn.la libidgcommon.la $(CURL_LIBS) $(CJSON_LIBS) \
	$(OPENSSL_LIBS)

# bench/nss: NSS lookups through libnss_idgate.so.2, glibc's files and SSSD's sss (needs
# root: a private mount namespace). bench/run-nss.sh points it at the build's module.
noinst_PROGRAMS += bench/nss
bench_nss_SOURCES = bench/nss.c bench/util.c bench/util.h
bench_nss_CPPFLAGS = $(AM_CPPFLAGS) $(PATH_DEFS)
bench_nss_LDADD = libidgcommon.la -ldl
EXTRA_DIST += bench/run-nss.sh

# bench/login: logins per second through PAM stacks (libpam under pam_wrapper, no sshd);
# bench/run-login.sh runs it and the real-sshd logins in a private namespace.
noinst_PROGRAMS += bench/login
bench_login_SOURCES = bench/login.c
bench_login_LDADD = $(PAM_LIBS)
EXTRA_DIST += bench/run-login.sh

# bench/enforce: the enforcer's ACL passes on a private tree (10,000 repos x 100 files by
# default) against a plain setfacl -R over the same tree, and incremental changes.
noinst_PROGRAMS += bench/enforce
bench_enforce_SOURCES = bench/enforce.c
bench_enforce_CFLAGS = $(AM_CFLAGS) $(ACL_CFLAGS)
bench_enforce_LDADD = libidgenforce.la libidgrbac.la libidgcommon.la $(ACL_LIBS)
