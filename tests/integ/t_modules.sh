#!/bin/sh
# The modules stay thin: they link libc (and libpam) only, export only their entry points,
# load with dlopen(RTLD_NOW), and are clean under valgrind.
. "$top_srcdir/tests/integ/lib.sh"

PAM=$top_builddir/.libs/pam_idgate.so
NSS=$top_builddir/.libs/libnss_idgate.so.2
CHECK=$top_builddir/tests/integ/dlopen_check

ok "pam_idgate.so was built" test -f "$PAM"
ok "libnss_idgate.so.2 was built" test -f "$NSS"

exports() { nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort; }
is "pam_idgate.so exports exactly the pam_sm_* entry points" "$(exports "$PAM" | tr '\n' ' ')" \
	"pam_sm_acct_mgmt pam_sm_authenticate pam_sm_chauthtok pam_sm_close_session pam_sm_open_session pam_sm_setcred "
is "libnss_idgate.so.2 exports only _nss_idgate_* entry points" \
	"$(exports "$NSS" | grep -vc '^_nss_idgate_')" 0
is "libnss_idgate.so.2 exports every entry point glibc looks for" "$(exports "$NSS" | tr '\n' ' ')" \
	"_nss_idgate_endgrent _nss_idgate_endpwent _nss_idgate_getgrent_r _nss_idgate_getgrgid_r _nss_idgate_getgrnam_r _nss_idgate_getpwent_r _nss_idgate_getpwnam_r _nss_idgate_getpwuid_r _nss_idgate_initgroups_dyn _nss_idgate_setgrent _nss_idgate_setpwent "
is "libnss_idgate.so.2 has the soname glibc loads" \
	"$(objdump -p "$NSS" | awk '$1 == "SONAME" { print $2 }')" "libnss_idgate.so.2"

# Also in the sanitizer build: the modules are never instrumented (they load into sshd, ls...).
needed() { objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }' | grep -Ev '^(libc\.so\.6|libpam\.so\.0|ld-linux.*)$'; }
is "pam_idgate.so links nothing but libc and libpam" "$(needed "$PAM")" ""
is "libnss_idgate.so.2 links nothing but libc" "$(needed "$NSS")" ""
# The linker drops an unused libc (Debian's gcc links with --as-needed), so libc must be named
# exactly when the module calls into it, and nothing may be left unresolved either way.
for mod in "$PAM" "$NSS"; do
	b=$(basename "$mod")
	undef=$(nm -D --undefined-only "$mod" | awk '$1 == "U" { print $2 }' | grep -v '^pam_' | head -1)
	if [ -n "$undef" ]; then
		like "$b calls libc ($undef) and names libc.so.6 as a dependency" \
			"$(objdump -p "$mod" | awk '$1 == "NEEDED" { print $2 }')" "^libc\.so\.6$"
	else
		pass "$b calls nothing in libc yet, so needs no libc"
	fi
	is "$b has no static copy of libc (defines no malloc, memcpy or socket)" \
		"$(nm "$mod" 2>/dev/null | awk '$2 ~ /^[Tt]$/ && $3 ~ /^(malloc|memcpy|socket)$/' | wc -l)" 0
done
unlike "neither module pulls in curl, OpenSSL, SQLite or cJSON" \
	"$(objdump -p "$PAM" "$NSS" | awk '$1 == "NEEDED"')" "curl|ssl|crypto|sqlite|cjson|oauth2"

run "$CHECK" pam "$PAM"
is "pam_idgate.so loads with RTLD_NOW" "$RC" 0
# dlopen_check calls them without a PAM handle: refused (PAM_SYSTEM_ERR, 4), not a crash;
# t_pam_module.sh drives them through libpam.
is "its entry points refuse a missing PAM handle with PAM_SYSTEM_ERR (4)" \
	"$(echo "$OUT" | sed 's/.*=//' | sort -u)" 4
run "$CHECK" nss "$NSS"
is "libnss_idgate.so.2 loads with RTLD_NOW" "$RC" 0
# The snapshot lives at a fixed path on this machine: with none there a lookup is UNAVAIL
# (-1); whether one that exists is usable is not this test's business (t_nss_glibc.sh
# checks every case against private snapshots).
SNAP=$(strings -a "$NSS" | grep '/nss\.snapshot$' | head -1)
if [ -e "$SNAP" ]; then
	like "a snapshot exists at $SNAP: an unknown name is NOTFOUND (0) or UNAVAIL (-1); ENOENT" \
		"$OUT" "^getpwnam_r=(0|-1) errno=2$"
else
	like "no snapshot at $SNAP: lookups are UNAVAIL (-1, ENOENT)" "$OUT" "^getpwnam_r=-1 errno=2$"
fi

# valgrind cannot run an ASan binary; the sanitizer build checks the same code its own way.
if [ -n "$(objdump -p "$CHECK" | awk '$1 == "NEEDED" && $2 ~ /asan/')" ]; then
	pass "# SKIP valgrind: this is the sanitizer build"
	pass "# SKIP valgrind: this is the sanitizer build"
else
	for kind in pam nss; do
		mod=$PAM; [ $kind = nss ] && mod=$NSS
		run valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
			"$CHECK" $kind "$mod"
		is "$kind module is clean under valgrind (no errors, no leaks)" "$RC" 0
	done
fi
done_testing
