#!/bin/sh
# The IdP connector child runs sandboxed (src/sandbox/): a seccomp filter (Seccomp: 2), no new
# privileges, no capabilities, the unprivileged user; OIDC password logins and token logins
# still work through it against the real test IdP; and a SIGKILL of idgated takes the child
# with it at once (the death signal is armed after the uid change, which clears it).
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require

oidc_setup
# status_field PID NAME: a field of /proc/PID/status.
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | head -n 1; }

ok "the test IdP starts" idp_start keycloak keycloak
idp_config keycloak
ok "idgated starts" daemon_start

login_pw alice alice-password
is "a password login through the sandboxed connector succeeds" "$RC" 0
is "... principal user:alice" "$(field principal)" user:alice
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR" "$(tail -n 20 "$T_DIR/daemon.log")"

CPID=$(connector_pid)
ok "the connector child runs" test -n "$CPID"
is "... with a seccomp filter (Seccomp: 2)" "$(status_field "$CPID" Seccomp)" 2
is "... with no new privileges" "$(status_field "$CPID" NoNewPrivs)" 1
is "... with no effective capabilities" "$(status_field "$CPID" CapEff)" 0000000000000000
is "... as the connector user" "$(status_field "$CPID" Uid | awk '{print $1, $2, $3, $4}')" \
	"$(id -u _idgate) $(id -u _idgate) $(id -u _idgate) $(id -u _idgate)"
like "idgated logs the landlock layer it applied" "$(cat "$T_DIR/daemon.log")" \
	'sandbox: landlock ABI [0-9]+'

IDT=$(idp_tokens carol carol-password | jval d.id_token)
login_token "$IDT"
is "a token login (JWKS fetched through the sandbox) succeeds" "$RC" 0
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR" "$(tail -n 20 "$T_DIR/daemon.log")"

login_pw alice wrong-password
ok "a wrong password is still refused" test "$RC" -ne 0
ok "... and the connector child is the same process (nothing in a login was killed)" \
	test "$(connector_pid)" = "$CPID"

# SIGKILL idgated while the child is busy at a slow IdP (an idle child would also leave on
# its socket's EOF): it must not outlive idgated (it did for 12 s and more: setresuid had
# cleared the death signal set before the exec).
CPID=$(connector_pid)
idp_mode slow 8
printf 'alice-password\n' | ctl login test alice >/dev/null 2>&1 &
LOGIN=$!
sleep 1
daemon_kill
gone=no
for _i in $(seq 1 20); do
	# gone, or a zombie nobody has reaped yet (kill -0 still finds those)
	case $(status_field "$CPID" State) in ''|Z*) gone=yes; break ;; esac
	sleep 0.05
done
is "the connector child dies within a second of idgated's SIGKILL" "$gone" yes
[ "$gone" = yes ] || kill -KILL "$CPID" 2>/dev/null
kill "$LOGIN" 2>/dev/null
wait "$LOGIN" 2>/dev/null
idp_mode normal

done_testing
