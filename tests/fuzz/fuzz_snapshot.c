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

/* Everything an accessor hands out is read, so a pointer or length that leaves the input is
 * caught by the sanitizer (a load into a volatile is never optimized away). */
static volatile uint32_t sink;

static void
touch(const char *str, size_t len)
{
	sink += (uint8_t)str[0] + (uint8_t)str[len];	/* str[len] is the NUL */
	if (str[len] != '\0')
		abort();
}

static void
touch_pw(const struct idg_snap_pw *pw)
{
	touch(pw->name, pw->name_len);
	touch(pw->gecos, pw->gecos_len);
	touch(pw->dir, pw->dir_len);
	touch(pw->shell, pw->shell_len);
	for (uint32_t k = 0; k < pw->ngids && k < 64; k++)
		sink += pw->gids[k];
	if (pw->ngids > 0)
		sink += pw->gids[pw->ngids - 1];
}

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
		if (idg_snap_find_user(s, names[i], &idx) == 0 && idg_snap_user(s, idx, &pw) == 0)
			touch_pw(&pw);
		if (idg_snap_find_group(s, names[i], &idx) == 0 && idg_snap_group(s, idx, &gr) == 0)
			touch(gr.name, gr.name_len);
	}
	for (uint32_t id = s->hdr->id_min; id < s->hdr->id_min + 8 && id <= s->hdr->id_max; id++) {
		(void)idg_snap_find_uid(s, id, &idx);
		(void)idg_snap_find_gid(s, id, &idx);
	}
	n = s->hdr->nusers < 64 ? s->hdr->nusers : 64;
	for (uint32_t i = 0; i <= n; i++)
		if (idg_snap_user(s, i, &pw) == 0)
			touch_pw(&pw);
	n = s->hdr->ngroups < 64 ? s->hdr->ngroups : 64;
	for (uint32_t i = 0; i <= n; i++)
		if (idg_snap_group(s, i, &gr) == 0) {
			uint32_t at = gr.members;

			touch(gr.name, gr.name_len);
			for (uint32_t k = 0; k < gr.nmembers && k < 64; k++) {
				if (idg_snap_member(s, &at, &name, &len) < 0)
					break;
				touch(name, len);
			}
		}
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
