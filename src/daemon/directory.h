/* The POSIX directory: how IdP users and groups become passwd and group entries. It gives
 * uids and gids (idmap/ids.h: a hash of the name into [idmap] id_min..id_max, probing past
 * ids given already, never a local account's name or id), keeps deleted users' and groups'
 * ids held, publishes the NSS snapshot after every change that alters the POSIX view, and
 * answers sshd's provisional lookups. Who may change it is the role engine's business
 * (api_users.c); this part decides what the view is. */
#ifndef IDG_DAEMON_DIRECTORY_H
#define IDG_DAEMON_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon.h"
#include "idmap/ids.h"
#include "store/store.h"

/* Read the local accounts, give ids to stored users and groups that have none (rows from
 * before schema 3) and to [idmap]'s POSIX-only groups, in one change; publish the first
 * snapshot. A snapshot that cannot be written is logged, not fatal: it is retried. */
int idg_dir_open(struct idg_daemon *d, char *err, size_t errlen);
void idg_dir_free(struct idg_daemon *d);
/* After SIGHUP: [idmap] home_base and shell, [nss] flags may have changed. */
void idg_dir_reconfigure(struct idg_daemon *d);
/* Once a second: expire provisional entries; notice /etc/passwd or /etc/group changing;
 * retry a failed publish. */
void idg_dir_tick(struct idg_daemon *d, int64_t now_ms);

/* Ids given to a change that is not committed yet, so two names in it never get one id. */
struct idg_dir_batch {
	struct idg_idtab ids;
};

void idg_dir_batch_init(struct idg_dir_batch *b);
void idg_dir_batch_free(struct idg_dir_batch *b);

/* May name be (or stay) an IdP user's POSIX name here? Not a local account, not a local
 * group while users have private groups, not the name of one of idgate's POSIX-only groups;
 * a new user's (u NULL) hash id not a local id, an existing user's uid not a local id.
 * 0; IDG_ERR_DENIED with why; IDG_ERR_IO when /etc/passwd or /etc/group cannot be read. */
int idg_dir_user_check(struct idg_daemon *d, const char *name, const struct idg_user *u,
    char *why, size_t whylen);

/* The uid for a new user name: the id it held before it was deleted, the one its provisional
 * entry reserved, or a new one (hash and probe). A hold taken back adds its ID_RELEASE to c,
 * so add the USER_ADD after this. 0, or IDG_ERR_* with why. */
int idg_dir_user_uid(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c,
    const char *name, uint32_t *uid_out, char *why, size_t whylen);

/* The gid for a new group, or 0 when it stays out of the POSIX view (a name no POSIX group
 * can have, a local group's name, a hash id that is a local id; why says which, and it is
 * logged). Like idg_dir_user_uid for holds. */
uint32_t idg_dir_group_gid(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c,
    const char *name, char *why, size_t whylen);

/* Append what deletes a user (its memberships, its row) and keeps its uid held. */
void idg_dir_user_delete(struct idg_daemon *d, struct idg_change *c, const struct idg_user *u,
    int64_t now);
/* Append the hold that keeps a group's gid after its GROUP_DEL (nothing when it has none). */
void idg_dir_group_hold(struct idg_change *c, const struct idg_group *g, int64_t now);

/* [idmap] users_group's gid (the POSIX face of allClusterUsers); 0: none. */
uint32_t idg_dir_users_gid(const struct idg_daemon *d);

/* A user's primary gid and home directory as the view shows them; the primary gid of
 * whoever has uid. */
uint32_t idg_dir_primary_gid(const struct idg_daemon *d, const struct idg_user *u);
uint32_t idg_dir_gid_of_uid(const struct idg_daemon *d, uint32_t uid);
void idg_dir_home(const struct idg_daemon *d, const char *name, char *buf, size_t len);
/* Is the user in the POSIX view (why not, otherwise)? Against the local accounts as last
 * read (the tick notices them changing). */
bool idg_dir_user_visible(const struct idg_daemon *d, const struct idg_user *u, char *why,
    size_t whylen);

/* Text from an IdP or a command for the gecos field: printable, at most 255 bytes, with
 * ':' and newlines (which would break a passwd line) replaced by spaces. */
void idg_dir_gecos(const char *in, char *out, size_t outlen);

/* A name sshd or PAM may be given for an IdP user: exactly a valid POSIX login name as
 * idgate makes them (no case folding), at most [idmap] name_max. */
bool idg_dir_login_name_ok(const struct idg_daemon *d, const char *name, char *why,
    size_t whylen);

/* The reply's passwd fields (UID, GID, GECOS, HOME, SHELL) for name; false with the reply an
 * IDG_ST_ERROR when out of memory. */
bool idg_dir_passwd_reply(const struct idg_daemon *d, struct idg_reply *rp, const char *name,
    uint32_t uid, uint32_t gid, const char *gecos);

/* A login made name permanent: its provisional entry goes. */
void idg_dir_provisional_forget(struct idg_daemon *d, const char *name);

/* Requests (api_users.c). */
void api_user_add(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_user_delete(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_user_unpin(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_user_list(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_nss_provisional(struct idg_daemon *, struct idg_req *, struct idg_reply *);

#endif
