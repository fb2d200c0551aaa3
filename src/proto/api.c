/* The type of every field tag, checked before a request reaches a handler. */
#include "config.h"

#include "common/err.h"
#include "proto/api.h"
#include "proto/wire.h"

enum ftype { F_NONE, F_STR, F_U32, F_U64 };

static enum ftype
tag_type(uint16_t tag)
{
	switch ((enum idg_tag)tag) {
	case IDG_T_OP: case IDG_T_FLAGS: case IDG_T_STATUS: case IDG_T_METHOD: case IDG_T_UID:
	case IDG_T_GID: case IDG_T_PID: case IDG_T_INTERVAL: case IDG_T_EXPIRES:
		return F_U32;
	case IDG_T_TTL: case IDG_T_HANDLE:
		return F_U64;
	case IDG_T_TOKEN: case IDG_T_AS: case IDG_T_RTYPE: case IDG_T_RNAME: case IDG_T_SUBJECT:
	case IDG_T_ROLE: case IDG_T_PERM: case IDG_T_NAME: case IDG_T_NEWNAME: case IDG_T_MEMBER:
	case IDG_T_INPUT: case IDG_T_OUTPUT: case IDG_T_PATH: case IDG_T_DESC: case IDG_T_RTYPES:
	case IDG_T_ERROR: case IDG_T_JSON: case IDG_T_SECRET: case IDG_T_GECOS: case IDG_T_HOME:
	case IDG_T_SHELL: case IDG_T_SERVICE: case IDG_T_RHOST: case IDG_T_USER_CODE:
	case IDG_T_VERIFY_URI: case IDG_T_VERIFY_URI_COMPLETE: case IDG_T_IDP_USER:
		return F_STR;
	}
	return F_NONE;
}

int
idg_api_check_fields(const struct idg_msgview *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct idg_field *f = &v->fields[i];
		const char *s;

		switch (tag_type(f->tag)) {
		case F_STR:
			if (idg_field_str(f, &s) < 0)
				return IDG_ERR_PROTO;
			break;
		case F_U32:
			if (f->len != 4)
				return IDG_ERR_PROTO;
			break;
		case F_U64:
			if (f->len != 8)
				return IDG_ERR_PROTO;
			break;
		default:
			return IDG_ERR_PROTO;	/* an unknown tag */
		}
	}
	return 0;
}
