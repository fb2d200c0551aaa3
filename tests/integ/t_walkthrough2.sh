#!/bin/sh
# spec/roles.md walk-through 2, two teams, with the det-style verbs (a workspace is a project).
. "$top_srcdir/tests/integ/lib.sh"

t_setup
ok "idgated starts" daemon_start

# 1. Projects traffic-lights and stop-signs.
run ctl create project traffic-lights
is "create project traffic-lights" "$RC" 0
run ctl create project stop-signs
is "create project stop-signs" "$RC" 0

# 2. Group traffic-lights-team with the three traffic users.
run ctl user-group create traffic-lights-team
is "user-group create traffic-lights-team" "$RC" 0
run ctl user-group add-user traffic-lights-team mle-traffic-00,mle-traffic-01,mle-traffic-02
is "user-group add-user with a comma list" "$RC" 0
run ctl user-group describe traffic-lights-team
like "describe lists the three members" "$OUT" "user:mle-traffic-00.*"
is "... exactly three" "$(printf '%s\n' "$OUT" | grep -c '^  user:mle-traffic-0[012]$')" 3

# 3. Editor-level roles for the group; projectOwner for one user per team.
run ctl rbac assign-role projectWriter -g traffic-lights-team -w traffic-lights
is "assign projectWriter to the group on the workspace" "$OUT" \
	"assigned role 'projectWriter' to group 'traffic-lights-team' to workspace traffic-lights"
run ctl rbac assign-role repoWriter -g traffic-lights-team -w traffic-lights
is "assign repoWriter too: the group keeps projectWriter" "$RC" 0
run ctl rbac assign-role projectOwner -u mle-traffic-00 -w traffic-lights
is "mle-traffic-00 owns traffic-lights" "$OUT" \
	"assigned role 'projectOwner' to user 'mle-traffic-00' to workspace traffic-lights"
run ctl rbac assign-role projectOwner -u mle-stop-00 -w stop-signs
is "mle-stop-00 owns stop-signs" "$RC" 0
run ctl rbac assign-role clusterAdmin -u mle-stop-00
is "a global assignment says so" "$OUT" "assigned role 'clusterAdmin' to user 'mle-stop-00' globally"
run ctl rbac unassign-role clusterAdmin -u mle-stop-00
is "unassign-role takes it back" "$OUT" "removed role 'clusterAdmin' from user 'mle-stop-00' globally"
run ctl rbac assign-role repoWriter -g traffic-lights-team -w traffic-lights
is "assigning a role held already is refused" "$RC" 2
run ctl auth get project traffic-lights
like "the group holds both roles on the project" "$OUT" "^group:traffic-lights-team: \[repoWriter projectWriter\]$"

# 4. mle-traffic-01 creates a repo in traffic-lights without any cluster admin...
T1=user:mle-traffic-01
run as user:mle-stop-00 create repo stop-signs/signs
is "mle-stop-00 creates a repo in stop-signs" "$RC" 0
printf 'stop\n' >"$T_DIR/f"
run as user:mle-stop-00 put file stop-signs/signs:/s.txt -f "$T_DIR/f"
is "... and writes to it" "$RC" 0
run as $T1 create repo traffic-lights/lights
is "mle-traffic-01 creates a repo in traffic-lights" "$RC" 0
run as $T1 put file traffic-lights/lights:/l.txt -f "$T_DIR/f"
is "... and writes to it" "$RC" 0
run as user:mle-traffic-02 put file traffic-lights/lights:/l2.txt -f "$T_DIR/f"
is "a teammate writes to it through the group" "$RC" 0
# ...and cannot read, write or change bindings of any repo in stop-signs.
run as $T1 get file stop-signs/signs:/s.txt
is "mle-traffic-01 cannot read stop-signs/signs" "$ERR" "$(denial $T1 REPO_READ 'REPO stop-signs/signs')"
run as $T1 put file stop-signs/signs:/x -f "$T_DIR/f"
is "... cannot write it" "$ERR" "$(denial $T1 REPO_WRITE 'REPO stop-signs/signs')"
run as $T1 auth set repo stop-signs/signs repoReader
is "... cannot change its bindings" "$ERR" "$(denial $T1 REPO_MODIFY_BINDINGS 'REPO stop-signs/signs')"
run as $T1 create repo stop-signs/mine
is "... cannot create a repo in stop-signs" "$ERR" "$(denial $T1 PROJECT_CREATE_REPO 'PROJECT stop-signs')"
run as $T1 auth set project traffic-lights repoReader user:mle-stop-00
is "a projectWriter cannot change the project's bindings" "$ERR" \
	"$(denial $T1 PROJECT_MODIFY_BINDINGS 'PROJECT traffic-lights')"
run as user:mle-traffic-00 auth set project traffic-lights repoReader user:mle-stop-00
is "the projectOwner can" "$RC" 0

# list repo shows each user's roles, none on the other team's repos.
run as $T1 list repo
like "mle-traffic-01 sees its roles on traffic-lights/lights" "$OUT" "^traffic-lights +lights +[^ ]+ +repoWriter,repoOwner"
like "... and none on stop-signs/signs" "$OUT" "^stop-signs +signs +[^ ]+ +none"
run as user:mle-stop-00 list repo
like "mle-stop-00 owns stop-signs/signs (repoOwner, projectOwner)" "$OUT" "^stop-signs +signs +[^ ]+ +repoOwner,projectOwner"
like "... and reads traffic-lights/lights (the owner gave repoReader)" "$OUT" "^traffic-lights +lights +[^ ]+ +repoReader"
run as $T1 -o json list repo
like "list repo --output json carries access_level" "$OUT" '"access_level"'

# 5. my-permissions, describe-role, list-roles, list-users-roles, list-groups-roles.
run as $T1 rbac my-permissions
like "my-permissions names the subject" "$OUT" '^You are "user:mle-traffic-01"$'
like "... its group" "$OUT" "^Groups: group:traffic-lights-team$"
like "... the group's roles on the project" "$OUT" "repoWriter,projectWriter +project traffic-lights +group:traffic-lights-team"
run ctl rbac describe-role projectOwner
like "describe-role lists permissions" "$OUT" "PROJECT_MODIFY_BINDINGS"
like "... and what it is meant for" "$OUT" "^Meant for: cluster, project$"
run ctl rbac list-roles
is "list-roles shows the 18 built-in roles (and a header)" "$(printf '%s\n' "$OUT" | wc -l)" 19
run ctl rbac list-users-roles mle-traffic-00
like "list-users-roles: own binding" "$OUT" "projectOwner +project traffic-lights +user:mle-traffic-00"
like "list-users-roles: through the group" "$OUT" "repoWriter,projectWriter +project traffic-lights +group:traffic-lights-team"
run ctl rbac list-groups-roles traffic-lights-team
is "list-groups-roles" "$OUT" "ROLES                     SCOPE                   VIA
repoWriter,projectWriter  project traffic-lights  group:traffic-lights-team"
run as user:mle-stop-00 rbac list-users-roles mle-traffic-00
is "someone else's roles need a permission" "$ERR" \
	"$(denial user:mle-stop-00 CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL 'CLUSTER ')"
run as $T1 rbac list-groups-roles traffic-lights-team
is "a member may list its own group's roles" "$RC" 0
run ctl user-group remove-user traffic-lights-team mle-traffic-02
is "remove-user" "$RC" 0
run as user:mle-traffic-02 put file traffic-lights/lights:/l3.txt -f "$T_DIR/f"
is "a removed member loses the group's roles at once" "$ERR" \
	"$(denial user:mle-traffic-02 REPO_WRITE 'REPO traffic-lights/lights')"
run ctl user-group change-name traffic-lights-team lights-team
is "change-name renames the group" "$RC" 0
run ctl auth get project traffic-lights
like "... and its bindings follow" "$OUT" "^group:lights-team: \[repoWriter projectWriter\]$"
run as $T1 put file traffic-lights/lights:/l4.txt -f "$T_DIR/f"
is "... and its members keep their access" "$RC" 0
ok "idgated stops cleanly" daemon_stop
done_testing
