#!/bin/sh
# IdP logins when things go wrong, against the real test OpenID provider (Keycloak shape, TLS on
# loopback): keys rotated at the IdP are picked up without a restart; with the JWKS endpoint
# down cached keys still validate; idgated restarted while the IdP is stopped still validates
# tokens (keys kept in the store); with the IdP down, password and device logins fail fast with
# "IdP unreachable"; an IdP that is slow, answers HTTP 500, malformed JSON, 10 MB or resets the
# connection is handled in bounded time without a crash; a flood of made-up key ids fetches the
# keys at most once per jwks_min_interval; a killed connector child is restarted, and it runs
# as _idgate, not root.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require

oidc_setup
ok "the test IdP (Keycloak shape) starts" idp_start kc keycloak --device-interval 1
IDP_PORT=$(printf '%s' "$ISS" | sed 's#^https://127.0.0.1:\([0-9]*\)/.*#\1#')
IDP_CPORT=${CTL##*:}
TIMEOUTS="connect_timeout = 2s
timeout = 2s"
idp_config keycloak "$TIMEOUTS" "jwks_min_interval = 1s"
ok "idgated starts (connect_timeout = timeout = 2s, jwks_min_interval = 1s)" daemon_start
login_pw alice alice-password
is "alice's password login succeeds" "$RC:$(field principal)" "0:user:alice"

# ---------- privilege separation ----------
CPID=$(connector_pid)
ok "idgated has a connector child (pid $CPID)" test -n "$CPID"
is "the connector child runs as _idgate" "$(ps -o user= -p "$CPID" | tr -d ' ')" _idgate
is "... every uid and gid of it is _idgate's" \
	"$(awk '/^Uid:/ {print $2, $3, $4, $5} /^Gid:/ {print $2, $3, $4, $5}' "/proc/$CPID/status" | tr '\n' ' ')" \
	"$(id -u _idgate) $(id -u _idgate) $(id -u _idgate) $(id -u _idgate) $(id -g _idgate) $(id -g _idgate) $(id -g _idgate) $(id -g _idgate) "
is "... with no supplementary groups" "$(awk '/^Groups:/ {print $2}' "/proc/$CPID/status")" ""
is "... and no capabilities" "$(awk '/^CapEff:/ {print $2}' "/proc/$CPID/status")" 0000000000000000
is "idgated itself runs as root" "$(ps -o user= -p "$T_PID" | tr -d ' ')" root

# ---------- unknown kids: a refresh at most once per jwks_min_interval (1 s here) ----------
sleep 1.1
F0=$(jwks_fetches)
T0=$(now_ms)
NREF=0
for i in $(seq 1 40); do
	login_token "$(mint "{\"header\": {\"kid\": \"bogus-a$i\"}}")"
	[ "$RC:$ERR" = "1:unknown signing key" ] && NREF=$((NREF + 1))
done
SECS=$(( ($(now_ms) - T0 + 999) / 1000 ))
F1=$(jwks_fetches)
is "40 tokens with made-up kids are all refused: unknown signing key" "$NREF" 40
ok "... they made idgated fetch the keys again (an unknown kid triggers a refresh: $((F1 - F0)))" \
	test "$((F1 - F0))" -ge 1
ok "... at most once a second over the $SECS s they took ($((F1 - F0)) fetches)" \
	test "$((F1 - F0))" -le "$((SECS + 1))"

# ---------- key rotation ----------
OLDKID=$(ctl_get /info | jval d.current_kid)
OLDTOK=$(mint)
NEWKID=$(ctl_post /rotate | jval d.kid)
ok "the IdP rotates its key ($OLDKID -> $NEWKID)" test -n "$NEWKID" -a "$NEWKID" != "$OLDKID"
sleep 1.1	# past jwks_min_interval since the last fetch
NEWTOK=$(mint)
is "a token from the IdP now names the new kid" \
	"$(printf '%s' "${NEWTOK%%.*}" | jval 'JSON.parse(Buffer.from(d, "base64url")).kid')" "$NEWKID"
F0=$(jwks_fetches)
login_token "$NEWTOK"
is "a token signed with the new key validates without restarting idgated" "$RC:$(field principal)" "0:user:alice"
is "... after exactly one JWKS fetch" "$(( $(jwks_fetches) - F0 ))" 1
login_token "$NEWTOK"
is "... and again from the cache (no fetch)" "$RC:$(( $(jwks_fetches) - F0 ))" "0:1"
login_token "$OLDTOK"
is "a token signed with the removed key is refused now" "$RC:$ERR" "1:unknown signing key"

# ---------- the JWKS endpoint down ----------
ctl_post /jwks-down >/dev/null
sleep 1.1
login_token "$(mint)"
is "JWKS endpoint down (503): a token with a cached kid still validates" "$RC:$(field principal)" "0:user:alice"
F0=$(jwks_fetches)
login_token "$(mint '{"header": {"kid": "bogus-down"}}')"
is "... an unknown kid is refused, saying why the keys could not be fetched" "$RC:$ERR" \
	"1:unknown signing key (fetching the IdP's keys: IdP returned HTTP 503)"
ok "... (that fetch was tried)" test "$(( $(jwks_fetches) - F0 ))" -eq 1
login_token "$(mint)"
is "... and the failed fetch kept the cached keys: a good token still validates" "$RC" 0
ctl_post '/jwks-down?how=reset' >/dev/null
sleep 1.1
login_token "$(mint '{"header": {"kid": "bogus-reset"}}')"
like "JWKS endpoint resetting connections: an unknown kid is refused" "$RC:$ERR" \
	'^1:unknown signing key \(fetching the IdP.s keys: IdP unreachable'
login_token "$(mint)"
is "... a token with a cached kid still validates" "$RC" 0
ctl_post /jwks-up >/dev/null

# ---------- idgated restarted while the IdP is stopped ----------
PRETOK=$(mint '{"user": "bob", "exp_in": 600}')
ok "idgated stops" daemon_stop
idp_stop
ok "the IdP is stopped (nothing listens on its port)" sh -c "! curl -sS --max-time 2 --cacert '$CA' '$BASE/.well-known/openid-configuration' >/dev/null 2>&1"
ok "idgated starts while the IdP is down" daemon_start
login_token "$PRETOK"
is "a token minted before validates with the keys kept in the store" \
	"$RC:$(field principal):$(field groups)" "0:user:bob:[ops]"
timed login_pw alice alice-password
is "IdP down: a password login fails: IdP unreachable (exit 3)" "$RC:$ERR" "3:IdP unreachable"
ok "... fast, within connect_timeout = 2 s (took $MS ms)" test "$MS" -lt 2000
timed device_login alice alice-password none
is "IdP down: a device login fails: IdP unreachable (exit 3)" "$RC:$ERR" "3:IdP unreachable"
ok "... fast, within connect_timeout = 2 s (took $MS ms)" test "$MS" -lt 2000
is "... and it printed no code" "$OUT" ""
ok "idgated still answers" ping_ok

# The IdP comes back (same port, same keys): logins work again without touching idgated.
ok "the IdP starts again on the same port" idp_start kc keycloak --device-interval 1
login_pw alice alice-password
is "the IdP back: alice's password login succeeds" "$RC:$(field principal)" "0:user:alice"
device_login bob 'b0b & co=+%/ pw'
is "... and bob's device login" "$RC:$(field principal)" "0:user:bob"

# ---------- IdP faults ----------
CPID=$(connector_pid)
# fault MODE: every IdP endpoint answers in MODE (the slow one sleeps 10 s).
fault() { idp_mode "$1" 10; }

fault slow
timed login_pw alice alice-password
is "slow IdP (10 s; timeout = 2 s): the password login fails: IdP unreachable (timed out)" "$RC:$ERR" \
	"3:IdP unreachable (timed out)"
ok "... after the timeout, not before (took $MS ms)" test "$MS" -ge 1900
ok "... and not much after: no hang (took $MS ms, bound 4000)" test "$MS" -lt 4000
timed device_login alice alice-password none
is "slow IdP: the device login fails: IdP unreachable (timed out)" "$RC:$ERR" "3:IdP unreachable (timed out)"
ok "... in bounded time (took $MS ms, bound 4000)" test "$MS" -ge 1900 -a "$MS" -lt 4000
timed login_token "$(mint)"
is "slow IdP: a token still validates locally (cached keys)" "$RC" 0
ok "... at once (took $MS ms)" test "$MS" -lt 1500

fault http500
login_pw alice alice-password
is "IdP answering HTTP 500: the password login fails with that reason (exit 3)" "$RC:$ERR" "3:IdP returned HTTP 500"
device_login alice alice-password none
is "... the device login too" "$RC:$ERR" "3:IdP returned HTTP 500"

fault badjson
login_pw alice alice-password
# The IdP answered, with nothing usable: exit 4, not 3 "unreachable" (idgatectl(1)).
is "IdP answering malformed JSON: the password login fails with that reason (exit 4)" "$RC:$ERR" "4:malformed JSON from IdP"
device_login alice alice-password none
is "... the device login too" "$RC:$ERR" "4:malformed JSON from IdP"

fault huge
timed login_pw alice alice-password
like "IdP answering 10 MB: the password login is refused" "$RC:$ERR" '^[0-9]:IdP response too large$'
is "... with exit 4 (the IdP answered, nothing usable), not 2 (usage) nor 3 (unreachable)" "$RC" 4
ok "... quickly (took $MS ms)" test "$MS" -lt 4000
device_login alice alice-password none
is "... the device login too (exit 4)" "$RC:$ERR" '4:IdP response too large'

fault reset
login_pw alice alice-password
is "IdP resetting connections: the password login fails: IdP unreachable (connection lost)" "$RC:$ERR" \
	"3:IdP unreachable (connection lost)"

fault normal
ok "after the faults idgated answers" ping_ok
is "... its connector child is the same process: it never crashed" "$(connector_pid)" "$CPID"
login_pw alice alice-password
is "... and a good password login succeeds" "$RC:$(field principal)" "0:user:alice"
device_login carol carol-password
is "... and a good device login" "$RC:$(field principal)" "0:user:carol"
unlike "the daemon log has no connector restart so far" "$(cat "$T_DIR/daemon.log")" 'IdP connector .*stopped it'

# ---------- the connector child killed ----------
kill -KILL "$CPID"
NEWPID=
for _i in $(seq 1 100); do
	NEWPID=$(connector_pid)
	[ -n "$NEWPID" ] && [ "$NEWPID" != "$CPID" ] && break
	sleep 0.1
done
ok "a killed connector child is started again by idgated (pid $CPID -> $NEWPID)" \
	test -n "$NEWPID" -a "$NEWPID" != "$CPID"
ok "... idgated itself kept running" kill -0 "$T_PID"
like "... and logged it" "$(cat "$T_DIR/daemon.log")" 'IdP connector \(logins, pid [0-9]+\): it exited; stopped it'
is "... the new child runs as _idgate too" "$(ps -o user= -p "$NEWPID" | tr -d ' ')" _idgate
RC=9
for _i in $(seq 1 50); do
	login_pw alice alice-password
	[ "$RC" = 0 ] && break
	sleep 0.1
done
is "... and logins work again" "$RC:$(field principal)" "0:user:alice"
login_token "$(mint)"
is "... token logins too" "$RC" 0

# ---------- a flood of made-up kids with jwks_min_interval = 60s ----------
ok "idgated stops" daemon_stop
idp_config keycloak "$TIMEOUTS" "jwks_min_interval = 60s"
F0=$(jwks_fetches)
ok "idgated restarts with jwks_min_interval = 60s" daemon_start
# Loaded keys count as never fetched: idgated's first tick fetches them. Let that happen.
for _i in $(seq 1 30); do
	[ "$(jwks_fetches)" -gt "$F0" ] && break
	sleep 0.1
done
login_token "$(mint)"
is "a good token validates" "$RC" 0
F0=$(jwks_fetches)
: >"$T_DIR/bogus"
for i in $(seq 1 100); do
	mint "{\"header\": {\"kid\": \"bogus-$i\"}}" >>"$T_DIR/bogus"
	echo >>"$T_DIR/bogus"
done
NREF=0
while IFS= read -r tok; do
	login_token "$tok"
	[ "$RC:$ERR" = "1:unknown signing key" ] && NREF=$((NREF + 1))
done <"$T_DIR/bogus"
is "100 tokens with made-up kids in a row are all refused: unknown signing key" "$NREF" 100
F1=$(jwks_fetches)
ok "... and made idgated fetch the keys at most once (jwks_min_interval = 60s): $((F1 - F0)) fetches" \
	test "$((F1 - F0))" -le 1
login_token "$(mint)"
is "a good token still validates" "$RC" 0
ok "idgated stops cleanly" daemon_stop
done_testing
