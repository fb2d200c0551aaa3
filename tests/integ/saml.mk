# SAML logins against the real test SAML IdP (tests/idp/saml: node's https, responses signed
# by xmlsec1; no npm packages) through idgated's HTTPS endpoint, the harness playing the
# browser. t_saml_lib.sh holds the shared helpers; t_ssh_saml.sh logs in over a real sshd;
# t_saml_flood.sh and t_saml_web.sh attack the endpoint (issue 13: an ACS flood, slowloris)
# and check its process (unprivileged, restarted, logins kept); t_saml_link.sh logs one user in
# by OIDC and by SAML ([saml] same_directory_as_oidc).
SAML_TESTS = \
	tests/integ/t_saml.sh \
	tests/integ/t_ssh_saml.sh \
	tests/integ/t_saml_flood.sh \
	tests/integ/t_saml_web.sh \
	tests/integ/t_saml_link.sh \
	tests/integ/t_saml_retry.sh \
	tests/integ/t_saml_logintest.sh
TESTS += $(SAML_TESTS)
EXTRA_DIST += $(SAML_TESTS) tests/integ/t_saml_lib.sh tests/idp/saml/server.mjs \
	tests/idp/saml/fixtures.json tests/idp/saml/README.md
