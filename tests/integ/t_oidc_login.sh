#!/bin/sh
# IdP logins against the real test OpenID provider (tests/idp/oidc, over TLS on loopback), in
# each of its three shapes with the matching profile (keycloak, auth0, okta): password, device
# code (approved through the IdP's pages as a browser would) and token-as-password (an ID token,
# and an access token where the shape issues one for idgate) each yield the right principal,
# POSIX login name and groups, and store them (the login name pinned to the IdP identity, the
# IdP groups with their members). Unsafe group names are skipped and reported, never stored; a
# local account is refused; an IdP group named like a local group is skipped;
# client_auth = post works; a login name pinned to one IdP identity is refused to another.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
oidc_require

oidc_setup
# sub of each fixture user in each shape
fixture_sub() {
	node -e 'const f = require(process.argv[1]); console.log(f.users[process.argv[2]].ids[process.argv[3]])' \
		"$IDP_DIR/fixtures.json" "$1" "$2"
}
# the groups of a subject, as idgated knows them (one per line, sorted)
groups_of() { ctl auth get-groups "$1" | sort; }

for SHAPE in keycloak auth0 okta; do
	diag "---------- $SHAPE ----------"
	ok "$SHAPE: the test IdP starts" idp_start "$SHAPE" "$SHAPE" --device-interval 1
	eval "ISS_$SHAPE=\$ISS"
	EXTRA=
	case $SHAPE in
	keycloak)
		A_USER=alice A_PRINC=user:alice A_GROUPS="engineering engineering.data-team"
		B_PRINC=user:bob C_PRINC=user:carol M_PRINC=user:mallory E_PRINC=user:eve
		D_PRINC=user:Dave.Smith ;;
	auth0)
		EXTRA="groups_claim = /https:~1~1idgate.test~1groups
audience = https://api.idgate.test"
		A_USER=alice@example.com A_PRINC=user:alice@example.com A_GROUPS="engineering data-team"
		B_PRINC=user:bob@example.com C_PRINC=user:carol@example.com
		M_PRINC=user:mallory@example.com E_PRINC=user:eve@example.com
		D_PRINC=user:Dave.Smith@Example.COM ;;
	okta)
		A_USER=alice@example.com A_PRINC=user:alice@example.com A_GROUPS="engineering data-team"
		B_PRINC=user:bob@example.com C_PRINC=user:carol@example.com
		M_PRINC=user:mallory@example.com E_PRINC=user:eve@example.com
		D_PRINC=user:Dave.Smith@Example.COM ;;
	esac
	# A new store for each shape.
	rm -rf "$T_DIR/state" "$T_DIR/log"
	idp_config "$SHAPE" ${EXTRA:+"$EXTRA"}
	ok "$SHAPE: idgated starts with profile = $SHAPE" daemon_start
	# A local idgate group named like Dave.Smith's IdP group, made before anyone logs in.
	run ctl group create Engineering
	is "$SHAPE: a local group Engineering is created" "$RC" 0

	# ----- password login -----
	login_pw "$A_USER" alice-password
	is "$SHAPE: password login as $A_USER succeeds" "$RC" 0
	is "$SHAPE: ... principal $A_PRINC" "$(field principal)" "$A_PRINC"
	is "$SHAPE: ... login name alice" "$(field 'login name')" alice
	is "$SHAPE: ... groups [$A_GROUPS]" "$(field groups)" "[$A_GROUPS]"
	is "$SHAPE: ... method password, issuer the IdP's" "$(field method) $(field issuer)" "password $ISS"
	unlike "$SHAPE: ... nothing skipped" "$OUT" '^skipped:'
	login_pw "$A_USER" alice-password -o json
	is "$SHAPE: the second password login (JSON) succeeds" "$RC" 0
	is "$SHAPE: ... JSON: principal, posix_name, groups, skipped_groups, issuer, subject, method" \
		"$(printf '%s' "$OUT" | jval '[d.principal, d.posix_name, d.groups.join(" "), d.skipped_groups.length, d.issuer, d.subject, d.method].join("|")')" \
		"$A_PRINC|alice|$A_GROUPS|0|$ISS|$(fixture_sub alice "$SHAPE")|password"
	run ctl group list
	for g in $A_GROUPS; do
		like "$SHAPE: group list shows group:$g from the IdP with one member" "$OUT" "^group:$g +idp +[0-9]+ +1\$"
	done
	run ctl group describe "$(echo "$A_GROUPS" | cut -d' ' -f1)"
	like "$SHAPE: group describe lists $A_PRINC as a member" "$OUT" "^  $A_PRINC\$"
	is "$SHAPE: auth get-groups $A_PRINC lists alice's IdP groups" "$(groups_of "$A_PRINC")" \
		"$(for g in $A_GROUPS; do echo "group:$g"; done | sort)"
	if have_sqlite3; then
		is "$SHAPE: the store pins login name alice to ($ISS, alice's sub), once" \
			"$(sql "SELECT name, principal, iss, sub FROM users WHERE principal = '$A_PRINC'")" \
			"alice|$A_PRINC|$ISS|$(fixture_sub alice "$SHAPE")"
	else
		pass "# SKIP sqlite3 is not installed: the users table is not read"
	fi

	# ----- client_auth = post (Keycloak shape only: one IdP accepts both) -----
	if [ "$SHAPE" = keycloak ]; then
		ok "$SHAPE: idgated stops" daemon_stop
		idp_config "$SHAPE" "client_auth = post"
		ok "$SHAPE: idgated restarts with client_auth = post" daemon_start
		login_pw bob 'b0b & co=+%/ pw'
		is "$SHAPE: client_auth = post: bob's password login (a password needing form encoding) succeeds" \
			"$RC:$(field principal):$(field groups)" "0:user:bob:[ops]"
		login_pw alice wrong-password
		is "$SHAPE: client_auth = post: a wrong password is still refused" "$RC:$ERR" \
			"1:wrong username or password"
		ok "$SHAPE: idgated stops" daemon_stop
		idp_config "$SHAPE"
		ok "$SHAPE: idgated restarts with client_auth = basic (the default)" daemon_start
	fi

	# ----- device code -----
	device_login bob 'b0b & co=+%/ pw'
	is "$SHAPE: the device-code request is approved at the IdP by bob (browser flow)" "$APPROVE" approved
	like "$SHAPE: idgatectl printed the verification URL and the code" "$OUT" \
		"^To sign in, open ${BASE}/(device|activate) and enter the code [A-Z0-9]{4}-[A-Z0-9]{4}\$"
	is "$SHAPE: device login succeeds" "$RC" 0
	is "$SHAPE: ... principal, login name, groups, method" \
		"$(field principal) $(field 'login name') $(field groups) $(field method)" "$B_PRINC bob [ops] device"
	is "$SHAPE: ... bob is stored as a member of group:ops" "$(groups_of "$B_PRINC")" "group:ops"

	# ----- token as password -----
	TOKS=$(idp_tokens carol carol-password)
	IDT=$(printf '%s' "$TOKS" | jval d.id_token)
	like "$SHAPE: the IdP issues carol an ID token" "$IDT" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
	login_token "$IDT"
	is "$SHAPE: token-as-password with carol's ID token succeeds" "$RC" 0
	is "$SHAPE: ... principal, login name, no groups, method token" \
		"$(field principal) $(field 'login name') $(field groups) $(field method)" "$C_PRINC carol [] token"
	login_token "$IDT" carol
	is "$SHAPE: ... again, naming the expected login name carol" "$RC:$(field principal)" "0:$C_PRINC"
	login_token "$IDT" alice
	is "$SHAPE: ... naming another login name (alice) is refused" "$RC:$ERR" \
		"1:login refused: the IdP user maps to login name 'carol', not 'alice'"
	IDT=$(idp_tokens "$A_USER" alice-password | jval d.id_token)
	login_token "$IDT"
	is "$SHAPE: token-as-password with alice's ID token: principal, login name, groups" \
		"$RC $(field principal) $(field 'login name') $(field groups)" "0 $A_PRINC alice [$A_GROUPS]"
	case $SHAPE in
	keycloak) AT=$(idp_tokens alice alice-password | jval d.access_token) ;;
	auth0) AT=$(idp_tokens alice alice-password -d audience=https://api.idgate.test | jval d.access_token) ;;
	okta) AT= ;;	# Okta's access token is for api://default, not for idgate
	esac
	if [ -n "$AT" ]; then
		like "$SHAPE: the IdP issues a JWT access token" "$AT" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
		login_token "$AT"
		is "$SHAPE: token-as-password with alice's access token: principal, login name, groups" \
			"$RC $(field principal) $(field 'login name') $(field groups) $ERR" "0 $A_PRINC alice [$A_GROUPS] "
	fi

	# ----- unsafe group names: skipped, reported, never stored -----
	login_pw mallory mallory-password -o json
	is "$SHAPE: mallory logs in; only staff is kept" \
		"$RC $(printf '%s' "$OUT" | jval 'd.groups.join(",")')" "0 staff"
	is "$SHAPE: ... bad:group and a,b are reported in skipped_groups" \
		"$(printf '%s' "$OUT" | jval 'd.skipped_groups.map(s => s.reason).join("\n")')" \
'group "bad:group" has characters not allowed in a group name (letters, digits and ._@+- are)
group "a,b" has characters not allowed in a group name (letters, digits and ._@+- are)'
	login_pw eve eve-password -o json
	is "$SHAPE: eve logs in; only staff is kept" \
		"$RC $(printf '%s' "$OUT" | jval 'd.groups.join(",")')" "0 staff"
	SK=$(printf '%s' "$OUT" | jval 'd.skipped_groups.map(s => s.reason).join("\n")')
	is "$SHAPE: ... four groups skipped (newline, control character, tab, 300 characters)" \
		"$(printf '%s\n' "$SK" | grep -c .)" 4
	like "$SHAPE: ... the newline group, shown escaped" "$SK" '^group "new\\x0aline" has characters not allowed'
	like "$SHAPE: ... the control-character group" "$SK" '^group "ctl\\x01char" has characters not allowed'
	like "$SHAPE: ... the tab group" "$SK" '^group "tab\\x09group" has characters not allowed'
	like "$SHAPE: ... the 300-character group" "$SK" '^group "g{48}\.\.\." is empty or longer than 255 bytes$'
	login_pw eve eve-password
	like "$SHAPE: the text output lists each skipped group too" "$OUT" '^skipped: +group "tab\\x09group"'
	is "$SHAPE: mallory and eve are members of group:staff only" \
		"$(groups_of "$M_PRINC") $(groups_of "$E_PRINC")" "group:staff group:staff"

	# ----- names -----
	login_pw root root-password
	is "$SHAPE: the IdP user root is refused: a local account" "$RC:$ERR" \
		"1:login refused: 'root' is a local account on this host; an IdP user never shadows it"
	login_pw Dave.Smith dave-password -o json
	is "$SHAPE: Dave.Smith logs in as dave.smith" \
		"$RC $(printf '%s' "$OUT" | jval '[d.principal, d.posix_name].join(" ")')" "0 $D_PRINC dave.smith"
	is "$SHAPE: ... his group Engineering is skipped: a local group has that name" \
		"$(printf '%s' "$OUT" | jval '[d.groups.length, d.skipped_groups.map(s => s.reason).join()].join(" ")')" \
		"0 a local group 'Engineering' exists; an IdP group never shadows it"
	run ctl group describe Engineering
	like "$SHAPE: ... the local group Engineering keeps its source and no members" "$OUT" \
		"^Source: local
.*
Members:\$"

	# ----- what is stored -----
	if have_sqlite3; then
		is "$SHAPE: the store has exactly these users" \
			"$(sql "SELECT name || ' ' || principal || ' ' || (iss = '$ISS') FROM users ORDER BY name")" \
"alice $A_PRINC 1
bob $B_PRINC 1
carol $C_PRINC 1
dave.smith $D_PRINC 1
eve $E_PRINC 1
mallory $M_PRINC 1"
		is "$SHAPE: ... and exactly these groups and members" \
			"$(sql "SELECT g.name || ' ' || g.source || ' ' || coalesce(group_concat(m.member, ','), '') FROM groups g LEFT JOIN members m ON m.grp = g.name GROUP BY g.name ORDER BY g.name")" \
			"$( { echo "Engineering local "; for g in $A_GROUPS; do echo "$g idp $A_PRINC"; done
			      echo "ops idp $B_PRINC"; echo "staff idp $E_PRINC,$M_PRINC"; } | LC_ALL=C sort)"
	else
		pass "# SKIP sqlite3 is not installed: the store is not read"
		pass "# SKIP sqlite3 is not installed: the store is not read"
	fi
	run ctl group list
	unlike "$SHAPE: no unsafe group name reached the group list" "$OUT" 'bad|a,b|line|char|tab|ggg'
	ok "$SHAPE: idgated stops cleanly" daemon_stop
	[ "$SHAPE" = okta ] || idp_stop
done

# ----- one login name, two IdP identities: the first keeps it -----
# The store now pins alice to the Okta IdP; a Keycloak IdP's alice is another identity.
ok "the Keycloak-shaped IdP starts again (same keys)" idp_start keycloak keycloak
idp_config keycloak
ok "idgated restarts on the Okta-pinned store, configured for the Keycloak IdP" daemon_start
B4=$(store_dump)
login_pw alice alice-password
is "alice from another IdP identity is refused" "$RC:$ERR" \
	"1:login refused: login name 'alice' already belongs to another IdP identity (this is IdP user \"alice\")"
same_store "... and nothing is stored" "$B4"
AUDIT=$(cat "$T_DIR/log/audit.log")
like "the audit log records the refusal" "$AUDIT" \
	'"action":"login","target":"user:alice","result":"denied","reason":"login refused: login name .alice. already belongs to another IdP identity \(this is IdP user ..alice..\)","detail":"password"'
ok "idgated stops cleanly" daemon_stop
done_testing
