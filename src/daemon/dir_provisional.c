/* Provisional entries: sshd resolves a user before PAM runs, so for a name idgated does not
 * know, libnss_idgate.so.2 in sshd asks over pam.sock (IDG_OP_NSS_PROVISIONAL). The answer
 * reserves the uid the name will keep if its login succeeds. Entries live in memory only —
 * never in the store, never in the snapshot — for [nss] provisional_ttl, at most
 * provisional_max of them (the oldest goes first): a ring, oldest at its head. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/dir_int.h"

int
idg_dir_prov_init(struct idg_dir *dir, size_t cap)
{
	uint8_t k[16];
	uint64_t ik;
	int rc;

	memcpy(k, dir->key, 16);
	k[0] ^= 0x70;
	memcpy(&ik, k + 4, sizeof(ik));
	idg_idtab_init(&dir->prov_ids, ik);
	dir->prov_head = dir->prov_count = 0;
	if ((rc = idg_strmap_init(&dir->prov_names, k)) < 0)
		return rc;
	if ((dir->prov = calloc(cap ? cap : 1, sizeof(*dir->prov))) == NULL)
		return IDG_ERR_NOMEM;
	dir->prov_cap = cap ? cap : 1;
	return 0;
}

void
idg_dir_prov_free(struct idg_dir *dir)
{
	idg_strmap_free(&dir->prov_names);
	idg_idtab_free(&dir->prov_ids);
	free(dir->prov);
	dir->prov = NULL;
	dir->prov_cap = dir->prov_head = dir->prov_count = 0;
}

static void
unlink_entry(struct idg_dir *dir, struct idg_prov *p)
{
	if (!p->live)
		return;
	idg_strmap_del(&dir->prov_names, p->name);
	idg_idtab_del(&dir->prov_ids, p->uid);
	p->live = false;
}

/* Drop the head of the ring. */
static void
pop_head(struct idg_dir *dir)
{
	unlink_entry(dir, &dir->prov[dir->prov_head]);
	dir->prov_head = (dir->prov_head + 1) % dir->prov_cap;
	dir->prov_count--;
}

void
idg_dir_prov_expire(struct idg_dir *dir, int64_t now_ms)
{
	while (dir->prov_count > 0) {
		const struct idg_prov *p = &dir->prov[dir->prov_head];

		if (p->live && p->expires > now_ms)
			break;
		if (p->live)
			log_debug("provisional entry %s (uid %u) expired", p->name, p->uid);
		pop_head(dir);
	}
}

const struct idg_prov *
idg_dir_prov_find(const struct idg_dir *dir, const char *name)
{
	uint32_t slot;

	if (dir->prov == NULL || idg_strmap_get(&dir->prov_names, name, &slot) < 0 ||
	    !dir->prov[slot].live || dir->prov[slot].expires <= idg_now_ms())
		return NULL;
	return &dir->prov[slot];
}

int
idg_dir_prov_add(struct idg_dir *dir, const char *name, uint32_t uid, int64_t expires)
{
	struct idg_prov *p;
	size_t slot;
	int rc;

	if (dir->prov == NULL || strlen(name) > IDG_POSIX_NAME_MAX)
		return IDG_ERR_INVAL;
	if (dir->prov_count == dir->prov_cap) {
		if (dir->prov[dir->prov_head].live)
			log_info("provisional entries full (%zu): %s (uid %u) makes way",
			    dir->prov_cap, dir->prov[dir->prov_head].name, dir->prov[dir->prov_head].uid);
		pop_head(dir);
	}
	slot = (dir->prov_head + dir->prov_count) % dir->prov_cap;
	p = &dir->prov[slot];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->uid = uid;
	p->expires = expires;
	if ((rc = idg_strmap_put(&dir->prov_names, p->name, (uint32_t)slot)) < 0)
		return rc;
	if ((rc = idg_idtab_put(&dir->prov_ids, uid, (uint32_t)slot)) < 0) {
		idg_strmap_del(&dir->prov_names, p->name);
		return rc;
	}
	p->live = true;
	dir->prov_count++;
	return 0;
}

void
idg_dir_prov_drop(struct idg_dir *dir, const char *name)
{
	uint32_t slot;

	if (dir->prov && idg_strmap_get(&dir->prov_names, name, &slot) == 0)
		unlink_entry(dir, &dir->prov[slot]);
}

/* ---------- the request ---------- */

bool
idg_dir_passwd_reply(const struct idg_daemon *d, struct idg_reply *rp, const char *name,
    uint32_t uid, uint32_t gid, const char *gecos)
{
	char home[4200];

	idg_dir_home(d, name, home, sizeof(home));
	rp->pw.uid = uid;
	rp->pw.gid = gid;
	if ((rp->pw.gecos = strdup(gecos)) == NULL || (rp->pw.home = strdup(home)) == NULL ||
	    (rp->pw.shell = strdup(d->cfg.idmap_shell)) == NULL)
		return api_fail(rp, IDG_ST_ERROR, "out of memory");
	rp->pw.set = true;
	return true;
}

bool
idg_dir_login_name_ok(const struct idg_daemon *d, const char *name, char *why, size_t whylen)
{
	char posix[IDG_POSIX_NAME_MAX + 1];

	return idg_idmap_posix_name(IDG_IDMAP_USERNAME, (size_t)d->cfg.idmap_name_max, name, posix,
	    sizeof(posix), why, whylen) == 0 && strcmp(posix, name) == 0;
}

/* A new provisional entry for name, or the reason there is none. */
static bool
provisional_new(struct idg_daemon *d, struct idg_reply *rp, const char *name)
{
	struct idg_idalloc a;
	char why[512] = "";
	uint32_t uid;
	int rc;

	if (idg_dir_user_check(d, name, NULL, why, sizeof(why)) < 0) {
		log_debug("provisional entry for %s refused: %s", name, why);
		return api_fail(rp, IDG_ST_INPUT, "%s", why);
	}
	/* The uid the login would give: the one the name held before, or a new one. */
	idg_dir_alloc_ctx(d, NULL, &a);
	if ((uid = idg_dir_held_id(d, IDG_HOLD_USER, name)) == 0)
		rc = idg_idmap_alloc(&a, name, &uid, why, sizeof(why));
	else
		rc = 0;
	if (rc < 0 || (rc = idg_dir_prov_add(d->dir, name, uid,
	    idg_now_ms() + d->cfg.nss_provisional_ttl * 1000)) < 0) {
		log_info("provisional entry for %s not given: %s", name, why[0] ? why :
		    idg_strerror(rc));
		return api_fail(rp, IDG_ST_INPUT, "%s", why[0] ? why : idg_strerror(rc));
	}
	log_debug("provisional entry for %s: uid %u", name, uid);
	return idg_dir_passwd_reply(d, rp, name, uid, idg_dir_gid_of_uid(d, uid), "");
}

void
api_nss_provisional(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const struct idg_prov *p;
	struct idg_user *u;
	const char *name;
	char why[512];

	if (!rq->who.pam || rq->who.uid != 0) {
		api_fail(rp, IDG_ST_INPUT, "provisional entries are served on pam.sock only");
		return;
	}
	if (!api_str(rq, rp, IDG_T_NAME, "user name", IDG_POSIX_NAME_MAX, &name))
		return;
	if (!idg_dir_login_name_ok(d, name, why, sizeof(why))) {
		api_fail(rp, IDG_ST_INPUT, "not a valid login name");
		return;
	}
	idg_dir_prov_expire(d->dir, idg_now_ms());
	if ((u = idg_state_user(d->st, name)) != NULL) {
		if (!idg_dir_user_visible(d, u, why, sizeof(why)))
			api_fail(rp, IDG_ST_INPUT, "user %s is not in the POSIX view: %s", name, why);
		else
			idg_dir_passwd_reply(d, rp, u->name, u->uid, idg_dir_primary_gid(d, u), u->gecos);
		return;
	}
	if (!d->cfg.nss_provisional) {
		api_fail(rp, IDG_ST_INPUT, "provisional entries are off ([nss] provisional)");
		return;
	}
	if ((p = idg_dir_prov_find(d->dir, name)) != NULL) {
		idg_dir_passwd_reply(d, rp, name, p->uid, idg_dir_gid_of_uid(d, p->uid), "");
		return;
	}
	provisional_new(d, rp, name);
}
