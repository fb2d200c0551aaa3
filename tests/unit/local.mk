# tests/unit: see the top Makefile.am. One cmocka program per module part
# (tests/unit/<module>/check_<thing>.c), each printing TAP with one plan.
# Without cmocka (configure --disable-tests) none of them is built.
if ENABLE_TESTS

UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

# --- common ---
check_PROGRAMS += tests/unit/common/check_util
TESTS += tests/unit/common/check_util
tests_unit_common_check_util_SOURCES = tests/unit/common/check_util.c
tests_unit_common_check_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_check_util_LDADD = libidgcommon.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/common/check_lograte
TESTS += tests/unit/common/check_lograte
tests_unit_common_check_lograte_SOURCES = tests/unit/common/check_lograte.c
tests_unit_common_check_lograte_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_check_lograte_LDADD = libidgcommon.la $(CMOCKA_LIBS)

# The allocation-failure test interposes the allocator at link time: calls from the
# (static, convenience) libidgcommon objects go through the test's __wrap_* functions.
check_PROGRAMS += tests/unit/common/check_conf
TESTS += tests/unit/common/check_conf
tests_unit_common_check_conf_SOURCES = tests/unit/common/check_conf.c \
	tests/unit/torture.c tests/unit/torture.h
tests_unit_common_check_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_check_conf_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
tests_unit_common_check_conf_LDADD = libidgcommon.la $(CMOCKA_LIBS)

# --- proto ---
check_PROGRAMS += tests/unit/proto/check_wire
TESTS += tests/unit/proto/check_wire
tests_unit_proto_check_wire_SOURCES = tests/unit/proto/check_wire.c
tests_unit_proto_check_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_proto_check_wire_LDADD = libidgcommon.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/proto/check_snapshot
TESTS += tests/unit/proto/check_snapshot
tests_unit_proto_check_snapshot_SOURCES = tests/unit/proto/check_snapshot.c
tests_unit_proto_check_snapshot_CFLAGS = $(UNIT_CFLAGS)
tests_unit_proto_check_snapshot_LDADD = libidgcommon.la $(CMOCKA_LIBS)

# --- rbac ---
check_PROGRAMS += tests/unit/rbac/check_spec
TESTS += tests/unit/rbac/check_spec
tests_unit_rbac_check_spec_SOURCES = tests/unit/rbac/check_spec.c
tests_unit_rbac_check_spec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_rbac_check_spec_LDADD = libidgrbac.la libidgcommon.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/rbac/check_model
TESTS += tests/unit/rbac/check_model
tests_unit_rbac_check_model_SOURCES = tests/unit/rbac/check_model.c
tests_unit_rbac_check_model_CFLAGS = $(UNIT_CFLAGS)
tests_unit_rbac_check_model_LDADD = libidgrbac.la libidgcommon.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/rbac/check_names
TESTS += tests/unit/rbac/check_names
tests_unit_rbac_check_names_SOURCES = tests/unit/rbac/check_names.c
tests_unit_rbac_check_names_CFLAGS = $(UNIT_CFLAGS)
tests_unit_rbac_check_names_LDADD = libidgrbac.la libidgcommon.la $(CMOCKA_LIBS)

# --- enforce: the pure ACL computation, and the tree walk on a private directory ---
check_PROGRAMS += tests/unit/enforce/check_acl_calc
TESTS += tests/unit/enforce/check_acl_calc
tests_unit_enforce_check_acl_calc_SOURCES = tests/unit/enforce/check_acl_calc.c \
	src/enforce/acl_calc.c src/enforce/acl_calc.h
tests_unit_enforce_check_acl_calc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_enforce_check_acl_calc_LDADD = libidgrbac.la libidgcommon.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/enforce/check_acl_apply
TESTS += tests/unit/enforce/check_acl_apply
tests_unit_enforce_check_acl_apply_SOURCES = tests/unit/enforce/check_acl_apply.c
tests_unit_enforce_check_acl_apply_CFLAGS = $(UNIT_CFLAGS) $(ACL_CFLAGS)
tests_unit_enforce_check_acl_apply_LDADD = libidgenforce.la libidgrbac.la libidgcommon.la \
	$(ACL_LIBS) $(CMOCKA_LIBS)

# --- idmap ---
check_PROGRAMS += tests/unit/idmap/check_ids
TESTS += tests/unit/idmap/check_ids
tests_unit_idmap_check_ids_SOURCES = tests/unit/idmap/check_ids.c
tests_unit_idmap_check_ids_CFLAGS = $(UNIT_CFLAGS)
tests_unit_idmap_check_ids_LDADD = libidgidmap.la libidgrbac.la libidgcommon.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/idmap/check_idmap
TESTS += tests/unit/idmap/check_idmap
tests_unit_idmap_check_idmap_SOURCES = tests/unit/idmap/check_idmap.c
tests_unit_idmap_check_idmap_CFLAGS = $(UNIT_CFLAGS)
tests_unit_idmap_check_idmap_LDADD = libidgidmap.la libidgrbac.la libidgcommon.la $(CMOCKA_LIBS)

# --- store ---
check_PROGRAMS += tests/unit/store/check_sqlite
TESTS += tests/unit/store/check_sqlite
tests_unit_store_check_sqlite_SOURCES = tests/unit/store/check_sqlite.c
tests_unit_store_check_sqlite_CFLAGS = $(UNIT_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_store_check_sqlite_LDADD = libidgstore.la libidgcommon.la $(SQLITE_LIBS) $(CMOCKA_LIBS)

# --- daemon ---
check_PROGRAMS += tests/unit/daemon/check_offline
TESTS += tests/unit/daemon/check_offline
tests_unit_daemon_check_offline_SOURCES = tests/unit/daemon/check_offline.c \
	src/daemon/offline_hash.c src/daemon/offline.h
tests_unit_daemon_check_offline_CFLAGS = $(UNIT_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_daemon_check_offline_LDADD = libidgcommon.la $(OPENSSL_LIBS) $(CMOCKA_LIBS)

# --- pam (the module's pure parts, compiled in; pam_syslog is the test's own) ---
check_PROGRAMS += tests/unit/pam/check_args
TESTS += tests/unit/pam/check_args
tests_unit_pam_check_args_SOURCES = tests/unit/pam/check_args.c pam/args.c pam/client.c
tests_unit_pam_check_args_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_unit_pam_check_args_CFLAGS = $(UNIT_CFLAGS)
tests_unit_pam_check_args_LDADD = libidgcommon.la $(CMOCKA_LIBS)

# --- sandbox: forked children drop to a test uid and enter the connector's policy (root) ---
check_PROGRAMS += tests/unit/sandbox/check_sandbox
TESTS += tests/unit/sandbox/check_sandbox
tests_unit_sandbox_check_sandbox_SOURCES = tests/unit/sandbox/check_sandbox.c \
	tests/unit/connectors/fixture.c tests/unit/connectors/fixture.h
tests_unit_sandbox_check_sandbox_CFLAGS = $(UNIT_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS) \
	$(MHD_CFLAGS) $(SECCOMP_CFLAGS)
tests_unit_sandbox_check_sandbox_LDADD = libidgsandbox.la libidgconn.la libidgcommon.la \
	$(CURL_LIBS) $(CJSON_LIBS) $(OPENSSL_LIBS) $(MHD_LIBS) $(XMLSEC_LIBS) $(XML2_LIBS) \
	$(ZLIB_LIBS) $(SECCOMP_LIBS) $(CMOCKA_LIBS) -lpthread

EXTRA_DIST += tests/unit/README.md

endif
