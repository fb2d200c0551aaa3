#!/bin/sh
# The man pages lint clean and document everything there is: every config key with its
# default, every idgated option, every idgatectl verb.
. "$top_srcdir/tests/integ/lib.sh"

M=$top_builddir/man
for page in idgated.8 idgatectl.1 idgate.conf.5 pam_idgate.8 idgate-check.1; do
	ok "$page was generated" test -s "$M/$page"
	run mandoc -Tlint -Wwarning "$M/$page"
	is "$page: mandoc -Tlint reports nothing" "$RC:$OUT$ERR" "0:"
	run groff -man -ww -z "$M/$page"
	is "$page: groff -ww reports nothing" "$RC:$OUT$ERR" "0:"
	unlike "$page: every @placeholder@ was filled in" "$(cat "$M/$page")" "@[a-zA-Z_]+@"
done

CONF=$(mandoc -Tascii "$M/idgate.conf.5" | col -b)
# Every key of the schema, with its default, from the table in src/daemon/config.c.
T_DIR=$(mktemp -d /tmp/idgate-man.XXXXXX)
sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", "\([a-z_]*\)", IDG_CONF_[A-Z]*, \("[^"]*"\|[^,]*\),.*/\1 \2 \3/p' \
	"$top_srcdir/src/daemon/config.c" >"$T_DIR/keys"
ok "the schema table was read" test "$(wc -l <"$T_DIR/keys")" -ge 10
while read -r section key def; do
	like "idgate.conf(5) documents [$section] $key" "$CONF" "^\[$section\]|^ *$key \("
	case $def in
	IDG_*) ;;	# a path default built from configure's directories
	NULL) like "... with no default" "$(printf '%s\n' "$CONF" | grep -A0 "^ *$key (")" "no default\)" ;;
	*) d=$(printf '%s' "$def" | tr -d '"')
	   like "... with its default $d" "$(printf '%s\n' "$CONF" | grep -A0 "^ *$key (")" "default $d\)" ;;
	esac
done <"$T_DIR/keys"

DAEMON=$(mandoc -Tascii "$M/idgated.8" | col -b)
for opt in $("$IDGATED" --help | grep -Eo '^  -[a-zA-Z], --[a-z-]+' | sed 's/.*--//'); do
	like "idgated(8) documents --$opt" "$DAEMON" "\-\-$opt"
done

CTL=$(mandoc -Tascii "$M/idgatectl.1" | col -b)
"$IDGATECTL" --help | sed -n 's/^  \([a-z-]*\) \([a-z-]*\)  .*/\1 \2/p' >"$T_DIR/verbs"
ok "the verb list was read" test "$(wc -l <"$T_DIR/verbs")" -ge 40
while read -r w1 w2; do
	like "idgatectl(1) documents '$w1 $w2'" "$CTL" "idgatectl $w1 $w2|^ *$w1 $w2"
done <"$T_DIR/verbs"
# pam_idgate(8): every module argument args.c knows, and the defaults pam_idgate.h sets.
PAMM=$(mandoc -Tascii "$M/pam_idgate.8" | col -b)
sed -n 's/.*strn\{0,1\}cmp(arg, "\([a-z_]*=\{0,1\}\)".*/\1/p' "$top_srcdir/pam/args.c" >"$T_DIR/pamopts"
ok "the module's arguments were read" test "$(wc -l <"$T_DIR/pamopts")" -ge 7
while read -r opt; do
	like "pam_idgate(8) documents $opt" "$PAMM" "^ {7}$opt"
done <"$T_DIR/pamopts"
for d in TIMEOUT DEVICE_WAIT; do
	v=$(sed -n "s/^#define IDG_PAM_${d}_DEFAULT \([0-9]*\).*/\1/p" "$top_srcdir/pam/pam_idgate.h")
	like "pam_idgate(8) gives the default $(echo $d | tr A-Z a-z)=$v" "$PAMM" "Default $v[,:. ]"
done
like "pam_idgate(8) gives the default methods" "$PAMM" "Default: password,device\."
for v in "UsePAM yes" "KbdInteractiveAuthentication yes" LoginGraceTime "RETURN VALUES" EXAMPLES; do
	like "pam_idgate(8) has $v" "$PAMM" "$v"
done
for v in IDGATE_SOCKET IDGATE_TOKEN "EXIT STATUS"; do
	like "idgatectl(1) has $v" "$CTL" "$v"
done
done_testing
