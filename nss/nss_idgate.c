/* libnss_idgate.so.2: IdP users and groups as POSIX entries. This foundation version only
 * establishes the module's shape (entry points, exports, thinness): with no snapshot to read
 * yet, every lookup is unavailable. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>

/* The one place lookups turn into NSS statuses; the snapshot reader will feed it. */
static enum nss_status
unavailable(int *errnop)
{
	*errnop = ENOENT;
	return NSS_STATUS_UNAVAIL;
}

enum nss_status _nss_idgate_getpwnam_r(const char *, struct passwd *, char *, size_t, int *);
enum nss_status _nss_idgate_getpwuid_r(uid_t, struct passwd *, char *, size_t, int *);
enum nss_status _nss_idgate_getgrnam_r(const char *, struct group *, char *, size_t, int *);
enum nss_status _nss_idgate_getgrgid_r(gid_t, struct group *, char *, size_t, int *);
enum nss_status _nss_idgate_initgroups_dyn(const char *, gid_t, long *, long *, gid_t **, long,
    int *);

enum nss_status
_nss_idgate_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	(void)name;
	(void)pw;
	(void)buf;
	(void)len;
	return unavailable(errnop);
}

enum nss_status
_nss_idgate_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	(void)uid;
	(void)pw;
	(void)buf;
	(void)len;
	return unavailable(errnop);
}

enum nss_status
_nss_idgate_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, int *errnop)
{
	(void)name;
	(void)gr;
	(void)buf;
	(void)len;
	return unavailable(errnop);
}

enum nss_status
_nss_idgate_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop)
{
	(void)gid;
	(void)gr;
	(void)buf;
	(void)len;
	return unavailable(errnop);
}

enum nss_status
_nss_idgate_initgroups_dyn(const char *user, gid_t group, long *start, long *size, gid_t **groups,
    long limit, int *errnop)
{
	(void)user;
	(void)group;
	(void)start;
	(void)size;
	(void)groups;
	(void)limit;
	return unavailable(errnop);
}
