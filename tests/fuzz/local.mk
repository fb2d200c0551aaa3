# The parser fuzz targets (tests/fuzz/fuzz_*.c), each driven deterministically for make check
# by fuzz_det.c (gcc; ASan + UBSan in the sanitizer build): the committed seeds
# (tests/fuzz/corpus/NAME), the regression inputs of fixed findings (tests/fuzz/regress/NAME)
# and a bounded number of seeded mutations. tests/fuzz/run.sh builds the same targets with
# libFuzzer (clang) for open-ended runs: 'make fuzz [FUZZ_SECONDS=N]' runs each for N s.
FUZZ_DET_SOURCES = tests/fuzz/fuzz_det.c
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/corpus tests/fuzz/regress tests/fuzz/dict \
	tests/fuzz/README.md

check_PROGRAMS += tests/fuzz/fuzz_wire_det
TESTS += tests/fuzz/fuzz_wire_det
tests_fuzz_fuzz_wire_det_SOURCES = tests/fuzz/fuzz_wire.c $(FUZZ_DET_SOURCES)
tests_fuzz_fuzz_wire_det_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"wire"' -DFUZZ_DET_RUNS=200000
tests_fuzz_fuzz_wire_det_LDADD = libidgcommon.la

check_PROGRAMS += tests/fuzz/fuzz_conf_det
TESTS += tests/fuzz/fuzz_conf_det
tests_fuzz_fuzz_conf_det_SOURCES = tests/fuzz/fuzz_conf.c src/daemon/config.c $(FUZZ_DET_SOURCES)
tests_fuzz_fuzz_conf_det_CPPFLAGS = $(AM_CPPFLAGS) $(PATH_DEFS) -DFUZZ_NAME='"conf"' \
	-DFUZZ_DET_RUNS=20000
tests_fuzz_fuzz_conf_det_LDADD = libidgidmap.la libidgrbac.la libidgcommon.la

# The connector's parsers: OIDC tokens, discovery and keys, SAML responses and metadata.
if ENABLE_TESTS
FUZZ_CONN_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(OPENSSL_CFLAGS) \
	$(XMLSEC_CFLAGS) $(XML2_CFLAGS) $(MHD_CFLAGS)
FUZZ_CONN_LIBS = libidgconn.la libidgcommon.la $(CURL_LIBS) $(CJSON_LIBS) $(OPENSSL_LIBS) \
	$(MHD_LIBS) $(XMLSEC_LIBS) $(XML2_LIBS) $(ZLIB_LIBS) -lpthread

check_PROGRAMS += tests/fuzz/fuzz_jwt_det
TESTS += tests/fuzz/fuzz_jwt_det
tests_fuzz_fuzz_jwt_det_SOURCES = tests/fuzz/fuzz_jwt.c $(CONN_FIXTURE) $(FUZZ_DET_SOURCES)
tests_fuzz_fuzz_jwt_det_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"jwt"' -DFUZZ_DET_RUNS=20000
tests_fuzz_fuzz_jwt_det_CFLAGS = $(FUZZ_CONN_CFLAGS)
tests_fuzz_fuzz_jwt_det_LDADD = $(FUZZ_CONN_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_oidc_json_det
TESTS += tests/fuzz/fuzz_oidc_json_det
tests_fuzz_fuzz_oidc_json_det_SOURCES = tests/fuzz/fuzz_oidc_json.c $(FUZZ_DET_SOURCES)
tests_fuzz_fuzz_oidc_json_det_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"oidc_json"' \
	-DFUZZ_DET_RUNS=20000
tests_fuzz_fuzz_oidc_json_det_CFLAGS = $(FUZZ_CONN_CFLAGS)
tests_fuzz_fuzz_oidc_json_det_LDADD = $(FUZZ_CONN_LIBS)

FUZZ_SAML_SOURCES = tests/fuzz/saml_cred.c tests/fuzz/saml_cred.h $(FUZZ_DET_SOURCES)
check_PROGRAMS += tests/fuzz/fuzz_saml_response_det
TESTS += tests/fuzz/fuzz_saml_response_det
tests_fuzz_fuzz_saml_response_det_SOURCES = tests/fuzz/fuzz_saml_response.c $(FUZZ_SAML_SOURCES)
tests_fuzz_fuzz_saml_response_det_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"saml_response"' \
	-DFUZZ_DET_RUNS=5000
tests_fuzz_fuzz_saml_response_det_CFLAGS = $(FUZZ_CONN_CFLAGS)
tests_fuzz_fuzz_saml_response_det_LDADD = $(FUZZ_CONN_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_saml_metadata_det
TESTS += tests/fuzz/fuzz_saml_metadata_det
tests_fuzz_fuzz_saml_metadata_det_SOURCES = tests/fuzz/fuzz_saml_metadata.c $(FUZZ_SAML_SOURCES)
tests_fuzz_fuzz_saml_metadata_det_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"saml_metadata"' \
	-DFUZZ_DET_RUNS=10000
tests_fuzz_fuzz_saml_metadata_det_CFLAGS = $(FUZZ_CONN_CFLAGS)
tests_fuzz_fuzz_saml_metadata_det_LDADD = $(FUZZ_CONN_LIBS)
endif

check_PROGRAMS += tests/fuzz/fuzz_idmap_det
TESTS += tests/fuzz/fuzz_idmap_det
tests_fuzz_fuzz_idmap_det_SOURCES = tests/fuzz/fuzz_idmap.c $(FUZZ_DET_SOURCES)
tests_fuzz_fuzz_idmap_det_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"idmap"' -DFUZZ_DET_RUNS=100000
tests_fuzz_fuzz_idmap_det_LDADD = libidgidmap.la libidgrbac.la libidgcommon.la

FUZZ_SECONDS = 60
fuzz:
	$(SHELL) $(srcdir)/tests/fuzz/run.sh $(FUZZ_SECONDS)
.PHONY: fuzz
