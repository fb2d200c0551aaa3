#!/bin/sh
# A SAML login over a real sshd (ssh_lib.sh: OpenSSH on loopback in a private mount and network
# namespace): pam_idgate.so methods=saml shows the node's one-time link in the prompt's own
# text; the harness, as the user's browser, opens it, signs in at the test SAML IdP
# (tests/idp/saml) and posts the signed response to idgated's ACS, then presses Enter; the
# login completes and `id` in the session shows the IdP groups. A user without a role is
# refused by PAM account with the reason; the machine's own /etc is untouched.
. "$top_srcdir/tests/integ/t_saml_lib.sh"
. "$top_srcdir/tests/integ/ssh_lib.sh"
oidc_cleanup() { saml_cleanup; }	# what ssh_lib.sh's cleanup calls

ssh_require node curl xmlsec1
if [ "${SSH_INNER:-}" != 1 ] && ! pam_idgate_ready; then
	echo "Bail out! pam_idgate.so is not usable: $PAM_IDGATE_WHY"
	exit 1
fi
ssh_enter_namespace "$@"
saml_require

saml_setup
ssh_world
saml_config "login_ttl = 90s"
ok "idgated starts with a [saml] section" daemon_start || { done_testing; exit 1; }
ctl create project sshtest >/dev/null
run ctl auth set project sshtest projectViewer group:data-scientists
is "auth set project sshtest projectViewer group:data-scientists" "$RC:$ERR" "0:"

# The browser: open the link, sign in at the IdP as USER, post the response to the ACS.
cat >"$T_DIR/saml-cb" <<CB
#!/bin/sh
# saml-cb USER PASSWORD saml LINK
loc=\$(curl -sS --cacert "$CA" --max-time 30 -o /dev/null -w '%{redirect_url}' "\$4")
sr=\$(printf '%s\n' "\$loc" | sed -n 's/.*[?&]SAMLRequest=\([^&]*\).*/\1/p')
curl -sS --cacert "$CA" --max-time 30 -o "$T_DIR/cb-idp.html" --data "SAMLRequest=\$sr" \
	--data-urlencode "username=\$1" --data-urlencode "password=\$2" "$IDP_BASE/sso/login"
acs=\$(sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' "$T_DIR/cb-idp.html")
sed -n 's/.*name="SAMLResponse" value="\([^"]*\)".*/\1/p' "$T_DIR/cb-idp.html" >"$T_DIR/cb-resp"
code=\$(curl -sS --cacert "$CA" --max-time 30 -o "$T_DIR/cb-acs.body" -w '%{http_code}' \
	--data-urlencode "SAMLResponse@$T_DIR/cb-resp" "\$acs")
echo "acs \$code"
CB
chmod 0755 "$T_DIR/saml-cb"

# login_saml USER PASSWORD [COMMAND...]: keyboard-interactive through methods=saml.
login_saml() {
	_u=$1 _p=$2
	shift 2
	KBD_SECRET= KBD_DEVICE="$T_DIR/saml-cb $_u $_p" ssh_kbd "$_u" "$@"
}

ssh_pam_idgate methods=saml
ok "sshd starts" sshd_start || { done_testing; exit 1; }

login_saml alice alice-pw-7c1e id
is "alice logs in over SSH through SAML" "$RC" 0
like "... the prompt shows the node's one-time link" "$PROMPTS" \
	"To sign in, open $SP_BASE/saml/login/[0-9a-f]{32} in a browser, then press Enter"
is "... the harness signed in at the IdP and the ACS took it" "$CALLBACK" "acs 200"
like "id shows alice" "$OUT" "^uid=[0-9]+\(alice\)"
like "id shows her IdP group data-scientists" "$OUT" "[0-9]+\(data-scientists\)"
like "id shows her IdP group ml-team" "$OUT" "[0-9]+\(ml-team\)"
run getent passwd alice
like "getent passwd alice (the NSS module)" "$OUT" "^alice:x:[0-9]+:[0-9]+:"

login_saml bob bob-pw-2a9f id -un
is "bob (no role) signs in at the IdP but is refused" "$RC:$OUT" "255:"
like "... with the reason" "$ERR" "idgate: bob (holds no role on this cluster|may not log in here)"

sshd_stop
ok "idgated is still up" ping_quiet
ok "the machine's own /etc is untouched" ssh_real_etc_check
done_testing
