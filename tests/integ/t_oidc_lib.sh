# Shared helpers for the OIDC integration tests (t_oidc_*.sh): the real test IdP
# (tests/idp/oidc/server.mjs, oidc-provider over TLS on loopback) in one of its three shapes,
# idgated configured for it, logins by password, device code and token, and the IdP's control
# plane. Source it after nothing else: it sources lib.sh itself.
# shellcheck shell=sh disable=SC2034  # RC, OUT, ERR, APPROVE, MS are for the tests

. "$top_srcdir/tests/integ/lib.sh"

IDP_DIR=$top_srcdir/tests/idp/oidc
IDP_PIDS=
CLIENT_ID=idgate
CLIENT_SECRET=idgate-test-secret-5f2c9a7d1e

# Skip the whole script (TAP plan 1..0) when the test IdP cannot run here.
oidc_require() {
	_why=
	if ! command -v node >/dev/null 2>&1; then _why="node is not installed"
	elif [ ! -d "$IDP_DIR/node_modules/oidc-provider" ]; then
		_why="the test IdP's node modules are missing (run scripts/install-deps: npm ci in tests/idp/oidc)"
	fi
	idp_test_skip_unless "$_why"
}

oidc_cleanup() {
	for _p in $IDP_PIDS; do kill -TERM "$_p" 2>/dev/null; done
	for _p in $IDP_PIDS; do wait "$_p" 2>/dev/null; done
	IDP_PIDS=
	t_cleanup
}
trap oidc_cleanup EXIT
trap 'exit 1' INT TERM

# pam_world: what a test of pam.sock logins needs: sqlite3 (it reads the store), pamprobe, and
# oidc_setup's private directory; sets PROBE, PAM (the socket) and AUDIT (the audit log).
pam_world() {
	command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP sqlite3 is not installed"; exit 0; }
	PROBE=$top_builddir/tests/integ/pamprobe
	oidc_setup
	PAM=$T_DIR/run/pam.sock
	AUDIT=$T_DIR/log/audit.log
}

# oidc_setup: a private test directory (lib.sh's t_setup), the IdP's certificates, the secret.
oidc_setup() {
	t_setup
	"$IDP_DIR/mkcerts.sh" "$T_DIR/certs" || { echo "Bail out! mkcerts.sh failed"; exit 1; }
	chmod 0755 "$T_DIR/certs"
	CA=$T_DIR/certs/ca.pem
	SECRET_FILE=$T_DIR/client_secret
	umask 077
	printf '%s\n' "$CLIENT_SECRET" >"$SECRET_FILE"
	umask 022
	chmod 0600 "$SECRET_FILE"
}

# idp_start NAME SHAPE [SERVER ARGS...]: start the IdP; sets IDP_PID, ISS, CTL and BASE
# (ISS without a trailing slash). IDP_PORT and IDP_CPORT, when set, fix the ports. Its stdout/stderr go to $T_DIR/idp-NAME.{out,err}; its keys
# live in $T_DIR/idp-NAME (so a restart with the same NAME keeps them).
idp_start() {
	_name=$1 _shape=$2
	shift 2
	: >"$T_DIR/idp-$_name.out"
	node "$IDP_DIR/server.mjs" --shape "$_shape" --port "${IDP_PORT:-0}" --control-port "${IDP_CPORT:-0}" \
		--cert "$T_DIR/certs/server.pem" --key "$T_DIR/certs/server.key" \
		--state-dir "$T_DIR/idp-$_name" "$@" >"$T_DIR/idp-$_name.out" 2>>"$T_DIR/idp-$_name.err" &
	IDP_PID=$!
	IDP_PIDS="$IDP_PIDS $IDP_PID"
	for _i in $(seq 1 200); do
		grep -q '^READY ' "$T_DIR/idp-$_name.out" && break
		kill -0 "$IDP_PID" 2>/dev/null || break
		sleep 0.05
	done
	ISS=$(sed -n 's/^READY //p' "$T_DIR/idp-$_name.out")
	CTL=$(sed -n 's/^CONTROL //p' "$T_DIR/idp-$_name.out")
	BASE=${ISS%/}
	if [ -z "$ISS" ] || [ -z "$CTL" ]; then
		diag "the test IdP ($_shape) did not start:" "$(cat "$T_DIR/idp-$_name.err")"
		return 1
	fi
	return 0
}

# idp_stop: stop the last IdP started (SIGTERM, wait).
idp_stop() {
	[ -n "${IDP_PID:-}" ] || return 0
	kill -TERM "$IDP_PID" 2>/dev/null
	wait "$IDP_PID" 2>/dev/null
	IDP_PIDS=$(echo "$IDP_PIDS" | tr ' ' '\n' | grep -vx "$IDP_PID" | tr '\n' ' ')
	IDP_PID=
}

# idp_config PROFILE [EXTRA [idp] LINES...]: rewrite idgate.conf with an [idp] section for the
# IdP last started ([daemon] etc. as lib.sh writes them).
idp_config() {
	_profile=$1
	shift
	daemon_config "[idp]" "profile = $_profile" "issuer = $ISS" "client_id = $CLIENT_ID" \
		"client_secret_file = $SECRET_FILE" "ca_file = $CA" "$@"
}

# ---------- the IdP control plane ----------

ctl_get() { curl -sS --max-time 10 "$CTL$1"; }
ctl_post() { curl -sS --max-time 10 -XPOST "$CTL$1" ${2:+-d "$2"}; }
# mint JSON: a token from the IdP's /mint (see tests/idp/oidc/README.md).
mint() { curl -sS --max-time 30 -XPOST "$CTL/mint" -H 'content-type: application/json' -d "${1:-{\}}"; }
# idp_mode MODE [SECONDS]
idp_mode() { ctl_post /mode "{\"mode\": \"$1\", \"seconds\": ${2:-30}}" >/dev/null; }
# jwks_fetches: the IdP's count of JWKS requests.
jwks_fetches() { ctl_get /stats | jval d.jwks_fetches; }

# jval EXPR: evaluate a JS expression over the JSON on standard input (as d); strings bare.
# JSON values printed one per line when standard input holds several concatenated objects
# use jvals.
jval() {
	node -e '
let s = require("fs").readFileSync(0, "utf8"), d;
try { d = JSON.parse(s); } catch { d = s.trim(); }
const r = new Function("d", "return (" + process.argv[1] + ");")(d);
process.stdout.write((typeof r === "string" ? r : JSON.stringify(r)) + "\n");' "$1"
}

# discovery: the IdP's discovery document.
discovery() { curl -sS --cacert "$CA" --max-time 10 "$BASE/.well-known/openid-configuration"; }

# idp_tokens USER PASSWORD [CURL -d ARGS...]: a password grant straight at the IdP's token
# endpoint (client_secret_basic); prints the token response.
idp_tokens() {
	_u=$1 _pw=$2
	shift 2
	_tep=$(discovery | jval d.token_endpoint)
	curl -sS --cacert "$CA" --max-time 10 -u "$CLIENT_ID:$CLIENT_SECRET" \
		-d grant_type=password --data-urlencode "username=$_u" --data-urlencode "password=$_pw" \
		-d "scope=openid profile email" "$@" "$_tep"
}

# ---------- logins through idgatectl ----------

# run_in INPUT COMMAND...: run (lib.sh) with INPUT as one line of standard input.
run_in() {
	_in=$(mktemp)
	printf '%s\n' "$1" >"$_in"
	shift
	run "$@" <"$_in"
	rm -f "$_in"
}

# These logins record what they yield (login test --record: pinned, groups stored), as the
# tests of the IdP side expect; a plain 'login test' changes nothing.

# login_pw USER PASSWORD [CTL OPTIONS...]: a password login; sets RC, OUT, ERR.
login_pw() {
	_u=$1 _pw=$2
	shift 2
	run_in "$_pw" ctl "$@" login test --record "$_u"
}

# login_token TOKEN [USER]: token as password; sets RC, OUT, ERR.
login_token() {
	run_in "$1" ctl login test --record --token ${2:+"$2"}
}

# login_token_file FILE: token as password read from FILE (for tokens too large for argv).
login_token_file() {
	run ctl login test --record --token <"$1"
}

# device_login USER PASSWORD [approve|deny|abort|none] [-- CTL LOGIN ARGS...]: start 'idgatectl login test
# --device', wait for the code it prints, approve it at the IdP as USER (approve-device.mjs,
# like a browser), or deny it, or abort it, or do nothing; wait for idgatectl. Sets RC, OUT, ERR, and
# APPROVE (approve-device.mjs's output) and DEV_CODE.
device_login() {
	_u=$1 _pw=$2 _how=${3:-approve}
	if [ $# -ge 3 ]; then shift 3; else shift $#; fi
	[ "${1:-}" = "--" ] && shift
	_o=$T_DIR/dev.out _e=$T_DIR/dev.err
	: >"$_o"
	: >"$_e"
	ctl login test --record --device "$@" >"$_o" 2>"$_e" &
	_dp=$!
	DEV_CODE=
	for _i in $(seq 1 200); do
		DEV_CODE=$(sed -n 's/.*enter the code \([A-Z0-9-]*\).*/\1/p' "$_o")
		[ -n "$DEV_CODE" ] && break
		kill -0 "$_dp" 2>/dev/null || break
		sleep 0.05
	done
	APPROVE=
	if [ -n "$DEV_CODE" ]; then
		_vuri=$(sed -n 's/.*open \(https[^ ]*\) and enter.*/\1/p' "$_o")
		_flag=
		[ "$_how" = approve ] || _flag=--$_how
		case $_how in
		approve|deny|abort)
			APPROVE=$(node "$IDP_DIR/approve-device.mjs" --verification-uri "$_vuri" \
				--ca "$CA" --user-code "$DEV_CODE" --username "$_u" --password "$_pw" \
				${_flag:+"$_flag"} 2>&1) ;;
		esac
	fi
	wait "$_dp"
	RC=$?
	OUT=$(cat "$_o")
	ERR=$(cat "$_e")
}

# field NAME: the value of "NAME:" in idgatectl's text identity ($OUT).
field() { printf '%s\n' "$OUT" | sed -n "s/^$1: *//p" | head -n 1; }

# ---------- the store ----------

# store_dump: the store's whole content (sqlite3 .dump) but for the cached IdP signing keys
# (meta idp.jwks, a cache that any IdP request may refresh); without sqlite3, the groups, their
# members and the users idgatectl shows.
store_dump() {
	if command -v sqlite3 >/dev/null 2>&1; then
		sqlite3 "$T_DIR/state/state.db" .dump | grep -v "^INSERT INTO meta VALUES('idp.jwks'"
	else
		ctl group list
		for _g in $(ctl group list | sed -n 's/^group:\([^ ]*\) .*/\1/p'); do ctl group describe "$_g"; done
	fi
}
# same_store DESCRIPTION BEFORE: the store's content equals BEFORE (a store_dump); a diff if not.
same_store() {
	_now=$(store_dump)
	if [ "$_now" = "$2" ]; then pass "$1"; else
		fail "$1"
		diag "the store changed:" "$(printf '%s\n' "$2" >"$T_DIR/.b4"; printf '%s\n' "$_now" |
			diff "$T_DIR/.b4" - | head -n 40)"
	fi
}
have_sqlite3() { command -v sqlite3 >/dev/null 2>&1; }
sql() { sqlite3 "$T_DIR/state/state.db" "$1"; }

# elapsed_ms COMMAND...: run (lib.sh) COMMAND; sets MS to its wall time in milliseconds.
now_ms() { date +%s%3N; }
timed() {
	_t0=$(now_ms)
	"$@"
	MS=$(( $(now_ms) - _t0 ))
}

# connector_pid: the pid of our idgated's connector child.
connector_pid() { pgrep -P "$T_PID" -f idgated-connector | head -n 1; }
# ping_ok: idgated answers (quietly).
ping_ok() { ctl ping >/dev/null 2>&1; }
