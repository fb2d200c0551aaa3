#!/bin/sh
# spec/roles.md walk-through 1, as written: the testinput repo, repoReader -> a refused write
# with the exact message -> repoWriter -> none, allClusterUsers, group:testgroup repoOwner.
. "$top_srcdir/tests/integ/lib.sh"

ALICE=user:alice@example.com
t_setup
ok "idgated starts on a new store" daemon_start

# 1. As root: create repo testinput (in project default), put a file in it.
run ctl create repo testinput
is "root creates repo testinput" "$RC" 0
printf 'a,b\n1,2\n' >"$T_DIR/data.csv"
run ctl put file testinput:/data.csv -f "$T_DIR/data.csv"
is "root puts a file in testinput" "$RC" 0
run ctl get file testinput:/data.csv
is "the file reads back" "$OUT" "$(printf 'a,b\n1,2')"

# 2. auth set repo testinput repoReader alice; auth get shows root repoOwner, alice repoReader.
run ctl auth set repo testinput repoReader $ALICE
is "auth set repoReader prints nothing and succeeds" "$RC:$OUT" "0:"
run ctl auth get repo testinput
is "auth get repo testinput lists root as repoOwner and alice as repoReader" "$OUT" \
"root: [repoOwner]
$ALICE: [repoReader]"

# 3. alice tries to write -> refused with the exact message (REPO_WRITE).
run as $ALICE put file testinput:/alice.csv -f "$T_DIR/data.csv"
is "alice's write is refused (exit 1)" "$RC" 1
is "the refusal reads exactly as Pachyderm's" "$ERR" "$(denial $ALICE REPO_WRITE 'REPO default/testinput')"
run as $ALICE get file testinput:/data.csv
is "alice can read as repoReader" "$RC:$OUT" "0:$(printf 'a,b\n1,2')"
run as $ALICE list file testinput
like "alice can list files" "$OUT" "data.csv"
unlike "the refused write left no file" "$OUT" "alice.csv"
run ctl auth check repo testinput $ALICE
is "auth check shows alice's roles and permissions" "$OUT" \
"Roles: [repoReader]
Permissions: [REPO_READ REPO_INSPECT_COMMIT REPO_LIST_COMMIT REPO_LIST_BRANCH REPO_INSPECT_FILE REPO_LIST_FILE REPO_ADD_PIPELINE_READER REPO_REMOVE_PIPELINE_READER PIPELINE_LIST_JOB]"
run ctl auth check repo testinput $ALICE --permission REPO_WRITE
is "auth check --permission REPO_WRITE: denied, exit 1" "$RC" 1
is "... with the same message" "$ERR" "$(denial $ALICE REPO_WRITE 'REPO default/testinput')"

# 4. repoWriter replaces repoReader; alice can write.
run ctl auth set repo testinput repoWriter $ALICE
is "auth set repoWriter" "$RC" 0
run as $ALICE put file testinput:/alice.csv -f "$T_DIR/data.csv"
is "alice can write as repoWriter" "$RC" 0
run ctl auth get repo testinput
is "repoReader was replaced by repoWriter" "$OUT" \
"root: [repoOwner]
$ALICE: [repoWriter]"

# 5. none removes alice.
run ctl auth set repo testinput none $ALICE
is "auth set none" "$RC" 0
run ctl auth get repo testinput
is "alice has no role on testinput" "$OUT" "root: [repoOwner]"
run as $ALICE get file testinput:/data.csv
is "alice can no longer read" "$RC" 1
is "... refused with REPO_READ" "$ERR" "$(denial $ALICE REPO_READ 'REPO default/testinput')"

# 6. allClusterUsers repoReader: every logged-in user can read.
run ctl auth set repo testinput repoReader allClusterUsers
is "auth set repoReader allClusterUsers" "$RC" 0
run as $ALICE get file testinput:/data.csv
is "alice reads through allClusterUsers" "$RC" 0
run as user:bob@example.com get file testinput:/data.csv
is "so does bob, who has no binding of his own" "$RC" 0
run as user:bob@example.com put file testinput:/bob.csv -f "$T_DIR/data.csv"
is "but bob cannot write" "$ERR" "$(denial user:bob@example.com REPO_WRITE 'REPO default/testinput')"

# 7. group:testgroup repoOwner; auth get-groups lists the groups known to the node.
run ctl auth set repo testinput repoOwner group:testgroup
is "auth set repoOwner group:testgroup" "$RC" 0
run ctl auth get repo testinput
is "auth get repo testinput lists every binding" "$OUT" \
"root: [repoOwner]
allClusterUsers: [repoReader]
group:testgroup: [repoOwner]"
run ctl auth get-groups
like "auth get-groups lists group:testgroup" "$OUT" "^group:testgroup$"
run ctl group create testgroup carol@example.com
run as user:carol@example.com put file testinput:/carol.csv -f "$T_DIR/data.csv"
is "a member of testgroup writes as repoOwner" "$RC" 0
run as user:carol@example.com auth set repo testinput repoReader $ALICE
is "... and may change testinput's bindings" "$RC" 0
run as user:carol@example.com auth explain user:carol@example.com REPO_MODIFY_BINDINGS repo testinput
like "explain names the group binding" "$OUT" "role repoOwner bound to group:testgroup on repo default/testinput"

# The audit log has every change and every denial.
AUDIT=$(cat "$T_DIR/log/audit.log")
like "the audit log records alice's refused write" "$AUDIT" \
	'"caller":"user:alice@example.com".*"action":"file.put","target":"REPO default/testinput","result":"denied","reason":"needs permissions \[REPO_WRITE\]"'
like "the audit log records the binding change" "$AUDIT" \
	'"caller":"root".*"action":"auth.set","target":"REPO default/testinput","result":"ok".*"detail":"group:testgroup=\[repoOwner\]"'
ok "idgated stops cleanly on SIGTERM" daemon_stop
done_testing
