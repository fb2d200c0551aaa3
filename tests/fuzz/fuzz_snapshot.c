/* Fuzz target for the snapshot reader: arbitrary bytes through idg_snap_open and, when they
 * pass (the checksum is recomputed for a share of the inputs, so hostile-but-valid files are
 * reached), every lookup and accessor. Built with libFuzzer by run.sh, and with gcc as
 * fuzz_snapshot_det (fuzz_main.c) for 'make check'. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const struct idg_snap *s)
{
	static const char *const names[] = { "alice", "bob", "devs", "user0", "group0", "" };
	uint32_t idx, n;
	struct idg_snap_pw pw;
	struct idg_snap_gr gr;
	const char *name;
	size_t len;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (idg_snap_find_user(s, names[i], &idx) == 0)
			(void)idg_snap_user(s, idx, &pw);
		if (idg_snap_find_group(s, names[i], &idx) == 0)
			(void)idg_snap_group(s, idx, &gr);
	}
	for (uint32_t id = s->hdr->id_min; id < s->hdr->id_min + 8 && id <= s->hdr->id_max; id++) {
		(void)idg_snap_find_uid(s, id, &idx);
		(void)idg_snap_find_gid(s, id, &idx);
	}
	n = s->hdr->nusers < 64 ? s->hdr->nusers : 64;
	for (uint32_t i = 0; i <= n; i++)
		if (idg_snap_user(s, i, &pw) == 0)
			for (uint32_t k = 0; k < pw.ngids && k < 64; k++)
				(void)pw.gids[k];
	n = s->hdr->ngroups < 64 ? s->hdr->ngroups : 64;
	for (uint32_t i = 0; i <= n; i++)
		if (idg_snap_group(s, i, &gr) == 0)
			for (uint32_t k = 0; k < gr.nmembers && k < 64; k++)
				(void)idg_snap_member(s, &gr, k, &name, &len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idg_snap s;
	uint8_t *copy;

	if (size > (1u << 20))
		return 0;
	/* an aligned copy of exactly size bytes: reads past it are caught */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (idg_snap_open(&s, copy, size) == 0)
		walk(&s);
	/* the same bytes with a valid checksum: the per-access checks alone stand guard */
	if (size >= sizeof(struct idg_snap_hdr)) {
		uint64_t c = idg_snap_checksum(copy, size);

		memcpy(copy + offsetof(struct idg_snap_hdr, checksum), &c, sizeof(c));
		if (idg_snap_open(&s, copy, size) == 0)
			walk(&s);
	}
	free(copy);
	return 0;
}
