# The connector library (connectors/): linked only into idgated, used only in its connector
# child. libcurl, cJSON and OpenSSL; not liboauth2 (connectors/README.md says why).
noinst_LTLIBRARIES += libidgconn.la
libidgconn_la_SOURCES = \
	connectors/oidc.h connectors/oidc_int.h \
	connectors/http.c connectors/http.h \
	connectors/json.c connectors/json.h \
	connectors/b64.c connectors/b64.h \
	connectors/jwks.c connectors/jwt.c \
	connectors/oidc.c connectors/grants.c connectors/claims.c \
	connectors/profile_generic.c connectors/profile_keycloak.c \
	connectors/profile_auth0.c connectors/profile_okta.c \
	connectors/saml.c connectors/saml.h
libidgconn_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) $(OPENSSL_CFLAGS) \
	$(XMLSEC_CFLAGS) $(XML2_CFLAGS) $(ZLIB_CFLAGS)
libidgconn_la_LIBADD = $(CURL_LIBS) $(CJSON_LIBS) $(OPENSSL_LIBS) $(XMLSEC_LIBS) $(XML2_LIBS) \
	$(ZLIB_LIBS)

# Unit tests: cmocka, TAP, loopback only. The HTTPS fixture (a libmicrohttpd server with a
# CA and certificate made in the test) plays the IdP.
if ENABLE_TESTS
CONN_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CURL_CFLAGS) $(CJSON_CFLAGS) \
	$(OPENSSL_CFLAGS) $(MHD_CFLAGS) $(XMLSEC_CFLAGS) $(XML2_CFLAGS)
CONN_TEST_LIBS = libidgconn.la libidgcommon.la $(CURL_LIBS) $(CJSON_LIBS) $(OPENSSL_LIBS) \
	$(CMOCKA_LIBS) $(MHD_LIBS) $(XMLSEC_LIBS) $(XML2_LIBS) $(ZLIB_LIBS) -lpthread
CONN_FIXTURE = tests/unit/connectors/fixture.c tests/unit/connectors/fixture.h

check_PROGRAMS += tests/unit/connectors/check_jwt
TESTS += tests/unit/connectors/check_jwt
tests_unit_connectors_check_jwt_SOURCES = tests/unit/connectors/check_jwt.c $(CONN_FIXTURE)
tests_unit_connectors_check_jwt_CFLAGS = $(CONN_TEST_CFLAGS)
tests_unit_connectors_check_jwt_LDADD = $(CONN_TEST_LIBS)

check_PROGRAMS += tests/unit/connectors/check_claims
TESTS += tests/unit/connectors/check_claims
tests_unit_connectors_check_claims_SOURCES = tests/unit/connectors/check_claims.c
tests_unit_connectors_check_claims_CFLAGS = $(CONN_TEST_CFLAGS)
tests_unit_connectors_check_claims_LDADD = $(CONN_TEST_LIBS)

check_PROGRAMS += tests/unit/connectors/check_http
TESTS += tests/unit/connectors/check_http
tests_unit_connectors_check_http_SOURCES = tests/unit/connectors/check_http.c $(CONN_FIXTURE)
tests_unit_connectors_check_http_CFLAGS = $(CONN_TEST_CFLAGS)
tests_unit_connectors_check_http_LDADD = $(CONN_TEST_LIBS)

check_PROGRAMS += tests/unit/connectors/check_grants
TESTS += tests/unit/connectors/check_grants
tests_unit_connectors_check_grants_SOURCES = tests/unit/connectors/check_grants.c $(CONN_FIXTURE)
tests_unit_connectors_check_grants_CFLAGS = $(CONN_TEST_CFLAGS)
tests_unit_connectors_check_grants_LDADD = $(CONN_TEST_LIBS)

check_PROGRAMS += tests/unit/connectors/check_saml
TESTS += tests/unit/connectors/check_saml
tests_unit_connectors_check_saml_SOURCES = tests/unit/connectors/check_saml.c \
	tests/unit/torture.c tests/unit/torture.h
tests_unit_connectors_check_saml_CFLAGS = $(CONN_TEST_CFLAGS)
# The allocation-failure test interposes the allocator (see check_saml.c).
tests_unit_connectors_check_saml_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
tests_unit_connectors_check_saml_LDADD = $(CONN_TEST_LIBS)

EXTRA_DIST += tests/unit/connectors/README.md
endif
