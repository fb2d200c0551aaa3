/* Fuzz target for what the root daemon makes of an IdP's names (src/idmap/idmap.c,
 * src/rbac/names.c): a username through every POSIX name rule, a group through the group
 * principal mapping and the POSIX group check, and the principals made of them through the
 * subject check. Every name that is accepted must have the promised shape. Input: USERNAME
 * '\n' GROUP. libFuzzer by run.sh; fuzz_idmap_det for make check. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "idmap/idmap.h"
#include "rbac/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
posix_shape(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		abort();
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr("_.-", s[i]) != NULL))
			abort();
}

static void
group_shape(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("._@+-", s[i]) != NULL))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *group, out[IDG_POSIX_NAME_MAX + 1], gout[512], why[512], *subj = NULL;
	enum idg_pkind kind;

	if (size > 4096 || (in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if ((group = strchr(in, '\n')) != NULL)
		*group++ = '\0';
	for (int rule = IDG_IDMAP_AUTO; rule <= IDG_IDMAP_EMAIL_LOCAL; rule++)
		for (size_t max = 1; max <= IDG_POSIX_NAME_MAX; max += 31) {
			memset(out, 0x55, sizeof(out));
			if (idg_idmap_posix_name((enum idg_idmap_rule)rule, max, in, out,
			    sizeof(out), why, sizeof(why)) == 0)
				posix_shape(out, max);
		}
	if (asprintf(&subj, "user:%s", in) > 0) {
		(void)idg_subject_check(subj, &kind, why, sizeof(why));
		free(subj);
	}
	if (group != NULL && idg_idmap_group_name(group, gout, sizeof(gout), why, sizeof(why)) == 0) {
		group_shape(gout);
		(void)idg_idmap_posix_group(gout, why, sizeof(why));
		if (asprintf(&subj, "group:%s", gout) > 0) {
			if (idg_subject_check(subj, &kind, why, sizeof(why)) != 0)
				abort();	/* a mapped group is always a valid principal */
			free(subj);
		}
	}
	free(in);
	return 0;
}
