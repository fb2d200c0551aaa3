#!/bin/sh
# The file broker: put/get/list/delete round trips; paths that try to leave the repo ('..',
# absolute tricks, control characters, NUL, very long or deep) are refused with exit 2 and
# nothing is written anywhere; symlinks planted in a repo directory are never followed;
# [data] max_put_size is enforced with nothing left behind; a deleted repo's directory is
# moved to ROOT/.deleted/PROJECT.REPO.TIME.RANDOM; the directories' owners and modes.
. "$top_srcdir/tests/integ/lib.sh"

WP=$top_builddir/tests/integ/wireprobe
U1=1234	# a local uid with no idgate identity
MAX=1000
ALICE=user:alice@example.com
TAB=$(printf '\t')
NL=$(printf '\nx') && NL=${NL%x}
ESC=escape-$$	# the name every escape attempt tries to create

# mode_of PATH: owner:group:octal mode.
mode_of() { stat -c '%U:%G:%a' "$1"; }
# The tree the daemon may write: the data root, and everything in $T_DIR but the daemon's
# own state, logs and sockets.
tree() {
	(cd "$T_DIR" && find . -path ./state -prune -o -path ./log -prune -o -path ./run -prune \
		-o -name daemon.log -prune -o -name 'tree.*' -prune -o -print | sort)
	(cd "$T_DIR/repos" && find . -exec stat -c '%n %s %Y' {} + | sort)
}
# unchanged DESC: the tree is as in $TREE.before.
unchanged() {
	tree >"$TREE.after" 2>&1
	if cmp -s "$TREE.before" "$TREE.after"; then pass "$1: nothing written"; else
		fail "$1: nothing written"
		diag "$(diff "$TREE.before" "$TREE.after" | head -n 20)"
	fi
}
# escape DESC MESSAGE VERB REPO:PATH: put (or get/list/delete) refused with exit 2 and
# exactly MESSAGE, nothing written.
escape() {
	_d=$1 _m=$2 _v=$3 _t=$4
	case $_v in
	put) run ctl put file "$_t" -f "$T_DIR/small" ;;
	*) run ctl "$_v" file "$_t" ;;
	esac
	is "$_d: refused (exit 2) with a clear message" "$RC:$OUT:$ERR" "2::$_m"
	unchanged "$_d"
}
# wire_refused DESC MESSAGE FIELD...: a raw request, past idgatectl: status 2 and MESSAGE.
wire_refused() {
	_d=$1 _m=$2; shift 2
	run "$WP" -t 5000 "$SOCK" send --shut "$@"
	like "$_d (raw request): status 2 with a clear message" "$OUT" "^reply status=2 ms=[0-9]+ error=$_m"
	unchanged "$_d (raw request)"
}

t_setup "[data]" "max_put_size = $MAX"
TREE=$T_DIR/tree
ok "idgated starts" daemon_start
ok "the data root is not made before a repo needs it" test ! -e "$T_DIR/repos"

# ---------- directories as created ----------
run ctl create repo R
is "create repo R" "$RC" 0
run ctl create project proj
run ctl create repo proj/R2
is "create repo proj/R2" "$RC" 0
is "the data root: root's, 0755" "$(mode_of "$T_DIR/repos")" "root:root:755"
is "a project directory: root's, 0755" "$(mode_of "$T_DIR/repos/proj")" "root:root:755"
is "a repo directory: root's, 0750" "$(mode_of "$T_DIR/repos/default/R")" "root:root:750"
is "... in any project" "$(mode_of "$T_DIR/repos/proj/R2")" "root:root:750"
is "a new repo directory is empty" "$(ls -A "$T_DIR/repos/default/R")" ""
is "no half-made directories are left" "$(ls -A "$T_DIR/repos/default" "$T_DIR/repos/proj" | grep -c '^\.')" 0
RD=$T_DIR/repos/default/R

# ---------- put/get/list/delete ----------
head -c $MAX /dev/urandom >"$T_DIR/blob"
printf 'small\n' >"$T_DIR/small"
run ctl put file R:/data.bin -f "$T_DIR/blob"
is "put file (binary, $MAX bytes: the limit)" "$RC:$OUT:$ERR" "0::"
ctl get file R:/data.bin >"$T_DIR/got"
ok "get file to stdout gives back the same bytes" cmp -s "$T_DIR/blob" "$T_DIR/got"
rm -f "$T_DIR/got"
run ctl get file R:/data.bin -f "$T_DIR/got"
ok "get file -f LOCAL-FILE gives back the same bytes" cmp -s "$T_DIR/blob" "$T_DIR/got"
ok "the repo file is the same bytes" cmp -s "$T_DIR/blob" "$RD/data.bin"
FMODE=$(mode_of "$RD/data.bin")
like "a file put in a repo is root's, with no access for others" "$FMODE" "^root:root:6[04]0$"
[ "$FMODE" = root:root:640 ] || diag "file mode is $FMODE, though api_file_put asks for 0640"
run sh -c "printf 'from stdin\n' | \"$IDGATECTL\" --socket \"$SOCK\" put file R:/in/stdin.txt"
is "put file from standard input, into a new directory" "$RC" 0
run ctl get file R:/in/stdin.txt
is "... reads back" "$OUT" "from stdin"
is "a directory made by put: root's, 0750" "$(mode_of "$RD/in")" "root:root:750"
printf 'v1\n' | ctl put file R:/a/b/c/deep.txt && printf 'v2\n' | ctl put file R:/a/b/c/deep.txt
run ctl get file R:a/b/c/deep.txt
is "a second put replaces the file (leading '/' optional)" "$OUT" "v2"
run ctl list file R
is "list file: the top directory" "$(printf '%s\n' "$OUT" | awk '{print $1, $2, $3}' | sort)" \
"NAME TYPE SIZE
a dir 4096
data.bin file $MAX
in dir 4096"
run ctl list file R:/a/b/c
like "list file REPO:DIR" "$OUT" "^deep.txt +file +3 +[0-9T:-]+Z$"
run ctl -o json list file R:/in
like "list file -o json" "$(printf '%s' "$OUT" | tr -d ' \t\n')" \
	'"entries":\[\{"name":"stdin.txt","type":"file","size":11,'
run ctl delete file R:/a/b/c/deep.txt
is "delete file" "$RC:$ERR" "0:"
ok "... the file is gone" test ! -e "$RD/a/b/c/deep.txt"
run ctl get file R:/a/b/c/deep.txt
is "get of a deleted file" "$RC:$OUT:$ERR" "2::a/b/c/deep.txt: no such file in repo default/R"
run ctl delete file R:/a/b/c/deep.txt
is "delete of a missing file" "$RC:$ERR" "2:cannot delete a/b/c/deep.txt from repo default/R: no such file"
run ctl delete file R:/a/b
is "delete of a directory that is not empty" "$RC:$ERR" "2:cannot delete a/b from repo default/R: directory not empty"
run ctl delete file R:/a/b/c
is "delete of an empty directory" "$RC" 0
run ctl get file R:/in
is "get of a directory" "$RC:$ERR" "2:in: no such file in repo default/R"
run ctl put file R:/data.bin/x -f "$T_DIR/small"
is "put below a file" "$RC:$ERR" "2:cannot make the directories of data.bin/x: a file stands in the way"
run ctl put file R:/in -f "$T_DIR/small"
is "put over a directory" "$RC:$ERR" "2:cannot put in: a directory of that name exists"
run ctl put file nope:/x -f "$T_DIR/small"
is "put into a repo that does not exist" "$RC:$ERR" "2:repo default/nope not found"
like "the audit log records the put with its size" "$(cat "$T_DIR/log/audit.log")" \
	"\"action\":\"file.put\",\"target\":\"REPO default/R\",\"result\":\"ok\",\"reason\":\"\",\"detail\":\"data.bin \\($MAX bytes\\)\""

# The broker is the only way in: the repo directory is closed to other uids, and a put reads
# the local file with the caller's rights, not root's.
printf 'topsecret\n' >"$T_DIR/secret" && chmod 0600 "$T_DIR/secret"
if command -v setpriv >/dev/null 2>&1; then
	run as_uid $U1 cat "$RD/data.bin"
	ok "another local uid cannot read the repo directory itself" test "$RC" -ne 0
	ROBOT=$(ctl auth get-robot-token writer -q) && ctl auth set repo R repoWriter robot:writer
	run as_uid $U1 "$IDGATECTL" --socket "$SOCK" --token "$ROBOT" put file R:/stolen -f "$T_DIR/secret"
	is "a put cannot copy in a file the caller cannot read (exit 2)" "$RC:$ERR" \
		"2:idgatectl: $T_DIR/secret: Permission denied"
	ok "... nothing was written" test ! -e "$RD/stolen"
	run as_uid $U1 "$IDGATECTL" --socket "$SOCK" --token "$ROBOT" put file R:/robot.txt -f "$T_DIR/small"
	is "a robot with repoWriter puts a file it can read" "$RC" 0
else
	pass "# SKIP setpriv is not installed"
fi
run as $ALICE put file R:/alice.txt -f "$T_DIR/small"
is "a user without a role cannot put (exit 1)" "$RC:$ERR" "1:$(denial $ALICE REPO_WRITE 'REPO default/R')"
run as $ALICE get file R:/data.bin
is "... nor get" "$RC:$OUT:$ERR" "1::$(denial $ALICE REPO_READ 'REPO default/R')"
run as $ALICE list file R
is "... nor list" "$RC:$ERR" "1:$(denial $ALICE REPO_LIST_FILE 'REPO default/R')"

# ---------- paths that try to leave the repo ----------
tree >"$TREE.before" 2>&1
EMPTYC="has an empty, '.' or '..' component"
escape "put ../$ESC" "path \"../$ESC\" $EMPTYC" put "R:../$ESC"
escape "put /a/../../$ESC" "path \"a/../../$ESC\" $EMPTYC" put "R:/a/../../$ESC"
escape "put ../../../$ESC (to \$T_DIR)" "path \"../../../$ESC\" $EMPTYC" put "R:../../../$ESC"
escape "put in/../$ESC (inside, still refused)" "path \"in/../$ESC\" $EMPTYC" put "R:in/../$ESC"
escape "put ./$ESC" "path \"./$ESC\" $EMPTYC" put "R:./$ESC"
escape "put a//$ESC" "path \"a//$ESC\" $EMPTYC" put "R:a//$ESC"
escape "put .." "path \"..\" $EMPTYC" put "R:.."
escape "put /.." "path \"..\" $EMPTYC" put "R:/.."
escape "put ../R2/$ESC (a sibling repo)" "path \"../R2/$ESC\" $EMPTYC" put "R:../R2/$ESC"
escape "put an empty path" "name a file inside the repo: REPO:PATH" put "R:"
escape "put /" "name a file inside the repo: REPO:PATH" put "R:/"
escape "put a path ending in /" "path \"in/\" ends with '/'" put "R:in/"
escape "put with a tab" "path \"a\\x09b\" contains control characters or invalid UTF-8" put "R:a${TAB}b"
escape "put with a newline" "path \"a\\x0ab\" contains control characters or invalid UTF-8" put "R:a${NL}b"
escape "put with \\x01" "path \"a\\x01b\" contains control characters or invalid UTF-8" put "R:$(printf 'a\001b')"
escape "put with DEL" "path \"a\\x7fb\" contains control characters or invalid UTF-8" put "R:$(printf 'a\177b')"
escape "put with invalid UTF-8" "path \"a\\xffb\" contains control characters or invalid UTF-8" put "R:$(printf 'a\377b')"
escape "put under the reserved .idgate prefix" "names starting with .idgate are reserved" put "R:.idgate-put-x"
escape "put under .idgate in a subdirectory" "names starting with .idgate are reserved" put "R:in/.idgate-new.x"
escape "put a 1025-byte path" "path is longer than 1024 bytes" put "R:$(head -c 1025 /dev/zero | tr '\0' a)"
C256=$(head -c 256 /dev/zero | tr '\0' c)
escape "put a 256-byte component" \
	"a component of path \"$(printf '%.48s' "$C256")...\" is longer than 255 bytes" put "R:$C256"
escape "put a path 33 deep" "path is nested deeper than 32" put "R:$(for i in $(seq 1 33); do printf 'd/'; done)f"
run ctl put file "R:$(head -c 10240 /dev/zero | tr '\0' a)" -f "$T_DIR/small"
like "put a 10 KB path: refused (exit 2), the message says it is too long" "$RC:$ERR" "^2:path .*(long|longer)"
unchanged "put a 10 KB path"
escape "get ../../../secret" "path \"../../../secret\" $EMPTYC" get "R:../../../secret"
escape "get ../../../../../../../../etc/passwd" "path \"../../../../../../../../etc/passwd\" $EMPTYC" \
	get "R:../../../../../../../../etc/passwd"
escape "list .." "path \"..\" $EMPTYC" list "R:.."
escape "list ../.." "path \"../..\" $EMPTYC" list "R:../.."
escape "delete ../R2" "path \"../R2\" $EMPTYC" delete "R:../R2"
escape "delete ../../proj" "path \"../../proj\" $EMPTYC" delete "R:../../proj"
escape "delete /" "name a file inside the repo: REPO:PATH" delete "R:/"
run ctl get file R:/etc/passwd
is "get /etc/passwd reads R's etc/passwd (there is none), not the system's" "$RC:$OUT" "2:"
# Absolute paths are repo paths: //etc/ESC lands in R/etc/ESC and nowhere else.
run ctl put file "R://etc/$ESC" -f "$T_DIR/small"
is "put //etc/$ESC: leading slashes are dropped" "$RC" 0
ok "... the file is R/etc/$ESC" test -f "$RD/etc/$ESC"
ok "... not /etc/$ESC" test ! -e "/etc/$ESC"
ctl delete file "R:etc/$ESC" && ctl delete file R:etc
tree >"$TREE.before" 2>&1	# that put and delete changed R's mtime
# Straight to idgated, past idgatectl.
if [ -x "$WP" ]; then
	wire_refused "put ../$ESC" "path \"\\.\\./$ESC\" has an empty" \
		--fd "$T_DIR/small" op:70 str:5:R "str:15:../$ESC"
	wire_refused "put a/../../../$ESC" "path \"a/\\.\\./\\.\\./\\.\\./$ESC\" has an empty" \
		--fd "$T_DIR/small" op:70 str:5:R "str:15:a/../../../$ESC"
	wire_refused "put with a newline" "path \"a\\\\x0ab\" contains control characters" \
		--fd "$T_DIR/small" op:70 str:5:R "str:15:a${NL}b"
	wire_refused "get ../../../secret" "path \"\\.\\./\\.\\./\\.\\./secret\" has an empty" \
		op:72 str:5:R "str:15:../../../secret"
	wire_refused "list .." "path \"\\.\\.\" has an empty" op:73 str:5:R str:15:..
	wire_refused "delete ../R2" "path \"\\.\\./R2\" has an empty" op:74 str:5:R str:15:../R2
	wire_refused "put without a file" "no file was passed with the request" op:70 str:5:R str:15:x
	wire_refused "put with a directory passed as the file" "the passed file is not a readable regular file" \
		--fd "$T_DIR" op:70 str:5:R str:15:x
	# 'a' NUL '/../x': a NUL inside the path is a malformed request.
	wire_refused "put with a NUL inside the path" "malformed request" \
		--fd "$T_DIR/small" op:70 str:5:R hex:15:61002f2e2e2f7800
else
	fail "wireprobe is not built"
fi
for D in "$RD" "$T_DIR/repos/default" "$T_DIR/repos" "$T_DIR" /tmp / /etc; do
	ok "no $ESC in $D" test ! -e "$D/$ESC"
done

# ---------- symlinks planted in the repo directory are never followed ----------
mkdir "$T_DIR/outdir" && printf 'outside\n' >"$T_DIR/outdir/o.txt"
ln -s "$T_DIR/secret" "$RD/link"
ln -s /etc/passwd "$RD/passwd"
ln -s ../../../secret "$RD/rel"
ln -s "$T_DIR/outdir" "$RD/dlink"
ln -s "$T_DIR/secret" "$RD/dellink"
for L in link passwd rel; do
	run ctl get file "R:$L"
	is "get $L (a symlink out of the repo): refused, nothing read" "$RC:$OUT:$ERR" \
		"2::$L: no such file in repo default/R"
done
run ctl get file R:dlink/o.txt
is "get through a symlinked directory: refused, nothing read" "$RC:$OUT:$ERR" \
	"2::dlink/o.txt: no such file in repo default/R"
run ctl list file R:dlink
is "list through a symlinked directory: refused" "$RC:$OUT:$ERR" \
	"2::dlink: no such directory in repo default/R"
run ctl list file R
like "list file shows a symlink as 'other', not as what it points to" "$OUT" "^link +other "
run ctl put file R:dlink/new.txt -f "$T_DIR/small"
is "put through a symlinked directory: refused" "$RC:$ERR" \
	"2:cannot make the directories of dlink/new.txt: a file stands in the way"
is "... nothing was written outside" "$(ls "$T_DIR/outdir")" "o.txt"
run ctl put file R:link -f "$T_DIR/small"
is "put onto a symlink's name succeeds" "$RC" 0
is "... the symlink's target is untouched" "$(cat "$T_DIR/secret")" "topsecret"
ok "... the symlink itself was replaced by a regular file" test -f "$RD/link" -a ! -L "$RD/link"
run ctl delete file R:dellink
is "delete of a symlink removes the symlink" "$RC" 0
ok "... not its target" test -f "$T_DIR/secret" -a ! -L "$RD/dellink"
# The repo directory itself replaced by a symlink: not followed either.
mv "$T_DIR/repos/proj/R2" "$T_DIR/R2.real" && ln -s "$T_DIR/outdir" "$T_DIR/repos/proj/R2"
run ctl put file proj/R2:/x.txt -f "$T_DIR/small"
is "a repo directory that is a symlink is not followed (exit 3: the daemon's data is wrong)" \
	"$RC:$ERR" "3:the data directory of repo proj/R2 is missing"
run ctl get file proj/R2:/o.txt
is "... for get too" "$RC:$OUT" "3:"
is "... nothing was written outside" "$(ls "$T_DIR/outdir")" "o.txt"
rm "$T_DIR/repos/proj/R2" && mv "$T_DIR/R2.real" "$T_DIR/repos/proj/R2"
run ctl put file proj/R2:/x.txt -f "$T_DIR/small"
is "with the real directory back, put works" "$RC" 0
rm -f "$RD/passwd" "$RD/rel" "$RD/dlink"

# ---------- max_put_size ----------
head -c $((MAX + 1)) /dev/urandom >"$T_DIR/over"
BIGMSG="the file is $((MAX + 1)) bytes: this node accepts at most $MAX (max_put_size)"
tree >"$TREE.before" 2>&1
run ctl put file R:/over.bin -f "$T_DIR/over"
is "a file one byte over max_put_size is refused (exit 2)" "$RC:$OUT:$ERR" "2::$BIGMSG"
unchanged "the refused put"
run sh -c "\"$IDGATECTL\" --socket \"$SOCK\" put file R:/over.bin <\"$T_DIR/over\""
is "... from standard input too" "$RC:$ERR" "2:$BIGMSG"
run sh -c "cat \"$T_DIR/over\" | \"$IDGATECTL\" --socket \"$SOCK\" put file R:/over.bin -f -"
is "... from a pipe too" "$RC:$ERR" "2:$BIGMSG"
run ctl put file R:/newdir/sub/over.bin -f "$T_DIR/over"
is "... into a new directory" "$RC:$ERR" "2:$BIGMSG"
unchanged "the refused puts (no file, no directory made)"
run ctl put file R:/data.bin -f "$T_DIR/over"
is "a too-big put over an existing file is refused" "$RC:$ERR" "2:$BIGMSG"
ok "... and the old content stays" cmp -s "$T_DIR/blob" "$RD/data.bin"
is "no temporary files anywhere in the repo" "$(find "$RD" -name '.idgate*' | wc -l)" 0
is "no temporary files anywhere in the data root" "$(find "$T_DIR/repos" -name '.idgate*' | wc -l)" 0

# ---------- deleting a repo moves its data aside ----------
ls -A "$RD" | sort >"$T_DIR/R.files"
T0=$(date -u +%Y%m%d%H%M%S)
run ctl delete repo R
is "delete repo R" "$RC:$ERR" "0:"
ok "the repo directory is gone from default/" test ! -e "$RD"
run ls -A "$T_DIR/repos/.deleted"
like "... and is in .deleted/ as default.R.TIME.RANDOM" "$OUT" "^default\.R\.[0-9]{8}T[0-9]{6}Z\.[0-9a-f]{6}$"
GONE=$T_DIR/repos/.deleted/$OUT
T1=$(date -u +%Y%m%d%H%M%S)
STAMP=$(printf '%s\n' "$OUT" | sed 's/^default\.R\.\([0-9]*\)T\([0-9]*\)Z\..*/\1\2/')
ok "... stamped with the time of the deletion, in UTC ($T0 <= ${STAMP:-?} <= $T1)" \
	test "${STAMP:-0}" -ge "$T0" -a "${STAMP:-0}" -le "$T1"
is "... with every file it had" "$(ls -A "$GONE" | sort)" "$(cat "$T_DIR/R.files")"
ok "... contents intact" cmp -s "$T_DIR/blob" "$GONE/data.bin"
is ".deleted is root's, 0700" "$(mode_of "$T_DIR/repos/.deleted")" "root:root:700"
run ctl create repo R
is "a new repo R" "$RC" 0
is "... starts empty: it does not adopt the old data" "$(ls -A "$RD")" ""
printf 'new\n' | ctl put file R:/data.bin
run ctl delete repo R
is "deleting R again" "$RC" 0
is ".deleted keeps both, under different names" "$(ls -A "$T_DIR/repos/.deleted" | grep -c '^default\.R\.')" 2
run ctl delete repo proj/R2
is "delete repo proj/R2" "$RC" 0
like "... is moved to .deleted/proj.R2.TIME.RANDOM" "$(ls -A "$T_DIR/repos/.deleted")" \
	"^proj\.R2\.[0-9]{8}T[0-9]{6}Z\.[0-9a-f]{6}$"
ok "... with its file" test -f "$T_DIR/repos/.deleted/$(ls -A "$T_DIR/repos/.deleted" | grep '^proj\.R2\.')/x.txt"
run ctl get file R:/data.bin
is "files of a deleted repo cannot be read" "$RC:$ERR" "2:repo default/R not found"

ok "idgated stops cleanly on SIGTERM" daemon_stop
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log")" "Sanitizer|runtime error:"
done_testing
