/* From bindings to ACL entries: walk the repo's path (repo, project, cluster), and for every
 * binding whose roles grant REPO_READ or REPO_WRITE, map its principal to a POSIX id. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "enforce/acl_calc.h"

static int
ent_cmp(const void *pa, const void *pb)
{
	const struct idg_acl_ent *a = pa, *b = pb;

	if (a->tag != b->tag)
		return a->tag < b->tag ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

/* Add or strengthen (tag, id) in a spec still unsorted; false when full. */
static bool
add_entry(struct idg_acl_spec *s, uint8_t tag, uint32_t id, uint8_t perm)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].tag == tag && s->e[i].id == id) {
			if (perm > s->e[i].perm)
				s->e[i].perm = perm;
			return true;
		}
	}
	if (s->n >= IDG_ACL_ENTRIES_MAX)
		return false;
	s->e[s->n++] = (struct idg_acl_ent){ .tag = tag, .perm = perm, .id = id };
	return true;
}

int
idg_acl_compute(const struct idg_rbac *r, idg_rid repo, idg_acl_resolve_fn resolve, void *ctx,
    struct idg_acl_spec *out)
{
	int pread = idg_perm_index(IDG_P_REPO_READ), pwrite = idg_perm_index(IDG_P_REPO_WRITE);
	struct idg_acl_spec *s;
	int rc = 0;

	if (repo >= idg_rbac_resource_limit(r) || !idg_rbac_resource_live(r, repo) ||
	    idg_rbac_resource_type(r, repo) != IDG_RT_REPO)
		return IDG_ERR_INVAL;
	if ((s = malloc(sizeof(*s))) == NULL)
		return IDG_ERR_NOMEM;
	s->n = 0;
	for (idg_rid at = repo; at != IDG_RID_NONE; at = idg_rbac_resource_parent(r, at)) {
		size_t nb = idg_rbac_binding_count(r, at);

		for (size_t i = 0; i < nb; i++) {
			struct idg_permset ps = { { 0, 0 } };
			const idg_role *roles;
			size_t nroles;
			idg_pid pid;
			uint8_t tag, perm;
			uint32_t id;

			idg_rbac_binding_at(r, at, i, &pid, &roles, &nroles);
			if (pid == IDG_PID_ROOT)
				continue;
			for (size_t k = 0; k < nroles; k++) {
				const struct idg_permset *rp = idg_rbac_role_perms(r, roles[k]);

				if (rp)
					idg_permset_union(&ps, rp);
			}
			if (idg_permset_has(&ps, pwrite))
				perm = IDG_ACLP_WRITE;
			else if (idg_permset_has(&ps, pread))
				perm = IDG_ACLP_READ;
			else
				continue;
			if (resolve(ctx, pid, &tag, &id) != 0)
				continue;
			if (tag != IDG_ACLT_USER && tag != IDG_ACLT_GROUP)
				continue;
			if (!add_entry(s, tag, id, perm)) {
				rc = IDG_ERR_TOOBIG;
				goto out;
			}
		}
		if (at == IDG_RID_CLUSTER)
			break;
	}
	qsort(s->e, s->n, sizeof(s->e[0]), ent_cmp);
	memcpy(out->e, s->e, s->n * sizeof(s->e[0]));
	out->n = s->n;
out:
	free(s);
	return rc;
}

int
idg_acl_spec_cmp(const struct idg_acl_spec *a, const struct idg_acl_spec *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (size_t i = 0; i < a->n; i++) {
		int c = ent_cmp(&a->e[i], &b->e[i]);

		if (c != 0)
			return c;
		if (a->e[i].perm != b->e[i].perm)
			return a->e[i].perm < b->e[i].perm ? -1 : 1;
	}
	return 0;
}
