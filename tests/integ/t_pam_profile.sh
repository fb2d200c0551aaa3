#!/bin/sh
# The shipped pam-auth-update profile (dist/pam-configs/idgate), enabled with Debian's own
# pam-auth-update in a mount namespace (private /etc/pam.d, /usr/share/pam-configs,
# /var/lib/pam, debconf's database, /etc/passwd, /etc/shadow), then driven through the
# generated common-auth / common-account / common-session with the real libpam: an IdP user
# can never skip account (one without a role is refused), local users still go through
# pam_unix (right and wrong passwords, an expired account), with idgated up or down.
. "$top_srcdir/tests/integ/lib.sh"

B=$top_builddir
MOD=$B/.libs/pam_idgate.so
FAKE=$B/tests/integ/fake_idgated
DRV=$B/tests/integ/pam_driver
PROFILE=$top_srcdir/dist/pam-configs/idgate

if [ "${1:-}" != --inner ]; then
	if [ "$(id -u)" != 0 ] || ! unshare --mount true 2>/dev/null; then
		echo "1..0 # SKIP needs root and mount namespaces"
		exit 0
	fi
	if [ ! -x /usr/sbin/pam-auth-update ] || [ ! -d /usr/share/pam-configs ]; then
		echo "1..0 # SKIP pam-auth-update (libpam-runtime) is not installed"
		exit 0
	fi
	if ! ldconfig -p | grep -q 'libnss_wrapper\.so '; then
		echo "1..0 # SKIP nss_wrapper (libnss-wrapper) is not installed"
		exit 0
	fi
	trap - EXIT
	exec unshare --mount --fork sh "$0" --inner
fi

# ---------- the private world ----------
T_DIR=$(mktemp -d /tmp/idgate-pamprof.XXXXXX)
SOCK=$T_DIR/pam.sock
mount --make-rprivate /
for d in /etc/pam.d /usr/share/pam-configs /var/lib/pam /var/cache/debconf; do
	n=$T_DIR/$(echo "$d" | tr / _)
	cp -a "$d" "$n" && mount --bind "$n" "$d"
done
HASH=$(openssl passwd -6 localpw)
cp /etc/passwd "$T_DIR/passwd"; cp /etc/shadow "$T_DIR/shadow"; cp /etc/group "$T_DIR/group"
echo "idglocal:x:4242:4242:idgate test:/nonexistent:/bin/sh" >>"$T_DIR/passwd"
echo "idgexpired:x:4243:4242:idgate test:/nonexistent:/bin/sh" >>"$T_DIR/passwd"
echo "idglocal:x:4242:" >>"$T_DIR/group"
echo "idglocal:$HASH:19000:0:99999:7:::" >>"$T_DIR/shadow"
echo "idgexpired:$HASH:19000:0:99999:7::1:" >>"$T_DIR/shadow"
for f in passwd shadow group; do mount --bind "$T_DIR/$f" /etc/$f; done
# alice is an IdP user: known to NSS (here nss_wrapper stands in for libnss_idgate.so.2,
# with the same "x" password field), never in /etc/passwd or /etc/shadow.
cp "$T_DIR/passwd" "$T_DIR/nss_passwd"; cp "$T_DIR/group" "$T_DIR/nss_group"
echo "alice:x:200001:200001:Alice:/home/alice:/bin/bash" >>"$T_DIR/nss_passwd"
echo "alice:x:200001:" >>"$T_DIR/nss_group"

sed "s|pam_idgate\.so|$MOD socket=$SOCK timeout=2|" "$PROFILE" >/usr/share/pam-configs/idgate
printf '@include common-auth\n@include common-account\n@include common-session\n' \
	>/etc/pam.d/idgtest

fake() {
	fake_stop
	printf '%s\n' "$@" >"$T_DIR/script"
	: >"$T_DIR/log"
	"$FAKE" -s "$SOCK" -r "$T_DIR/script" -l "$T_DIR/log" 2>>"$T_DIR/fake.err" &
	T_PID=$!
	for _i in $(seq 1 100); do
		[ -S "$SOCK" ] && return 0
		sleep 0.02
	done
}
fake_stop() {
	if [ -n "$T_PID" ]; then
		kill "$T_PID" 2>/dev/null
		wait "$T_PID" 2>/dev/null
		T_PID=
	fi
	rm -f "$SOCK"
}
drv() {
	run env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$T_DIR/nss_passwd" \
		NSS_WRAPPER_GROUP="$T_DIR/nss_group" "$DRV" "$@"
}
res() { printf '%s\n' "$OUT" | sed -n "s/^$1=\([A-Z_]*\) .*/\1/p"; }
prompts() { printf '%s\n' "$OUT" | grep -c '^conv ECHO'; }
body() { grep -v '^#' "/etc/pam.d/common-$1" | grep -v '^[[:space:]]*$'; }

# ---------- enabling the profile ----------
run env DEBIAN_FRONTEND=noninteractive pam-auth-update --enable idgate
is "pam-auth-update --enable idgate succeeds" "$RC" 0
like "common-auth: pam_idgate first, ending the block on success, dying on a refusal" \
	"$(body auth | head -1)" "^auth	\[success=2 user_unknown=ignore ignore=ignore default=die\]	$MOD "
like "common-auth: then pam_unix for everyone idgate does not know" \
	"$(body auth | sed -n 2p)" "pam_unix\.so"
like "common-account: pam_idgate first, before pam_unix, dying on a refusal" \
	"$(body account | head -1)" "^account	\[success=2 user_unknown=ignore ignore=ignore default=die\]	$MOD "
like "common-account: pam_unix after it" "$(body account | sed -n 2p)" "pam_unix\.so"
like "common-session: pam_idgate before pam_unix" "$(body session | grep -E 'pam_idgate|pam_unix' | tr '\n' '|')" \
	"pam_idgate\.so.*\|.*pam_unix\.so"

# ---------- an IdP user ----------
fake "auth OK" "account OK" "open OK" "close OK"
drv -a secret idgtest alice auth acct open close setcred
is "IdP user: auth, account, session open and close, setcred all succeed" \
	"$(res auth) $(res acct) $(res open) $(res close) $(res setcred)" \
	"PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS"
is "IdP user: one prompt (pam_unix never asks again)" "$(prompts)" 1
is "IdP user: idgated was asked for auth, account and the session" \
	"$(sed 's/ .*//' "$T_DIR/log" | tr '\n' ' ')" "op=auth op=account op=open op=close "

fake "auth OK" "account DENIED error=alice holds no role on this cluster"
drv -a secret idgtest alice auth acct
is "IdP user without a role: authenticated, then refused by account (cannot be skipped)" \
	"$(res auth) $(res acct)" "PAM_SUCCESS PAM_PERM_DENIED"
like "IdP user without a role: sees the one-line reason" "$OUT" \
	"^conv ERROR idgate: alice holds no role on this cluster$"
drv -a secret sshd alice auth acct
is "the same through Debian's own /etc/pam.d/sshd stack" "$(res auth) $(res acct)" \
	"PAM_SUCCESS PAM_PERM_DENIED"

fake "auth DENIED error=invalid username or password"
drv -a wrong -a wrong idgtest alice auth
is "IdP user, wrong password: PAM_AUTH_ERR" "$(res auth)" PAM_AUTH_ERR
is "IdP user, wrong password: pam_unix does not prompt again" "$(prompts)" 1

fake "account UNKNOWN"
drv idgtest alice acct
unlike "a name idgated calls UNKNOWN but NSS knows (no shadow entry): not let in by pam_unix" \
	"$(res acct)" "^PAM_SUCCESS$"

fake_stop
drv -a secret idgtest alice auth acct
is "idgated down: the IdP user is refused by auth and account (fail closed)" \
	"$(res auth) $(res acct)" "PAM_AUTHINFO_UNAVAIL PAM_AUTHINFO_UNAVAIL"
like "idgated down: the clear line" "$OUT" "^conv ERROR idgate: the login service is not running$"

# ---------- local users: pam_unix, idgate never asked ----------
fake "auth OK" "account OK" "open OK" "close OK"
drv -a localpw idgtest idglocal auth acct open close
is "local user: auth, account, session through pam_unix" \
	"$(res auth) $(res acct) $(res open) $(res close)" \
	"PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS"
is "local user: idgated never asked" "$(wc -l <"$T_DIR/log")" 0
drv -a wrong idgtest idglocal auth
is "local user, wrong password: pam_unix refuses" "$(res auth)" PAM_AUTH_ERR
drv idgtest idgexpired acct
# pam_unix says PAM_ACCT_EXPIRED; Debian's block then ends in pam_deny (PAM_AUTH_ERR)
is "expired local account: refused" "$(res acct)" PAM_AUTH_ERR
like "expired local account: by pam_unix, which still decides account for locals" "$OUT" \
	"^conv ERROR Your account has expired"
fake_stop
drv -a localpw idgtest idglocal auth acct open
is "local user with idgated down: unaffected" "$(res auth) $(res acct) $(res open)" \
	"PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS"

# ---------- removing it ----------
run env DEBIAN_FRONTEND=noninteractive pam-auth-update --remove idgate
is "pam-auth-update --remove idgate succeeds" "$RC" 0
is "no pam_idgate line is left" "$(grep -c pam_idgate /etc/pam.d/common-*  | grep -vc ':0$')" 0

fake_stop
done_testing
