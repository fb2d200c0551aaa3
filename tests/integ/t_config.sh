#!/bin/sh
# idgate.conf under `idgated -n`: every error names FILE:LINE and what is expected, all of them
# are reported, and nothing is created. Then a damaged or too-new state.db: idgated refuses
# to start, says why, and leaves the file exactly as it was.
. "$top_srcdir/tests/integ/lib.sh"
# The sqlite3 command-line tool reads and edits the store behind idgated's back.
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP the sqlite3 command-line tool is not installed"; exit 0; }

t_setup
C=$T_DIR/c.conf

# conf TEXT: write $C (printf format), root-owned, mode 0644.
conf() {
	# shellcheck disable=SC2059
	printf "$@" >"$C"
	chmod 0644 "$C"
}
# check: idgated -n -c $C into OUT/ERR/RC.
check() { run "$IDGATED" -n -c "$C"; }
# bad DESC LINE PATTERN: -n exits 1 and stderr has "$C:LINE: PATTERN".
bad() {
	check
	is "$1: exit 1" "$RC" 1
	like "$1: $C:$2: says what is expected" "$ERR" "^$C:$2: $3"
}

# ---------- valid files ----------
cp "$T_DIR/idgate.conf" "$C"
check
is "the test configuration is valid: exit 0" "$RC" 0
is "... and says so" "$OUT" "$C: configuration OK"
conf '# comment\n; another\n\n[daemon]\n  log_level = "debug"  \nrequest_timeout = 1m30s\n[store]\nsynchronous = full\n[data]\nmax_put_size = 10M\n[daemon]\nidle_timeout = 1h30m\n'
check
is "comments, blanks, quotes, durations, sizes and a re-opened section are valid" "$RC:$OUT" \
	"0:$C: configuration OK"
conf '[daemon]\r\nlog_level = debug\r\n'
check
is "CRLF line ends are valid" "$RC" 0
conf ''
check
is "an empty file is valid (every key has a default)" "$RC" 0
conf '[daemon]\nrun_dir = %s/never/run\nstate_dir = %s/never/state\naudit_log = %s/never/a.log\n' \
	"$T_DIR" "$T_DIR" "$T_DIR"
check
ok "-n creates none of the directories it names" test "$RC" = 0 -a ! -e "$T_DIR/never"

# ---------- one error each ----------
conf '[daemon]\ncolour = blue\n'
bad "an unknown key" 2 "unknown key 'colour' in \[daemon\]: expected one of run_dir, state_dir, log, "
conf '[daemon]\nlog = stderr\nmax_connections = lots\n'
bad "max_connections = lots" 3 "bad value for 'max_connections' in \[daemon\]: expected an integer from 1 to 65536$"
conf '[daemon]\nmax_connections = 0\n'
bad "max_connections = 0 (below the minimum)" 2 "bad value for 'max_connections' .*from 1 to 65536"
conf '[daemon]\nmax_connections = 99999999999999999999999\n'
bad "max_connections that overflows" 2 "bad value for 'max_connections' .*from 1 to 65536"
conf '[daemon]\nrequest_timeout = 5 parsecs\n'
bad "request_timeout = 5 parsecs" 2 "bad value for 'request_timeout' in \[daemon\]: expected a duration from 1s to 3600s"
conf '[daemon]\nrequest_timeout = 2h\n'
bad "request_timeout = 2h (over the 3600s maximum)" 2 "bad value for 'request_timeout'.*to 3600s"
conf '[store]\nsynchronous = sometimes\n'
bad "synchronous = sometimes" 2 "bad value for 'synchronous' in \[store\]: expected one of: full normal$"
conf '[data]\nmax_put_size = 12 bushels\n'
bad "max_put_size = 12 bushels" 2 "bad value for 'max_put_size' in \[data\]: expected a size"
conf '[daemon]\nrun_dir = var/run/idgate\n'
bad "a relative run_dir" 2 "bad value for 'run_dir' in \[daemon\]: expected an absolute path$"
conf '[daemon]\nlog_level = "debug\n'
bad "an unterminated quote" 2 "unterminated quoted value for 'log_level'"
conf '[saml]\nidp_metadata = /nonexistent/idp.xml\n'
check
is "[saml] idp_metadata alone: exit 1" "$RC" 1
like "... names what else it needs, at the line of idp_metadata" "$ERR" "^$C:2: \\[saml\\] with idp_metadata also needs sp_entity_id, base_url, tls_cert and tls_key$"
conf '[saml]\nidp_metadata = /x.xml\nsp_entity_id = e\nbase_url = http://h/saml\ntls_cert = /c.pem\ntls_key = /nonexistent/k.pem\n'
check
like "[saml] base_url must be https://HOST[:PORT], at its line" "$ERR" "^$C:4: base_url in \\[saml\\] must be https://HOST\\[:PORT\\] \\(no path\\)$"
like "[saml] a missing tls_key is named, at its line" "$ERR" "^$C:6: tls_key /nonexistent/k.pem in \\[saml\\]: No such file"
conf '[saml]\nidp_metadata = /x.xml\nidp_metadata_url = https://idp.example.com/md\n'
check
like "[saml] idp_metadata and idp_metadata_url together are refused" "$ERR" "^$C:3: \\[saml\\] takes idp_metadata or idp_metadata_url, not both$"
conf '[saml]\nidp_metadata = /x.xml\nsp_entity_id = e\nbase_url = https://h\ntls_cert = /c.pem\ntls_key = /k.pem\nsign_requests = yes\n'
check
like "[saml] sign_requests needs sp_key and sp_cert" "$ERR" "^$C:7: sign_requests in \\[saml\\] needs sp_key and sp_cert$"
conf '[saml]\nidp_metadata_url = http://idp.example.com/md\n'
check
like "[saml] idp_metadata_url must be https" "$ERR" "^$C:2: idp_metadata_url in \\[saml\\] must be an https:// URL$"
conf '[saml]\nidp_metadata_url = https://idp.example.com/md\n'
check
like "[saml] idp_metadata_url alone: the message names idp_metadata_url, the key in use" "$ERR" \
	"^$C:2: \\[saml\\] with idp_metadata_url also needs sp_entity_id, base_url, tls_cert and tls_key$"
conf '[idp]\nissuer = http://idp.example.com\n'
check
like "[idp] issuer not https: at its line" "$ERR" "^$C:2: issuer in \\[idp\\] must be an https:// URL$"
like "[idp] an issuer without client_id: at the issuer's line" "$ERR" "^$C:2: \\[idp\\] has an issuer but no client_id$"
conf '[idp]\nissuer = https://idp.example.com\nclient_id = x\nclient_secret_file = /nonexistent/s\n'
check
like "[idp] a missing client_secret_file: at its line" "$ERR" "^$C:4: client_secret_file /nonexistent/s in \\[idp\\]: No such file"
conf '[idmap]\nid_min = 5000\n\nid_max = 4000\nprimary_group = -bad\nusers_group = 123\nhome_base = /h:x\nshell = /bin/s,h\nfold_domains = *.example.com\n'
check
like "[idmap] id_min above id_max: at id_max's line" "$ERR" "^$C:4: id_min \\(5000\\) must be below id_max \\(4000\\) in \\[idmap\\]$"
like "[idmap] a bad primary_group: at its line" "$ERR" "^$C:5: primary_group in \\[idmap\\] must be"
like "[idmap] a bad users_group: at its line" "$ERR" "^$C:6: users_group in \\[idmap\\] must be"
like "[idmap] home_base with ':': at its line" "$ERR" "^$C:7: home_base in \\[idmap\\] cannot hold"
like "[idmap] shell with ',': at its line" "$ERR" "^$C:8: shell in \\[idmap\\] cannot hold"
like "[idmap] a wildcard in fold_domains: at its line" "$ERR" "^$C:9: fold_domains in \\[idmap\\] must be"
conf '[data]\nmode = 999\nowner = -x\ngroup = 12\n[pam]\nlogin_rule = everyone\nskel = etc/skel\n'
check
like "[data] a bad mode: at its line" "$ERR" "^$C:2: mode in \\[data\\] must be an octal mode"
like "[data] a bad owner: at its line" "$ERR" "^$C:3: owner in \\[data\\] must be"
like "[data] a bad group: at its line" "$ERR" "^$C:4: group in \\[data\\] must be"
like "[pam] a bad login_rule: at its line" "$ERR" "^$C:6: login_rule in \\[pam\\] must be"
like "[pam] a relative skel: at its line" "$ERR" "^$C:7: skel in \\[pam\\] must be empty or an absolute path$"
unlike "every semantic error above names FILE:LINE" "$ERR" "^$C: "

# ---------- the files the connector reads, read as it reads them ----------
# [saml] idp_metadata is parsed as the connector parses it; [idp] and [saml] ca_file must be
# readable by the [connector] user (the unprivileged connector reads them, not root).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_DIR/k.pem" -out "$T_DIR/cert.pem" \
	-days 2 -subj /CN=t.example >/dev/null 2>&1
chmod 0600 "$T_DIR/k.pem"
chmod 0644 "$T_DIR/cert.pem"
samlconf() {
	conf '[saml]\nidp_metadata = %s\nsp_entity_id = https://sp.example/saml\nbase_url = https://sp.example:8443\ntls_cert = %s\ntls_key = %s\n%s' \
		"$1" "$T_DIR/cert.pem" "$T_DIR/k.pem" "${2:-}"
}
CERT_B64=$(sed -e '/-----/d' "$T_DIR/cert.pem" | tr -d '\n')
cat >"$T_DIR/md.xml" <<XML
<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>$CERT_B64</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
XML
chmod 0644 "$T_DIR/md.xml"
samlconf "$T_DIR/md.xml"
check
is "[saml] a well-formed idp_metadata file is valid" "$RC:$OUT" "0:$C: configuration OK"
head -c 300 "$T_DIR/md.xml" >"$T_DIR/bad.xml"
samlconf "$T_DIR/bad.xml"
check
is "[saml] a cut-off idp_metadata file: exit 1" "$RC" 1
like "... named at its line, saying what is wrong" "$ERR" "^$C:2: idp_metadata $T_DIR/bad.xml in \\[saml\\]: .*not well-formed XML"
sed -e 's/HTTP-Redirect/HTTP-POST/' "$T_DIR/md.xml" >"$T_DIR/nosso.xml"
samlconf "$T_DIR/nosso.xml"
check
like "[saml] metadata without an HTTP-Redirect SSO service: refused at its line" "$ERR" "^$C:2: idp_metadata $T_DIR/nosso.xml in \\[saml\\]: "
samlconf "$T_DIR/none.xml"
check
like "[saml] a missing idp_metadata file: refused at its line" "$ERR" "^$C:2: idp_metadata $T_DIR/none.xml in \\[saml\\] cannot be read: "
samlconf "$T_DIR/bad.xml"
run timeout 10 "$IDGATED" -f -c "$C"
is "idgated (not -n) refuses the cut-off metadata too: exit 1" "$RC" 1
like "... saying why" "$ERR" "^$C:2: idp_metadata $T_DIR/bad.xml in \\[saml\\]: .*not well-formed XML"
if id _idgate >/dev/null 2>&1; then
	cp "$T_DIR/cert.pem" "$T_DIR/ca-root.pem"
	chmod 0600 "$T_DIR/ca-root.pem"
	conf '[idp]\nissuer = https://idp.example.com\nclient_id = x\nca_file = %s\n' "$T_DIR/ca-root.pem"
	check
	is "[idp] ca_file readable only by root: exit 1" "$RC" 1
	like "... the connector user cannot read it, at its line" "$ERR" \
		"^$C:4: ca_file $T_DIR/ca-root.pem in \\[idp\\] cannot be read by the connector user '_idgate', which reads it: Permission denied"
	cp "$T_DIR/idgate.conf" "$T_DIR/start.conf"
	printf '[idp]\nissuer = https://idp.example.com\nclient_id = x\nca_file = %s\n' "$T_DIR/ca-root.pem" >>"$T_DIR/start.conf"
	run timeout 10 "$IDGATED" -f -c "$T_DIR/start.conf"
	is "... and idgated refuses to start with it: exit 1" "$RC" 1
	like "... saying why" "$ERR" "ca_file $T_DIR/ca-root.pem in \\[idp\\] cannot be read by the connector user"
	ok "... having opened no socket" test ! -e "$SOCK"
	conf '[saml]\nidp_metadata_url = https://idp.example/md\nsp_entity_id = https://sp.example/saml\nbase_url = https://sp.example:8443\ntls_cert = %s\ntls_key = %s\nca_file = %s\n' \
		"$T_DIR/cert.pem" "$T_DIR/k.pem" "$T_DIR/ca-root.pem"
	check
	like "[saml] ca_file readable only by root: refused at its line" "$ERR" \
		"^$C:7: ca_file $T_DIR/ca-root.pem in \\[saml\\] cannot be read by the connector user '_idgate'"
	mkdir -m 0700 "$T_DIR/private"
	cp "$T_DIR/cert.pem" "$T_DIR/private/ca.pem"
	chmod 0644 "$T_DIR/private/ca.pem"
	conf '[idp]\nissuer = https://idp.example.com\nclient_id = x\nca_file = %s\n' "$T_DIR/private/ca.pem"
	check
	like "[idp] ca_file 0644 in a directory only root may enter: refused" "$ERR" \
		"^$C:4: ca_file $T_DIR/private/ca.pem in \\[idp\\] cannot be read by the connector user"
	chmod 0644 "$T_DIR/ca-root.pem"
	conf '[idp]\nissuer = https://idp.example.com\nclient_id = x\nca_file = %s\n' "$T_DIR/ca-root.pem"
	check
	is "[idp] the same ca_file made readable (0644): valid" "$RC:$OUT" "0:$C: configuration OK"
fi
# ---------- [nss] snapshot: the file the NSS module reads, or a private instance's ----------
MOD_SNAP=$(strings -a "$top_builddir/.libs/libnss_idgate.so.2" | grep '/nss\.snapshot$' | head -n 1)
conf '[nss]\nsnapshot = %s\n' "$MOD_SNAP"
check
is "[nss] snapshot naming the module's own path ($MOD_SNAP) is valid" "$RC:$OUT" "0:$C: configuration OK"
conf '[daemon]\nlog = stderr\n[nss]\n\nsnapshot = %s/elsewhere/nss.snapshot\n' "$T_DIR"
check
is "[nss] snapshot elsewhere for the idgated the modules talk to: exit 1" "$RC" 1
like "... at its line, naming the one path the module reads" "$ERR" \
	"^$C:5: snapshot in \\[nss\\] must be $MOD_SNAP, the only file libnss_idgate.so.2 reads"
conf '[daemon]\nrun_dir = %s/private-run\n[nss]\nsnapshot = %s/elsewhere/nss.snapshot\n' "$T_DIR" "$T_DIR"
check
is "[nss] snapshot elsewhere for a private idgated (a run_dir of its own): valid" "$RC:$OUT" "0:$C: configuration OK"
like "... with a warning at its line that NSS will not see it" "$ERR" \
	"^$C:4: warning: snapshot in \\[nss\\] is not $MOD_SNAP, the file libnss_idgate.so.2 reads"
conf '[daemon]\n\n[nonsense]\nkey = value\nother = 1\n'
bad "an unknown section" 3 "unknown section \[nonsense\]: expected one of \[daemon\], \[store\], \[auth\], \[data\], \[idp\], \[saml\], \[connector\], \[idmap\], \[nss\], \[pam\]$"
unlike "... whose keys are not reported again" "$ERR" ":[45]:"
conf '[daemon\nlog = stderr\n'
bad "a malformed section header" 1 "malformed section header: expected \[name\]"
conf 'log_level = debug\n[daemon]\n'
bad "a key outside any section" 1 "key 'log_level' outside any section: put it under a \[section\]"
conf '[daemon]\nlog_level = debug\nlog = stderr\n[store]\n[daemon]\nlog_level = info\n'
bad "a duplicate key (across a re-opened section)" 6 "'log_level' in \[daemon\] is set twice \(first at line 2\)"
conf '[daemon]\nlog_level debug\n'
bad "a line without '='" 2 "expected 'key = value', a \[section\] or a # comment"
conf '[daemon]\nlog_level = de\001bug\n'
bad "a control character" 2 "control character or invalid UTF-8 in line"
conf '[daemon]\nlog_level = d\351bug\n'
bad "invalid UTF-8" 2 "control character or invalid UTF-8 in line"
{ printf '[daemon]\nrun_dir = /'; head -c 5000 /dev/zero | tr '\0' a; printf '\n'; } >"$C"
bad "a 5000-byte line" 2 "line longer than 4096 bytes"
conf '[auth]\nrobot_token_max_ttl = 1d\nrobot_token_default_ttl = 2d\n'
check
is "default ttl longer than max ttl: exit 1" "$RC" 1
like "... says which keys disagree, at the line of the default" "$ERR" "^$C:3: robot_token_default_ttl is longer than robot_token_max_ttl in \[auth\]"

# ---------- the file itself ----------
run "$IDGATED" -n -c "$T_DIR/missing.conf"
is "a missing file: exit 1" "$RC" 1
like "... names it" "$ERR" "^$T_DIR/missing.conf: cannot read config: no such file"
head -c 2097152 /dev/zero | tr '\0' '#' >"$C"; chmod 0644 "$C"
check
is "a 2 MB file: exit 1" "$RC" 1
like "... refused as too large" "$ERR" "^$C: cannot read config: file too large"
printf '[daemon]\nlog = std\000err\n' >"$C"; chmod 0644 "$C"
check
is "a file with a NUL byte: exit 1" "$RC" 1
like "... refused as not text, with the line of the NUL" "$ERR" "^$C:2: a NUL byte: this is not a text file"
run "$IDGATED" -n -c "$T_DIR"
is "a directory: exit 1" "$RC" 1
like "... refused as not a regular file" "$ERR" "^$T_DIR: cannot read config: not a regular file"
cp "$T_DIR/idgate.conf" "$C"
chmod 0664 "$C"
check
is "a group-writable file: exit 1" "$RC" 1
like "... says who may write it" "$ERR" \
	"^$C: must be owned by root and not writable by group or others \(owner uid 0, mode 0664\)"
chmod 0646 "$C"
check
is "an other-writable file: exit 1" "$RC" 1
chmod 0644 "$C"
chown 1234:1234 "$C"
check
is "a file owned by uid 1234: exit 1" "$RC" 1
like "... says who owns it" "$ERR" "^$C: must be owned by root .*\(owner uid 1234, mode 0644\)"
chown 0:0 "$C"
ln -sf "$C" "$T_DIR/link.conf"
run "$IDGATED" -n -c "$T_DIR/link.conf"
is "a symlink to a good root-owned file is valid" "$RC" 0

# ---------- several errors: all reported ----------
conf '[daemon]\ncolour = blue\nmax_connections = lots\nrequest_timeout = 5 parsecs\n[store]\nsynchronous = sometimes\n[bogus]\nx = 1\nnoequals\n[daemon]\nlog_level = debug\nlog_level = info\n'
check
is "a file with eight errors: exit 1" "$RC" 1
for L in 2 3 4 6 7 9 12; do
	like "... line $L is reported" "$ERR" "^$C:$L: "
done
unlike "... and line 8 (a key under the unknown section) is not" "$ERR" "^$C:8: "
is "... one line per error, then the verdict" "$(printf '%s\n' "$ERR" | wc -l)" 8
like "... the verdict last" "$(printf '%s\n' "$ERR" | tail -n 1)" "^idgated: $C: configuration is invalid$"

# idgated itself (not -n) refuses a broken file and creates nothing.
conf '[daemon]\nrun_dir = %s/never/run\nstate_dir = %s/never/state\nlog_level = loud\n' "$T_DIR" "$T_DIR"
run timeout 10 "$IDGATED" -f -c "$C"
is "idgated -f with a broken file exits 1" "$RC" 1
like "... naming the line" "$ERR" "^$C:4: bad value for 'log_level'"
ok "... having created nothing" test ! -e "$T_DIR/never"

# ---------- the state database ----------
DB=$T_DIR/state/state.db
sum() { md5sum "$DB" | cut -d' ' -f1; }
ok "idgated makes a new store" daemon_start
ctl create repo keep >/dev/null
ok "... and stops" daemon_stop
cp "$DB" "$T_DIR/good.db"

head -c 65536 /dev/urandom >"$DB"
SUM=$(sum)
run timeout 10 "$IDGATED" -f -c "$T_DIR/idgate.conf"
is "a state.db of random bytes: idgated refuses to start (exit 1)" "$RC" 1
like "... with a clear message" "$ERR" "opening the state database: file is not a database"
is "... and does not overwrite the file" "$(sum)" "$SUM"
ok "... nor leave a -wal or -shm beside it" test ! -e "$DB-wal" -a ! -e "$DB-shm"
ok "... nor its sockets" test ! -e "$SOCK"

# A store written by a newer idgated (schema version 99).
cp "$T_DIR/good.db" "$DB"
sqlite3 "$DB" 'PRAGMA user_version = 99'
SUM=$(sum)
run timeout 10 "$IDGATED" -f -c "$T_DIR/idgate.conf"
is "a store with schema version 99: refused (exit 1)" "$RC" 1
like "... saying it is newer than this idgated" "$ERR" \
	"schema version 99, newer than this idgated understands \([0-9]+\): refusing to touch it"
is "... and the file is untouched" "$(sum)" "$SUM"
# The same in rollback-journal mode (e.g. a copy made with sqlite3 .backup or VACUUM INTO).
rm -f "$DB"
sqlite3 "$T_DIR/good.db" "VACUUM INTO '$DB'"
sqlite3 "$DB" 'PRAGMA journal_mode = DELETE; PRAGMA user_version = 99' >/dev/null
SUM=$(sum)
run timeout 10 "$IDGATED" -f -c "$T_DIR/idgate.conf"
is "a rollback-journal store with schema version 99: refused (exit 1)" "$RC" 1
is "... and the file is untouched (not even switched to WAL)" "$(sum)" "$SUM"
is "... still in rollback-journal mode" "$(sqlite3 "$DB" 'PRAGMA journal_mode')" delete

# The good copy still works: the refusals above were about the files, not the daemon.
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$T_DIR/good.db" "$DB"
ok "the good store starts again" daemon_start
like "... a private idgated logs that NSS does not read its snapshot" "$(cat "$T_DIR/daemon.log")" \
	"warning: snapshot in \\[nss\\] is not $MOD_SNAP"
run ctl list repo
like "... with its repo" "$OUT" "^default +keep "
ok "... and stops" daemon_stop
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log" 2>/dev/null)" \
	"Sanitizer|runtime error:"
done_testing
