/* idgate error codes: every function returns 0 or a negative IDG_ERR_*; idg_strerror() names it. */
#ifndef IDG_COMMON_ERR_H
#define IDG_COMMON_ERR_H

enum idg_err {
	IDG_OK = 0,
	IDG_ERR_NOMEM = -1,	/* out of memory */
	IDG_ERR_INVAL = -2,	/* bad input: a name, a value, an argument */
	IDG_ERR_NOTFOUND = -3,	/* no such object */
	IDG_ERR_EXISTS = -4,	/* the object exists already */
	IDG_ERR_DENIED = -5,	/* the role engine said no */
	IDG_ERR_IO = -6,	/* a system call failed (errno is logged where it happened) */
	IDG_ERR_PROTO = -7,	/* a malformed wire message */
	IDG_ERR_TOOBIG = -8,	/* a size limit was hit */
	IDG_ERR_UNAVAIL = -9,	/* the daemon or a service cannot be reached */
	IDG_ERR_TIMEOUT = -10,	/* a deadline passed */
	IDG_ERR_CONFIG = -11,	/* the configuration is invalid */
	IDG_ERR_STORE = -12,	/* the state store failed */
	IDG_ERR_CORRUPT = -13,	/* stored data is damaged */
	IDG_ERR_CONFLICT = -14,	/* the change conflicts with existing state (in use, not empty) */
	IDG_ERR_EXPIRED = -15,	/* a token or code is past its lifetime */
	IDG_ERR_INTERNAL = -16,	/* a bug: should not happen */
	IDG_ERR_BUSY = -17,	/* a local service is overloaded or restarting (not the IdP: no
				 * offline fallback) */
};

/* A short, fixed English text for an error code; never NULL. */
const char *idg_strerror(int err);

#endif
