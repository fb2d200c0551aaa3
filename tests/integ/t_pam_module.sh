#!/bin/sh
# pam_idgate.so through libpam (pam_wrapper, private stacks) against fake_idgated, which
# answers scripted replies and records every request: each status mapping, the methods and
# their order, tokens typed as passwords, use_first_pass/try_first_pass, the device prompt,
# expiry, denial and timeouts, idgated down or stuck or hostile, local accounts left to
# pam_unix, PAM_USER never changed, secrets never logged, and valgrind.
. "$top_srcdir/tests/integ/lib.sh"

B=$top_builddir
MOD=$B/.libs/pam_idgate.so
FAKE=$B/tests/integ/fake_idgated
DRV=$B/tests/integ/pam_driver
PW=/usr/lib/x86_64-linux-gnu/pam_wrapper

if [ ! -e "$(ldconfig -p | awk '/libpam_wrapper\.so / { print $NF; exit }')" ] ||
   [ ! -d "$PW" ]; then
	echo "1..0 # SKIP pam_wrapper (libpam-wrapper) is not installed"
	exit 0
fi

T_DIR=$(mktemp -d /tmp/idgate-pam.XXXXXX)
SOCK=$T_DIR/pam.sock
mkdir "$T_DIR/svc"
echo "auth required pam_deny.so" >"$T_DIR/svc/other"

# stack NAME ARGS...: service NAME with pam_idgate.so in all four stacks. A success or a
# failure ends the stack with the module's own code; PAM_IGNORE falls through to pam_echo,
# which prints "TYPE-ignored" (libpam then answers PAM_PERM_DENIED: nothing decided).
stack() {
	_n=$1; shift
	for _t in auth account session password; do
		printf '%s [success=done ignore=ignore default=die] %s socket=%s %s\n' \
			"$_t" "$MOD" "$SOCK" "$*"
		printf '%s optional pam_echo.so %s-ignored\n' "$_t" "$_t"
	done >"$T_DIR/svc/$_n"
}
stack t timeout=2

# fake LINE...: (re)start fake_idgated with this script; FAKE_OPTS adds options.
fake() {
	fake_stop
	printf '%s\n' "$@" >"$T_DIR/script"
	: >"$T_DIR/log"
	"$FAKE" -s "$SOCK" -r "$T_DIR/script" -l "$T_DIR/log" ${FAKE_OPTS:-} 2>>"$T_DIR/fake.err" &
	T_PID=$!
	for _i in $(seq 1 100); do
		[ -S "$SOCK" ] && return 0
		sleep 0.02
	done
	diag "fake_idgated did not start"
}
fake_stop() {
	if [ -n "$T_PID" ]; then
		kill "$T_PID" 2>/dev/null
		wait "$T_PID" 2>/dev/null
		T_PID=
	fi
	rm -f "$SOCK"
}

# drv ARGS...: pam_driver under pam_wrapper (with DRV_ENV's NAME=VALUE in its environment);
# OUT holds the conversation and the results.
drv() {
	run env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T_DIR/svc" LD_PRELOAD=libpam_wrapper.so \
		${DRV_ENV:-} "$DRV" "$@"
	ALL_OUT="$ALL_OUT
$OUT"
}
ALL_OUT=
# res CALL: the PAM code CALL returned; ms CALL: how long it took.
res() { printf '%s\n' "$OUT" | sed -n "s/^$1=\([A-Z_]*\) .*/\1/p"; }
ms() { printf '%s\n' "$OUT" | sed -n "s/^$1=[A-Z_]* ms=\([0-9]*\)$/\1/p"; }
reqs() { cat "$T_DIR/log"; }
nreqs() { grep -c "op=$1 " "$T_DIR/log"; }
# within LOW HIGH VALUE
within() { [ -n "$3" ] && [ "$3" -ge "$1" ] && [ "$3" -le "$2" ]; }

JWT=eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwIn0.c2lnbmF0dXJlLWJ5dGVz
ROBOT=idgr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
DEV="start OK handle=42 code=WDJB-MJHT uri=https://idp.example/device interval=1 expires=60"

# ---------- password ----------
fake "auth OK"
drv -r 10.1.2.3 -a 'pw one' t alice auth
is "password: PAM_SUCCESS" "$(res auth)" PAM_SUCCESS
like "password: the prompt is 'Password: ', echo off" "$OUT" "^conv ECHO_OFF Password: $"
is "password: the request is AUTH NAME SERVICE RHOST METHOD=1 SECRET, well formed" "$(reqs)" \
	"op=auth name=alice service=t rhost=10.1.2.3 method=1 secret=pw%20one ok"
drv -a pw t alice auth
is "no PAM_RHOST: no RHOST field" "$(tail -1 "$T_DIR/log")" \
	"op=auth name=alice service=t method=1 secret=pw ok"

# sshd's stand-in for the password of a user it could not resolve (issue 14, item 12): never
# sent on, so an IdP that counts failed logins cannot lock the user out for it.
fake "auth OK"
drv -a "$(printf '\b\n\r\177INCORRECT')" t alice auth
is "sshd's decoy password: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
is "... nothing is sent to idgated" "$(reqs)" ""

# ---------- tokens typed as the password ----------
fake "auth OK"
drv -a "$JWT" t alice auth
is "a JWT typed as the password: PAM_SUCCESS" "$(res auth)" PAM_SUCCESS
like "a JWT typed as the password goes as METHOD token (2)" "$(tail -1 "$T_DIR/log")" \
	"method=2 secret=$JWT ok$"
drv -a "$ROBOT" t alice auth
like "a robot token typed as the password goes as METHOD token" "$(tail -1 "$T_DIR/log")" \
	"method=2 secret=$ROBOT ok$"
drv -a "my.pass.word" t alice auth
like "a password with two dots is still a password" "$(tail -1 "$T_DIR/log")" "method=1 "
drv -a "eyJhbGciOi.eyJzdWIi" t alice auth
like "two base64url parts are not a JWT" "$(tail -1 "$T_DIR/log")" "method=1 "
drv -a "eyJhbGciOi.eyJz dWIi.c2ln" t alice auth
like "a space in it: not a JWT" "$(tail -1 "$T_DIR/log")" "method=1 "
drv -a "${ROBOT}x" t alice auth
like "idgr_ with 44 characters is not a robot token" "$(tail -1 "$T_DIR/log")" "method=1 "

# ---------- auth: every status ----------
fake "auth DENIED error=invalid username or password"
drv -a wrong t alice auth
is "DENIED: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
like "DENIED: the short reason is shown as an error message" "$OUT" \
	"^conv ERROR idgate: invalid username or password$"
fake "auth DENIED"
drv -a wrong t alice auth
is "DENIED without a reason: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
unlike "DENIED without a reason: no message" "$OUT" "^conv ERROR"
fake "auth UNKNOWN"
drv -a pw t carol auth
is "UNKNOWN: PAM_USER_UNKNOWN (pam_unix goes on)" "$(res auth)" PAM_USER_UNKNOWN
fake "auth UNAVAIL error=connect: timeout"
drv -a pw t alice auth
is "UNAVAIL: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
like "UNAVAIL: 'identity provider unreachable'" "$OUT" \
	"^conv ERROR idgate: identity provider unreachable$"
fake "auth ERROR error=store: disk full"
drv -a pw t alice auth
is "ERROR: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
like "ERROR: 'the login service failed', not its internals" "$OUT" \
	"^conv ERROR idgate: the login service failed$"
unlike "ERROR: the daemon's reason is not shown" "$OUT" "disk full"
fake "auth INPUT error=bad request"
drv -a pw t alice auth
is "INPUT: PAM_SERVICE_ERR" "$(res auth)" PAM_SERVICE_ERR
fake "auth PENDING"
drv -a pw t alice auth
is "PENDING to a password: malformed, PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
fake "auth status=77"
drv -a pw t alice auth
is "an unknown status: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL

# reasons are bounded and printable
fake "auth DENIED error=bad%1B[31mred%07 and more"
drv -a pw t alice auth
like "control characters in a reason are replaced" "$OUT" "^conv ERROR idgate: bad\?\[31mred\? and more$"
fake "auth DENIED error=$(head -c 1000 /dev/zero | tr '\0' r)"
drv -a pw t alice auth
is "a long reason is cut to 200 bytes" \
	"$(printf '%s\n' "$OUT" | sed -n 's/^conv ERROR idgate: //p' | tr -d '\n' | wc -c)" 200

# ---------- methods and their order ----------
fake "auth OK" "$DEV" "wait OK"
drv -a "" -a "" t alice auth
is "default methods: an empty password moves on to the device login" "$(res auth)" PAM_SUCCESS
like "default methods: Password first, then the device prompt" \
	"$(printf '%s\n' "$OUT" | grep '^conv' | cut -c1-30 | tr '\n' '|')" \
	"^conv ECHO_OFF Password: \|conv ECHO_ON To sign in, open \|$"
is "an empty password is not sent" "$(nreqs auth)" 0
stack dev timeout=2 methods=device,password
fake "auth OK" "$DEV" "wait OK"
drv -a "" dev alice auth
like "methods=device,password: the device prompt comes first" \
	"$(printf '%s\n' "$OUT" | grep '^conv' | head -1)" "^conv ECHO_ON To sign in"
stack pwonly timeout=2 methods=password
drv -a "" pwonly alice auth
is "methods=password and nothing typed: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
unlike "methods=password: no device prompt" "$OUT" "ECHO_ON"
stack tok timeout=2 methods=token
fake "auth OK"
drv -a "not-shaped-like-a-token" tok alice auth
like "methods=token: the prompt is 'Token: '" "$OUT" "^conv ECHO_OFF Token: $"
is "methods=token: sent as METHOD token whatever its shape" "$(tail -1 "$T_DIR/log")" \
	"op=auth name=alice service=tok method=2 secret=not-shaped-like-a-token ok"
stack order timeout=2 methods=token,password
drv -a "" -a pw order alice auth
like "methods=token,password: Token, then Password" \
	"$(printf '%s\n' "$OUT" | grep '^conv' | tr '\n' '|')" "^conv ECHO_OFF Token: \|conv ECHO_OFF Password: \|$"
for bad in methods=password,sms methods=password,password methods= "methods=password," \
	timeout=0 timeout=x device_wait=99999 socket=relative; do
	stack bad "$bad"
	drv -a pw bad alice auth
	is "a bad argument ($bad): PAM_SERVICE_ERR, nothing asked" "$(res auth)/$(echo "$OUT" | grep -c '^conv')" \
		"PAM_SERVICE_ERR/0"
done
stack unk timeout=2 no_such_option
fake "auth OK"
drv -a pw unk alice auth
is "an unknown argument is ignored (logged), as Linux-PAM modules do" "$(res auth)" PAM_SUCCESS

# ---------- use_first_pass / try_first_pass ----------
# pam_set_items.so (pam_wrapper) sets PAM_AUTHTOK from the process environment, as an
# earlier module that prompted would have.
first() {
	{
		echo "auth required $PW/pam_set_items.so"
		printf 'auth [success=done default=die] %s socket=%s timeout=2 %s\n' "$MOD" "$SOCK" "$*"
	} >"$T_DIR/svc/first"
}
first use_first_pass
fake "auth OK"
DRV_ENV=PAM_AUTHTOK=earlier; drv first alice auth
is "use_first_pass: PAM_SUCCESS" "$(res auth)" PAM_SUCCESS
unlike "use_first_pass: no prompt" "$OUT" "^conv ECHO"
is "use_first_pass: the earlier module's password is sent" "$(reqs)" \
	"op=auth name=alice service=first method=1 secret=earlier ok"
first use_first_pass methods=password
DRV_ENV=
drv first alice auth
is "use_first_pass with no earlier password: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
unlike "use_first_pass with no earlier password: no prompt" "$OUT" "^conv ECHO"
fake "auth DENIED error=invalid username or password"
first use_first_pass
DRV_ENV=PAM_AUTHTOK=earlier; drv -a typed first alice auth
is "use_first_pass, denied: PAM_AUTH_ERR without a prompt" "$(res auth)/$(echo "$OUT" | grep -c '^conv ECHO')" \
	"PAM_AUTH_ERR/0"
first try_first_pass
fake "auth OK"
DRV_ENV=PAM_AUTHTOK=earlier; drv -a typed first alice auth
is "try_first_pass: the earlier password, no prompt" "$(reqs)/$(echo "$OUT" | grep -c '^conv ECHO')" \
	"op=auth name=alice service=first method=1 secret=earlier ok/0"
fake "auth DENIED" "auth OK"
DRV_ENV=PAM_AUTHTOK=earlier; drv -a typed first alice auth
is "try_first_pass, earlier password denied: prompts and sends what is typed" \
	"$(res auth) $(cut -d' ' -f5 "$T_DIR/log" | tr '\n' ' ')" "PAM_SUCCESS secret=earlier secret=typed "
DRV_ENV=
fake "auth OK"
drv -a "" -a "" first alice auth
like "try_first_pass with no earlier password: prompts" "$OUT" "^conv ECHO_OFF Password: $"
first
fake "auth OK"
DRV_ENV=PAM_AUTHTOK=earlier; drv -a typed first alice auth
DRV_ENV=
like "neither option: prompts even with an earlier password" "$(reqs)" "secret=typed ok$"
# what is typed becomes PAM_AUTHTOK for the modules after (pam_get_items.so exports it)
{
	printf 'auth optional %s socket=%s timeout=2\n' "$MOD" "$SOCK"
	echo "auth required $PW/pam_get_items.so"
} >"$T_DIR/svc/export"
fake "auth DENIED"
drv -a "typed pw" export alice auth
like "the typed password is left in PAM_AUTHTOK for the next module" "$OUT" "^env PAM_AUTHTOK=typed pw$"

# ---------- device code ----------
fake "$DEV" "wait PENDING" "wait OK"
drv -r 10.9.9.9 -a "" -a "" t alice auth
is "device: PAM_SUCCESS after PENDING, OK" "$(res auth)" PAM_SUCCESS
like "device: the URL and the code are IN an echo-on prompt ending 'press Enter'" "$OUT" \
	"^conv ECHO_ON To sign in, open https://idp\.example/device and enter the code WDJB-MJHT, then press Enter: $"
unlike "device: not only as info text" "$OUT" "^conv INFO"
is "device: START NAME SERVICE RHOST, then WAIT NAME HANDLE until OK, no CANCEL" "$(reqs)" \
	"op=start name=alice service=t rhost=10.9.9.9 ok
op=wait name=alice handle=42 ok
op=wait name=alice handle=42 ok"
fake "start OK handle=7 code=ABCD-EFGH uri=https://idp.example/device complete=https://idp.example/device?user_code=ABCD-EFGH interval=1 expires=60" "wait OK"
drv -a "" -a "" t alice auth
like "device: the complete URL too when idgated gives one" "$OUT" \
	"^conv ECHO_ON To sign in, open https://idp\.example/device\?user_code=ABCD-EFGH \(or open https://idp\.example/device and enter the code ABCD-EFGH\), then press Enter: $"
fake "$DEV" "wait PENDING" "wait DENIED error=access denied at the identity provider"
drv -a "" -a "" t alice auth
is "device denied: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
like "device denied: the reason is shown" "$OUT" "^conv ERROR idgate: access denied at the identity provider$"
is "device denied: no CANCEL (idgated ended it)" "$(nreqs cancel)" 0
fake "$DEV" "wait DENIED error=the code expired"
drv -a "" -a "" t alice auth
is "device code expired at the IdP: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
like "device code expired at the IdP: the reason is shown" "$OUT" "^conv ERROR idgate: the code expired$"
stack dw timeout=2 device_wait=2
fake "$DEV" "wait PENDING"
drv -a "" -a "" dw alice auth
is "device_wait=2 and always PENDING: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
ok "device_wait=2: ends after about 2 s ($(ms auth) ms)" within 1900 3500 "$(ms auth)"
like "device_wait: a clear message" "$OUT" "^conv ERROR idgate: the sign-in was not completed in time; please try again$"
is "device_wait: CANCEL NAME HANDLE is sent" "$(grep 'op=cancel' "$T_DIR/log")" \
	"op=cancel name=alice handle=42 ok"
ok "PENDING answered at once: no busy loop (at most 4 WAITs in 2 s at interval 1; $(nreqs wait))" \
	within 1 4 "$(nreqs wait)"
fake "start OK handle=9 code=C-1 uri=https://i/d interval=1 expires=2" "wait PENDING"
drv -a "" -a "" t alice auth
is "the code's own lifetime (EXPIRES=2) ends the wait too" "$(res auth)" PAM_AUTH_ERR
ok "EXPIRES=2: after about 2 s ($(ms auth) ms)" within 1900 3500 "$(ms auth)"
stack dt timeout=1 device_wait=30
fake "$DEV" "wait hang"
drv -a "" -a "" dt alice auth
is "a WAIT never answered: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
ok "a WAIT never answered: given up after interval + timeout, then a short CANCEL ($(ms auth) ms)" \
	within 1800 4500 "$(ms auth)"
like "a WAIT never answered: the CANCEL was tried" "$(reqs)" "op=cancel name=alice handle=42"
fake "$DEV" "wait OK"
drv -a "" t alice auth
is "the conversation fails at the device prompt: PAM_CONV_ERR" "$(res auth)" PAM_CONV_ERR
is "... and the device login is cancelled" "$(grep -c 'op=cancel name=alice handle=42' "$T_DIR/log")" 1
is "... without a WAIT" "$(nreqs wait)" 0
fake "start UNKNOWN"
drv -a "" -a "" t carol auth
is "device START UNKNOWN: PAM_USER_UNKNOWN" "$(res auth)" PAM_USER_UNKNOWN
fake "start UNAVAIL"
drv -a "" -a "" t alice auth
is "device START UNAVAIL: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
fake "start DENIED error=device login is not enabled"
drv -a "" -a "" t alice auth
is "device START DENIED: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
for bad in "handle=5 uri=https://i/d interval=1 expires=60" \
	"handle=5 code=AB%1BCD uri=https://i/d interval=1 expires=60" \
	"handle=5 code=AB uri=https://i/d%20x interval=1 expires=60" \
	"handle=5 code=AB uri=https://i/d interval=1 expires=0" \
	"handle=5 code=AB uri=https://i/d expires=60" \
	"handle=5 code=$(head -c 100 /dev/zero | tr '\0' A) uri=https://i/d interval=1 expires=60"; do
	fake "start OK $bad"
	drv -a "" -a "" t alice auth
	is "a start reply that cannot be shown ($(echo "$bad" | cut -c1-40)...): PAM_AUTHINFO_UNAVAIL, cancelled" \
		"$(res auth) $(echo "$OUT" | grep -c '^conv ECHO_ON') $(nreqs cancel)" "PAM_AUTHINFO_UNAVAIL 0 1"
done
fake "start OK code=AB uri=https://i/d interval=1 expires=60"
drv -a "" -a "" t alice auth
is "a start reply without a handle: refused, nothing to cancel" "$(res auth) $(nreqs cancel)" \
	"PAM_AUTHINFO_UNAVAIL 0"

# ---------- account ----------
fake "account OK"
drv -r 10.1.2.3 t alice acct
is "account OK: PAM_SUCCESS" "$(res acct)" PAM_SUCCESS
is "account: ACCOUNT NAME SERVICE RHOST" "$(reqs)" "op=account name=alice service=t rhost=10.1.2.3 ok"
fake "account DENIED error=alice holds no role on this cluster"
drv t alice acct
is "account DENIED: PAM_PERM_DENIED" "$(res acct)" PAM_PERM_DENIED
like "account DENIED: the one-line reason is shown" "$OUT" \
	"^conv ERROR idgate: alice holds no role on this cluster$"
fake "account DENIED"
drv t alice acct
like "account DENIED without a reason: still a line" "$(res acct) $OUT" \
	"^PAM_PERM_DENIED .*conv ERROR idgate: this account may not log in here"
fake "account UNKNOWN"
drv t carol acct
is "account UNKNOWN: PAM_USER_UNKNOWN" "$(res acct)" PAM_USER_UNKNOWN
fake "account UNAVAIL"
drv t alice acct
is "account UNAVAIL: PAM_AUTHINFO_UNAVAIL (fail closed)" "$(res acct)" PAM_AUTHINFO_UNAVAIL
fake "account ERROR"
drv t alice acct
is "account ERROR: PAM_AUTHINFO_UNAVAIL (fail closed)" "$(res acct)" PAM_AUTHINFO_UNAVAIL

# ---------- session ----------
fake "open OK" "close OK"
drv -r 10.1.2.3 t alice open
is "session open OK: PAM_SUCCESS" "$(res open)" PAM_SUCCESS
like "session open: OPEN NAME SERVICE RHOST PID" "$(reqs)" \
	"^op=open name=alice service=t rhost=10.1.2.3 pid=[1-9][0-9]* ok$"
drv t alice close
is "session close OK: PAM_SUCCESS" "$(res close)" PAM_SUCCESS
like "session close: CLOSE NAME SERVICE PID" "$(tail -1 "$T_DIR/log")" \
	"^op=close name=alice service=t pid=[1-9][0-9]* ok$"
fake "open UNKNOWN" "close UNKNOWN"
drv t carol open
like "session open UNKNOWN: PAM_IGNORE" "$OUT" "^conv INFO session-ignored$"
# pam_echo prints only when a session opens; for close and setcred, PAM_IGNORE shows as
# libpam's PAM_PERM_DENIED (no module decided), a code the module never returns there.
drv t carol close
is "session close UNKNOWN: PAM_IGNORE" "$(res close)" PAM_PERM_DENIED
fake "open DENIED error=home directory: permission denied"
drv t alice open
is "session open DENIED: PAM_SESSION_ERR" "$(res open)" PAM_SESSION_ERR
like "session open DENIED: the reason is shown" "$OUT" \
	"^conv ERROR idgate: the session could not be opened: home directory: permission denied$"
fake "open DENIED"
drv t alice open
like "session open DENIED without a reason: a line all the same" "$(res open) $(echo "$OUT" | grep '^conv ERROR')" \
	"^PAM_SESSION_ERR conv ERROR idgate: the session could not be opened$"
fake "open ERROR"
drv t alice open
is "session open ERROR: PAM_SESSION_ERR" "$(res open)" PAM_SESSION_ERR
fake "close ERROR"
drv t alice close
is "session close ERROR: PAM_SESSION_ERR, nothing shown" "$(res close) $(echo "$OUT" | grep -c '^conv')" \
	"PAM_SESSION_ERR 0"

# ---------- setcred, chauthtok ----------
fake "auth OK"
drv t alice setcred
is "setcred: PAM_SUCCESS, idgated not asked" "$(res setcred) $(wc -l <"$T_DIR/log")" "PAM_SUCCESS 0"
drv t alice chauthtok
is "chauthtok: PAM_AUTHTOK_ERR" "$(res chauthtok)" PAM_AUTHTOK_ERR
like "chauthtok: passwords are changed at the IdP" "$OUT" \
	"^conv ERROR idgate: the password of alice is changed at the identity provider, not on this host$"

# ---------- local accounts are pam_unix's ----------
fake "auth OK" "account OK" "open OK" "close OK" "$DEV"
drv -a pw t root auth acct open
like "a local account (root): auth says PAM_USER_UNKNOWN at once, without a prompt" \
	"$(res auth) $(echo "$OUT" | grep -c '^conv ECHO')" "^PAM_USER_UNKNOWN 0$"
is "a local account: account PAM_USER_UNKNOWN" "$(res acct)" PAM_USER_UNKNOWN
like "a local account: session PAM_IGNORE" "$OUT" "conv INFO session-ignored"
drv t root setcred
is "a local account: setcred PAM_IGNORE" "$(res setcred)" PAM_PERM_DENIED
drv t root chauthtok
like "a local account: chauthtok PAM_IGNORE (pam_unix changes it)" "$OUT" "conv INFO password-ignored"
is "a local account: idgated is never asked (its password never leaves the process)" \
	"$(wc -l <"$T_DIR/log")" 0
for name in "bad:name" "a/b" "$(head -c 300 /dev/zero | tr '\0' a)"; do
	drv -a pw t "$name" auth
	is "an unusable name ($(echo "$name" | cut -c1-10)): PAM_USER_UNKNOWN, not asked" \
		"$(res auth) $(wc -l <"$T_DIR/log")" "PAM_USER_UNKNOWN 0"
done

# ---------- idgated down, stuck, hostile ----------
fake_stop
drv -a pw t alice auth
is "no daemon (no socket): PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
like "no daemon: 'idgate: the login service is not running'" "$OUT" \
	"^conv ERROR idgate: the login service is not running$"
ok "no daemon: at once ($(ms auth) ms < 500)" within 0 499 "$(ms auth)"
drv t alice acct
is "no daemon: account fails closed (PAM_AUTHINFO_UNAVAIL)" "$(res acct)" PAM_AUTHINFO_UNAVAIL
drv t alice open
is "no daemon: session open PAM_SESSION_ERR" "$(res open)" PAM_SESSION_ERR
drv -a pw t root auth
is "no daemon: a local account still goes to pam_unix (PAM_USER_UNKNOWN)" "$(res auth)" PAM_USER_UNKNOWN
fake "auth OK"
kill "$T_PID"; wait "$T_PID" 2>/dev/null; T_PID=	# killed, it leaves its socket behind
drv -a pw t alice auth
is "a stale socket file (refused): PAM_AUTHINFO_UNAVAIL at once" \
	"$(res auth) $(within 0 499 "$(ms auth)" && echo fast)" "PAM_AUTHINFO_UNAVAIL fast"
rm -f "$SOCK"

stack t1 timeout=1
fake "auth hang"
drv -a pw t1 alice auth
is "a daemon that reads and never answers: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
ok "... within timeout=1 ($(ms auth) ms)" within 900 1800 "$(ms auth)"
like "... with the clear line" "$OUT" "^conv ERROR idgate: the login service is not running$"
FAKE_OPTS=-n fake "auth OK"
drv -a pw t1 alice auth
is "a daemon that never accepts: PAM_AUTHINFO_UNAVAIL" "$(res auth)" PAM_AUTHINFO_UNAVAIL
ok "... within timeout=1 ($(ms auth) ms)" within 900 1800 "$(ms auth)"
fake "account hang"
drv t1 alice acct
is "account, never answered: PAM_AUTHINFO_UNAVAIL within the timeout" \
	"$(res acct) $(within 900 1800 "$(ms acct)" && echo intime)" "PAM_AUTHINFO_UNAVAIL intime"
fake "open hang"
drv t1 alice open
is "session, never answered: PAM_SESSION_ERR within the timeout" \
	"$(res open) $(within 900 1800 "$(ms open)" && echo intime)" "PAM_SESSION_ERR intime"
for act in close garbage huge bigbody badstr nostatus twostatus partial; do
	fake "auth $act"
	drv -a pw t1 alice auth
	is "a hostile reply ($act): PAM_AUTHINFO_UNAVAIL, no crash" "$RC $(res auth)" "0 PAM_AUTHINFO_UNAVAIL"
done
fake "auth huge"
drv -a pw t1 alice auth
ok "a reply announcing 100 MiB is refused from its header ($(ms auth) ms)" within 0 499 "$(ms auth)"
fake "auth bigbody"
drv -a pw t1 alice auth
like "a malformed reply: 'the login service failed'" "$OUT" "^conv ERROR idgate: the login service failed$"
for act in garbage bigbody hang; do
	fake "$DEV" "wait $act"
	drv -a "" -a "" t1 alice auth
	is "a hostile WAIT reply ($act): PAM_AUTHINFO_UNAVAIL, cancelled" "$RC $(res auth) $(nreqs cancel)" \
		"0 PAM_AUTHINFO_UNAVAIL 1"
done

# ---------- PAM_USER is never changed ----------
is "the module sets no PAM item but PAM_AUTHTOK" \
	"$(grep -h 'pam_set_item(' "$top_srcdir"/pam/*.c | grep -vc 'PAM_AUTHTOK')" 0
is "PAM_USER is what the application set, in every run above" \
	"$(printf '%s\n' "$ALL_OUT" | sed -n 's/^user=//p' | sort -u | grep -Evc '^(alice|carol|root|bad:name|a/b|a{300})$')" 0

# ---------- nothing secret in the system log ----------
# pam_wrapper turns pam_syslog into lines on stderr ("SYSLOG(PRIORITY): ..."); debug is on.
stack dbg timeout=2 debug
fake "auth DENIED error=invalid username or password" "account OK" "$DEV" "wait DENIED"
DRV_ENV=PAM_WRAPPER_DEBUGLEVEL=2
drv -a "S3cret-Pw" dbg alice auth
SYSLOG=$(printf '%s\n' "$ERR" | grep 'SYSLOG(')
drv -a "$JWT" dbg alice auth acct
SYSLOG="$SYSLOG
$(printf '%s\n' "$ERR" | grep 'SYSLOG(')"
drv -a "" -a "" dbg alice auth
SYSLOG="$SYSLOG
$(printf '%s\n' "$ERR" | grep 'SYSLOG(')"
DRV_ENV=
like "debug: the module logs its decisions" "$SYSLOG" "SYSLOG\(7\): auth of alice: Authentication failure"
like "debug: the device login too" "$SYSLOG" "SYSLOG\(7\): device login of alice"
unlike "debug: the password is never logged" "$SYSLOG" "S3cret"
unlike "debug: the token is never logged" "$SYSLOG" "eyJ|c2lnbmF0dXJl"
unlike "debug: the device code is not logged either" "$SYSLOG" "WDJB"

# ---------- valgrind (the driver and the module are never sanitized) ----------
{
	printf 'auth [success=done ignore=ignore default=die] %s socket=%s timeout=1 device_wait=3\n' "$MOD" "$SOCK"
	echo "auth optional pam_echo.so auth-ignored"
	printf 'account required %s socket=%s timeout=1\n' "$MOD" "$SOCK"
	printf 'session required %s socket=%s timeout=1\n' "$MOD" "$SOCK"
	printf 'password required %s socket=%s timeout=1\n' "$MOD" "$SOCK"
} >"$T_DIR/svc/vg"
vg() {
	run valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		"$DRV" -C "$T_DIR/svc" "$@"
}
if command -v valgrind >/dev/null; then
	fake "auth OK" "account DENIED error=no role" "open OK" "close OK"
	vg -a pw vg alice auth acct open close setcred chauthtok
	is "valgrind: password, account, session, setcred, chauthtok: clean" "$RC" 0
	fake "$DEV" "wait PENDING" "wait OK"
	vg -a "" -a "" vg alice auth
	is "valgrind: device login: clean" "$RC $(res auth)" "0 PAM_SUCCESS"
	fake "$DEV" "wait PENDING"
	vg -a "" -a "" vg alice auth
	is "valgrind: device expiry and cancel: clean" "$RC $(res auth)" "0 PAM_AUTH_ERR"
	for act in garbage bigbody badstr twostatus hang; do
		fake "auth $act"
		vg -a "$JWT" vg alice auth
		is "valgrind: hostile reply ($act): clean" "$RC $(res auth)" "0 PAM_AUTHINFO_UNAVAIL"
	done
	fake_stop
	vg -a pw vg alice auth acct
	is "valgrind: no daemon: clean" "$RC" 0
	vg -a pw vg root auth
	is "valgrind: a local account: clean" "$RC" 0
else
	pass "# SKIP valgrind is not installed"
fi

fake_stop
done_testing
