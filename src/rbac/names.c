/* Name rules. Names become directory names, /etc/group fields and log lines, so the
 * alphabet is small and fixed; IdP names outside it are mapped by the connectors. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "rbac/names.h"

void
idg_quote(const char *s, char *out, size_t len)
{
	size_t o = 0, i;

	if (len == 0)
		return;
	for (i = 0; s[i] && o + 5 < len && i < 48; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (s[i] && o + 4 < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static const char *
describe_char(unsigned char c, char *buf, size_t len)
{
	if (c == ' ')
		return "a space";
	if (c < 0x20 || c == 0x7f)
		snprintf(buf, len, "a control character (0x%02x)", c);
	else if (c >= 0x80)
		snprintf(buf, len, "a non-ASCII byte (0x%02x)", c);
	else
		snprintf(buf, len, "'%c'", c);
	return buf;
}

/* Shared shape: 1..max bytes from alphabet, first character alphanumeric (or '_' when
 * allow_underscore_first). */
static int
check_word(const char *what, const char *s, size_t max, const char *extra, bool underscore_first,
    char *why, size_t len)
{
	char q[256], cbuf[48];
	size_t n = strnlen(s, max + 1);

	idg_quote(s, q, sizeof(q));
	if (n == 0) {
		snprintf(why, len, "%s name is empty", what);
		return IDG_ERR_INVAL;
	}
	if (n > max) {
		snprintf(why, len, "%s name \"%s\" is %zu bytes long: at most %zu are allowed", what, q,
		    strlen(s), max);
		return IDG_ERR_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(extra, c) != NULL);

		if (!ok) {
			snprintf(why, len, "%s name \"%s\" contains %s: allowed are letters, digits and %s",
			    what, q, describe_char(c, cbuf, sizeof(cbuf)), extra);
			return IDG_ERR_INVAL;
		}
	}
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= '0' && s[0] <= '9') || (underscore_first && s[0] == '_'))) {
		snprintf(why, len, "%s name \"%s\" must start with a letter or a digit", what, q);
		return IDG_ERR_INVAL;
	}
	return 0;
}

int
idg_name_project(const char *s, char *why, size_t len)
{
	return check_word("project", s, IDG_PROJECT_NAME_MAX, "_-", false, why, len);
}

int
idg_name_repo(const char *s, char *why, size_t len)
{
	return check_word("repo", s, IDG_REPO_NAME_MAX, "_-", false, why, len);
}

int
idg_name_role(const char *s, char *why, size_t len)
{
	int r = check_word("role", s, IDG_ROLE_NAME_MAX, "_-", false, why, len);

	if (r == 0 && strcmp(s, "none") == 0) {
		snprintf(why, len, "role name \"none\" is reserved: it means no role");
		return IDG_ERR_INVAL;
	}
	return r;
}

int
idg_repo_split(const char *arg, char *project, char *repo, char *why, size_t len)
{
	const char *slash = strchr(arg, '/');
	char q[256];
	int r;

	if (strchr(arg, '@') != NULL) {
		idg_quote(arg, q, sizeof(q));
		snprintf(why, len, "\"%s\": idgate repos have no branches; name a repo as REPO or "
		    "PROJECT/REPO", q);
		return IDG_ERR_INVAL;
	}
	if (slash == NULL) {
		strcpy(project, IDG_DEFAULT_PROJECT);
		if ((r = idg_name_repo(arg, why, len)) < 0)
			return r;
		strcpy(repo, arg);
		return 0;
	}
	if (strchr(slash + 1, '/') != NULL) {
		idg_quote(arg, q, sizeof(q));
		snprintf(why, len, "repo \"%s\" has more than one '/': name a repo as REPO or "
		    "PROJECT/REPO", q);
		return IDG_ERR_INVAL;
	}
	if ((size_t)(slash - arg) > IDG_PROJECT_NAME_MAX) {
		idg_quote(arg, q, sizeof(q));
		snprintf(why, len, "project name in \"%s\" is longer than %d bytes", q,
		    IDG_PROJECT_NAME_MAX);
		return IDG_ERR_INVAL;
	}
	memcpy(project, arg, (size_t)(slash - arg));
	project[slash - arg] = '\0';
	if ((r = idg_name_project(project, why, len)) < 0)
		return r;
	if ((r = idg_name_repo(slash + 1, why, len)) < 0)
		return r;
	strcpy(repo, slash + 1);
	return 0;
}

static const struct {
	const char *prefix;
	enum idg_pkind kind;
	const char *what;
} prefixes[] = {
	{ "user:", IDG_PK_USER, "user" },
	{ "group:", IDG_PK_GROUP, "group" },
	{ "robot:", IDG_PK_ROBOT, "robot" },
	{ "pipeline:", IDG_PK_PIPELINE, "pipeline" },
};

int
idg_subject_check(const char *s, enum idg_pkind *kind_out, char *why, size_t len)
{
	const char *colon;
	char q[256];

	if (strnlen(s, IDG_SUBJECT_MAX + 1) > IDG_SUBJECT_MAX) {
		idg_quote(s, q, sizeof(q));
		snprintf(why, len, "subject \"%s\" is %zu bytes long: at most %d are allowed", q,
		    strlen(s), IDG_SUBJECT_MAX);
		return IDG_ERR_INVAL;
	}
	if (strcmp(s, IDG_SUBJECT_ALL) == 0) {
		*kind_out = IDG_PK_ALL;
		return 0;
	}
	if (strcmp(s, IDG_SUBJECT_ROOT) == 0) {
		*kind_out = IDG_PK_ROOT;
		return 0;
	}
	if ((colon = strchr(s, ':')) == NULL) {
		snprintf(why, len, "subject has no prefix, must be of the form <type>:<name>");
		return IDG_ERR_INVAL;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i].prefix);
		const char *name = s + pl;

		if (strncmp(s, prefixes[i].prefix, pl) != 0)
			continue;
		*kind_out = prefixes[i].kind;
		if (prefixes[i].kind == IDG_PK_PIPELINE) {
			char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1];

			if (strchr(name, '/') == NULL) {
				idg_quote(name, q, sizeof(q));
				snprintf(why, len, "pipeline name \"%s\" must be PROJECT/NAME", q);
				return IDG_ERR_INVAL;
			}
			return idg_repo_split(name, project, repo, why, len);
		}
		return check_word(prefixes[i].what, name, IDG_SUBJECT_NAME_MAX, "._@+-", true, why, len);
	}
	/* Quote the prefix only, as Pachyderm does. */
	{
		size_t pl = (size_t)(colon - s) + 1;
		char pre[64];

		if (pl >= sizeof(pre))
			pl = sizeof(pre) - 1;
		memcpy(pre, s, pl);
		pre[pl] = '\0';
		idg_quote(pre, q, sizeof(q));
	}
	snprintf(why, len, "subject has unrecognized prefix: %s", q);
	return IDG_ERR_INVAL;
}
