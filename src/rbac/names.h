/* What names may look like: projects, repos, roles, and subjects (principals).
 * Every refusal comes with a short message that quotes the name safely. */
#ifndef IDG_RBAC_NAMES_H
#define IDG_RBAC_NAMES_H

#include <stddef.h>

#define IDG_PROJECT_NAME_MAX 51		/* Pachyderm's limit */
#define IDG_REPO_NAME_MAX 63
#define IDG_SUBJECT_NAME_MAX 255	/* the part after PREFIX: (an e-mail address fits) */
#define IDG_SUBJECT_MAX (IDG_SUBJECT_NAME_MAX + 16)
#define IDG_ROLE_NAME_MAX 64
#define IDG_REPO_FULL_MAX (IDG_PROJECT_NAME_MAX + 1 + IDG_REPO_NAME_MAX)
#define IDG_DEFAULT_PROJECT "default"

#define IDG_SUBJECT_ALL "allClusterUsers"
#define IDG_SUBJECT_ROOT "root"

enum idg_pkind {
	IDG_PK_ROOT,
	IDG_PK_ALL,
	IDG_PK_USER,
	IDG_PK_GROUP,
	IDG_PK_ROBOT,
	IDG_PK_PIPELINE,
};

/* Each returns 0, or IDG_ERR_INVAL with a one-line reason in why. */
int idg_name_project(const char *s, char *why, size_t len);
int idg_name_repo(const char *s, char *why, size_t len);
int idg_name_role(const char *s, char *why, size_t len);

/* "REPO" (project default) or "PROJECT/REPO" -> project and repo names, both checked.
 * project and repo must hold IDG_PROJECT_NAME_MAX+1 and IDG_REPO_NAME_MAX+1 bytes. */
int idg_repo_split(const char *arg, char *project, char *repo, char *why, size_t len);

/* A subject: allClusterUsers, root, or PREFIX:NAME with a known prefix and a valid name. */
int idg_subject_check(const char *s, enum idg_pkind *kind_out, char *why, size_t len);

/* Quote untrusted text for a message: at most 48 characters, non-printables as \xNN. */
void idg_quote(const char *s, char *out, size_t len);

#endif
