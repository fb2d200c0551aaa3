#!/bin/sh
# shellcheck disable=SC2016 # awk programs and python snippets are single-quoted on purpose
# Administration: auth deactivate/activate, custom roles, '-o json' against the text output,
# '--help' and 'help' for every command, unknown commands, and --as from a non-root uid.
. "$top_srcdir/tests/integ/lib.sh"

MAL=user:mallory@example.com
NOID_UID=12345
NOID_MSG="uid $NOID_UID has no idgate identity, so it holds no permissions: log in as an identity-provider user, or pass a robot token (--token or IDGATE_TOKEN)"
AS_MSG="only root may act as another subject (--as)"
BAD_TOKEN="the token is invalid, expired or revoked"

t_setup
ok "idgated starts" daemon_start
AUDIT=$T_DIR/log/audit.log
printf 'a,b\n1,2\n' >"$T_DIR/f"
chmod 0644 "$T_DIR/f"

c_noid() { as_uid $NOID_UID "$IDGATECTL" --socket "$SOCK" "$@"; }
c_tok() { _t=$1; shift; "$IDGATECTL" --socket "$SOCK" --token "$_t" "$@"; }
# lines TEXT: the number of non-empty lines
lines() { printf '%s\n' "$1" | grep -c .; }

DEF_CLUSTER="root: [clusterAdmin]
allClusterUsers: [projectCreator]"
DEF_PROJECT="allClusterUsers: [projectWriter]"

# ================= auth deactivate / activate =================
run ctl auth get cluster
is "a new store is activated: the cluster binding" "$OUT" "$DEF_CLUSTER"
run ctl auth get project default
is "... and project default's" "$OUT" "$DEF_PROJECT"
run ctl -o json auth whoami
like "whoami -o json says activated" "$OUT" '"activated":[[:space:]]*true'

SETUP_ERR=
step() { run "$@"; [ "$RC" -eq 0 ] || SETUP_ERR="${SETUP_ERR}[$*: $RC $ERR] "; }
step ctl create repo x
step ctl put file x:/a.txt -f "$T_DIR/f"
step ctl create project p
step ctl create repo p/in
step ctl create pipeline p/pl --input p/in
step ctl auth set repo x repoReader user:alice
step ctl auth set project p projectOwner user:carol
step ctl group create g alice,bob robot:bot
step ctl auth set repo x repoWriter group:g
step ctl auth set cluster robotUser robot:bot
step as $MAL create project mq
step as $MAL create repo mr
TOK=$(ctl auth get-robot-token bot -q) || SETUP_ERR="${SETUP_ERR}[token bot] "
TOK2=$(ctl auth get-robot-token ci -q) || SETUP_ERR="${SETUP_ERR}[token ci] "
is "root sets up repos, a pipeline, projects, users, a group and two robots" "$SETUP_ERR" ""

RESOURCES="cluster|project default|project p|project mq|repo x|repo mr|repo p/in|repo p/pl"
bindings() {
	_ifs=$IFS; IFS='|'
	for _r in $RESOURCES; do
		IFS=$_ifs
		echo "== $_r"
		# shellcheck disable=SC2086
		ctl auth get $_r 2>&1
	done
	IFS=$_ifs
}
BEFORE=$(bindings)
# Bindings other than root's cluster clusterAdmin: every 'SUBJECT: [...]' line but one.
NB=$(($(printf '%s\n' "$BEFORE" | grep -c ': \[') - 1))
is "14 bindings besides root's clusterAdmin" "$NB" 14
run c_tok "$TOK" auth whoami
is "robot:bot's token works" "$RC:$OUT" '0:You are "robot:bot"'
run ctl auth get-groups user:alice
is "alice is in g" "$OUT" "group:g"

# Others may not deactivate or activate.
run as $MAL auth deactivate --yes
is "a user may not deactivate (exit 1)" "$RC:$ERR" "1:$(denial $MAL CLUSTER_AUTH_DEACTIVATE 'CLUSTER ')"
run c_tok "$TOK" auth deactivate --yes
is "nor a robot, even one with robotUser" "$RC:$ERR" "1:$(denial robot:bot CLUSTER_AUTH_DEACTIVATE 'CLUSTER ')"
run c_noid auth deactivate --yes
is "nor a uid with no identity" "$RC:$ERR" "1:$NOID_MSG"
ctl auth set project p projectOwner,clusterAdmin user:carol >/dev/null 2>&1
run as user:carol auth deactivate --yes
is "clusterAdmin bound on a project does not reach the cluster" "$RC:$ERR" \
	"1:$(denial user:carol CLUSTER_AUTH_DEACTIVATE 'CLUSTER ')"
ctl auth set project p projectOwner user:carol >/dev/null 2>&1
for who in $MAL robot:bot; do
	run as "$who" auth activate
	is "$who may not activate (exit 1)" "$RC:$ERR" \
		"1:$who is not authorized to perform this operation - only root may activate authorization"
done
run c_tok "$TOK" auth activate
is "nor with its real token" "$RC:$ERR" \
	"1:robot:bot is not authorized to perform this operation - only root may activate authorization"
run c_noid auth activate
is "nor a uid with no identity" "$RC" 1
like "... refused as not root" "$ERR" "^uid.$NOID_UID .*(only root|no idgate identity)"
run ctl auth deactivate
is "root without --yes: exit 2" "$RC" 2
is "... says what it would remove" "$ERR" \
	"deactivation removes every binding ($NB) but root's, every robot token and every group membership: confirm with --yes"
is "none of that changed anything" "$(bindings)" "$BEFORE"
like "the audit log has the refused deactivation" "$(cat "$AUDIT")" \
	"\"caller\":\"$MAL\",\"uid\":0,\"pid\":[0-9]+,\"action\":\"auth.deactivate\",\"target\":\"CLUSTER \",\"result\":\"denied\",\"reason\":\"needs permissions \\[CLUSTER_AUTH_DEACTIVATE\\]\""
like "... and the refused activation" "$(cat "$AUDIT")" \
	"\"caller\":\"robot:bot\",.*\"action\":\"auth.activate\",\"target\":\"CLUSTER \",\"result\":\"denied\",\"reason\":\"root only\""

# Root deactivates.
run ctl auth deactivate --yes
is "root deactivates" "$RC:$OUT" "0:authorization deactivated: $NB binding(s) removed; root keeps clusterAdmin"
like "the audit log records it" "$(tail -n 1 "$AUDIT")" \
	"\"caller\":\"root\",\"uid\":0,.*\"action\":\"auth.deactivate\",\"target\":\"CLUSTER \",\"result\":\"ok\",.*\"detail\":\"$NB bindings removed\""
is "only root's clusterAdmin is left, on every resource" "$(bindings)" "== cluster
root: [clusterAdmin]
== project default
== project p
== project mq
== repo x
== repo mr
== repo p/in
== repo p/pl"
run ctl -o json auth whoami
like "whoami -o json says deactivated" "$OUT" '"activated":[[:space:]]*false'
run c_tok "$TOK" auth whoami
is "robot:bot's token no longer works" "$RC:$ERR" "1:$BAD_TOKEN"
run c_tok "$TOK2" list repo
is "nor robot:ci's" "$RC:$ERR" "1:$BAD_TOKEN"
run ctl group describe g
is "group g is left with no member" "$(printf '%s\n' "$OUT" | sed -n '/^Members:/,$p')" "Members:"
run ctl group list
like "group list counts 0 members (after its gid)" "$OUT" "^group:g +local +[0-9]+ +0$"
for s in user:alice user:bob robot:bot; do
	run ctl auth get-groups $s
	is "$s is in no group" "$RC:$OUT" "0:"
done
run as user:alice get file x:/a.txt
is "alice can no longer read x" "$ERR" "$(denial user:alice REPO_READ 'REPO default/x')"
run as user:bob put file x:/b.csv -f "$T_DIR/f"
is "bob (through g) can no longer write it" "$ERR" "$(denial user:bob REPO_WRITE 'REPO default/x')"
run as user:carol auth set project p repoReader user:bob
is "carol no longer owns p" "$ERR" "$(denial user:carol PROJECT_MODIFY_BINDINGS 'PROJECT p')"
run as $MAL create project m2
is "allClusterUsers lost projectCreator" "$ERR" "$(denial $MAL PROJECT_CREATE 'CLUSTER ')"
run as $MAL create repo m3
is "... and projectWriter on default" "$ERR" "$(denial $MAL PROJECT_CREATE_REPO 'PROJECT default')"
run ctl get file x:/a.txt
is "the data stays" "$RC:$OUT" "0:$(printf 'a,b\n1,2')"
run ctl list repo
is "every repo stays" "$(printf '%s\n' "$OUT" | awk 'NR > 1 { print $1 "/" $2 }' | LC_ALL=C sort | tr '\n' ' ')" \
	"default/mr default/x p/in p/pl "
run ctl list project
is "every project stays" "$(printf '%s\n' "$OUT" | awk 'NR > 1 { print $1 }' | LC_ALL=C sort | tr '\n' ' ')" \
	"default mq p "
run ctl list pipeline
like "the pipeline stays" "$OUT" "^p/pl +p/in +p/pl "
run ctl create repo rootrepo
is "root can still do everything" "$RC" 0
run ctl auth deactivate --yes
is "deactivating again removes only what root made since" "$RC:$OUT" \
	"0:authorization deactivated: 1 binding(s) removed; root keeps clusterAdmin"
run as $MAL auth activate
is "a user may not activate a deactivated node" "$RC:$ERR" \
	"1:$MAL is not authorized to perform this operation - only root may activate authorization"
run ctl auth get cluster
is "... nothing changed" "$OUT" "root: [clusterAdmin]"

# Root activates: the defaults come back, and nothing else.
run ctl auth activate
is "root activates (exit 0, prints nothing)" "$RC:$OUT:$ERR" "0::"
like "the audit log records it" "$(tail -n 1 "$AUDIT")" \
	"\"caller\":\"root\",.*\"action\":\"auth.activate\",\"target\":\"CLUSTER \",\"result\":\"ok\""
is "the default bindings, and only those" "$(bindings)" "== cluster
$DEF_CLUSTER
== project default
$DEF_PROJECT
== project p
== project mq
== repo x
== repo mr
== repo p/in
== repo p/pl"
run ctl -o json auth whoami
like "whoami -o json says activated" "$OUT" '"activated":[[:space:]]*true'
run c_tok "$TOK" auth whoami
is "robot tokens stay revoked" "$RC:$ERR" "1:$BAD_TOKEN"
run ctl auth get-groups user:alice
is "group memberships are not restored" "$OUT" ""
run as $MAL create project m2
is "everyone may create a project again" "$RC" 0
run ctl auth get project m2
is "... and owns it" "$OUT" "$MAL: [projectOwner]"
run as $MAL create repo m3
is "... and create a repo in default" "$RC" 0
run as user:alice get file x:/a.txt
is "alice still cannot read x (its bindings are gone)" "$ERR" "$(denial user:alice REPO_READ 'REPO default/x')"
run ctl auth activate
is "activating an active node: exit 2" "$RC:$ERR" "2:authorization is already activated"
run ctl auth get cluster
is "... nothing changed" "$OUT" "$DEF_CLUSTER"

# ================= custom roles =================
run ctl rbac create-role auditor -p REPO_READ,REPO_LIST_FILE -p PROJECT_LIST_REPO
is "create-role auditor from three permissions" "$RC:$OUT:$ERR" "0::"
like "the audit log records it" "$(tail -n 1 "$AUDIT")" \
	'"action":"rbac.create-role","target":"CLUSTER ","result":"ok",.*"detail":"auditor=\[REPO_READ REPO_LIST_FILE PROJECT_LIST_REPO\]"'
run ctl rbac describe-role auditor
is "describe-role auditor" "$OUT" "Name: auditor
Built-in: no
Meant for: cluster, project, repo
Bindings: 0
Permissions (3):
  REPO_READ
  REPO_LIST_FILE
  PROJECT_LIST_REPO"
run ctl rbac list-roles
like "list-roles has it" "$OUT" "^auditor +cluster,project,repo +3 +no$"
is "... after the 18 built-in roles" "$(printf '%s\n' "$OUT" | awk 'NR > 1 { print $1 }' | tail -n 1)" auditor
run ctl auth roles-for-permission REPO_LIST_FILE
is "roles-for-permission REPO_LIST_FILE names it, sorted" "$OUT" "auditor
clusterAdmin
projectOwner
repoOwner
repoReader
repoWriter"
run ctl auth check repo x user:dave -p REPO_READ
is "dave cannot read x yet" "$RC:$ERR" "1:$(denial user:dave REPO_READ 'REPO default/x')"
run ctl auth set repo x auditor user:dave
is "bind auditor to dave on x" "$RC" 0
run ctl auth check repo x user:dave
is "auth check: dave's role and permissions (PROJECT_LIST_REPO does not act on a repo)" "$OUT" \
	"Roles: [auditor]
Permissions: [REPO_READ REPO_LIST_FILE]"
run ctl auth check repo x user:dave -p REPO_READ
is "dave now holds REPO_READ" "$RC:$OUT" "0:allowed"
run ctl auth check repo x user:dave -p REPO_WRITE
is "... not REPO_WRITE" "$RC:$ERR" "1:$(denial user:dave REPO_WRITE 'REPO default/x')"
run as user:dave get file x:/a.txt
is "dave reads x" "$RC" 0
run as user:dave list file x
like "... and lists it" "$RC:$OUT" "^0:NAME"
run as user:dave put file x:/d.csv -f "$T_DIR/f"
is "... but may not write it" "$RC:$ERR" "1:$(denial user:dave REPO_WRITE 'REPO default/x')"
run ctl rbac assign-role auditor -u erin -w p
is "assign-role auditor to erin on project p" "$OUT" "assigned role 'auditor' to user 'erin' to workspace p"
run as user:erin auth get project p
is "erin holds PROJECT_LIST_REPO on p: auth get project p" "$RC" 0
run as user:erin list file p/in
is "... and inherits REPO_LIST_FILE on p/in" "$RC" 0
run as user:erin list file x
is "... but nothing on x" "$ERR" "$(denial user:erin REPO_LIST_FILE 'REPO default/x')"
run ctl rbac describe-role auditor
like "describe-role counts 2 bindings" "$OUT" "^Bindings: 2$"
run ctl rbac delete-role auditor
is "delete-role while bound: exit 2" "$RC:$ERR" '2:role "auditor" is bound 2 time(s): remove those bindings first'
run ctl rbac describe-role auditor
like "... it is still there" "$RC:$OUT" "^0:Name: auditor"
run as $MAL rbac delete-role auditor
is "a user may not delete it" "$RC:$ERR" "1:$(denial $MAL CLUSTER_AUTH_SET_CONFIG 'CLUSTER ')"
run ctl auth set repo x none user:dave
is "unbind dave" "$RC" 0
run ctl rbac unassign-role auditor -u erin -w p
is "unassign erin" "$OUT" "removed role 'auditor' from user 'erin' on workspace p"
run ctl rbac delete-role auditor
is "delete-role once unbound" "$RC:$ERR" "0:"
like "the audit log records it" "$(tail -n 1 "$AUDIT")" \
	'"caller":"root",.*"action":"rbac.delete-role","target":"CLUSTER ","result":"ok"'
run ctl rbac describe-role auditor
is "it is gone" "$RC:$ERR" '2:unknown role "auditor"'
run ctl rbac list-roles
unlike "... from list-roles" "$OUT" "^auditor "
is "... which is back to the 18 built-in roles" "$(lines "$OUT")" 19
run as user:dave get file x:/a.txt
is "dave can no longer read x" "$ERR" "$(denial user:dave REPO_READ 'REPO default/x')"

BUILTIN="repoReader repoWriter repoOwner projectViewer projectWriter projectOwner projectCreator
oidcAppAdmin idpAdmin identityAdmin secretAdmin licenseAdmin debugger lokiLogReader pachdLogReader
robotUser jobAdmin clusterAdmin"
bad=
for r in $BUILTIN; do
	run ctl rbac create-role "$r" -p REPO_READ
	[ "$RC:$ERR" = "2:role \"$r\" already exists" ] || bad="$bad $r($RC:$ERR)"
done
is "create-role with each of the 18 built-in names: exit 2, already exists" "$bad" ""
run ctl rbac describe-role repoReader
like "repoReader is still the built-in one" "$OUT" "^Permissions \(9\):$"
for r in repoReader clusterAdmin; do
	run ctl rbac delete-role $r
	is "delete-role $r: built in, exit 2" "$RC:$ERR" "2:role \"$r\" is built in and cannot be deleted"
done
run ctl rbac create-role r2 -p REPO_READ,NOT_A_PERMISSION
is "create-role with an unknown permission: exit 2" "$RC:$ERR" '2:unknown permission "NOT_A_PERMISSION"'
run ctl rbac describe-role r2
is "... and no role was made" "$RC" 2
run ctl rbac create-role r3 -p repo_read
is "permission names are exact" "$RC:$ERR" '2:unknown permission "repo_read"'
run ctl rbac create-role r4 -p PERMISSION_UNKNOWN
is "PERMISSION_UNKNOWN cannot be granted: exit 2" "$RC:$ERR" "2:PERMISSION_UNKNOWN cannot be granted"
run ctl rbac create-role r5
is "create-role without a permission: exit 2" "$RC" 2
run ctl rbac create-role none -p REPO_READ
is "'none' is not a role name" "$RC:$ERR" "2:role name \"none\" is reserved: it means no role"
run ctl rbac list-roles
is "no role was made by the refused creates" "$(lines "$OUT")" 19
run ctl rbac create-role projaud -p PROJECT_LIST_REPO -b project
is "create-role bindable on projects only" "$RC" 0
run ctl rbac describe-role projaud
like "... describe-role says so" "$OUT" "^Meant for: project$"
run ctl auth set repo x projaud user:dave
is "... binding it on a repo: exit 2" "$RC:$ERR" '2:role "projaud" cannot be bound on a repo'
run ctl auth set project p projaud user:dave
is "... on a project: fine" "$RC" 0

# ================= -o json =================
# json_vs_text DESC PY AWK COMMAND...: COMMAND and COMMAND -o json both exit 0, the json parses,
# and PY (python over the parsed d, printing lines) prints the facts AWK finds in the text.
json_vs_text() {
	_desc=$1 _py=$2 _awk=$3
	shift 3
	run "$@"
	_trc=$RC _txt=$(printf '%s\n' "$OUT" | awk "$_awk")
	run "$@" -o json
	is "-o json $_desc: exit 0" "$_trc:$RC" "0:0"
	_facts=$(printf '%s\n' "$OUT" | python3 -c "import json, sys
d = json.load(sys.stdin)
$_py" 2>&1)
	is "-o json $_desc: parses and carries what the text shows" "$_facts" "$_txt"
	unlike "-o json $_desc: not empty" "$_txt" "^$"
}
ctl group add-user g alice >/dev/null
ctl create repo p/in2 >/dev/null
ctl create pipeline p/two --input p/in --input p/in2 >/dev/null
ctl auth set repo x repoReader user:alice >/dev/null
ctl put file x:/dir/b.csv -f "$T_DIR/f" >/dev/null

json_vs_text "list project" \
	'for p in d["projects"]: print(p["name"], p["repos"], ",".join(p["access_level"]))' \
	'NR > 1 { print $1, $3, $4 }' ctl list project
json_vs_text "list repo (alice's access)" \
	'for r in d["repos"]: print(r["project"] + "/" + r["name"], ",".join(r["access_level"]) or "none")' \
	'NR > 1 { print $1 "/" $2, $4 }' as user:alice list repo
json_vs_text "list pipeline" \
	'for p in d["pipelines"]: print(p["name"], ",".join(p["inputs"]), p["output"])' \
	'NR > 1 { print $1, $2, $3 }' ctl list pipeline
json_vs_text "list file" \
	'for e in d["entries"]: print(e["name"], e["type"], e["size"])' \
	'NR > 1 { print $1, $2, $3 }' ctl list file x
json_vs_text "group list" \
	'for g in d["groups"]: print(g["name"], g["source"], g["gid"], g["members"])' \
	'NR > 1 { print $1, $2, $3, $4 }' ctl group list
json_vs_text "group describe" \
	'print(d["name"], d["source"]); [print(m) for m in d["members"]]' \
	'/^Group:/ { g = $2 } /^Source:/ { print g, $2 } /^  / { print $1 }' ctl group describe g
json_vs_text "rbac list-roles" \
	'for r in d["roles"]: print(r["name"], ",".join(r["meant_for"]), r["permission_count"], "yes" if r["builtin"] else "no")' \
	'NR > 1 { print $1, $2, $3, $4 }' ctl rbac list-roles
json_vs_text "rbac describe-role" \
	'print(d["name"], d["bindings"]); [print(p) for p in d["permissions"]]' \
	'/^Name:/ { n = $2 } /^Bindings:/ { print n, $2 } /^  / { print $1 }' ctl rbac describe-role repoOwner
json_vs_text "auth get" \
	'for b in d["bindings"]: print(b["subject"] + ": [" + " ".join(b["roles"]) + "]")' \
	'{ print }' ctl auth get repo x
json_vs_text "auth check" \
	'print("Roles: [" + " ".join(d["roles"]) + "]"); print("Permissions: [" + " ".join(d["permissions"]) + "]")' \
	'{ print }' ctl auth check repo x user:alice
json_vs_text "auth roles-for-permission" \
	'[print(r) for r in d["roles"]]' \
	'{ print }' ctl auth roles-for-permission REPO_WRITE
json_vs_text "auth get-groups" \
	'[print(g["name"]) for g in d["groups"]]' \
	'{ print }' ctl auth get-groups
json_vs_text "auth whoami" \
	'print("You are \"%s\"" % d["subject"])' \
	'{ print }' as user:alice auth whoami
json_vs_text "rbac my-permissions" \
	'print(d["subject"], ", ".join(d["groups"])); [print(",".join(a["roles"]), a["via"]) for a in d["assignments"]]' \
	'/^You are/ { s = $3; gsub(/"/, "", s) } /^Groups:/ { sub(/^Groups: /, ""); print s, $0 } /^ROLES/ { t = 1; next } t && NF { print $1, $NF }' \
	as user:alice rbac my-permissions
json_vs_text "rbac list-users-roles" \
	'[print(",".join(a["roles"]), a["resource"]["type"], a["resource"]["name"], a["via"]) for a in d["assignments"]]' \
	'NR > 1 { print $1, $2, ($2 == "cluster" ? "" : $3), $NF }' ctl rbac list-users-roles alice
json_vs_text "ping" \
	'print("idgated %s is running (api %d)" % (d["version"], d["api"]))' \
	'{ print }' ctl ping

# ================= help =================
run "$IDGATECTL" --help
MAIN_HELP=$OUT
is "--help: exit 0" "$RC" 0
VERBS=$(printf '%s\n' "$MAIN_HELP" | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\{0,1\}\)  .*/\1/p')
is "--help lists 47 commands (user unpin is the 47th)" "$(lines "$VERBS")" 47
run "$IDGATECTL" help
is "'help' alone prints the same" "$RC:$OUT" "0:$MAIN_HELP"
run "$IDGATECTL" -h
is "-h too" "$RC:$OUT" "0:$MAIN_HELP"
_ifs=$IFS
IFS='
'
for v in $VERBS; do
	IFS=$_ifs
	# shellcheck disable=SC2086
	run "$IDGATECTL" $v --help
	is "$v --help: exit 0" "$RC:$ERR" "0:"
	is "$v --help: a Usage line" "$(printf '%s\n' "$OUT" | head -n 1 | cut -d' ' -f1-$((2 + $(echo "$v" | wc -w))))" \
		"Usage: idgatectl $v"
	h=$OUT
	# shellcheck disable=SC2086
	run "$IDGATECTL" help $v
	is "help $v: exit 0, the same page" "$RC:$OUT" "0:$h"
	# shellcheck disable=SC2086
	run "$IDGATECTL" $v -h
	is "$v -h: the same page" "$RC:$OUT" "0:$h"
done
IFS=$_ifs
run "$IDGATECTL" user-group add-user --help
is "user-group is group's alias in help too" "$RC:$(printf '%s\n' "$OUT" | head -n 1)" \
	"0:Usage: idgatectl group add-user NAME USER[,USER...] ..."

# Global options go before or after the command: ping too.
run env IDGATE_SOCKET="$T_DIR/no.sock" "$IDGATECTL" --socket "$SOCK" ping
is "--socket before ping" "$RC" 0
run env IDGATE_SOCKET="$T_DIR/no.sock" "$IDGATECTL" ping --socket "$SOCK"
is "--socket after ping" "$RC:$ERR" "0:"

# ================= unknown commands =================
run "$IDGATECTL" --socket "$SOCK" frobnicate
is "an unknown command: exit 2" "$RC:$OUT" "2:"
is "... and says so" "$ERR" "idgatectl: unknown command 'frobnicate'
Try 'idgatectl --help'."
run "$IDGATECTL" --socket "$SOCK" auth frobnicate
is "an unknown auth subcommand: exit 2" "$RC:$OUT" "2:"
is "... names it, then lists auth's commands" "$(printf '%s\n' "$ERR" | head -n 2)" \
	"idgatectl: unknown command 'auth frobnicate'
'auth' takes one of:"
like "... with their usage" "$ERR" "^  idgatectl auth whoami "
run "$IDGATECTL" --socket "$SOCK" create
is "a command word alone: exit 2" "$RC" 2
like "... lists its commands" "$ERR" "^  idgatectl create repo "
run "$IDGATECTL" help frobnicate
is "help for an unknown command: exit 2" "$RC:$OUT:$ERR" "2::idgatectl: no command 'frobnicate'"
run "$IDGATECTL" --frobnicate ping
is "an unknown global option: exit 2" "$RC" 2
like "... says so" "$ERR" "unknown option --frobnicate"

# ================= --as from a non-root uid =================
_n=$(wc -l <"$AUDIT")
run c_noid --as user:alice auth whoami
is "--as from uid $NOID_UID: refused, exit 1" "$RC:$OUT:$ERR" "1::$AS_MSG"
run c_noid --as root create project asroot
is "--as root from uid $NOID_UID: refused" "$RC:$ERR" "1:$AS_MSG"
run ctl list project
unlike "... and the project was not made" "$OUT" "^asroot "
like "the audit log records the refusal" "$(tail -n +$((_n + 1)) "$AUDIT")" \
	"\"caller\":\"uid:$NOID_UID\",\"uid\":$NOID_UID,.*\"action\":\"project.create\",.*\"result\":\"denied\",\"reason\":\"--as used by a non-root caller\""
TOK3=$(ctl auth get-robot-token bot -q)
run as_uid $NOID_UID "$IDGATECTL" --socket "$SOCK" --token "$TOK3" auth whoami
is "uid $NOID_UID with a robot token is robot:bot" "$RC:$OUT" '0:You are "robot:bot"'
run as_uid $NOID_UID "$IDGATECTL" --socket "$SOCK" --token "$TOK3" --as user:alice auth whoami
is "... and --as with it is refused, not ignored (exit 1)" "$RC:$OUT" "1:"
like "... naming --as" "$ERR" "--as"
run ctl --as user:alice auth whoami
is "root may use --as" "$RC:$OUT" '0:You are "user:alice"'

ok "idgated stops cleanly" daemon_stop
done_testing
