#!/bin/sh
# Pipelines as spec/roles.md has them: pipeline:PROJECT/NAME is repoReader on each input and
# repoWriter on the output, and is never granted by hand; creating one needs REPO_READ and
# REPO_ADD_PIPELINE_READER on every input and write access (REPO_WRITE,
# REPO_ADD_PIPELINE_WRITER) on an existing output, or PROJECT_CREATE_REPO for a new output,
# whose creator becomes repoOwner; update drops the bindings of dropped inputs; delete drops
# every binding and keeps the output repo.
. "$top_srcdir/tests/integ/lib.sh"

ALICE=user:alice@example.com
BOB=user:bob@example.com
U1=1234
RP_PERMS="REPO_READ REPO_INSPECT_COMMIT REPO_LIST_COMMIT REPO_LIST_BRANCH REPO_INSPECT_FILE REPO_LIST_FILE REPO_ADD_PIPELINE_READER REPO_REMOVE_PIPELINE_READER PIPELINE_LIST_JOB"
RW_PERMS="REPO_READ REPO_WRITE REPO_INSPECT_COMMIT REPO_LIST_COMMIT REPO_DELETE_COMMIT REPO_CREATE_BRANCH REPO_LIST_BRANCH REPO_DELETE_BRANCH REPO_INSPECT_FILE REPO_LIST_FILE REPO_ADD_PIPELINE_READER REPO_REMOVE_PIPELINE_READER REPO_ADD_PIPELINE_WRITER PIPELINE_LIST_JOB"

# held SUBJECT PERM REPO: auth check --permission, as root, answered by exit status.
held() { ctl auth check repo "$3" "$1" --permission "$2" -q; }

t_setup
ok "idgated starts" daemon_start
ctl create project img >/dev/null &&
	for R in raw labels extra out; do ctl create repo img/$R >/dev/null || exit 1; done &&
	printf 'pixels\n' | ctl put file img/raw:/a.png
ok "project img with repos raw, labels, extra, out" test $? -eq 0

# ---------- root creates a pipeline with two inputs and a new output ----------
run ctl create pipeline img/edges --input img/raw --input img/labels
is "create pipeline img/edges (inputs raw, labels; output img/edges, created)" "$RC:$ERR" "0:"
run ctl auth get repo img/raw
is "pipeline:img/edges is repoReader on input raw" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoReader]"
run ctl auth get repo img/labels
is "... and on input labels" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoReader]"
run ctl auth get repo img/edges
is "the output repo was created: root is its repoOwner, the pipeline its repoWriter" "$OUT" \
"root: [repoOwner]
pipeline:img/edges: [repoWriter]"
ok "the output repo has its data directory" test -d "$T_DIR/repos/img/edges"
run ctl auth check repo img/raw pipeline:img/edges
is "auth check: the pipeline's roles and permissions on an input" "$OUT" "Roles: [repoReader]
Permissions: [$RP_PERMS]"
run ctl auth check repo img/edges pipeline:img/edges
is "auth check: the pipeline's roles and permissions on the output" "$OUT" "Roles: [repoWriter]
Permissions: [$RW_PERMS]"
run ctl auth check repo img/raw pipeline:img/edges --permission REPO_WRITE
is "the pipeline cannot write its input" "$RC:$ERR" \
	"1:$(denial pipeline:img/edges REPO_WRITE 'REPO img/raw')"
ok "... nor read a repo that is not its input" test "$(held pipeline:img/edges REPO_READ img/extra; echo $?)" = 1
run ctl auth get repo img/extra
is "img/extra has no pipeline binding" "$OUT" "root: [repoOwner]"
run ctl list pipeline
is "list pipeline: one row, inputs and output" \
	"$(printf '%s\n' "$OUT" | sed 's/  */ /g; s/ [0-9T:-]*Z$//')" \
	"PIPELINE INPUTS OUTPUT CREATED
img/edges img/raw,img/labels img/edges"
run ctl -o json list pipeline
like "list pipeline -o json names the pipeline, output, inputs and creator" \
	"$(printf '%s' "$OUT" | tr -d ' \t\n')" \
	'^\{"pipelines":\[\{"name":"img/edges","output":"img/edges","inputs":\["img/raw","img/labels"\],"creator":"root","created":[0-9]+\}\]\}$'
like "the audit log records the creation" "$(cat "$T_DIR/log/audit.log")" \
	'"caller":"root".*"action":"pipeline.create","target":"PIPELINE img/edges","result":"ok"'

# Never by hand.
run ctl auth set repo img/extra repoReader pipeline:img/edges
is "a pipeline cannot be granted a role by hand" "$RC:$ERR" \
	"2:pipeline principals are not granted by hand: their roles follow their inputs and output (idgatectl create pipeline)"
run ctl auth set repo img/raw none pipeline:img/edges
is "... nor have its binding removed by hand" "$RC" 2
run ctl rbac assign-role repoWriter -u pipeline:img/edges --repo img/raw
is "... nor through rbac assign-role" "$RC" 2
run ctl auth get repo img/raw
is "its binding on raw is as it was" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoReader]"

# Repos a pipeline uses cannot be deleted.
run ctl delete repo img/edges
is "the output repo of a pipeline cannot be deleted" "$RC:$ERR" \
	"2:repo img/edges is the output of pipeline img/edges: delete or update the pipeline first"
run ctl delete repo img/raw
is "an input repo of a pipeline cannot be deleted (exit 2)" "$RC" 2
like "... and the message says so in plain words" "$ERR" \
	"^repo img/raw is an input of pipeline img/edges: delete or update the pipeline first$"

# Other refusals.
run ctl create pipeline img/edges --input img/raw
is "a pipeline that exists" "$RC:$ERR" "2:pipeline img/edges already exists"
run ctl create pipeline img/p2 --input img/nope
is "an input that does not exist" "$RC:$ERR" "2:repo img/nope not found"
run ctl create pipeline img/p2 --input img/raw --output-repo img/raw
is "an input that is also the output" "$RC:$ERR" "2:repo img/raw cannot be both an input and the output"
run ctl create pipeline img/p2 --input img/raw --output-repo img/edges
is "an output that is another pipeline's output" "$RC:$ERR" \
	"2:repo img/edges is already the output of pipeline img/edges"
run ctl create pipeline nope/p2 --input img/raw
is "a pipeline in a project that does not exist" "$RC:$ERR" "2:project nope not found"
run ctl update pipeline img/nope --input img/raw
is "update of a pipeline that does not exist" "$RC:$ERR" "2:pipeline img/nope not found"
run ctl delete pipeline img/nope
is "delete of a pipeline that does not exist" "$RC:$ERR" "2:pipeline img/nope not found"
run ctl list repo img
unlike "no repo was created by the refusals" "$OUT" "p2"
ok "... nor a data directory" test ! -e "$T_DIR/repos/img/p2"

# ---------- what a user needs to create one ----------
# alice: only REPO_READ on raw (a custom role), nothing else.
ctl rbac create-role readonly -p REPO_READ -b repo >/dev/null
ctl auth set repo img/raw readonly $ALICE
run as $ALICE create pipeline img/thumbs --input img/raw --output-repo img/out
is "read alone on an input is not enough: refused (exit 1) with the exact denial" "$RC:$OUT:$ERR" \
	"1::$(denial $ALICE 'REPO_READ REPO_ADD_PIPELINE_READER' 'REPO img/raw')"
# repoReader on the input; only repoReader on the existing output.
ctl auth set repo img/raw repoReader $ALICE
ctl auth set repo img/out repoReader $ALICE
run as $ALICE create pipeline img/thumbs --input img/raw --output-repo img/out
is "repoReader on the input, read-only on an existing output: refused" "$RC:$ERR" \
	"1:$(denial $ALICE 'REPO_WRITE REPO_ADD_PIPELINE_WRITER' 'REPO img/out')"
# A second input she cannot read.
ctl auth set repo img/out repoWriter $ALICE
run as $ALICE create pipeline img/thumbs --input img/raw --input img/extra --output-repo img/out
is "an input she holds nothing on: refused, naming that input" "$RC:$ERR" \
	"1:$(denial $ALICE 'REPO_READ REPO_ADD_PIPELINE_READER' 'REPO img/extra')"
# A new output needs PROJECT_CREATE_REPO on its project.
run as $ALICE create pipeline img/thumbs --input img/raw
is "a new output without PROJECT_CREATE_REPO: refused" "$RC:$ERR" \
	"1:$(denial $ALICE PROJECT_CREATE_REPO 'PROJECT img')"
run ctl list pipeline
unlike "no refused pipeline was stored" "$OUT" "thumbs"
run ctl auth get repo img/raw
unlike "... nor any pipeline binding" "$OUT" "pipeline:img/thumbs"
ok "... nor an output repo directory" test ! -e "$T_DIR/repos/img/thumbs"
is "... nor a half-made one" "$(ls -A "$T_DIR/repos/img" | grep -c '^\.idgate')" 0
# Allowed: repoReader on the input and repoWriter on the existing output.
run as $ALICE create pipeline img/thumbs --input img/raw --output-repo img/out
is "repoReader on the input and repoWriter on the output: allowed" "$RC:$ERR" "0:"
run ctl auth get repo img/out
is "img/out: alice keeps repoWriter, the pipeline is repoWriter" "$OUT" "root: [repoOwner]
$ALICE: [repoWriter]
pipeline:img/thumbs: [repoWriter]"
# With projectWriter on img she may create a pipeline with a new output, and owns it.
ctl auth set project img projectWriter $ALICE
ctl auth set repo img/labels repoReader $ALICE
run as $ALICE create pipeline img/crops --input img/raw --input img/labels
is "projectWriter: a pipeline with a new output" "$RC:$ERR" "0:"
run ctl auth get repo img/crops
is "alice created the output, so she is its repoOwner; the pipeline its repoWriter" "$OUT" \
"$ALICE: [repoOwner]
pipeline:img/crops: [repoWriter]"
run ctl auth get repo img/raw
is "img/raw now reads three pipelines' bindings" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoReader]
$ALICE: [repoReader]
pipeline:img/thumbs: [repoReader]
pipeline:img/crops: [repoReader]"
if command -v setpriv >/dev/null 2>&1; then
	run as_uid $U1 "$IDGATECTL" --socket "$SOCK" list pipeline
	is "a local uid without an identity cannot list pipelines" "$RC" 1
else
	pass "# SKIP setpriv is not installed"
fi

# ---------- update: dropped inputs lose the binding ----------
run ctl update pipeline img/edges --input img/raw
is "update img/edges: drop input labels" "$RC:$ERR" "0:"
run ctl auth get repo img/labels
is "img/labels: the pipeline's binding is gone" "$OUT" "root: [repoOwner]
$ALICE: [repoReader]
pipeline:img/crops: [repoReader]"
run ctl auth check repo img/labels pipeline:img/edges --permission REPO_READ
is "the pipeline can no longer read labels" "$RC:$ERR" \
	"1:$(denial pipeline:img/edges REPO_READ 'REPO img/labels')"
ok "... and still reads raw" held pipeline:img/edges REPO_READ img/raw
ok "... and still writes its output" held pipeline:img/edges REPO_WRITE img/edges
run ctl update pipeline img/edges --input img/raw --input img/extra
is "update img/edges: add input extra" "$RC" 0
run ctl auth get repo img/extra
is "img/extra: the pipeline is repoReader" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoReader]"
run ctl list pipeline
like "list pipeline shows the new inputs" "$OUT" "^img/edges +img/raw,img/extra +img/edges "
# Dropping an input needs REPO_REMOVE_PIPELINE_READER on it; bob holds nothing on extra.
ctl auth set repo img/raw repoReader $BOB
ctl auth set repo img/edges repoWriter $BOB
run as $BOB update pipeline img/edges --input img/raw
is "dropping an input without REPO_REMOVE_PIPELINE_READER there: refused" "$RC:$ERR" \
	"1:$(denial $BOB REPO_REMOVE_PIPELINE_READER 'REPO img/extra')"
run ctl auth get repo img/extra
is "... and extra keeps the pipeline's binding" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoReader]"
# Changing the output: the old output loses the binding, the new one gets repoWriter.
run ctl update pipeline img/edges --input img/raw --input img/extra --output-repo img/edges2
is "update img/edges with a new output" "$RC:$ERR" "0:"
run ctl auth get repo img/edges
is "the old output lost the pipeline's binding" "$OUT" "root: [repoOwner]
$BOB: [repoWriter]"
run ctl auth get repo img/edges2
is "the new output has it" "$OUT" "root: [repoOwner]
pipeline:img/edges: [repoWriter]"

# ---------- delete: every binding goes, the output repo stays ----------
printf 'result\n' | ctl put file img/edges2:/out.txt
run as $BOB delete pipeline img/edges
is "deleting a pipeline needs REPO_DELETE on its output" "$RC:$ERR" \
	"1:$(denial $BOB REPO_DELETE 'REPO img/edges2')"
run ctl delete pipeline img/edges
is "root deletes pipeline img/edges" "$RC:$ERR" "0:"
for R in raw extra edges2; do
	run ctl auth get repo img/$R
	unlike "img/$R has no binding of pipeline:img/edges any more" "$OUT" "pipeline:img/edges:"
done
run ctl auth get repo img/edges2
is "the output repo stays, with root as its owner" "$RC:$OUT" "0:root: [repoOwner]"
run ctl get file img/edges2:/out.txt
is "... and its data" "$OUT" "result"
run ctl list pipeline
unlike "list pipeline no longer shows it" "$OUT" "img/edges "
like "... the others are still there" "$OUT" "^img/thumbs +img/raw +img/out "
run as $ALICE delete pipeline img/crops
is "alice, repoOwner of its output, deletes img/crops" "$RC:$ERR" "0:"
run ctl auth get repo img/crops
is "img/crops stays, alice its repoOwner, no pipeline binding" "$OUT" "$ALICE: [repoOwner]"
run ctl auth get repo img/labels
is "img/labels has no pipeline binding left" "$OUT" "root: [repoOwner]
$ALICE: [repoReader]"
ctl delete pipeline img/thumbs
run ctl list pipeline
is "no pipelines left" "$OUT" "PIPELINE  INPUTS  OUTPUT  CREATED"
run ctl delete repo img/edges2
is "the former output can now be deleted" "$RC" 0
run ctl delete repo img/extra
is "... and a former input" "$RC" 0
like "the audit log records the deletion" "$(cat "$T_DIR/log/audit.log")" \
	'"action":"pipeline.delete","target":"PIPELINE img/edges","result":"ok","reason":"","detail":"output repo kept"'

# ---------- the bindings survive a restart as they are ----------
ctl create pipeline img/final --input img/raw --output-repo img/out >/dev/null
BEFORE=$(ctl auth get repo img/raw; ctl auth get repo img/out; ctl list pipeline)
ok "idgated stops" daemon_stop
ok "idgated starts again" daemon_start
is "after a restart the pipeline and its bindings are as they were" \
	"$(ctl auth get repo img/raw; ctl auth get repo img/out; ctl list pipeline)" "$BEFORE"
ok "idgated stops cleanly on SIGTERM" daemon_stop
done_testing
