#!/bin/sh
# configure names the Debian package of a missing library; make install honours the FHS
# directory options and installs the modules where glibc and Linux-PAM look for them.
. "$top_srcdir/tests/integ/lib.sh"

T=$(mktemp -d /tmp/idgate-install.XXXXXX)
trap 'rm -rf "$T"' EXIT

# The configure runs below are VPATH builds, which configure refuses from a source directory
# configured in place ("source directory already configured"), as README's Install section
# leaves it (./configure && make && make check there). So they run from a view of the source
# without its configuration: a link to each top-level entry but config.status (configure
# reads the source and writes only into the build directory).
S=$T/src
mkdir "$S"
for f in "$top_srcdir"/* "$top_srcdir"/.[!.]*; do
	[ -e "$f" ] && [ "${f##*/}" != config.status ] && ln -s "$f" "$S/"
done
[ -e "$top_srcdir/config.status" ] && diag "the source is configured in place (an in-tree build)"

# A pkg-config search path with every .pc file but libcjson's.
mkdir "$T/pc"
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
	[ -d "$d" ] && for f in "$d"/*.pc; do
		[ -e "$f" ] && [ "$(basename "$f")" != libcjson.pc ] && ln -sf "$f" "$T/pc/"
	done
done
mkdir "$T/b1"
(cd "$T/b1" && PKG_CONFIG_LIBDIR="$T/pc" PKG_CONFIG_PATH= "$S/configure" -q) >"$T/out" 2>&1
RC=$?
is "configure fails when libcjson is missing" "$RC" 1
like "... and names the Debian package to install" "$(cat "$T/out")" "apt-get install libcjson-dev"

# The same for liboauth2 and the PAM headers' package.
rm -f "$T/pc/liboauth2.pc"; ln -sf "$(pkg-config --variable pcfiledir libcjson)/libcjson.pc" "$T/pc/"
(cd "$T/b1" && PKG_CONFIG_LIBDIR="$T/pc" PKG_CONFIG_PATH= "$S/configure" -q) >"$T/out" 2>&1
like "a missing liboauth2 names liboauth2-dev" "$(cat "$T/out")" "apt-get install liboauth2-dev"

# The FHS options reach the Makefile (and so the paths compiled into idgated).
mkdir "$T/b2"
(cd "$T/b2" && "$S/configure" -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
	--runstatedir=/run) >"$T/out" 2>&1
is "configure accepts the FHS options" "$?" 0
mk=$(cat "$T/b2/Makefile")
like "runstatedir is /run" "$mk" "^runstatedir = /run$"
like "sysconfdir is /etc" "$mk" "^sysconfdir = /etc$"
like "localstatedir is /var" "$mk" "^localstatedir = /var$"
like "the NSS module goes to the multiarch lib dir" "$mk" "^nssdir = \\$\\{prefix\\}/lib/$(gcc -print-multiarch)$"
like "the PAM module goes to its security dir" "$mk" '^pamdir = \$\{nssdir\}/security$'

# make install from this build tree into a staging directory.
D=$T/dest
make -s -C "$top_builddir" install DESTDIR="$D" >"$T/out" 2>&1
is "make install succeeds" "$?" 0
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
sbindir=$(sed -n 's/^sbindir = //p' "$top_builddir/Makefile" | sed "s|\${exec_prefix}|$prefix|")
multi=$(gcc -print-multiarch)
ok "idgated is installed in sbin" test -x "$D$prefix/sbin/idgated"
ok "idgatectl is installed in bin" test -x "$D$prefix/bin/idgatectl"
ok "idgate-check is installed in bin" test -x "$D$prefix/bin/idgate-check"
like "... calling the installed idgatectl" "$(cat "$D$prefix/bin/idgate-check")" \
	"IDGATECTL=\\\$\\{IDGATECTL:-$prefix/bin/idgatectl\\}"
ok "idgate-check(1) is installed" test -f "$D$prefix/share/man/man1/idgate-check.1"
ok "libnss_idgate.so.2 is in the multiarch lib dir" test -e "$D$prefix/lib/$multi/libnss_idgate.so.2"
ok "pam_idgate.so is in the security dir" test -e "$D$prefix/lib/$multi/security/pam_idgate.so"
ok "no libtool .la files or unversioned NSS link are left" \
	test -z "$(find "$D" -name '*.la' -o -name 'libnss_idgate.so')"
ok "the configuration is installed" test -f "$D$prefix/etc/idgate/idgate.conf"
ok "the pam-auth-update profile is installed" test -f "$D$prefix/share/pam-configs/idgate"
like "... naming the module, not a build path" "$(cat "$D$prefix/share/pam-configs/idgate")" \
	"	pam_idgate\.so( |$)"
ok "pam_idgate(8) is installed" test -f "$D$prefix/share/man/man8/pam_idgate.8"
ok "the systemd unit is installed" test -f "$(find "$D" -name idgated.service | head -1)"
like "the unit runs the installed daemon" "$(cat "$(find "$D" -name idgated.service | head -1)")" \
	"^ExecStart=$prefix/sbin/idgated --foreground$"
echo "# an administrator's edit" >>"$D$prefix/etc/idgate/idgate.conf"
make -s -C "$top_builddir" install DESTDIR="$D" >"$T/out" 2>&1
like "reinstalling keeps the administrator's configuration" "$(cat "$D$prefix/etc/idgate/idgate.conf")" \
	"an administrator's edit"
"$D$prefix/sbin/idgated" --check-config -c "$D$prefix/etc/idgate/idgate.conf" >"$T/out" 2>&1
is "the installed example configuration is valid" "$?" 0
make -s -C "$top_builddir" uninstall DESTDIR="$D" >"$T/out" 2>&1
is "make uninstall removes every program and module (the configuration stays)" \
	"$(find "$D" -type f -o -type l | grep -v '/etc/idgate/idgate.conf$' | grep -v '\.[158]$')" ""
done_testing
