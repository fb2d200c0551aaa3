#!/bin/sh
# The real-sshd harness, proved without idgate's PAM logic: OpenSSH's sshd on loopback in a
# mount and network namespace with a private /etc (ssh_lib.sh), idgated running and
# nsswitch "files idgate" (so sshd loads the built NSS module), local accounts made here with
# useradd. A local account logs in through pam_unix (keyboard-interactive and password) and
# runs id; a wrong password and an unknown user fail; the keyboard-interactive driver answers
# a device-code prompt through its callback (pam_fixture.so plays the module), and what a
# module says on failure or refusal reaches ssh's stderr; sshd's 1023-byte limit on a typed
# secret; 20 concurrent logins of 20 users; the idgate stack leaves local accounts to
# pam_unix; and the machine's own /etc is untouched.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
. "$top_srcdir/tests/integ/ssh_lib.sh"
ssh_require
ssh_enter_namespace "$@"

t_setup
ssh_world
daemon_config		# again: ssh_world chose the snapshot path
ok "test set-up: pam_fixture.so was built" test -f "$PAM_FIXTURE"

# ---------- local accounts and idgated ----------
groupadd sshtesters
USERS=
for i in $(seq -w 1 20); do
	local_user "sshu$i" "pw-sshu$i-Xy9 z" -G sshtesters
	USERS="$USERS sshu$i"
done
ok "20 local accounts sshu01..sshu20 in the private /etc, in group sshtesters" \
	sh -c 'getent group sshtesters | grep -q "sshu01,.*sshu20$" && [ -d /home/sshu20 ]'
ok "idgated starts (no IdP): sshd's NSS module reads its snapshot, asks it about misses" \
	daemon_start
ok "... its snapshot is where the built NSS module looks" test -f "$SNAP"
is "nsswitch.conf (private): files idgate" "$(grep -E '^(passwd|group):' /etc/nsswitch.conf | tr -s ' ')" \
	"passwd: files idgate
group: files idgate"

# ---------- sshd with pam_unix ----------
ssh_pam_local
ok "sshd starts on 127.0.0.1 (private network namespace)" sshd_start
diag "sshd pid $SSHD_PID, port $SSH_PORT"
is "... its PID file names it" "$(cat "$T_DIR/ssh/sshd.pid" 2>/dev/null)" "$SSHD_PID"
U1_UID=$(id -u sshu01)

ssh_pw sshu01 "pw-sshu01-Xy9 z" id
is "keyboard-interactive (sshpass): sshu01 logs in and runs id" "$RC" 0
like "... id shows sshu01 and group sshtesters" "$OUT" "^uid=$U1_UID\(sshu01\) gid=[0-9]+\(sshu01\) groups=.*\(sshtesters\)"
ok "... sshd logged it: Accepted keyboard-interactive/pam" \
	sshd_log_has "Accepted keyboard-interactive/pam for sshu01 from 127\.0\.0\.1"

SSH_AUTH=password ssh_pw sshu02 "pw-sshu02-Xy9 z" 'id -un; echo "$LD_LIBRARY_PATH"; pwd'
is "password authentication (sshpass): sshu02 logs in" "$RC" 0
is "... runs as sshu02, with the build's NSS module path (SetEnv), in its home" "$OUT" \
	"sshu02
$SSH_B/.libs
/home/sshu02"
ok "... sshd logged it: Accepted password" sshd_log_has "Accepted password for sshu02 from 127\.0\.0\.1"

ssh_pw sshu01 "wrong password" id
is "a wrong password: ssh fails (255)" "$RC" 255
like "... Permission denied" "$ERR" "Permission denied"
is "... nothing ran" "$OUT" ""
ok "... sshd logged the failure" sshd_log_has "Failed keyboard-interactive/pam for sshu01"

SSH_AUTH=password ssh_pw sshu01 "wrong password" id
is "a wrong password (password authentication): ssh fails (255)" "$RC:$OUT" "255:"

ssh_pw nosuchuser "whatever" id
is "an unknown user: ssh fails (255)" "$RC:$OUT" "255:"
ok "... sshd had an entry for it: a provisional one from idgated, through the built NSS module" \
	sh -c "grep -q 'Failed keyboard-interactive/pam for nosuchuser from' '$T_DIR/sshd.log' && \
		! grep -q 'Invalid user nosuchuser' '$T_DIR/sshd.log'"
ssh_nsswitch files
ssh_pw nosuchuser2 "whatever" id
is "with nsswitch 'files' only: an unknown user fails" "$RC:$OUT" "255:"
ok "... and sshd calls it an invalid user" sshd_log_has "Invalid user nosuchuser2 from 127\.0\.0\.1"
ssh_nsswitch "files idgate"

# ---------- the keyboard-interactive driver ----------
KBD_SECRET="pw-sshu03-Xy9 z" ssh_kbd sshu03 id -un
is "askpass driver: sshu03 logs in (keyboard-interactive)" "$RC:$OUT" "0:sshu03"
like "... it saw pam_unix's prompt (ssh puts the user and host first)" "$PROMPTS" "^\(sshu03@127\.0\.0\.1\) Password: ?$"
KBD_SECRET="nope" ssh_kbd sshu03 id -un
is "askpass driver, wrong password: fails" "$RC:$OUT" "255:"

# A device-code prompt, played by pam_fixture.so: the login succeeds only if the callback got
# the code shown in the prompt (it writes it to the proof file the module reads back).
cat >"$T_DIR/proof-cb" <<CB
#!/bin/sh
echo "\$1" >"$T_DIR/proof"
echo "approved \$1 at \$2"
CB
chmod 0755 "$T_DIR/proof-cb"
ssh_pam_write "# t_ssh: a device-code prompt (pam_fixture)
auth    [success=done default=die] $PAM_FIXTURE device url=https://127.0.0.1:9/realms/test/device code=WDJB-MJHT proof=$T_DIR/proof
account required pam_unix.so
session required pam_unix.so"
rm -f "$T_DIR/proof"
KBD_DEVICE="$T_DIR/proof-cb" ssh_kbd sshu04 id -un
is "device prompt: the login succeeds once the callback has the code" "$RC:$OUT" "0:sshu04"
is "... the driver read the code from the prompt" "$DEVICE_CODE" "WDJB-MJHT"
is "... and the URL" "$DEVICE_URL" "https://127.0.0.1:9/realms/test/device"
is "... the callback ran with both" "$CALLBACK" "approved WDJB-MJHT at https://127.0.0.1:9/realms/test/device"
like "... the prompt as the user saw it" "$PROMPTS" \
	"^\(sshu04@127\.0\.0\.1\) Open https://127\.0\.0\.1:9/realms/test/device and enter the code WDJB-MJHT, then press Enter$"
is "... one prompt, answered with Enter" "$(cat "$KBD_DIR/count")" 1
rm -f "$T_DIR/proof"
KBD_DEVICE=none ssh_kbd sshu04 id -un
is "device prompt, nobody approves (Enter pressed anyway): the login fails" "$RC:$OUT" "255:"
is "... though the driver saw the code" "$DEVICE_CODE" "WDJB-MJHT"

# The same with the real test IdP, when it can run here: a device authorization from its
# endpoint, the fixture prompting with its code and URL, ssh_kbd's "approve" callback
# (approve-device.mjs, as a browser) — and then the IdP's token endpoint hands out the tokens.
if command -v node >/dev/null 2>&1 && [ -d "$IDP_DIR/node_modules/oidc-provider" ] &&
    "$IDP_DIR/mkcerts.sh" "$T_DIR/certs" >/dev/null 2>&1; then
	CA=$T_DIR/certs/ca.pem
	if idp_start kc keycloak --device-interval 1; then
		DA=$(curl -sS --cacert "$CA" --max-time 10 -u "$CLIENT_ID:$CLIENT_SECRET" -d scope=openid \
			"$(discovery | jval d.device_authorization_endpoint)")
		UC=$(printf '%s' "$DA" | jval d.user_code) DC=$(printf '%s' "$DA" | jval d.device_code)
		VURI=$(printf '%s' "$DA" | jval d.verification_uri)
		ssh_pam_write "# t_ssh: a device-code prompt with the test IdP's code (pam_fixture)
auth    [success=done default=die] $PAM_FIXTURE device url=$VURI code=$UC
account required pam_unix.so
session required pam_unix.so"
		KBD_DEVICE="approve alice alice-password" ssh_kbd sshu04 id -un
		is "real IdP: the device prompt is answered after the harness approved the code" "$RC:$OUT" "0:sshu04"
		is "... the driver read the IdP's code and URL from the prompt" "$DEVICE_CODE $DEVICE_URL" "$UC $VURI"
		is "... approve-device.mjs approved it" "$CALLBACK" approved
		TOKS=$(curl -sS --cacert "$CA" --max-time 10 -u "$CLIENT_ID:$CLIENT_SECRET" \
			-d grant_type=urn:ietf:params:oauth:grant-type:device_code -d "device_code=$DC" \
			"$(discovery | jval d.token_endpoint)")
		is "... and the IdP now gives the device its tokens (alice's)" \
			"$(printf '%s' "$TOKS" | jval 'd.id_token ? JSON.parse(Buffer.from(d.id_token.split(".")[1], "base64url")).preferred_username : d.error')" alice
		idp_stop
	else
		fail "real IdP: the test IdP starts"
	fi
else
	pass "# SKIP the device callback against the real test IdP: node or its modules are missing"
fi

# What a module says reaches the user: on an auth failure (keyboard-interactive sends it as
# the instruction of an empty info request), before a prompt (joined to the prompt's text:
# OpenSSH shows PAM_TEXT_INFO only with the next prompt), and on an account refusal.
ssh_pam_write "# t_ssh: auth fails with a message (pam_fixture)
auth    requisite $PAM_FIXTURE [fail=idgate: identity provider unreachable]
account required pam_unix.so
session required pam_unix.so"
KBD_SECRET=x ssh_kbd sshu05 id -un
is "auth fails with a message: ssh fails" "$RC:$OUT" "255:"
like "... the message is on ssh's stderr (keyboard-interactive)" "$ERR" \
	"idgate: identity provider unreachable"
SSH_AUTH=password ssh_pw sshu05 "pw-sshu05-Xy9 z" id -un
is "... with password authentication the login fails too" "$RC:$OUT" "255:"
if printf '%s\n' "$ERR" | grep -q 'identity provider unreachable'; then
	diag "(password authentication showed the module's message)"
else
	diag "password authentication does not show PAM messages on failure (sshd keeps them):" \
		"t_ssh_idgate.sh checks reasons over keyboard-interactive"
fi

ssh_pam_write "# t_ssh: an info line before pam_unix's prompt (pam_fixture)
auth    required $PAM_FIXTURE [info=Log in with your IdP account]
auth    required pam_unix.so
account required pam_unix.so
session required pam_unix.so"
KBD_SECRET="pw-sshu05-Xy9 z" ssh_kbd sshu05 id -un
is "an info line then pam_unix: the login succeeds" "$RC:$OUT" "0:sshu05"
like "... the info line reached the user inside the next prompt (OpenSSH bug 2876)" "$PROMPTS" \
	"^\(sshu05@127\.0\.0\.1\) Log in with your IdP account$"

ssh_pam_write "# t_ssh: account refuses with a reason (pam_fixture)
auth    required pam_unix.so
account requisite $PAM_FIXTURE [deny=idgate: user:sshu06 holds no role on this node]
account required pam_unix.so
session required pam_unix.so"
ssh_pw sshu06 "pw-sshu06-Xy9 z" id -un
is "account refuses (keyboard-interactive): ssh fails" "$RC:$OUT" "255:"
like "... the short reason is on ssh's stderr" "$ERR" "idgate: user:sshu06 holds no role on this node"
SSH_AUTH=password ssh_pw sshu06 "pw-sshu06-Xy9 z" id -un
is "account refuses (password authentication): ssh fails" "$RC:$OUT" "255:"
like "... the short reason is on ssh's stderr (sent as a banner)" "$ERR" \
	"idgate: user:sshu06 holds no role on this node"

# How long a typed secret (a token typed as the password) can be: the ssh client reads at most
# 1023 bytes, through a terminal (sshpass) or an askpass program; pam_fixture.so measures what
# a module gets from pam_get_authtok.
ssh_pam_write "# t_ssh: the length of the typed secret (pam_fixture)
auth    requisite $PAM_FIXTURE measure=$T_DIR/authtok.len
account required pam_permit.so
session required pam_permit.so"
for n in 1023 1500; do
	rm -f "$T_DIR/authtok.len"
	KBD_SECRET=$(head -c "$n" /dev/zero | tr '\0' a) ssh_kbd sshu07 true
	eval "LEN_$n=\$(cat \"\$T_DIR/authtok.len\" 2>/dev/null)"
done
is "a 1023-byte secret reaches the module whole (askpass)" "$LEN_1023" 1023
is "a 1500-byte one is cut to 1023 bytes by the ssh client: tokens typed as passwords must be shorter" \
	"$LEN_1500" 1023
for n in 1023 1500; do
	rm -f "$T_DIR/authtok.len"
	ssh_pw sshu07 "$(head -c "$n" /dev/zero | tr '\0' b)" true
	eval "LEN_$n=\$(cat \"\$T_DIR/authtok.len\" 2>/dev/null)"
done
is "... the same through a terminal (sshpass): 1023 bytes whole" "$LEN_1023" 1023
is "... 1500 cut to 1023" "$LEN_1500" 1023

# ---------- 20 concurrent logins ----------
ssh_pam_local
mkdir -p "$T_DIR/conc"
t0=$(now_ms)
pids=
for u in $USERS; do
	( ssh_pw "$u" "pw-$u-Xy9 z" id -un
	  printf '%s\n' "$RC" >"$T_DIR/conc/$u.rc"
	  printf '%s\n' "$OUT" >"$T_DIR/conc/$u.out"
	  printf '%s\n' "$ERR" >"$T_DIR/conc/$u.err" ) &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
t1=$(now_ms)
good=0
for u in $USERS; do
	if [ "$(cat "$T_DIR/conc/$u.rc")" = 0 ] && [ "$(cat "$T_DIR/conc/$u.out")" = "$u" ]; then
		good=$((good + 1))
	else
		diag "$u: rc $(cat "$T_DIR/conc/$u.rc"): $(cat "$T_DIR/conc/$u.err")"
	fi
done
is "20 concurrent logins of 20 local users: all succeed, each as itself" "$good" 20
ok "... within 60 s (took $((t1 - t0)) ms)" test $((t1 - t0)) -lt 60000
is "... sshd logged 20 accepted logins of the 20 users" \
	"$(for u in $USERS; do grep -c "Accepted keyboard-interactive/pam for $u from" "$T_DIR/sshd.log" | grep -q '^[1-9]' && echo "$u"; done | wc -l)" 20

# ---------- the idgate stack leaves local accounts to pam_unix ----------
ssh_pam_idgate
ssh_pw sshu08 "pw-sshu08-Xy9 z" id -un
is "idgate stack (pam_idgate.so, then pam_unix): a local account logs in" "$RC:$OUT" "0:sshu08"
ssh_pw sshu08 "wrong" id -un
is "... and a wrong password still fails" "$RC:$OUT" "255:"

# ---------- Debian's own sshd stack, with common-* made by pam-auth-update ----------
# A profile naming pam_idgate.so, enabled with pam-auth-update in the private /etc (its
# profiles and state directories mounted privately too), under Debian's /etc/pam.d/sshd:
# the machinery t_ssh_idgate.sh uses for the shipped profile, and a local account unaffected.
cat >"$T_DIR/profile" <<'PROF'
Name: idgate (t_ssh_local.sh's stand-in profile)
Default: yes
Priority: 300
Auth-Type: Primary
Auth:
	[success=end new_authtok_reqd=done user_unknown=ignore ignore=ignore default=die]	pam_idgate.so
Account-Type: Primary
Account:
	[success=end new_authtok_reqd=done user_unknown=ignore ignore=ignore default=bad]	pam_idgate.so
Session-Type: Additional
Session:
	optional	pam_idgate.so
PROF
if command -v pam-auth-update >/dev/null 2>&1; then
	IDG_PAM_PROFILE=$T_DIR/profile ssh_pam_profile
	is "pam-auth-update --enable idgate (a stand-in profile) in the private /etc" "$?" 0
	like "... common-auth jumps over pam_unix on success of the built pam_idgate.so" \
		"$(grep -v '^#' /etc/pam.d/common-auth)" "^auth	\[success=[0-9] .*\]	$PAM_IDGATE"
	like "... Debian's sshd stack includes them" "$(cat /etc/pam.d/sshd)" "^@include common-auth"
	ssh_pw sshu09 "pw-sshu09-Xy9 z" id -un
	is "Debian's sshd stack with the profile: a local account logs in" "$RC:$OUT" "0:sshu09"
	ssh_pw sshu09 "wrong" id -un
	is "... not with a wrong password" "$RC:$OUT" "255:"
else
	pass "# SKIP pam-auth-update is missing (libpam-runtime)"
fi

# ---------- stop ----------
p=$SSHD_PID
sshd_stop
ok "sshd stops" sh -c "! kill -0 $p 2>/dev/null"
ssh_pw sshu01 "pw-sshu01-Xy9 z" id
is "... and nobody logs in after that" "$RC:$OUT" "255:"
ok "idgated stops" daemon_stop
ssh_real_etc_check sshtesters $USERS

done_testing
