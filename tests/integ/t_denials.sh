#!/bin/sh
# Every idgatectl operation is refused to a caller without the permission it needs, for three
# kinds of caller: a user (root acting --as), a robot with a real token (from a non-root uid)
# and a local uid with no idgate identity. Each refusal: exit 1, the exact message, nothing
# changed, one "denied" line in the audit log. What everyone may do is allowed to each of them.
. "$top_srcdir/tests/integ/lib.sh"

MAL=user:mallory@example.com
BOT=robot:bot
ROBOT_UID=23456		# the robot's token is used from this (otherwise unknown) uid
NOID_UID=12345		# a local uid with no idgate identity
NOID_MSG="uid $NOID_UID has no idgate identity, so it holds no permissions: log in as an identity-provider user, or pass a robot token (--token or IDGATE_TOKEN)"

t_setup
ok "idgated starts" daemon_start
AUDIT=$T_DIR/log/audit.log

# ---------- the resources, as root ----------
printf 'a,b\n1,2\n' >"$T_DIR/f"
chmod 0644 "$T_DIR/f"
SETUP_ERR=
step() { run "$@"; [ "$RC" -eq 0 ] || SETUP_ERR="${SETUP_ERR}[$*: $RC $ERR] "; }
step ctl create repo x
step ctl put file x:/a.txt -f "$T_DIR/f"
step ctl create project p
step ctl create repo p/in
step ctl create pipeline p/pl --input p/in
step ctl create project e
step ctl group create g alice
step ctl auth set repo x repoReader user:alice
step ctl rbac create-role foo -p REPO_READ
# Take the activation defaults away: then nobody but root holds anything.
step ctl auth set cluster none allClusterUsers
step ctl auth set project default none allClusterUsers
TOK=$(ctl auth get-robot-token bot -q) || SETUP_ERR="${SETUP_ERR}[robot token bot] "
OTOK=$(ctl auth get-robot-token other -q) || SETUP_ERR="${SETUP_ERR}[robot token other] "
is "root sets up repos, a pipeline, projects, a group, a custom role and two robot tokens" "$SETUP_ERR" ""
run ctl auth get cluster
is "only root is bound on the cluster" "$OUT" "root: [clusterAdmin]"

# ---------- the three callers ----------
c_user() { "$IDGATECTL" --socket "$SOCK" --as "$MAL" "$@"; }
c_robot() { as_uid $ROBOT_UID "$IDGATECTL" --socket "$SOCK" --token "$TOK" "$@"; }
c_noid() { as_uid $NOID_UID "$IDGATECTL" --socket "$SOCK" "$@"; }

run c_user auth whoami
is "the user is $MAL" "$RC:$OUT" "0:You are \"$MAL\""
run c_robot auth whoami
is "the token makes uid $ROBOT_UID $BOT" "$RC:$OUT" "0:You are \"$BOT\""
run env IDGATE_TOKEN="$TOK" "$IDGATECTL" --socket "$SOCK" auth whoami
is "... so does IDGATE_TOKEN" "$RC:$OUT" "0:You are \"$BOT\""
run c_noid auth whoami
is "uid $NOID_UID is no subject: whoami is refused (exit 1)" "$RC:$OUT" "1:"
is "... and says why" "$ERR" "You are not logged in: uid $NOID_UID has no idgate identity"

# ---------- the state, as root sees it ----------
snapshot() {
	for _r in cluster "project default" "project p" "project e" "repo x" "repo p/in" "repo p/pl"; do
		echo "== auth get $_r"
		# shellcheck disable=SC2086
		ctl auth get $_r
	done
	ctl list project
	ctl list repo
	ctl list pipeline
	ctl list file x
	ctl get file x:/a.txt
	ctl group list
	ctl group describe g
	ctl auth get-groups user:alice
	ctl rbac list-roles
	echo "== tokens"
	"$IDGATECTL" --socket "$SOCK" --token "$TOK" auth whoami
	"$IDGATECTL" --socket "$SOCK" --token "$OTOK" auth whoami
	echo "== data"
	(cd "$T_DIR/repos" && find . | LC_ALL=C sort)
} 2>&1
SNAP=$(snapshot)
like "the snapshot has the bindings" "$SNAP" "^pipeline:p/pl: \[repoReader\]$"
like "... the files" "$SNAP" "^a\.txt +file +8 "
like "... the group members" "$SNAP" "^  user:alice$"
like "... the custom role" "$SNAP" "^foo +cluster,project,repo +1 +no$"
like "... both robot tokens work" "$(printf '%s\n' "$SNAP" | grep -c '^You are "robot:')" "^2$"

# unchanged DESC: the state is the same as at the last snapshot (shows the difference if not).
unchanged() {
	_now=$(snapshot)
	if [ "$_now" = "$SNAP" ]; then pass "$1"; else
		fail "$1"
		diag "$(printf '%s\n' "$SNAP" >"$T_DIR/snap.a"; printf '%s\n' "$_now" >"$T_DIR/snap.b"
			diff "$T_DIR/snap.a" "$T_DIR/snap.b")"
		SNAP=$_now
	fi
}

re_escape() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|/]/\\&/g'; }

# refused KIND ACTION TARGET MESSAGE REASON ARGS...: KIND (user, robot, noid) runs ARGS; it must
# exit 1 with MESSAGE on stderr, change nothing, and add exactly one audit line: KIND's caller and
# uid, ACTION, TARGET, result denied, REASON (noid: TARGET may be empty, REASON is fixed).
refused() {
	_k=$1 _act=$2 _tgt=$3 _msg=$4 _why=$5
	shift 5
	_n=$(wc -l <"$AUDIT")
	run "c_$_k" "$@" </dev/null
	is "$_k: $*: refused, exit 1" "$RC" 1
	is "$_k: $*: the refusal" "$ERR" "$_msg"
	_new=$(tail -n +$((_n + 1)) "$AUDIT")
	case $_k in
	user) _re="\"caller\":\"$(re_escape "$MAL")\",\"uid\":0,";;
	robot) _re="\"caller\":\"$(re_escape "$BOT")\",\"uid\":$ROBOT_UID,";;
	noid) _re="\"caller\":\"uid:$NOID_UID\",\"uid\":$NOID_UID,";;
	esac
	_re="$_re\"pid\":[0-9]+,\"action\":\"$(re_escape "$_act")\","
	if [ "$_k" = noid ]; then _re="$_re\"target\":\"(|$(re_escape "$_tgt"))\","
	else _re="$_re\"target\":\"$(re_escape "$_tgt")\","; fi
	_re="$_re\"result\":\"denied\",\"reason\":\"$(re_escape "$_why")\""
	is "$_k: $*: one new audit line" "$(printf '%s\n' "$_new" | grep -c .)" 1
	like "$_k: $*: the audit line records the refusal" "$_new" "$_re"
	unchanged "$_k: $*: nothing changed"
}

# denied ACTION PERMS TARGET ARGS...: refused to all three with the Pachyderm-form message.
denied() {
	_a=$1 _p=$2 _t=$3
	shift 3
	refused user "$_a" "$_t" "$(denial "$MAL" "$_p" "$_t")" "needs permissions [$_p]" "$@"
	refused robot "$_a" "$_t" "$(denial "$BOT" "$_p" "$_t")" "needs permissions [$_p]" "$@"
	refused noid "$_a" "$_t" "$NOID_MSG" "no idgate identity" "$@"
}

# ---------- every operation that needs a permission ----------
# ACTION | PERMISSIONS | TARGET | ARGUMENTS (split on blanks)
set -f
while IFS='|' read -r act perms target args <&3; do
	case $act in ''|'#'*) continue;; esac
	# shellcheck disable=SC2086
	denied "$act" "$perms" "$target" $args
done 3<<TABLE
auth.deactivate|CLUSTER_AUTH_DEACTIVATE|CLUSTER |auth deactivate --yes
auth.set|CLUSTER_MODIFY_BINDINGS|CLUSTER |auth set cluster clusterAdmin user:eve
auth.set|PROJECT_MODIFY_BINDINGS|PROJECT p|auth set project p projectOwner user:eve
auth.set|REPO_MODIFY_BINDINGS|REPO default/x|auth set repo x repoOwner user:eve
auth.set|REPO_MODIFY_BINDINGS|REPO default/x|auth set repo x none user:alice
auth.get|CLUSTER_GET_BINDINGS|CLUSTER |auth get cluster
auth.get|PROJECT_LIST_REPO|PROJECT p|auth get project p
auth.get|REPO_READ|REPO default/x|auth get repo x
auth.check|CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL|CLUSTER |auth check repo x user:alice
auth.explain|CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL|CLUSTER |auth explain user:alice REPO_READ repo x
auth.get-groups|CLUSTER_AUTH_GET_GROUPS|CLUSTER |auth get-groups user:alice
auth.get-robot-token|CLUSTER_AUTH_GET_ROBOT_TOKEN|CLUSTER |auth get-robot-token bot2
auth.revoke|CLUSTER_AUTH_REVOKE_USER_TOKENS|CLUSTER |auth revoke --user robot:other
project.create|PROJECT_CREATE|CLUSTER |create project q
project.delete|PROJECT_DELETE PROJECT_MODIFY_BINDINGS|PROJECT e|delete project e
repo.create|PROJECT_CREATE_REPO|PROJECT p|create repo p/r
repo.create|PROJECT_CREATE_REPO|PROJECT default|create repo r
repo.delete|REPO_DELETE|REPO default/x|delete repo x
pipeline.create|REPO_READ REPO_ADD_PIPELINE_READER|REPO p/in|create pipeline p/pl2 --input p/in
pipeline.update|REPO_READ REPO_ADD_PIPELINE_READER|REPO default/x|update pipeline p/pl --input x
pipeline.delete|REPO_DELETE|REPO p/pl|delete pipeline p/pl
file.put|REPO_WRITE|REPO default/x|put file x:/m.csv -f $T_DIR/f
file.put|REPO_WRITE|REPO default/x|put file x:/a.txt -f $T_DIR/f
file.get|REPO_READ|REPO default/x|get file x:/a.txt
file.list|REPO_LIST_FILE|REPO default/x|list file x
file.delete|REPO_WRITE|REPO default/x|delete file x:/a.txt
rbac.assign-role|CLUSTER_MODIFY_BINDINGS|CLUSTER |rbac assign-role clusterAdmin -u eve
rbac.assign-role|PROJECT_MODIFY_BINDINGS|PROJECT p|rbac assign-role projectOwner -u eve -w p
rbac.assign-role|REPO_MODIFY_BINDINGS|REPO default/x|rbac assign-role repoOwner -g g --repo x
rbac.unassign-role|REPO_MODIFY_BINDINGS|REPO default/x|rbac unassign-role repoReader -u alice -r x
rbac.list-subject-roles|CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL|CLUSTER |rbac list-users-roles alice
rbac.list-subject-roles|CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL|CLUSTER |rbac list-groups-roles g
rbac.create-role|CLUSTER_AUTH_SET_CONFIG|CLUSTER |rbac create-role bar -p REPO_READ
rbac.delete-role|CLUSTER_AUTH_SET_CONFIG|CLUSTER |rbac delete-role foo
group.create|CLUSTER_AUTH_MODIFY_GROUP_MEMBERS|CLUSTER |group create h eve
group.delete|CLUSTER_AUTH_MODIFY_GROUP_MEMBERS|CLUSTER |group delete g
group.add-user|CLUSTER_AUTH_MODIFY_GROUP_MEMBERS|CLUSTER |group add-user g eve,mallory@example.com
group.add-user|CLUSTER_AUTH_MODIFY_GROUP_MEMBERS|CLUSTER |user-group add-user g robot:bot
group.remove-user|CLUSTER_AUTH_MODIFY_GROUP_MEMBERS|CLUSTER |group remove-user g alice
group.change-name|CLUSTER_AUTH_MODIFY_GROUP_MEMBERS|CLUSTER |group change-name g g2
group.list|CLUSTER_AUTH_GET_GROUPS|CLUSTER |group list
group.describe|CLUSTER_AUTH_GET_GROUP_USERS|CLUSTER |group describe g
TABLE
set +f

# ---------- root-only operations ----------
for k in user robot noid; do
	case $k in user) who=$MAL;; robot) who=$BOT;; noid) who=uid:$NOID_UID;; esac
	refused "$k" auth.activate "CLUSTER " \
		"$who is not authorized to perform this operation - only root may activate authorization" \
		"root only" auth activate
done

# login test tries an IdP login: root only. The password comes on standard input.
printf 'secret\n' >"$T_DIR/pw"
chmod 0644 "$T_DIR/pw"
for k in user robot; do
	case $k in user) who=$MAL;; robot) who=$BOT;; esac
	_n=$(wc -l <"$AUDIT")
	run "c_$k" login test alice <"$T_DIR/pw"
	is "$k: login test: refused, exit 1" "$RC" 1
	is "$k: login test: the refusal" "$ERR" \
		"$who is not authorized to perform this operation - logins are tried by root only"
	like "$k: login test: the audit log records the refusal" "$(tail -n +$((_n + 1)) "$AUDIT")" \
		"\"caller\":\"$who\",.*\"action\":\"login[^\"]*\",.*\"result\":\"denied\""
	unchanged "$k: login test: nothing changed"
done
run c_noid login test alice <"$T_DIR/pw"
is "noid: login test: refused, exit 1" "$RC" 1
like "noid: login test: not authorized" "$ERR" "^uid.$NOID_UID (is not authorized|has no idgate identity)"

# ---------- what everyone may do ----------
ROLES_READ="clusterAdmin
foo
projectOwner
repoOwner
repoReader
repoWriter"
for k in user robot noid; do
	case $k in user) who=$MAL;; robot) who=$BOT;; noid) who=;; esac
	run "c_$k" ping
	is "$k: ping" "$RC:$ERR" "0:"
	like "$k: ping prints the version" "$OUT" "^idgated [0-9.]+ is running"
	run "c_$k" auth roles-for-permission REPO_READ
	is "$k: roles-for-permission REPO_READ (the custom role too)" "$RC:$OUT" "0:$ROLES_READ"
	run "c_$k" rbac list-roles
	is "$k: list-roles: 18 built-in roles, foo and a header" "$RC:$(printf '%s\n' "$OUT" | wc -l)" "0:20"
	run "c_$k" rbac describe-role foo
	like "$k: describe-role" "$RC:$OUT" "^0:Name: foo"
	if [ $k = noid ]; then
		for v in "auth whoami" "rbac my-permissions" "auth check repo x" "auth get-groups" \
		    "list project" "list repo" "list pipeline"; do
			# shellcheck disable=SC2086
			run c_noid $v
			is "noid: $v: refused, exit 1" "$RC" 1
			case $v in "auth whoami") ;; *) is "noid: $v: no identity" "$ERR" "$NOID_MSG";; esac
		done
		unchanged "noid: allowed reads changed nothing"
		continue
	fi
	run "c_$k" rbac my-permissions
	is "$k: my-permissions" "$RC:$(printf '%s\n' "$OUT" | head -3)" "0:You are \"$who\"
Groups: (none)
Cluster permissions: []"
	run "c_$k" auth check repo x
	is "$k: auth check on itself: no roles, no permissions" "$RC:$OUT" "0:Roles: []
Permissions: []"
	run "c_$k" auth check repo x -p REPO_READ
	is "$k: auth check -p REPO_READ answers no (exit 1) with the refusal" "$RC:$ERR" \
		"1:$(denial "$who" REPO_READ 'REPO default/x')"
	run "c_$k" auth explain "$who" REPO_READ repo x
	is "$k: auth explain on itself answers (exit 1: not held)" "$RC" 1
	like "$k: ... naming the roles that would grant it" "$OUT" \
		"^Roles that grant REPO_READ: clusterAdmin, foo, projectOwner, repoOwner, repoReader, repoWriter$"
	run "c_$k" auth get-groups
	is "$k: auth get-groups without USER: its own groups, none" "$RC:$OUT" "0:"
	run "c_$k" list project
	is "$k: list project: every project, access none" "$RC:$(printf '%s\n' "$OUT" | awk 'NR > 1 { print $1, $4 }')" \
		"0:default none
p none
e none"
	run "c_$k" list repo
	is "$k: list repo: every repo, access none" "$RC:$(printf '%s\n' "$OUT" | awk 'NR > 1 { print $1 "/" $2, $4 }')" \
		"0:default/x none
p/in none
p/pl none"
	run "c_$k" list pipeline
	like "$k: list pipeline" "$RC:$OUT" "^0:PIPELINE.*
p/pl +p/in +p/pl "
	run "c_$k" auth revoke --token idgr_not-a-token-anyone-holds
	is "$k: revoking a token nobody holds revokes nothing" "$RC:$OUT" "0:0 auth token(s) revoked"
	unchanged "$k: what everyone may do changed nothing"
done

# The snapshot does see changes (so 'nothing changed' above can fail).
ctl put file x:/root.csv -f "$T_DIR/f" >/dev/null
ctl auth revoke --user robot:other >/dev/null
ctl group add-user g eve >/dev/null
_now=$(snapshot)
ok "a root write, a revocation and a new member change the snapshot" [ "$_now" != "$SNAP" ]
like "... root.csv is in it" "$_now" "^root\.csv +file "
like "... the revoked token is refused" "$_now" "^the token is invalid, expired or revoked$"
like "... eve is in g" "$_now" "^  user:eve$"

ok "idgated stops cleanly" daemon_stop
done_testing
