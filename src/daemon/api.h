/* Helpers shared by idgated's request handlers (api_*.c). Internal to the daemon. */
#ifndef IDG_DAEMON_API_H
#define IDG_DAEMON_API_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/daemon.h"
#include "store/store.h"

#define API_NAME_BUF (IDG_REPO_FULL_MAX + 1)

typedef void (*idg_api_fn)(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp);

/* Handlers, one per operation. */
void api_ping(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_whoami(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_activate(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_deactivate(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_set(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_get(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_check(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_explain(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_roles_for_perm(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_get_groups(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_robot_token(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_revoke(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_assign_role(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_my_permissions(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_subject_roles(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_role_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_role_describe(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_role_create(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_role_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_project_create(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_project_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_project_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_repo_create(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_repo_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_repo_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pipeline_create(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pipeline_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pipeline_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_group_create(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_group_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_group_members(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_group_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_group_describe(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_group_rename(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_file_put(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_file_get(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_file_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_file_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);

/* The action name of the current request ("auth.set", ...), for the audit log. */
const char *api_action(const struct idg_req *rq);

/* Set the reply to status with a formatted reason. Always returns false. */
bool api_fail(struct idg_reply *rp, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A string field: required ones fail the reply (IDG_ST_INPUT) when absent or malformed;
 * optional ones give NULL when absent. max bounds the length. */
bool api_str(const struct idg_req *rq, struct idg_reply *rp, uint16_t tag, const char *what,
    size_t max, const char **out);
bool api_opt_str(const struct idg_req *rq, struct idg_reply *rp, uint16_t tag, const char *what,
    size_t max, const char **out);
uint32_t api_flags(const struct idg_req *rq);

/* The caller must have an idgate identity. */
bool api_need_identity(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp);

/* Resource from RTYPE ("cluster", "project", "repo") and RNAME; it must exist.
 * name_out gets the canonical name ("" for the cluster, "PROJECT/REPO" for a repo). */
bool api_resource(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    idg_rid *rid, enum idg_rtype *type, char name_out[API_NAME_BUF]);
/* A repo argument ("REPO" or "PROJECT/REPO") that must exist. */
bool api_repo(struct idg_daemon *d, struct idg_reply *rp, const char *arg, idg_rid *rid,
    char name_out[API_NAME_BUF]);

/* "REPO default/x", "PROJECT p", "CLUSTER " */
void api_target(const struct idg_daemon *d, idg_rid rid, char *buf, size_t len);

/* Does the caller hold every permission (numbers) on rid? On denial the reply carries the
 * exact message and the denial is audited. */
bool api_require(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    idg_rid rid, const int *perm_numbers, size_t n);
bool api_require1(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    idg_rid rid, int perm_number);
/* Like api_require, without replying or auditing. */
bool api_allowed(const struct idg_daemon *d, const struct idg_caller *who, idg_rid rid,
    int perm_number);

/* Validate a subject; INPUT error with the spec's message when invalid. */
bool api_subject(struct idg_reply *rp, const char *subject, enum idg_pkind *kind);

/* Commit the change and audit it; on failure the reply says why and nothing changed. */
bool api_commit(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    struct idg_change *c, const char *target, const char *detail);
void api_audit(struct idg_daemon *d, const struct idg_req *rq, const char *target,
    const char *result, const char *reason, const char *detail);

/* Role names (comma list or repeated fields) into role ids bound on a resource of type t. */
bool api_roles(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    enum idg_rtype t, idg_role *roles, size_t *n, bool *none);

/* who's permissions and roles on rid that act on a resource of rid's type: what 'auth
 * check' and ACCESS_LEVEL show. seen has idg_rbac_role_limit() bytes. */
void api_effective(const struct idg_daemon *d, idg_pid who, idg_rid rid, struct idg_permset *ps,
    uint8_t *seen);

/* cJSON helpers: arrays of strings, a resource object. */
cJSON *api_json_resource(const struct idg_daemon *d, idg_rid rid);
cJSON *api_json_roles(const struct idg_daemon *d, const idg_role *roles, size_t n);
cJSON *api_json_roles_seen(const struct idg_daemon *d, const uint8_t *seen);
cJSON *api_json_perms(const struct idg_permset *ps);
/* The reply's JSON object, created on first use. */
cJSON *api_obj(struct idg_reply *rp);
/* A wire field in the reply (rp->fields, created on first use); false (the reply an
 * IDG_ST_ERROR) when it cannot be added. */
bool api_reply_str(struct idg_reply *rp, uint16_t tag, const char *s);
bool api_reply_u32(struct idg_reply *rp, uint16_t tag, uint32_t v);
bool api_reply_u64(struct idg_reply *rp, uint16_t tag, uint64_t v);

/* Binding mutation for subject on rid with role ids (n == 0: remove). */
void api_mut_binding(const struct idg_daemon *d, struct idg_change *c, idg_rid rid,
    const char *subject, const idg_role *roles, size_t n);
/* The caller's principal id, interning it if needed (for membership of new bindings). */
idg_pid api_caller_pid(const struct idg_daemon *d, const struct idg_caller *who);

/* Groups that bindings name but that no login or command has defined yet, as
 * {"name", "source": "unseen", "members": 0} entries (api_groups.c). */
void api_unseen_groups(const struct idg_daemon *d, cJSON *arr);

/* Data directories (api_files.c). A new repo's directory is made under a temporary name
 * before its change is committed (prepare), renamed into place after (commit), or removed if
 * the commit failed (abandon); a deleted repo's directory is moved aside (retire). */
int api_repo_dir_prepare(struct idg_daemon *d, const char *project, const char *repo, char *tmp,
    size_t tmplen, char *err, size_t errlen);
int api_repo_dir_commit(struct idg_daemon *d, const char *project, const char *repo,
    const char *tmp, char *err, size_t errlen);
void api_repo_dir_abandon(struct idg_daemon *d, const char *project, const char *tmp);
int api_repo_dir_retire(struct idg_daemon *d, const char *project, const char *repo, char *err,
    size_t errlen);
/* The data root (created the first time), kept open in d; ROOT/PROJECT opened beneath it
 * without following symlinks, root's and not writable by others. -1 with err. */
int idg_data_root_fd(struct idg_daemon *d, char *err, size_t errlen);
int idg_project_dir_open(struct idg_daemon *d, const char *project, char *err, size_t errlen);

#endif
