#!/bin/sh
# The README's first command runs scripts/demo, the SSH demo: this runs it against the build
# under test (IDG_DEMO_BUILDDIR, so it does not build again) and checks what it must show —
# alice logged in over SSH with her IdP groups in `id`, the role check in her session, a
# device-code login approved at the IdP, carol refused with the short reason — that it exits
# 0 and that it leaves no process and no change on the machine behind.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
. "$top_srcdir/tests/integ/ssh_lib.sh"
ssh_require node
oidc_require

sum_etc() { cat /etc/nsswitch.conf /etc/pam.d/sshd /etc/passwd /etc/group 2>/dev/null | cksum; }
before=$(sum_etc)

T0=$(now_ms)
run timeout 300 env IDG_DEMO_BUILDDIR="$top_builddir" "$top_srcdir/scripts/demo"
T1=$(now_ms)
diag "scripts/demo took $((T1 - T0)) ms"
is "scripts/demo exits 0" "$RC" 0
[ "$RC" = 0 ] || diag "$OUT" "$ERR"
like "... alice logs in over SSH and id shows her IdP groups" "$OUT" \
	"^uid=[0-9]+\(alice\) gid=[0-9]+\(alice\) groups=.*\(engineering\)"
like "... with idgate-users" "$OUT" "^uid=[0-9]+\(alice\) .*\(idgate-users\)"
like "... inside her session, idgated knows her as user:alice" "$OUT" 'You are "user:alice"'
like "... the role check shows her role on the project" "$OUT" "Roles: \[projectViewer\]"
like "... and a write she may not make is refused with the exact message" "$OUT" \
	"user:alice is not authorized to perform this operation - needs permissions \[PROJECT_CREATE_REPO\] on PROJECT images"
like "... the device-code prompt shows the verification URL and the user code" "$OUT" \
	"\(prompt\) .*https://127\.0\.0\.1:[0-9]+/realms/test/device.* [A-Z0-9]{4}-[A-Z0-9]{4}"
like "... carol (no role) is refused with the short reason" "$OUT" \
	"idgate: carol holds no role on this cluster"
like "... the audit log shows the refusal's whole reason" "$OUT" \
	'"action":"pam.account","target":"user:carol","result":"denied"'
like "... and it stops everything cleanly" "$OUT" "^demo done: everything stopped cleanly\.$"
# The demo's private directory (its idgate.conf names it); other tests may be running
# IdPs, idgateds and sshds of their own meanwhile, so only the demo's are looked for.
DEMO_DIR=$(printf '%s\n' "$OUT" | sed -n 's|^client_secret_file = \(/tmp/idgate-test\.[A-Za-z0-9]*\)/client_secret$|\1|p' | head -n 1)
like "... it worked in a private directory" "$DEMO_DIR" "^/tmp/idgate-test\.[A-Za-z0-9]+$"
sleep 0.2
is "... no IdP, idgated or sshd of the demo left running" \
	"$(pgrep -af -- "${DEMO_DIR:-/nonexistent}/" | grep -v pgrep)" ""
ok "... and its directory is gone" test ! -e "${DEMO_DIR:-/nonexistent}"
is "... the machine's nsswitch.conf, pam.d/sshd, passwd and group unchanged" "$(sum_etc)" "$before"
done_testing
