#!/bin/sh
# Offline checks never wait behind offline-credential bookkeeping (issue 14, item 16). After
# a burst of 100 password logins (each online success hashes a new offline credential, about
# 140 ms of scrypt apiece) the IdP stops, and a login that needs an offline check is answered
# at once, not after the hashes; then 40 offline logins at once (as during a connector restart)
# are all answered, none refused as "too many waiting". The burst's credentials are kept
# without one warning per login.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require
pam_world
BOB_PW='b0b & co=+%/ pw'
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -n 1; }
# login NAME PASSWORD [ARGS...]: one pam.sock password login; prints "STATUS MS".
login() {
	_n=$1 _s=$2
	shift 2
	_t0=$(now_ms)
	printf '%s\n' "$_s" | "$PROBE" -t 60000 "$PAM" password "$_n" "$@" >/dev/null 2>&1
	echo "$? $(( $(now_ms) - _t0 ))"
}
has_cred() { [ "$(sql "SELECT count(*) FROM offline_creds WHERE name = '$1'")" = 1 ]; }

ok "the test IdP starts" idp_start kc keycloak
idp_config keycloak "connect_timeout = 2s" "timeout = 8s"
ok "idgated starts" daemon_start
run ctl auth set project default repoReader group:engineering
run ctl auth set project default repoReader group:ops
is "alice's first login" "$(login alice alice-password +account | cut -d' ' -f1)" 0
is "bob's first login" "$(login bob "$BOB_PW" +account | cut -d' ' -f1)" 0
is "bob logs in again (his offline credential is kept)" "$(login bob "$BOB_PW" | cut -d' ' -f1)" 0
for _i in $(seq 1 100); do has_cred bob && break; sleep 0.1; done
ok "... bob has an offline credential" has_cred bob

# ---------- 100 password logins at once, then the IdP goes away ----------
T0=$(now_ms)
PIDS=
for i in $(seq 1 100); do
	login alice alice-password >"$T_DIR/burst.$i" &
	PIDS="$PIDS $!"
done
wait $PIDS
BURST=$(( $(now_ms) - T0 ))
OKS=0
for i in $(seq 1 100); do
	[ "$(cut -d' ' -f1 "$T_DIR/burst.$i")" = 0 ] && OKS=$((OKS + 1))
done
is "100 password logins at once: all OK (in $BURST ms)" "$OKS" 100
ok "the test IdP stops" idp_stop
R=$(login bob "$BOB_PW")
is "right after the burst, bob's offline login (the IdP stopped): OK" "${R% *}" 0
ok "... answered promptly, not after the burst's hashes (${R#* } ms)" test "${R#* }" -lt 4000
like "... audited as an offline login" \
	"$(grep '"action":"pam.auth","target":"user:bob"' "$AUDIT" | tail -n 1)" \
	'"result":"ok","reason":"offline login: the offline credential of bob matched'

# ---------- 40 offline logins at once ----------
T0=$(now_ms)
PIDS=
for i in $(seq 1 40); do
	login bob "$BOB_PW" >"$T_DIR/off.$i" &
	PIDS="$PIDS $!"
done
wait $PIDS
ALL=$(( $(now_ms) - T0 ))
OKS=0 MAX=0
for i in $(seq 1 40); do
	read -r st ms <"$T_DIR/off.$i"
	[ "$st" = 0 ] && OKS=$((OKS + 1))
	[ "$ms" -gt "$MAX" ] && MAX=$ms
done
is "40 offline logins at once: all OK, none refused" "$OKS" 40
ok "... the slowest in $MAX ms (40 checks of ~140 ms on two workers)" test "$MAX" -lt 40000
unlike "... no check refused as too many waiting" "$(grep '"target":"user:bob"' "$AUDIT")" \
	'too many checks waiting'

# ---------- the burst's bookkeeping ----------
for _i in $(seq 1 100); do has_cred alice && break; sleep 0.1; done
ok "alice's offline credential is kept" has_cred alice
is "no credential was dropped (one hash per user waits; newer logins replace it)" \
	"$(grep -cE 'not kept|too many hashes waiting' "$T_DIR/daemon.log")" 0
ok "idgated stops" daemon_stop
done_testing
