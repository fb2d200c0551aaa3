#!/bin/sh
# IdP users log in over real SSH through pam_idgate.so: OpenSSH's sshd on loopback (ssh_lib.sh:
# mount and network namespace, private /etc with nsswitch "files idgate", the built NSS and
# PAM modules), idgated, and the real test IdP (tests/idp/oidc) in each of its shapes with the
# matching profile. The issue's "Done when", over SSH:
#   per profile (keycloak, auth0, okta): a password login (keyboard-interactive and password
#   authentication) and `id` shows the IdP groups, the home directory made by the session; a
#   device-code login approved at the IdP; a token login (a token from the IdP's /mint typed as
#   the password); a wrong password, an unknown user, a denied device code, an expired token and
#   another user's token fail; a user with no role is refused by account with the short reason
#   shown, and logs in once a role is granted; a local account still logs in through pam_unix;
#   keycloak also: the stack Debian's pam-auth-update makes from the shipped profile (an IdP user
#   without a role refused there too); 20 concurrent logins of 20 IdP users, one audit line
#   each; idgated stopped: logins fail closed within the timeout, `id alice` still works, a
#   local account still logs in; the IdP stopped: fresh offline credentials work with the right
#   password and not a wrong one, a user without them is told "identity provider unreachable".
# It fails at once if the built pam_idgate.so does not implement auth (ssh_lib.sh's
# pam_idgate_ready).
#
# What it expects of the module (one place to change if the module settles otherwise):
#   - the stack of ssh_pam_idgate (ssh_lib.sh): pam_idgate.so by absolute path, with
#     [success=done new_authtok_reqd=done user_unknown=ignore ignore=ignore default=die] on auth
#     and account, [success=ok user_unknown=ignore ignore=ignore default=bad] on session, each
#     followed by pam_unix; a local account gets PAM_USER_UNKNOWN or PAM_IGNORE;
#   - the module's arguments choosing the method (PAM_ARGS_* in ssh_lib.sh: methods=password,
#     methods=device, methods=token; IDG_T_ARGS_PASSWORD, _DEVICE, _TOKEN override them);
#   - the device prompt carries the verification URL and the XXXX-XXXX code in its own text
#     (ssh_askpass.sh finds them there), and the login goes on when the user presses Enter;
#   - pam.sock where idgated's compiled-in run_dir puts it (ssh_world mounts the test's there);
#   - messages on ssh's stderr (keyboard-interactive): the account refusal matches NOROLE_RE;
#     the IdP unreachable with no offline credentials says "identity provider unreachable";
#     idgated stopped matches DAEMON_DOWN_RE;
#   - the audit log: one line with result "ok" and an action matching AUDIT_LOGIN_RE per login.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
. "$top_srcdir/tests/integ/ssh_lib.sh"

ARGS_PASSWORD=$PAM_ARGS_PASSWORD ARGS_DEVICE=$PAM_ARGS_DEVICE ARGS_TOKEN=$PAM_ARGS_TOKEN
NOROLE_RE=${IDG_T_NOROLE_RE-"idgate: [a-z0-9._@-]+ (holds no role on this cluster|may not log in here)"}
DAEMON_DOWN_RE=${IDG_T_DAEMON_DOWN_RE-"idgate: the login service is not running"}
AUDIT_LOGIN_RE=${IDG_T_AUDIT_LOGIN_RE-"^pam[._]auth"}
AUDIT_SESSION_RE=${IDG_T_AUDIT_SESSION_RE-"session"}
# Extra idgate.conf lines for offline credentials, if they are not on by default.
OFFLINE_CONF=${IDG_T_OFFLINE_CONF-}
# How long a login may take to fail with idgated stopped (the module's timeout, plus sshd).
FAIL_CLOSED_MS=${IDG_T_FAIL_CLOSED_MS:-20000}
SHAPES=${IDG_T_SHAPES:-keycloak auth0 okta}

ssh_require node pamtester
# The module implements auth now: a build where it does not is a failure, not a skip.
if [ "${SSH_INNER:-}" != 1 ] && ! pam_idgate_ready; then
	echo "Bail out! pam_idgate.so is not usable: $PAM_IDGATE_WHY"
	exit 1
fi
ssh_enter_namespace "$@"
oidc_require

oidc_setup
ssh_world

# ---------- the IdP's users: the fixtures, and 20 more for the concurrent logins ----------
LOAD_USERS=$(seq -f 'sshidp%02g' 1 20)
node -e '
const fs = require("fs");
const f = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
for (let i = 1; i <= 20; i++) {
  const n = "sshidp" + String(i).padStart(2, "0"), h = String(i).padStart(2, "0");
  f.users[n] = { password: "pw-" + n, email: n + "@example.com", name: "Load User " + i,
    given_name: "Load", family_name: "User " + i, groups: ["loadtest"],
    group_paths: ["/loadtest"], roles: [],
    ids: { keycloak: "6f1c3a52-2d4e-4b8a-9c1f-0a1b2c3d5e" + h,
           auth0: "auth0|64a1f0c2e4b0a1a1ce0001" + h, okta: "00uload0000000000" + h } };
}
fs.writeFileSync(process.argv[2], JSON.stringify(f, null, 2));' \
	"$IDP_DIR/fixtures.json" "$T_DIR/fixtures.json"
ok "test set-up: fixtures with 20 more IdP users (sshidp01..20, group loadtest)" \
	test -s "$T_DIR/fixtures.json"

# Local accounts: one that logs in through pam_unix beside idgate.
local_user localops "local-ops-Pw 7"
ok "test set-up: a local account localops (useradd in the private /etc)" \
	sh -c 'grep -q "^localops:" /etc/passwd'

# ---------- helpers ----------

# login_kbd STACK-ARGS USER SECRET [COMMAND...]: keyboard-interactive through the idgate stack
# with the module given STACK-ARGS, answering prompts with SECRET.
login_kbd() {
	ssh_pam_idgate $1
	_u=$2 _s=$3
	shift 3
	KBD_SECRET=$_s KBD_DEVICE=none ssh_kbd "$_u" "$@"
}
# login_device HOW USER PASSWORD [COMMAND...]: a device-code login; the harness HOW
# (approve|deny|abort|none)s it at the IdP as USER with PASSWORD when the prompt shows the code.
# Any other prompt gets Enter (a module asking for a password first would start a device login).
login_device() {
	ssh_pam_idgate $ARGS_DEVICE
	_h=$1 _u=$2 _p=$3
	shift 3
	if [ "$_h" = none ]; then _dv=none; else _dv="$_h $_u $_p"; fi
	KBD_SECRET= KBD_DEVICE=$_dv ssh_kbd "$_u" "$@"
}
# audit_count USER ERE RESULT: audit lines with that result whose action matches ERE and whose
# target or caller names USER.
audit_count() {
	node -e '
const [file, user, re, result] = process.argv.slice(1);
let n = 0;
for (const l of require("fs").readFileSync(file, "utf8").split("\n")) {
  if (!l) continue;
  let d; try { d = JSON.parse(l); } catch { continue; }
  const who = String(d.target ?? "") + " " + String(d.caller ?? "");
  if (d.result === result && new RegExp(re).test(String(d.action ?? "")) &&
      new RegExp("(^|[:\\s])" + user.replace(/[.]/g, "\\.") + "([@\\s]|$)").test(who)) n++;
}
console.log(n);' "$T_DIR/log/audit.log" "$1" "$2" "$3" 2>/dev/null || echo 0
}
# token_for USER [MINT JSON FIELDS]: a token minted for USER (ID token unless told).
token_for() { mint "{\"user\": \"$1\"${2:+, $2}}"; }

# ---------- each profile ----------
for SHAPE in $SHAPES; do
	diag "---------- $SHAPE ----------"
	EXTRA=
	case $SHAPE in
	keycloak)
		P=user: A_GROUPS="engineering engineering.data-team" PSUF= ;;
	auth0)
		EXTRA="groups_claim = /https:~1~1idgate.test~1groups
audience = https://api.idgate.test"
		A_GROUPS="engineering data-team" PSUF=@example.com ;;
	okta)
		A_GROUPS="engineering data-team" PSUF=@example.com ;;
	esac
	# ES256: ID tokens well under the 1023 bytes the ssh client lets a user type (RS256 ones
	# for keycloak-shaped alice are 1024; t_ssh_local.sh shows the limit).
	if ! idp_start "$SHAPE" "$SHAPE" --fixtures "$T_DIR/fixtures.json" --device-interval 1 \
	    --alg ES256; then
		fail "$SHAPE: the test IdP starts"
		continue
	fi
	pass "$SHAPE: the test IdP starts"
	IDP_PORT_NOW=$(printf '%s\n' "$ISS" | sed 's|^https://127\.0\.0\.1:\([0-9]*\).*|\1|')
	IDP_CPORT_NOW=${CTL##*:}
	rm -rf "$T_DIR/state" "$T_DIR/log" "$T_DIR/snap"/* /home/alice /home/carol
	idp_config "$SHAPE" ${EXTRA:+"$EXTRA"} ${OFFLINE_CONF:+"$OFFLINE_CONF"}
	if ! daemon_start; then
		fail "$SHAPE: idgated starts"
		idp_stop
		continue
	fi
	pass "$SHAPE: idgated starts with profile = $SHAPE"

	# Roles: alice through her group, bob and the load users through theirs; carol none.
	ctl create project sshtest >/dev/null
	run ctl auth set project sshtest projectViewer group:engineering
	is "$SHAPE: auth set project sshtest projectViewer group:engineering" "$RC:$ERR" "0:"
	run ctl rbac assign-role projectViewer -g ops -p sshtest
	is "$SHAPE: rbac assign-role projectViewer -g ops -p sshtest" "$RC:$ERR" "0:"
	run ctl auth set project sshtest projectViewer group:loadtest
	is "$SHAPE: ... and group:loadtest" "$RC:$ERR" "0:"

	ssh_pam_idgate $ARGS_PASSWORD
	if ! sshd_start; then
		fail "$SHAPE: sshd starts"
		daemon_stop; idp_stop
		continue
	fi
	pass "$SHAPE: sshd starts (port $SSH_PORT)"

	# ----- password -----
	login_kbd "$ARGS_PASSWORD" alice alice-password 'id; pwd; stat -c "%U %a" .'
	is "$SHAPE: password login (keyboard-interactive): alice logs in" "$RC" 0
	for g in $A_GROUPS; do
		like "$SHAPE: ... id shows her IdP group $g" "$OUT" "^uid=[0-9]+\(alice\) .*groups=.*\($g\)"
	done
	like "$SHAPE: ... and idgate-users" "$OUT" "\(idgate-users\)"
	ALICE_UID=$(getent passwd alice | cut -d: -f3)
	like "$SHAPE: ... her uid is the one the NSS module gives" "$OUT" "^uid=${ALICE_UID:-none}\(alice\)"
	like "$SHAPE: ... the session made her home: /home/alice, hers, mode 700" "$OUT" \
		"/home/alice
alice 700$"
	ok "$SHAPE: ... sshd logged it" sshd_log_has "Accepted keyboard-interactive/pam for alice from"
	unlike "$SHAPE: ... no secret on the screen" "$ERR$PROMPTS" "alice-password"
	is "$SHAPE: ... audit: one ok login line for alice" "$(audit_count alice "$AUDIT_LOGIN_RE" ok)" 1
	ok "$SHAPE: ... audit: her session is recorded" \
		test "$(audit_count alice "$AUDIT_SESSION_RE" ok)" -ge 1
	run id alice
	like "$SHAPE: id alice on the host shows her IdP groups" "$OUT" "\(engineering\)"

	SSH_AUTH=password ssh_pw alice alice-password id -un
	is "$SHAPE: password login (password authentication, sshpass): alice" "$RC:$OUT" "0:alice"

	login_kbd "$ARGS_PASSWORD" alice wrong-password id -un
	is "$SHAPE: a wrong password: refused" "$RC:$OUT" "255:"
	like "$SHAPE: ... Permission denied" "$ERR" "Permission denied"
	login_kbd "$ARGS_PASSWORD" nosuchidpuser whatever id -un
	is "$SHAPE: an unknown user: refused" "$RC:$OUT" "255:"
	ok "$SHAPE: ... and nosuchidpuser is not in the POSIX view" sh -c '! getent passwd nosuchidpuser'

	# ----- device code -----
	login_device approve alice alice-password id -un
	is "$SHAPE: device-code login approved at the IdP: alice logs in" "$RC:$OUT" "0:alice"
	like "$SHAPE: ... the prompt showed a user code" "$DEVICE_CODE" "^[A-Z0-9]{4}-[A-Z0-9]{4}$"
	like "$SHAPE: ... and the IdP's verification URL" "$DEVICE_URL" "^${BASE%/}/"
	like "$SHAPE: ... in a prompt's own text (not an info line), which asks for Enter" "$PROMPTS" \
		"[Ee]nter"
	is "$SHAPE: ... the harness approved it as a browser would" "$CALLBACK" approved
	login_device deny alice alice-password id -un
	is "$SHAPE: a device code denied at the IdP: refused" "$RC:$OUT" "255:"
	is "$SHAPE: ... (the harness denied it)" "$CALLBACK" denied
	login_device abort alice alice-password id -un
	is "$SHAPE: a device code aborted at the IdP: refused" "$RC:$OUT" "255:"
	if [ "$SHAPE" = keycloak ]; then
		# The snapshot damaged in place (issue 14, item 12): idgated notices within about
		# a second and publishes it again, and alice logs in.
		cp "$SNAP" "$T_DIR/snap.good"
		truncate -s 0 "$SNAP"
		for _i in $(seq 1 40); do
			getent passwd alice >/dev/null 2>&1 && break
			sleep 0.1
		done
		ok "$SHAPE: the snapshot truncated in place: idgated publishes it again (in ${_i}00 ms)" \
			getent passwd alice
		like "$SHAPE: ... and says why" "$(cat "$T_DIR/daemon.log")" \
			'the NSS snapshot .* changed size since idgated published it; publishing it again'
		login_kbd "$ARGS_PASSWORD" alice alice-password id -un
		is "$SHAPE: ... alice logs in" "$RC:$OUT" "0:alice"
		# A client that presses Enter and drops the connection (issue 13, item 5): sshd
		# kills the PAM process without a CANCEL; idgated forgets the device login as soon
		# as the connection the module kept open closes.
		printf '#!/bin/sh
# the ssh client (the parent of ssh_askpass.sh) goes away
kill -9 "$(ps -o ppid= -p "$PPID" | tr -d " ")"
' \
			>"$T_DIR/drop-cb"
		chmod 0755 "$T_DIR/drop-cb"
		for _i in 1 2 3; do
			login_device "$T_DIR/drop-cb" alice x id -un
		done
		for _i in $(seq 1 50); do
			[ "$(grep -c 'device login of alice abandoned' "$T_DIR/daemon.log")" -ge 3 ] && break
			sleep 0.1
		done
		is "$SHAPE: three device logins whose SSH client went away: each forgotten at once" \
			"$(grep -c 'device login of alice abandoned (its PAM process went away)' "$T_DIR/daemon.log")" 3
	fi

	# ----- token as password -----
	TOK=$(token_for alice)
	diag "$SHAPE: alice's ID token is $(printf '%s' "$TOK" | wc -c) bytes"
	login_kbd "$ARGS_TOKEN" alice "$TOK" id -un
	is "$SHAPE: token login (ID token from the IdP typed as the password): alice" "$RC:$OUT" "0:alice"
	unlike "$SHAPE: ... the token is shown nowhere" "$ERR$PROMPTS" "$(printf '%s' "$TOK" | cut -c1-40)"
	login_kbd "$ARGS_TOKEN" alice "$(token_for alice '"exp_in": -900')" id -un
	is "$SHAPE: an expired token: refused" "$RC:$OUT" "255:"
	login_kbd "$ARGS_TOKEN" alice "$(token_for bob)" id -un
	is "$SHAPE: bob's token typed by alice: refused" "$RC:$OUT" "255:"
	login_kbd "$ARGS_TOKEN" alice "$(token_for alice '"key": "foreign"')" id -un
	is "$SHAPE: a token signed by a key not in the JWKS: refused" "$RC:$OUT" "255:"
	login_kbd "$ARGS_TOKEN" bob "$(token_for bob)" id -un
	is "$SHAPE: bob logs in with a token (no password: no offline credentials)" "$RC:$OUT" "0:bob"

	# ----- account: a user with no role -----
	login_kbd "$ARGS_PASSWORD" carol carol-password id -un
	is "$SHAPE: carol (no role anywhere): refused" "$RC:$OUT" "255:"
	like "$SHAPE: ... by account, with the short reason on her screen" "$ERR" "$NOROLE_RE"
	is "$SHAPE: ... in one line" "$(printf '%s\n' "$ERR" | grep -Ec "$NOROLE_RE")" 1
	unlike "$SHAPE: ... without a secret" "$ERR" "carol-password"
	ok "$SHAPE: ... the audit log has the whole reason" \
		test "$(audit_count carol . denied)" -ge 1
	run ctl rbac assign-role repoReader -u "carol$PSUF" -p sshtest
	is "$SHAPE: rbac assign-role repoReader -u carol$PSUF -p sshtest" "$RC:$ERR" "0:"
	login_kbd "$ARGS_PASSWORD" carol carol-password id -un
	is "$SHAPE: ... then carol logs in" "$RC:$OUT" "0:carol"
	run ctl auth set project sshtest none "user:carol$PSUF"
	login_kbd "$ARGS_PASSWORD" carol carol-password id -un
	is "$SHAPE: ... and is refused again once the role is gone" "$RC:$OUT" "255:"

	# ----- a local account, unaffected -----
	login_kbd "$ARGS_PASSWORD" localops "local-ops-Pw 7" id -un
	is "$SHAPE: a local account logs in through pam_unix beside idgate" "$RC:$OUT" "0:localops"
	login_kbd "$ARGS_PASSWORD" localops "wrong" id -un
	is "$SHAPE: ... not with a wrong password" "$RC:$OUT" "255:"

	if [ "$SHAPE" = keycloak ]; then
		# ----- the stack pam-auth-update makes from the shipped profile -----
		if ! ssh_pam_profile_file >/dev/null; then
			pass "# SKIP the pam-auth-update profile stack: no profile in the source yet (dist/pam-configs/idgate; IDG_PAM_PROFILE=FILE names one)"
		elif ! ssh_pam_profile; then
			fail "$SHAPE: pam-auth-update --enable idgate (private /etc, /usr/share/pam-configs, /var/lib/pam)"
		else
			pass "$SHAPE: pam-auth-update --enable idgate (private /etc, /usr/share/pam-configs, /var/lib/pam)"
			KBD_SECRET=alice-password KBD_DEVICE=none ssh_kbd alice id -un
			is "$SHAPE: profile stack: alice logs in (password)" "$RC:$OUT" "0:alice"
			KBD_SECRET=carol-password KBD_DEVICE=none ssh_kbd carol id -un
			is "$SHAPE: profile stack: carol (no role) is refused by account" "$RC:$OUT" "255:"
			like "$SHAPE: ... with the short reason" "$ERR" "$NOROLE_RE"
			KBD_SECRET="local-ops-Pw 7" KBD_DEVICE=none ssh_kbd localops id -un
			is "$SHAPE: profile stack: the local account logs in" "$RC:$OUT" "0:localops"
		fi

		# ----- 20 concurrent logins of 20 IdP users -----
		ssh_pam_idgate $ARGS_PASSWORD
		mkdir -p "$T_DIR/conc"
		t0=$(now_ms)
		pids=
		for u in $LOAD_USERS; do
			( KBD_SECRET="pw-$u" KBD_DEVICE=none ssh_kbd "$u" id -un
			  printf '%s\n' "$RC:$OUT" >"$T_DIR/conc/$u"
			  printf '%s\n' "$ERR" >"$T_DIR/conc/$u.err" ) &
			pids="$pids $!"
		done
		for p in $pids; do wait "$p"; done
		t1=$(now_ms)
		good=0 audited=0
		for u in $LOAD_USERS; do
			if [ "$(cat "$T_DIR/conc/$u")" = "0:$u" ]; then good=$((good + 1))
			else diag "$u: $(cat "$T_DIR/conc/$u") $(cat "$T_DIR/conc/$u.err")"; fi
			[ "$(audit_count "$u" "$AUDIT_LOGIN_RE" ok)" = 1 ] && audited=$((audited + 1))
		done
		is "$SHAPE: 20 concurrent SSH logins of 20 IdP users: all succeed, each as itself" "$good" 20
		ok "$SHAPE: ... within 60 s (took $((t1 - t0)) ms)" test $((t1 - t0)) -lt 60000
		is "$SHAPE: ... the audit log has exactly one ok login line for each" "$audited" 20

		# ----- idgated stopped: fail closed; NSS still answers -----
		ok "$SHAPE: idgated stops" daemon_stop
		t0=$(now_ms)
		login_kbd "$ARGS_PASSWORD" alice alice-password id -un
		t1=$(now_ms)
		is "$SHAPE: idgated stopped: alice's login fails closed" "$RC:$OUT" "255:"
		ok "$SHAPE: ... within the timeout (${FAIL_CLOSED_MS} ms; took $((t1 - t0)) ms)" \
			test $((t1 - t0)) -lt "$FAIL_CLOSED_MS"
		like "$SHAPE: ... with a clear message" "$ERR" "$DAEMON_DOWN_RE"
		login_kbd "$ARGS_TOKEN" alice "$(token_for alice)" id -un
		is "$SHAPE: idgated stopped: a token login fails closed too" "$RC:$OUT" "255:"
		run id alice
		like "$SHAPE: idgated stopped: id alice still works (the snapshot)" "$OUT" "\(engineering\)"
		login_kbd "$ARGS_PASSWORD" localops "local-ops-Pw 7" id -un
		is "$SHAPE: idgated stopped: a local account still logs in" "$RC:$OUT" "0:localops"
		ok "$SHAPE: idgated starts again" daemon_start

		# ----- the IdP stopped: offline credentials -----
		# alice logged in with her password above (fresh offline credentials); bob only
		# with a token (none).
		idp_stop
		login_kbd "$ARGS_PASSWORD" alice alice-password id -un
		is "$SHAPE: IdP stopped: alice (fresh offline credentials) logs in with her password" \
			"$RC:$OUT" "0:alice"
		login_kbd "$ARGS_PASSWORD" alice wrong-password id -un
		is "$SHAPE: IdP stopped: alice with a wrong password: refused" "$RC:$OUT" "255:"
		login_kbd "$ARGS_PASSWORD" bob 'b0b & co=+%/ pw' id -un
		is "$SHAPE: IdP stopped: bob (no offline credentials): refused" "$RC:$OUT" "255:"
		like "$SHAPE: ... told: identity provider unreachable" "$ERR" "identity provider unreachable"
		IDP_PORT=$IDP_PORT_NOW IDP_CPORT=$IDP_CPORT_NOW idp_start "$SHAPE" "$SHAPE" \
			--fixtures "$T_DIR/fixtures.json" --device-interval 1 --alg ES256 ||
			diag "the IdP did not restart on its port"
		login_kbd "$ARGS_PASSWORD" alice wrong-password id -un
		is "$SHAPE: IdP back: a wrong password is refused by the IdP (offline never overrides it)" \
			"$RC:$OUT" "255:"
	fi

	sshd_stop
	daemon_stop
	idp_stop
done

ssh_real_etc_check localops
done_testing
