/* Text for idgate's error codes. */
#include "common/err.h"

const char *
idg_strerror(int err)
{
	switch (err) {
	case IDG_OK: return "success";
	case IDG_ERR_NOMEM: return "out of memory";
	case IDG_ERR_INVAL: return "invalid input";
	case IDG_ERR_NOTFOUND: return "not found";
	case IDG_ERR_EXISTS: return "already exists";
	case IDG_ERR_DENIED: return "permission denied";
	case IDG_ERR_IO: return "input/output error";
	case IDG_ERR_PROTO: return "malformed message";
	case IDG_ERR_TOOBIG: return "size limit exceeded";
	case IDG_ERR_UNAVAIL: return "service unavailable";
	case IDG_ERR_TIMEOUT: return "timed out";
	case IDG_ERR_CONFIG: return "invalid configuration";
	case IDG_ERR_STORE: return "state store error";
	case IDG_ERR_CORRUPT: return "data corrupted";
	case IDG_ERR_CONFLICT: return "conflicts with existing state";
	case IDG_ERR_EXPIRED: return "expired";
	case IDG_ERR_INTERNAL: return "internal error";
	case IDG_ERR_BUSY: return "busy";
	}
	return "unknown error";
}
