/* How an IdP identity becomes names on the host: the POSIX login name (by a documented rule),
 * the user: principal, and group: principals. Pure functions, plus one lookup in /etc/passwd
 * (never through NSS: idgated must not resolve names through its own module). */
#ifndef IDG_IDMAP_IDMAP_H
#define IDG_IDMAP_IDMAP_H

#include <stdbool.h>
#include <stddef.h>

enum idg_idmap_rule {
	IDG_IDMAP_AUTO = 0,	/* the username if it is a valid POSIX name, else its e-mail local part */
	IDG_IDMAP_USERNAME,	/* the username, lowercased */
	IDG_IDMAP_EMAIL_LOCAL,	/* the part before '@', lowercased */
};

#define IDG_POSIX_NAME_MAX 32

/* The POSIX login name for an IdP username: ASCII letters lowercased, then it must match
 * [a-z_][a-z0-9_.-]* and be at most max bytes. IDG_ERR_INVAL with a reason otherwise. */
int idg_idmap_posix_name(enum idg_idmap_rule rule, size_t max, const char *username, char *out,
    size_t outlen, char *why, size_t whylen);

/* The POSIX login name for an IdP user's login: idg_idmap_posix_name, and an e-mail address
 * is cut to its local part only when its domain (after the first '@', compared without case)
 * is one of fold_domains: names separated by spaces or commas; NULL or "" folds none. Two
 * people at different domains then never fold into one name unless the administrator says
 * those domains are one organisation. IDG_ERR_DENIED with a reason when the domain is not
 * listed; IDG_ERR_INVAL as idg_idmap_posix_name. */
int idg_idmap_login_name(enum idg_idmap_rule rule, size_t max, const char *fold_domains,
    const char *username, char *out, size_t outlen, char *why, size_t whylen);

/* Is domain (n bytes) in the list (as idg_idmap_login_name reads it)? */
bool idg_idmap_domain_listed(const char *list, const char *domain, size_t n);

/* The group principal's name for an IdP group: a leading '/' (a Keycloak path) is dropped
 * and each further '/' becomes '.'; the result must then be 1 to 255 of [A-Za-z0-9._@+-],
 * starting with a letter or a digit (as a group principal does). Anything else (':', ',',
 * spaces, control characters, non-ASCII, too long) is refused, never passed through or
 * guessed at. */
int idg_idmap_group_name(const char *raw, char *out, size_t outlen, char *why, size_t whylen);

#define IDG_POSIX_GROUP_MAX 32

/* Whether an idgate group name can be a POSIX group name: at most IDG_POSIX_GROUP_MAX bytes
 * of letters, digits and ._@+- (the group principal's characters), not starting with '-'
 * (an option to every tool) and not all digits (chgrp would take it for a gid). */
int idg_idmap_posix_group(const char *name, char *why, size_t whylen);

/* 1 when /etc/passwd (or path) has an account called name, 0 when not, <0 on error. */
int idg_idmap_local_user(const char *path, const char *name);

#endif
