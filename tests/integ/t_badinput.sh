#!/bin/sh
# Bad input gets a clear error and changes nothing: unknown roles, permissions, subject
# prefixes and resources; names with ':', '/', a space, control characters, non-ASCII bytes,
# empty or 10 KB long; through idgatectl, and straight to idgated with wireprobe (so the
# daemon itself is seen to refuse them). After every refusal the state is compared with a
# snapshot: bindings, projects, repos, pipelines, groups, roles, the SQLite content and the
# data root.
. "$top_srcdir/tests/integ/lib.sh"

WP=$top_builddir/tests/integ/wireprobe
ALICE=user:alice@example.com
BIG=$(head -c 10240 /dev/zero | tr '\0' a)
TAB=$(printf '\t')
NL=$(printf '\nx') && NL=${NL%x}
SOH=$(printf '\001')
DEL=$(printf '\177')
HAVE_SQLITE=no
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=yes

# The whole state as users and the disk see it.
snapshot() {
	ctl auth get cluster
	ctl auth get project proj
	ctl auth get repo proj/R
	ctl list project
	ctl list repo
	ctl list pipeline
	ctl group list
	ctl group describe team
	ctl rbac list-roles
	ctl rbac list-users-roles "$ALICE"
	if [ "$HAVE_SQLITE" = yes ]; then
		sqlite3 -readonly "$T_DIR/state/state.db" .dump
	fi
	(cd "$T_DIR/repos" && find . | sort)
}

# unchanged DESC: the state is as in $T_DIR/before.
unchanged() {
	snapshot >"$T_DIR/after" 2>&1
	if cmp -s "$T_DIR/before" "$T_DIR/after"; then pass "$1: nothing changed"; else
		fail "$1: nothing changed"
		diag "$(diff "$T_DIR/before" "$T_DIR/after" | head -n 20)"
	fi
}

# refused DESC MESSAGE COMMAND...: exit 2, exactly MESSAGE on stderr, nothing on stdout,
# nothing changed.
refused() {
	_d=$1 _m=$2; shift 2
	run "$@"
	is "$_d: exit 2 with a clear message" "$RC:$OUT:$ERR" "2::$_m"
	unchanged "$_d"
}

# refused_like DESC PATTERN COMMAND...: as refused, the message matching PATTERN.
refused_like() {
	_d=$1 _m=$2; shift 2
	run "$@"
	like "$_d: exit 2 with a clear message" "$RC:$OUT:$ERR" "^2::$_m"
	unchanged "$_d"
}

# wire DESC MESSAGE FIELD...: one raw request to idgated, bypassing idgatectl's checks:
# status 2 with exactly MESSAGE, nothing changed. (--shut: wireprobe half-closes after the
# request, so it need not wait to see whether the daemon keeps the connection open.)
wire() {
	_d=$1 _m=$2; shift 2
	run "$WP" -t 5000 "$SOCK" send --shut "$@"
	is "$_d (raw request): status 2 with a clear message" \
		"$(printf '%s\n' "$OUT" | sed -n 's/^reply status=\([0-9]*\) ms=[0-9]* error=/\1:/p')" "2:$_m"
	unchanged "$_d (raw request)"
}

t_setup
ok "idgated starts" daemon_start
[ -x "$WP" ] || { diag "wireprobe missing: make check builds it"; }

# Some state for the refusals to leave alone.
ctl create project proj >/dev/null &&
	ctl create repo proj/R >/dev/null &&
	ctl auth set repo proj/R repoReader "$ALICE" &&
	ctl group create team bob@example.com >/dev/null &&
	ctl rbac create-role auditor -p REPO_READ,REPO_LIST_FILE -b repo >/dev/null &&
	printf 'x\n' | ctl put file proj/R:/data.txt
ok "the state to compare is set up" test $? -eq 0
snapshot >"$T_DIR/before" 2>&1
like "the snapshot holds the bindings" "$(cat "$T_DIR/before")" "^$ALICE: \[repoReader\]$"
if [ "$HAVE_SQLITE" = yes ]; then
	like "the snapshot holds the committed SQLite content" "$(cat "$T_DIR/before")" \
		"INSERT INTO bindings VALUES\(2,'proj/R','$ALICE','repoReader'\)"
else
	pass "# SKIP sqlite3 is not installed: the SQLite file is not compared"
fi

# ---------- unknown roles, permissions, subject prefixes, resource types ----------
refused "auth set with an unknown role" 'unknown role "noSuchRole"' \
	ctl auth set repo proj/R noSuchRole user:carol@example.com
refused "auth set with a known and an unknown role" 'unknown role "noSuchRole"' \
	ctl auth set repo proj/R repoWriter,noSuchRole "$ALICE"
refused "auth set with none and a role" "'none' cannot be combined with other roles" \
	ctl auth set repo proj/R repoWriter,none "$ALICE"
refused "auth set with an empty role list" "no role given: name one or more roles, or 'none'" \
	ctl auth set repo proj/R "" "$ALICE"
refused_like "auth set with a 10 KB role name" "malformed role list|role .*10240 bytes" \
	ctl auth set repo proj/R "$BIG" "$ALICE"
refused "auth set with a custom role on a type it is not for" \
	'role "auditor" cannot be bound on a cluster' ctl auth set cluster auditor "$ALICE"
refused "rbac assign-role of an unknown role" 'unknown role "noSuchRole"' \
	ctl rbac assign-role noSuchRole -u alice@example.com
refused "rbac assign-role of a custom role where it cannot be bound" \
	'role "auditor" cannot be bound on a project' ctl rbac assign-role auditor -u alice -w proj
refused "rbac describe-role of an unknown role" 'unknown role "noSuchRole"' \
	ctl rbac describe-role noSuchRole
refused "rbac delete-role of an unknown role" 'unknown role "noSuchRole"' \
	ctl rbac delete-role noSuchRole
refused "rbac delete-role of a built-in role" 'role "repoReader" is built in and cannot be deleted' \
	ctl rbac delete-role repoReader
refused "roles-for-permission with an unknown permission" 'unknown permission "REPO_FLY"' \
	ctl auth roles-for-permission REPO_FLY
refused "auth check with an unknown permission" 'unknown permission "REPO_FLY"' \
	ctl auth check repo proj/R "$ALICE" --permission REPO_FLY
refused "auth check with an empty permission" 'unknown permission ""' \
	ctl auth check repo proj/R "$ALICE" --permission ""
refused "rbac create-role with an unknown permission" 'unknown permission "REPO_FLY"' \
	ctl rbac create-role flyer -p REPO_READ,REPO_FLY
refused "rbac create-role with PERMISSION_UNKNOWN" 'PERMISSION_UNKNOWN cannot be granted' \
	ctl rbac create-role flyer -p PERMISSION_UNKNOWN
refused "rbac create-role bindable on an unknown type" \
	'unknown resource type "widget": expected cluster, project or repo' \
	ctl rbac create-role flyer -p REPO_READ -b widget
refused "rbac create-role named like a built-in role" 'role "repoReader" already exists' \
	ctl rbac create-role repoReader -p REPO_READ
refused "rbac create-role named none" 'role name "none" is reserved: it means no role' \
	ctl rbac create-role none -p REPO_READ
for S in usr:x team:x 'user :x' USER:x; do
	refused "auth set for subject '$S' (unknown prefix)" \
		"subject has unrecognized prefix: ${S%%:*}:" ctl auth set repo proj/R repoReader "$S"
done
refused "auth set for a subject without prefix" \
	"subject has no prefix, must be of the form <type>:<name>" \
	ctl auth set repo proj/R repoReader alice@example.com
refused "auth set for an empty subject" \
	"subject has no prefix, must be of the form <type>:<name>" ctl auth set repo proj/R repoReader ""
refused "auth set for a pipeline by hand" \
	"pipeline principals are not granted by hand: their roles follow their inputs and output (idgatectl create pipeline)" \
	ctl auth set repo proj/R repoReader pipeline:proj/p
refused "auth set on root's cluster binding" \
	"the root principal's clusterAdmin binding cannot be changed" ctl auth set cluster repoReader root
refused "rbac assign-role to subject usr:x" "subject has unrecognized prefix: usr:" \
	ctl rbac assign-role repoReader -u usr:x
refused "rbac list-users-roles of team:x" "subject has unrecognized prefix: team:" \
	ctl rbac list-users-roles team:x
refused "auth revoke --user usr:x" "subject has unrecognized prefix: usr:" \
	ctl auth revoke --user usr:x
refused "group create with member team:x" "subject has unrecognized prefix: team:" \
	ctl group create g2 team:x
refused "group create with a group as a member" \
	"only users and robots can be group members, not group:team" ctl group create g2 group:team
refused_like "auth get on an unknown resource type (idgatectl)" \
	"idgatectl: unknown resource type 'widget'" ctl auth get widget x

# ---------- resources that do not exist ----------
refused "auth set on a repo that does not exist" "repo proj/nope not found" \
	ctl auth set repo proj/nope repoReader "$ALICE"
refused "auth set on a bare repo name that does not exist (project default)" \
	"repo default/nope not found" ctl auth set repo nope repoReader "$ALICE"
refused "auth get on a repo that does not exist" "repo proj/nope not found" \
	ctl auth get repo proj/nope
refused "auth check on a repo that does not exist" "repo proj/nope not found" \
	ctl auth check repo proj/nope "$ALICE"
refused "auth set on a project that does not exist" "project nope not found" \
	ctl auth set project nope repoReader "$ALICE"
refused "create repo in a project that does not exist" "project nope not found" \
	ctl create repo nope/R
refused "rbac assign-role on a repo that does not exist" "repo default/nope not found" \
	ctl rbac assign-role repoReader -u alice --repo nope
refused "rbac assign-role on a workspace that does not exist" "project nope not found" \
	ctl rbac assign-role repoReader -u alice -w nope
refused "delete repo that does not exist" "repo proj/nope not found" ctl delete repo proj/nope
refused "delete project that does not exist" "project nope not found" ctl delete project nope
refused "group delete of a group that does not exist" "group nope not found" ctl group delete nope
refused "put file into a repo that does not exist" "repo proj/nope not found" \
	ctl put file proj/nope:/x -f "$T_DIR/idgate.conf"
refused "create project that exists" "project proj already exists" ctl create project proj
refused "create repo that exists" "repo proj/R already exists" ctl create repo proj/R
refused "group create of a group that exists" "group team already exists" ctl group create team
refused "create repo with a branch (repo@branch)" \
	'"R@master": idgate repos have no branches; name a repo as REPO or PROJECT/REPO' \
	ctl create repo R@master
refused "create repo with two '/'" \
	"repo \"proj/a/b\" has more than one '/': name a repo as REPO or PROJECT/REPO" \
	ctl create repo proj/a/b

# ---------- names with ':', '/', a space, control characters ----------
for C in colon slash space tab newline soh del; do
	case $C in
	colon) CH=':' Q=':' WHAT="':'" ;;
	slash) CH='/' Q='/' WHAT="'/'" ;;
	space) CH=' ' Q=' ' WHAT='a space' ;;
	tab) CH=$TAB Q='\x09' WHAT='a control character (0x09)' ;;
	newline) CH=$NL Q='\x0a' WHAT='a control character (0x0a)' ;;
	soh) CH=$SOH Q='\x01' WHAT='a control character (0x01)' ;;
	del) CH=$DEL Q='\x7f' WHAT='a control character (0x7f)' ;;
	esac
	N="a${CH}b" QN="a${Q}b"
	refused "create project with $C in its name" \
		"project name \"$QN\" contains $WHAT: allowed are letters, digits and _-" ctl create project "$N"
	if [ $C = slash ]; then
		refused "create repo with $C in its name" \
			"repo \"proj/$QN\" has more than one '/': name a repo as REPO or PROJECT/REPO" \
			ctl create repo "proj/$N"
	else
		refused "create repo with $C in its name" \
			"repo name \"$QN\" contains $WHAT: allowed are letters, digits and _-" ctl create repo "proj/$N"
		refused "create repo with $C in its project's name" \
			"project name \"$QN\" contains $WHAT: allowed are letters, digits and _-" ctl create repo "$N/R"
	fi
	refused "group create with $C in its name" \
		"group name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" ctl group create "$N"
	refused "group create with $C in a member's name" \
		"user name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" ctl group create g2 "user:$N"
	refused "rbac create-role with $C in its name" \
		"role name \"$QN\" contains $WHAT: allowed are letters, digits and _-" \
		ctl rbac create-role "$N" -p REPO_READ
	refused "auth set for user:NAME with $C" \
		"user name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
		ctl auth set repo proj/R repoReader "user:$N"
	refused "auth set for group:NAME with $C" \
		"group name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
		ctl auth set repo proj/R repoReader "group:$N"
	refused "auth set on a project with $C in its name" \
		"project name \"$QN\" contains $WHAT: allowed are letters, digits and _-" \
		ctl auth set project "$N" repoReader "$ALICE"
	refused "get-robot-token for a robot with $C in its name" \
		"robot name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
		ctl auth get-robot-token "$N"
	if [ $C = colon ]; then
		refused "rbac assign-role to a user with $C in the name" \
			"subject has unrecognized prefix: a:" ctl rbac assign-role repoReader -u "$N"
	else
		refused "rbac assign-role to a user with $C in the name" \
			"user name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
			ctl rbac assign-role repoReader -u "$N"
		refused "rbac assign-role to a group with $C in the name" \
			"group name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
			ctl rbac assign-role repoReader -g "$N"
	fi
done
# Non-ASCII bytes (UTF-8 é) and names that must start with a letter or a digit.
refused "create project with a non-ASCII name" \
	'project name "\xc3\xa9" contains a non-ASCII byte (0xc3): allowed are letters, digits and _-' \
	ctl create project "$(printf '\303\251')"
refused "auth set for a user with a non-ASCII name" \
	'user name "\xc3\xa9" contains a non-ASCII byte (0xc3): allowed are letters, digits and ._@+-' \
	ctl auth set repo proj/R repoReader "$(printf 'user:\303\251')"
refused "auth set for a user whose name starts with '-'" \
	'user name "-x" must start with a letter or a digit' ctl auth set repo proj/R repoReader user:-x
refused "create repo whose name starts with '_'" \
	'repo name "_x" must start with a letter or a digit' ctl create repo proj/_x

# ---------- empty names ----------
refused "create project with an empty name" "project name is empty" ctl create project ""
refused "create repo with an empty name" "repo name is empty" ctl create repo ""
refused "create repo with an empty name in a project" "repo name is empty" ctl create repo proj/
refused "create repo with an empty project" "project name is empty" ctl create repo /R
refused "group create with an empty name" "group name is empty" ctl group create ""
refused "rbac create-role with an empty name" "role name is empty" ctl rbac create-role "" -p REPO_READ
refused "auth set for user: (empty name)" "user name is empty" ctl auth set repo proj/R repoReader user:
refused "auth set for robot: (empty name)" "robot name is empty" ctl auth set repo proj/R repoReader robot:
refused "rbac assign-role to an empty user" "user name is empty" ctl rbac assign-role repoReader -u ""
refused "rbac assign-role to an empty group" "group name is empty" ctl rbac assign-role repoReader -g ""
refused "get-robot-token for an empty name" "robot name is empty" ctl auth get-robot-token ""

# ---------- names one byte too long, and 10 KB long ----------
P52=$(head -c 52 /dev/zero | tr '\0' p)
P48=$(head -c 48 /dev/zero | tr '\0' p)
refused "create project with a 52-byte name" \
	"project name \"$P48...\" is 52 bytes long: at most 51 are allowed" ctl create project "$P52"
refused "create repo with a 64-byte name" \
	"repo name \"$P48...\" is 64 bytes long: at most 63 are allowed" \
	ctl create repo "proj/$(head -c 64 /dev/zero | tr '\0' p)"
refused "rbac create-role with a 65-byte name" \
	"role name \"$P48...\" is 65 bytes long: at most 64 are allowed" \
	ctl rbac create-role "$(head -c 65 /dev/zero | tr '\0' p)" -p REPO_READ
U48=$(head -c 48 /dev/zero | tr '\0' u)
refused "auth set for a user with a 256-byte name" \
	"user name \"$U48...\" is 256 bytes long: at most 255 are allowed" \
	ctl auth set repo proj/R repoReader "user:$(head -c 256 /dev/zero | tr '\0' u)"
# A 10 KB name: refused, and the message says how long it really is.
refused_like "create project with a 10 KB name" "project name \"a+\.\.\.\" is 10240 bytes long: at most 51 are allowed" \
	ctl create project "$BIG"
refused_like "create repo with a 10 KB name" "repo name \"a+\.\.\.\" is 10240 bytes long: at most 63 are allowed" \
	ctl create repo "proj/$BIG"
refused_like "group create with a 10 KB name" "group name \"a+\.\.\.\" is 10240 bytes long: at most 255 are allowed" \
	ctl group create "$BIG"
refused_like "rbac create-role with a 10 KB name" "role name is 10240 bytes long" \
	ctl rbac create-role "$BIG" -p REPO_READ
refused_like "auth set for a 10 KB user" "subject is 10245 bytes long" \
	ctl auth set repo proj/R repoReader "user:$BIG"
refused_like "auth set on a project with a 10 KB name" "project name \"a+\.\.\.\" is 10240 bytes long: at most 51 are allowed" \
	ctl auth set project "$BIG" repoReader "$ALICE"
refused_like "group create with a 10 KB member" ".*member" ctl group create g2 "$BIG"
refused_like "get-robot-token for a 10 KB robot" "robot name is 10240 bytes long" \
	ctl auth get-robot-token "$BIG"
# idgatectl builds "user:NAME" for -u: the length it reports must be the name's own.
refused_like "rbac assign-role to a 10 KB user" ".*is 10245 bytes long" \
	ctl rbac assign-role repoReader -u "$BIG"
refused_like "rbac assign-role to a 10 KB group" ".*is 10246 bytes long" \
	ctl rbac assign-role repoReader -g "$BIG"

# ---------- straight to idgated: the daemon refuses on its own ----------
# ops: 10 set, 11 get, 14 roles-for-permission, 16 robot token, 18 assign-role, 32 create-role,
# 40 create project, 43 create repo, 60 group create. Tags: 4 resource type, 5 resource name,
# 6 subject, 7 role, 8 permission, 9 name, 11 member, 19 bindable types.
for C in colon tab newline soh del ff; do
	case $C in
	colon) CH=':' Q=':' WHAT="':'" ;;
	tab) CH=$TAB Q='\x09' WHAT='a control character (0x09)' ;;
	newline) CH=$NL Q='\x0a' WHAT='a control character (0x0a)' ;;
	soh) CH=$SOH Q='\x01' WHAT='a control character (0x01)' ;;
	del) CH=$DEL Q='\x7f' WHAT='a control character (0x7f)' ;;
	ff) CH=$(printf '\377') Q='\xff' WHAT='a non-ASCII byte (0xff)' ;;
	esac
	N="a${CH}b" QN="a${Q}b"
	wire "create project with $C" \
		"project name \"$QN\" contains $WHAT: allowed are letters, digits and _-" op:40 "str:9:$N"
	wire "create repo with $C" \
		"repo name \"$QN\" contains $WHAT: allowed are letters, digits and _-" op:43 "str:9:proj/$N"
	wire "group create with $C" \
		"group name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" op:60 "str:9:$N"
	wire "group create with $C in a member" \
		"user name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
		op:60 str:9:g2 "str:11:user:$N"
	wire "rbac create-role with $C" \
		"role name \"$QN\" contains $WHAT: allowed are letters, digits and _-" \
		op:32 "str:9:$N" str:8:REPO_READ
	wire "auth set for a user with $C" \
		"user name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
		op:10 str:4:repo str:5:proj/R str:7:repoReader "str:6:user:$N"
	wire "rbac assign-role for a group with $C" \
		"group name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" \
		op:18 str:4:repo str:5:proj/R str:7:repoReader "str:6:group:$N"
	wire "robot token for a name with $C" \
		"robot name \"$QN\" contains $WHAT: allowed are letters, digits and ._@+-" op:16 "str:9:$N"
done
wire "create project with '/'" \
	"project name \"a/b\" contains '/': allowed are letters, digits and _-" op:40 "str:9:a/b"
wire "create project with an empty name" "project name is empty" op:40 str:9:
wire "create project without a name" "missing project name" op:40
run "$WP" -t 5000 "$SOCK" send --shut op:40 "str:9:$BIG"
like "create project with a 10 KB name (raw request): status 2 with a clear message" "$OUT" \
	"^reply status=2 .*error=project name \"a+\.\.\.\" is 10240 bytes long: at most 51"
unchanged "create project with a 10 KB name (raw request)"
# An input error is an answer, not a protocol error: the connection stays usable.
run "$WP" -t 1000 "$SOCK" send op:40 "str:9:a:b"
like "after an input error the daemon keeps the connection open" "$OUT" "^after: open$"
wire "create repo with an empty name" "repo name is empty" op:43 str:9:
wire "group create with an empty name" "group name is empty" op:60 str:9:
wire "rbac create-role with an empty name" "role name is empty" op:32 str:9: str:8:REPO_READ
wire "rbac create-role without permissions" "a role needs at least one permission" op:32 str:9:flyer
wire "rbac create-role with an unknown permission" 'unknown permission "REPO_FLY"' \
	op:32 str:9:flyer str:8:REPO_FLY
wire "rbac create-role for an unknown type" \
	'unknown resource type "widget": expected cluster, project or repo' \
	op:32 str:9:flyer str:8:REPO_READ str:19:widget
wire "auth set with an unknown role" 'unknown role "noSuchRole"' \
	op:10 str:4:repo str:5:proj/R str:7:noSuchRole "str:6:$ALICE"
wire "auth set without a role" "no role given: name one or more roles, or 'none'" \
	op:10 str:4:repo str:5:proj/R "str:6:$ALICE"
wire "auth set for usr:x" "subject has unrecognized prefix: usr:" \
	op:10 str:4:repo str:5:proj/R str:7:repoReader str:6:usr:x
wire "auth set for a subject without prefix" \
	"subject has no prefix, must be of the form <type>:<name>" \
	op:10 str:4:repo str:5:proj/R str:7:repoReader str:6:alice
wire "auth set on an unknown resource type" \
	'unknown resource type "widget": expected cluster, project or repo' \
	op:10 str:4:widget str:5:x str:7:repoReader "str:6:$ALICE"
wire "auth set on a repo that does not exist" "repo proj/nope not found" \
	op:10 str:4:repo str:5:proj/nope str:7:repoReader "str:6:$ALICE"
wire "auth set on a repo without its name" "missing repo name" \
	op:10 str:4:repo str:7:repoReader "str:6:$ALICE"
wire "auth set for a pipeline" \
	"pipeline principals are not granted by hand: their roles follow their inputs and output (idgatectl create pipeline)" \
	op:10 str:4:repo str:5:proj/R str:7:repoReader str:6:pipeline:proj/p
wire "rbac assign-role of an unknown role" 'unknown role "noSuchRole"' \
	op:18 str:4:cluster str:7:noSuchRole "str:6:$ALICE"
wire "rbac assign-role to team:x" "subject has unrecognized prefix: team:" \
	op:18 str:4:cluster str:7:repoReader str:6:team:x
wire "roles-for-permission with an unknown permission" 'unknown permission "REPO_FLY"' \
	op:14 str:8:REPO_FLY
# A string with a NUL inside is a malformed request: refused, and the connection closed.
run "$WP" -t 2000 "$SOCK" send op:40 hex:9:61006200
like "a project name with a NUL inside (raw): refused as malformed" "$OUT" \
	"^reply status=2 .*error=malformed request"
like "... and the connection is closed" "$OUT" "^after: closed$"
unchanged "a project name with a NUL inside (raw)"
run "$WP" -t 2000 "$SOCK" send op:10 str:4:repo str:5:proj/R str:7:repoReader hex:6:757365723a6100620000
like "a subject with a NUL inside (raw): refused as malformed" "$OUT" \
	"^reply status=2 .*error=malformed request"
unchanged "a subject with a NUL inside (raw)"

ok "idgated is still running" kill -0 "$T_PID"
run ctl auth get repo proj/R
is "and answers as before" "$OUT" "root: [repoOwner]
$ALICE: [repoReader]"
# Control: the snapshot does see a real change (so "nothing changed" above means something).
ctl auth set repo proj/R repoWriter user:carol@example.com
snapshot >"$T_DIR/after" 2>&1
ok "control: a real change shows in the snapshot" test -n "$(diff "$T_DIR/before" "$T_DIR/after")"
if [ "$HAVE_SQLITE" = yes ]; then
	like "control: ... in the SQLite content too" "$(sqlite3 -readonly "$T_DIR/state/state.db" .dump)" \
		"INSERT INTO bindings VALUES\(2,'proj/R','user:carol@example.com','repoWriter'\)"
fi
ok "idgated stops cleanly on SIGTERM" daemon_stop
unlike "no sanitizer report in the daemon's log" "$(cat "$T_DIR/daemon.log")" \
	"Sanitizer|runtime error:"
done_testing
