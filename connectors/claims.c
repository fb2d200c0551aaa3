/* From validated claims to an identity: JSON pointers (RFC 6901) to find the username and
 * groups claims, the profile's group mapping, prefix stripping, and the bounds every string
 * kept must meet (UTF-8, no NUL, IDG_OIDC_CLAIM_MAX bytes, IDG_OIDC_GROUPS_MAX groups). What
 * names are acceptable on the host is the parent's decision (src/idmap/), not this file's. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/json.h"
#include "connectors/oidc_int.h"

/* An array index token: "0" or digits without a leading zero; -1 otherwise ("-" included,
 * which names the element after the last one, so nothing). */
static int
array_index(const char *tok)
{
	long v = 0;

	if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0'))
		return -1;
	for (const char *p = tok; *p; p++) {
		if (*p < '0' || *p > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return (int)v;
}

int
idg_json_pointer(const cJSON *root, const char *ptr, const cJSON **out)
{
	char tok[IDG_OIDC_CLAIM_MAX + 1];
	const cJSON *cur = root;
	const char *p = ptr;

	if (ptr == NULL)
		return IDG_ERR_INVAL;
	if (ptr[0] != '/' && ptr[0] != '\0') {
		/* A plain claim name: taken literally, dots and all. */
		if ((cur = cJSON_GetObjectItemCaseSensitive(root, ptr)) == NULL)
			return IDG_ERR_NOTFOUND;
		*out = cur;
		return 0;
	}
	while (*p == '/') {
		size_t n = 0;
		int idx;

		for (p++; *p && *p != '/'; ) {
			char c = *p++;

			if (c == '~') {
				if (*p != '0' && *p != '1')
					return IDG_ERR_INVAL;
				c = *p++ == '0' ? '~' : '/';
			}
			if (n == IDG_OIDC_CLAIM_MAX)
				return IDG_ERR_INVAL;
			tok[n++] = c;
		}
		tok[n] = '\0';
		if (cJSON_IsObject(cur))
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		else if (cJSON_IsArray(cur) && (idx = array_index(tok)) >= 0)
			cur = cJSON_GetArrayItem(cur, idx);
		else
			cur = NULL;
		if (cur == NULL) {
			/* Keep checking the syntax: a malformed pointer must say so whatever the
			 * document holds. */
			for (; *p; p++)
				if (*p == '~' && p[1] != '0' && p[1] != '1')
					return IDG_ERR_INVAL;
			return IDG_ERR_NOTFOUND;
		}
	}
	*out = cur;
	return 0;
}

/* ---------- groups ---------- */

int
idg_groups_add(struct idg_groups *g, const char *prefix, const char *s)
{
	size_t n, plen = prefix ? strlen(prefix) : 0;
	char **nv;

	if (plen && strncmp(s, prefix, plen) == 0)
		s += plen;
	n = strlen(s);
	if (n == 0 || n > IDG_OIDC_CLAIM_MAX || !idg_utf8_valid(s, n)) {
		g->skipped++;
		return 0;
	}
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i], s) == 0)
			return 0;
	if (g->n == IDG_OIDC_GROUPS_MAX) {
		g->skipped++;
		return 0;
	}
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 16;

		if (ncap > IDG_OIDC_GROUPS_MAX)
			ncap = IDG_OIDC_GROUPS_MAX;
		if ((nv = realloc(g->v, ncap * sizeof(*nv))) == NULL)
			return IDG_ERR_NOMEM;
		g->v = nv;
		g->cap = ncap;
	}
	if ((g->v[g->n] = strdup(s)) == NULL)
		return IDG_ERR_NOMEM;
	g->n++;
	return 0;
}

void
idg_groups_clear(struct idg_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

/* One entry of the groups claim, through the profile's mapping. */
static int
add_entry(const struct idg_oidc *o, struct idg_groups *g, const cJSON *v)
{
	char buf[IDG_OIDC_CLAIM_MAX + 1];
	const char *name;

	if (!cJSON_IsString(v) || strlen(v->valuestring) > IDG_OIDC_CLAIM_MAX) {
		g->skipped++;	/* numbers, objects, nulls: not group names */
		return 0;
	}
	name = v->valuestring;
	if (o->prof->map_group) {
		if (!o->prof->map_group(&o->cfg, name, buf, sizeof(buf))) {
			g->skipped++;
			return 0;
		}
		name = buf;
	}
	return idg_groups_add(g, o->cfg.group_prefix_strip, name);
}

/* The groups in src: IDG_ERR_NOTFOUND when src has no groups claim (and no profile extras
 * apply), so that the caller may look elsewhere. */
static int
collect_groups(const struct idg_oidc *o, const cJSON *src, struct idg_groups *g)
{
	const cJSON *v = NULL, *e;
	int rc = IDG_ERR_NOTFOUND;

	if (o->cfg.groups_claim && (rc = idg_json_pointer(src, o->cfg.groups_claim, &v)) == 0) {
		if (cJSON_IsArray(v)) {
			cJSON_ArrayForEach(e, v)
				if ((rc = add_entry(o, g, e)) < 0)
					return rc;
		} else if ((rc = add_entry(o, g, v)) < 0) {
			return rc;	/* a single string is one group; anything else none */
		}
	} else if (rc != IDG_ERR_NOTFOUND) {
		rc = IDG_ERR_NOTFOUND;	/* a malformed pointer was refused at configuration */
	}
	if (o->prof->extra_groups) {
		int r = o->prof->extra_groups(&o->cfg, src, g);

		if (r < 0)
			return r;
		if (rc == IDG_ERR_NOTFOUND && r > 0)
			rc = 0;
	}
	return rc;
}

/* ---------- identity ---------- */

/* A string claim, copied: IDG_ERR_NOTFOUND, or IDG_ERR_INVAL when it is there but no usable
 * string (another type, empty, too long). */
static int
claim_str(const cJSON *src, const char *ptr, char **out)
{
	const cJSON *v;
	size_t n;
	int rc;

	if (src == NULL)
		return IDG_ERR_NOTFOUND;
	if ((rc = idg_json_pointer(src, ptr, &v)) < 0)
		return rc == IDG_ERR_NOTFOUND ? rc : IDG_ERR_INVAL;
	if (!cJSON_IsString(v) || (n = strlen(v->valuestring)) == 0 || n > IDG_OIDC_CLAIM_MAX ||
	    !idg_utf8_valid(v->valuestring, n))
		return IDG_ERR_INVAL;
	return (*out = strdup(v->valuestring)) ? 0 : IDG_ERR_NOMEM;
}

/* From claims, else from fallback: where the claim was found, or NULL. */
static const cJSON *
claim_either(const cJSON *claims, const cJSON *fallback, const char *ptr, char **out, int *rc)
{
	if ((*rc = claim_str(claims, ptr, out)) != IDG_ERR_NOTFOUND)
		return *rc == 0 ? claims : NULL;
	if ((*rc = claim_str(fallback, ptr, out)) == 0)
		return fallback;
	return NULL;
}

/* An e-mail address as the username is only as good as the IdP's check of it. */
static bool
email_unverified(const struct idg_oidc *o, const cJSON *from)
{
	const char *u = o->cfg.username_claim;
	const cJSON *v;

	if (strcmp(u, "email") != 0 && strcmp(u, "/email") != 0)
		return false;
	v = cJSON_GetObjectItemCaseSensitive(from, "email_verified");
	return cJSON_IsFalse(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "false") == 0);
}

bool
idg_claims_incomplete(const struct idg_oidc *o, const cJSON *claims)
{
	const cJSON *v;

	return idg_json_pointer(claims, o->cfg.username_claim, &v) == IDG_ERR_NOTFOUND ||
	    (o->cfg.groups_claim && idg_json_pointer(claims, o->cfg.groups_claim, &v) ==
	    IDG_ERR_NOTFOUND);
}

int
idg_claims_identity(const struct idg_oidc *o, const cJSON *claims, int64_t exp,
    const cJSON *groups_src, const cJSON *fallback, struct idg_oidc_identity *id_out,
    char *err, size_t errlen)
{
	struct idg_oidc_identity id = { 0 };
	struct idg_groups g = { 0 };
	const cJSON *from;
	int rc;

	rc = o->prof->subject_claim ? claim_str(claims, o->prof->subject_claim, &id.sub) :
	    IDG_ERR_NOTFOUND;
	if (rc == IDG_ERR_NOTFOUND)
		rc = claim_str(claims, "sub", &id.sub);
	if (rc < 0 || (rc = claim_str(claims, "iss", &id.iss)) < 0) {
		snprintf(err, errlen, "the token has no usable subject (sub)");
		rc = rc == IDG_ERR_NOMEM ? rc : IDG_ERR_DENIED;
		goto out;
	}
	from = claim_either(claims, fallback, o->cfg.username_claim, &id.username, &rc);
	if (rc < 0) {
		snprintf(err, errlen, rc == IDG_ERR_NOTFOUND ? "the IdP sent no username claim "
		    "(%.64s)" : "the username claim (%.64s) is not a usable string",
		    o->cfg.username_claim);
		rc = rc == IDG_ERR_NOMEM ? rc : IDG_ERR_DENIED;
		goto out;
	}
	if (email_unverified(o, from)) {
		snprintf(err, errlen, "the IdP has not verified the user's e-mail address");
		rc = IDG_ERR_DENIED;
		goto out;
	}
	/* name and email are optional: a missing or unusable one is simply left out. */
	(void)claim_either(claims, fallback, "name", &id.name, &rc);
	if (rc == IDG_ERR_NOMEM)
		goto out;
	(void)claim_either(claims, fallback, "email", &id.email, &rc);
	if (rc == IDG_ERR_NOMEM)
		goto out;
	rc = collect_groups(o, groups_src, &g);
	if (rc == IDG_ERR_NOTFOUND && fallback && fallback != groups_src)
		rc = collect_groups(o, fallback, &g);
	if (rc == IDG_ERR_NOMEM)
		goto out;
	/* Said to the parent, which tells the administrator: an IdP that releases groups only
	 * for a scope not asked for gives [] without a word otherwise. */
	if (rc == IDG_ERR_NOTFOUND && o->cfg.groups_claim != NULL &&
	    (id.groups_absent = strdup(o->cfg.groups_claim)) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto out;
	}
	if (g.skipped)
		log_notice("connector: %zu group entries left out (not strings, empty, too long, "
		    "invalid UTF-8, or past %d groups)", g.skipped, IDG_OIDC_GROUPS_MAX);
	id.groups = g.v;
	id.ngroups = g.n;
	memset(&g, 0, sizeof(g));
	id.exp = exp;
	*id_out = id;
	memset(&id, 0, sizeof(id));
	rc = 0;
out:
	if (rc == IDG_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	idg_groups_clear(&g);
	idg_oidc_identity_clear(&id);
	return rc;
}
