/* Name mapping for IdP identities; see idmap.h for the rules (also in idgate.conf(5)). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "idmap/idmap.h"
#include "rbac/names.h"

static int
posix_valid(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

/* Lowercase n bytes of s into out (ASCII only: anything else stays and fails the check). */
static void
lower(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	out[n] = '\0';
}

int
idg_idmap_posix_name(enum idg_idmap_rule rule, size_t max, const char *username, char *out,
    size_t outlen, char *why, size_t whylen)
{
	char q[256], cand[IDG_POSIX_NAME_MAX + 1];
	const char *at = strchr(username, '@');
	size_t ulen = strlen(username), llen = at ? (size_t)(at - username) : 0;

	if (max > IDG_POSIX_NAME_MAX)
		max = IDG_POSIX_NAME_MAX;
	if (outlen <= max)
		return IDG_ERR_INVAL;
	if (rule != IDG_IDMAP_EMAIL_LOCAL && ulen <= max) {
		lower(username, ulen, cand);
		if (posix_valid(cand, ulen, max)) {
			memcpy(out, cand, ulen + 1);
			return 0;
		}
	}
	if (rule != IDG_IDMAP_USERNAME && at != NULL && llen <= max) {
		lower(username, llen, cand);
		if (posix_valid(cand, llen, max)) {
			memcpy(out, cand, llen + 1);
			return 0;
		}
	}
	idg_quote(username, q, sizeof(q));
	snprintf(why, whylen, "IdP username \"%s\" has no valid POSIX login name by the '%s' rule "
	    "(at most %zu of a-z, 0-9, '_', '.', '-', starting with a letter or '_')", q,
	    rule == IDG_IDMAP_USERNAME ? "username" : rule == IDG_IDMAP_EMAIL_LOCAL ?
	    "email_local" : "auto", max);
	return IDG_ERR_INVAL;
}

bool
idg_idmap_domain_listed(const char *list, const char *domain, size_t n)
{
	const char *p = list ? list : "";

	while (*p) {
		size_t len;

		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len > 0 && len == n && strncasecmp(p, domain, n) == 0)
			return true;
		p += len;
	}
	return false;
}

int
idg_idmap_login_name(enum idg_idmap_rule rule, size_t max, const char *fold_domains,
    const char *username, char *out, size_t outlen, char *why, size_t whylen)
{
	char cand[IDG_POSIX_NAME_MAX + 1], q[256];
	const char *at = strchr(username, '@');
	int rc;

	if ((rc = idg_idmap_posix_name(rule, max, username, cand, sizeof(cand), why,
	    whylen)) < 0)
		return rc;
	/* '@' is never in a POSIX name: a name from a username with one was cut there. */
	if (at != NULL && !idg_idmap_domain_listed(fold_domains, at + 1, strlen(at + 1))) {
		idg_quote(username, q, sizeof(q));
		snprintf(why, whylen, "IdP username \"%s\" would fold to login name '%s', but its "
		    "domain is not one [idmap] fold_domains lets fold (%s)", q, cand,
		    fold_domains && *fold_domains ? fold_domains : "none is listed");
		return IDG_ERR_DENIED;
	}
	if (strlen(cand) >= outlen)
		return IDG_ERR_INVAL;
	memcpy(out, cand, strlen(cand) + 1);
	return 0;
}

int
idg_idmap_group_name(const char *raw, char *out, size_t outlen, char *why, size_t whylen)
{
	const char *s = raw[0] == '/' ? raw + 1 : raw;
	size_t n = strnlen(s, IDG_SUBJECT_NAME_MAX + 1);
	char q[256];

	if (n == 0 || n > IDG_SUBJECT_NAME_MAX || n >= outlen) {
		idg_quote(raw, q, sizeof(q));
		snprintf(why, whylen, "group \"%s\" is empty or longer than %d bytes", q,
		    IDG_SUBJECT_NAME_MAX);
		return IDG_ERR_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i] == '/' ? '.' : s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("._@+-", c) != NULL) || c == '\0') {
			idg_quote(raw, q, sizeof(q));
			snprintf(why, whylen, "group \"%s\" has characters not allowed in a group name "
			    "(letters, digits and ._@+- are)", q);
			return IDG_ERR_INVAL;
		}
		out[i] = c;
	}
	out[n] = '\0';
	/* The group principal's rule (rbac/names.c): a group stored under a name the role engine
	 * refuses ("-x", ".hidden", "@all", "//x") could never be named again (fuzz_idmap). */
	if (!((out[0] >= 'a' && out[0] <= 'z') || (out[0] >= 'A' && out[0] <= 'Z') ||
	    (out[0] >= '0' && out[0] <= '9'))) {
		idg_quote(raw, q, sizeof(q));
		snprintf(why, whylen, "group \"%s\" does not start with a letter or a digit", q);
		return IDG_ERR_INVAL;
	}
	return 0;
}

int
idg_idmap_posix_group(const char *name, char *why, size_t whylen)
{
	size_t n = strnlen(name, IDG_POSIX_GROUP_MAX + 1);
	bool digits = true;
	char q[256];

	idg_quote(name, q, sizeof(q));
	if (n == 0 || n > IDG_POSIX_GROUP_MAX) {
		snprintf(why, whylen, "group name \"%s\" is empty or longer than %d bytes", q,
		    IDG_POSIX_GROUP_MAX);
		return IDG_ERR_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr("._@+-", c) != NULL))) {
			snprintf(why, whylen, "group name \"%s\" has characters a POSIX group name "
			    "cannot have (letters, digits and ._@+- can)", q);
			return IDG_ERR_INVAL;
		}
		digits &= c >= '0' && c <= '9';
	}
	if (name[0] == '-' || digits) {
		snprintf(why, whylen, "group name \"%s\" %s", q, digits ? "is all digits (a gid "
		    "to every tool)" : "starts with '-' (an option to every tool)");
		return IDG_ERR_INVAL;
	}
	return 0;
}

int
idg_idmap_local_user(const char *path, const char *name)
{
	FILE *f = fopen(path ? path : "/etc/passwd", "re");
	struct passwd *pw;
	int found = 0;

	if (f == NULL)
		return IDG_ERR_IO;
	while ((pw = fgetpwent(f)) != NULL)
		if (strcmp(pw->pw_name, name) == 0) {
			found = 1;
			break;
		}
	fclose(f);
	return found;
}
