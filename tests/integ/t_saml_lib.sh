# Shared helpers for the SAML tests (t_saml.sh, t_ssh_saml.sh): the real test SAML IdP
# (tests/idp/saml/server.mjs: node's https, responses signed by xmlsec1) over TLS on loopback,
# idgated configured as its SP, and the browser's part of a login played with curl.
# shellcheck shell=sh disable=SC2034  # RC, OUT, ERR, ACS_CODE, ACS_BODY are for the tests

. "$top_srcdir/tests/integ/lib.sh"

SAML_IDP_DIR=$top_srcdir/tests/idp/saml
SAML_IDP_PID=
SP_ENTITY=https://node1.idgate.test/saml

saml_require() {
	_why=
	if ! command -v node >/dev/null 2>&1; then _why="node is not installed"
	elif ! command -v xmlsec1 >/dev/null 2>&1; then _why="xmlsec1 is not installed (scripts/install-deps)"
	fi
	idp_test_skip_unless "$_why"
}

# saml_enter_netns "$@": unless inside already, re-run the script in a network namespace of its
# own (loopback only), so the ports it picks never meet another test's; without namespaces, run
# as is.
saml_enter_netns() {
	[ "${SAML_INNER:-}" = 1 ] && { ip link set lo up 2>/dev/null; return 0; }
	SAML_INNER=1
	export SAML_INNER
	if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
		trap - EXIT
		exec unshare --net --fork sh "$0" "$@"
	fi
}

saml_cleanup() {
	if [ -n "$SAML_IDP_PID" ]; then
		kill -TERM "$SAML_IDP_PID" 2>/dev/null
		wait "$SAML_IDP_PID" 2>/dev/null
	fi
	SAML_IDP_PID=
	t_cleanup
}
trap saml_cleanup EXIT
trap 'exit 1' INT TERM

# saml_setup: a private test directory, the harness CA and a server certificate for 127.0.0.1
# (the IdP's and idgated's endpoint share it), the IdP started; sets CA, IDP_BASE, IDP_MD.
saml_setup() {
	t_setup
	"$top_srcdir/tests/idp/oidc/mkcerts.sh" "$T_DIR/certs" || { echo "Bail out! mkcerts.sh failed"; exit 1; }
	chmod 0755 "$T_DIR/certs"
	CA=$T_DIR/certs/ca.pem
	saml_idp_start
}

# saml_idp_start: the test SAML IdP with the certificates in $T_DIR/certs (and the fixtures
# in $SAML_IDP_FIXTURES when set); sets IDP_BASE, IDP_MD, SAML_IDP_PID. SAML_IDP_PORT, when
# set, fixes its port.
saml_idp_start() {
	: >"$T_DIR/saml-idp.out"
	node "$SAML_IDP_DIR/server.mjs" --port "${SAML_IDP_PORT:-0}" --cert "$T_DIR/certs/server.pem" \
		--key "$T_DIR/certs/server.key" --state-dir "$T_DIR/saml-idp" \
		${SAML_IDP_FIXTURES:+--fixtures "$SAML_IDP_FIXTURES"} \
		>"$T_DIR/saml-idp.out" 2>"$T_DIR/saml-idp.err" &
	SAML_IDP_PID=$!
	for _i in $(seq 1 400); do
		grep -q '^READY ' "$T_DIR/saml-idp.out" && break
		kill -0 "$SAML_IDP_PID" 2>/dev/null || break
		sleep 0.05
	done
	IDP_BASE=$(sed -n 's/^READY //p' "$T_DIR/saml-idp.out")
	IDP_MD=$T_DIR/saml-idp/metadata.xml
	if [ -z "$IDP_BASE" ]; then
		echo "Bail out! the test SAML IdP did not start: $(cat "$T_DIR/saml-idp.err")"
		exit 1
	fi
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
		console.log(s.address().port); s.close(); })'
}

# saml_config [EXTRA LINES...]: idgate.conf with a [saml] section for the IdP; sets SP_PORT,
# SP_BASE.
saml_config() {
	SP_PORT=$(free_port)
	SP_BASE=https://127.0.0.1:$SP_PORT
	daemon_config "[idmap]" "name_rule = email_local" "[saml]" "idp_metadata = $IDP_MD" \
		"sp_entity_id = $SP_ENTITY" "base_url = $SP_BASE" "listen = 127.0.0.1" \
		"port = $SP_PORT" "tls_cert = $T_DIR/certs/server.pem" \
		"tls_key = $T_DIR/certs/server.key" "$@"
}

# idp_variant NAME: the IdP's next response is of this kind (tests/idp/saml/README.md).
idp_variant() {
	curl -sS --cacert "$CA" --max-time 10 -XPOST "$IDP_BASE/control/variant" \
		-d "{\"variant\": \"$1\"}" >/dev/null
}

# browser_open URL: open a login link; sets OPEN_CODE (HTTP status) and OPEN_LOCATION.
browser_open() {
	_r=$(curl -sS --cacert "$CA" --max-time 30 -o "$T_DIR/open.body" \
		-w '%{http_code} %{redirect_url}' "$1")
	OPEN_CODE=${_r%% *}
	OPEN_LOCATION=${_r#* }
	OPEN_BODY=$(cat "$T_DIR/open.body")
}

# browser_signin USER PASSWORD: at the IdP's SSO URL (OPEN_LOCATION), sign in; the response
# form's action and SAMLResponse go to ACS_URL and $T_DIR/saml_response.
browser_signin() {
	_sr=$(printf '%s\n' "$OPEN_LOCATION" | sed -n 's/.*[?&]SAMLRequest=\([^&]*\).*/\1/p')
	curl -sS --cacert "$CA" --max-time 60 -o "$T_DIR/idp.html" \
		--data "SAMLRequest=$_sr" --data-urlencode "username=$1" \
		--data-urlencode "password=$2" "$IDP_BASE/sso/login"
	ACS_URL=$(sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' "$T_DIR/idp.html")
	sed -n 's/.*name="SAMLResponse" value="\([^"]*\)".*/\1/p' "$T_DIR/idp.html" \
		>"$T_DIR/saml_response"
}

# browser_post [FILE]: post the SAMLResponse (from FILE, default the last one) to the ACS;
# sets ACS_CODE and ACS_BODY.
browser_post() {
	_f=${1:-$T_DIR/saml_response}
	ACS_CODE=$(curl -sS --cacert "$CA" --max-time 60 -o "$T_DIR/acs.body" -w '%{http_code}' \
		--data-urlencode "SAMLResponse@$_f" "${ACS_URL:-$SP_BASE/saml/acs}")
	ACS_BODY=$(cat "$T_DIR/acs.body" 2>/dev/null)
}

# probe OP NAME [ARGS...]: pamprobe against the private idgated's pam.sock; sets RC OUT ERR.
probe() {
	_op=$1 _n=$2
	shift 2
	run "$top_builddir/tests/integ/pamprobe" "$T_DIR/run/pam.sock" "$_op" "$_n" "$@"
}
ping_quiet() { ctl ping >/dev/null 2>&1; }
pfield() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }

# saml_start NAME: PAM's SAML_START for NAME; sets HANDLE and LINK.
saml_start() {
	probe saml-start "$1"
	HANDLE=$(pfield handle)
	LINK=$(pfield verify_uri)
}
