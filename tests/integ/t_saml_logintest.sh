#!/bin/sh
# idgatectl login test --saml USER (issue 14, item 8): tries a SAML configuration without an
# SSH login. Root only; it prints this node's one-time link, waits while the harness plays the
# browser (the real test SAML IdP signs in), and shows the identity and groups; it stores
# nothing unless --record; a refusal exits 1 with the reason; PAM cannot reach its login.
. "$top_srcdir/tests/integ/t_saml_lib.sh"
saml_require
saml_enter_netns "$@"

saml_setup
saml_config "login_ttl = 30s"
ok "idgated starts with a [saml] section" daemon_start || { done_testing; exit 1; }
have_sqlite3() { command -v sqlite3 >/dev/null 2>&1; }
dump() { sqlite3 "$T_DIR/state/state.db" .dump; }

# lt_start USER [ARGS...]: 'idgatectl login test ARGS --saml USER' in the background;
# waits for its link (LINK); LT_PID.
lt_start() {
	_u=$1
	shift
	: >"$T_DIR/lt.out"
	ctl login test "$@" --saml "$_u" >"$T_DIR/lt.out" 2>"$T_DIR/lt.err" &
	LT_PID=$!
	LINK=
	for _i in $(seq 1 100); do
		LINK=$(sed -n 's/.*open \(https:[^ ]*\) in a browser$/\1/p; s/.*"verification_uri":[[:space:]]*"\([^"]*\)".*/\1/p' "$T_DIR/lt.out" | head -n 1)
		[ -n "$LINK" ] && break
		kill -0 "$LT_PID" 2>/dev/null || break
		sleep 0.1
	done
}
# lt_wait: wait for it; RC, OUT, ERR.
lt_wait() {
	wait "$LT_PID"
	RC=$?
	OUT=$(cat "$T_DIR/lt.out")
	ERR=$(cat "$T_DIR/lt.err")
}
field() { printf '%s\n' "$OUT" | sed -n "s/^$1: *//p" | head -n 1; }

have_sqlite3 && BEFORE=$(dump)
lt_start alice
like "login test --saml prints this node's one-time link" "$LINK" "^$SP_BASE/saml/login/[0-9a-f]{32}$"
like "... and how long it waits" "$(cat "$T_DIR/lt.out")" "waiting up to 30 s"
ok "... and waits for the browser" kill -0 "$LT_PID"
browser_open "$LINK"
is "the link leads to the IdP" "$OPEN_CODE" 303
browser_signin alice alice-pw-7c1e
browser_post
is "the IdP's signed response is accepted" "$ACS_CODE" 200
lt_wait
is "login test --saml: exit 0" "$RC" 0
is "... the login name" "$(field 'login name')" alice
like "... the principal" "$(field principal)" "^user:alice"
like "... the IdP groups" "$(field groups)" "data-scientists"
like "... both of them" "$(field groups)" "ml-team"
is "... method saml" "$(field method)" saml
like "... the IdP's entity ID as issuer" "$(field issuer)" "^$IDP_BASE"
if have_sqlite3; then
	is "... and nothing is stored (no pin, no user, no group)" "$(dump)" "$BEFORE"
fi
run ctl user list
unlike "alice is not a user after a login test" "$OUT" "^alice "

# Someone else's IdP account: refused, exit 1, saying why.
lt_start alice
browser_open "$LINK"
browser_signin bob bob-pw-2a9f
browser_post
lt_wait
is "bob's IdP account for alice's test: exit 1" "$RC" 1
like "... saying why" "$ERR" "maps to login name 'bob', not 'alice'"

# -o json: the start object with its handle, then the identity. PAM cannot reach the test.
lt_start alice -o json
HANDLE=$(sed -n 's/.*"handle":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$T_DIR/lt.out" | head -n 1)
like "-o json: the start's handle" "$HANDLE" "^[0-9a-f]{16}$"
HANDLE=$(node -e 'console.log(BigInt("0x" + process.argv[1]).toString())' "${HANDLE:-0}")
probe saml-wait alice "handle=$HANDLE"
like "PAM's SAML_WAIT cannot reach a login test's handle" "$OUT" "^status denied"
probe saml-cancel alice "handle=$HANDLE"
browser_open "$LINK"
browser_signin alice alice-pw-7c1e
browser_post
is "... the login test was not cancelled by PAM: its response is accepted" "$ACS_CODE" 200
lt_wait
is "-o json: exit 0" "$RC" 0
like "... the identity as JSON" "$OUT" '"posix_name":[[:space:]]*"alice"'

# --record: stored as an administrator's act.
lt_start alice --record
browser_open "$LINK"
browser_signin alice alice-pw-7c1e
browser_post
lt_wait
is "login test --saml --record: exit 0" "$RC" 0
run ctl user list
like "... alice is stored" "$OUT" "^alice "
like "... with her IdP groups" "$OUT" "data-scientists"

# Usage and who may.
run ctl login test --saml
is "--saml without USER: usage (exit 2)" "$RC" 2
run ctl login test --saml --device alice
is "--saml with --device: usage (exit 2)" "$RC" 2
run as_uid 4321 "$IDGATECTL" --socket "$SOCK" login test --saml alice
is "a non-root caller: exit 1 (or no socket access: 3)" "$(test "$RC" = 1 -o "$RC" = 3 && echo refused)" refused
unlike "... and no link is printed" "$OUT" "saml/login/"
run timeout 10 "$IDGATECTL" --socket "$SOCK" --as user:alice login test --saml alice
is "root acting as a user: refused (exit 1)" "$RC" 1

ok "idgated is still up" ping_quiet
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log" 2>/dev/null)" \
	"Sanitizer|runtime error:"
done_testing
