/* The fuzz target's deterministic driver for 'make check' (under ASan in the sanitizer
 * build): seed snapshots built with the writer, then 20,000 bounded random mutations of them
 * (bit flips, byte and word overwrites, header fields set to edge values, truncation) from a
 * fixed seed. TAP output. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x1d6a7e5eedull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static int
seed(int which, uint8_t **buf, size_t *len)
{
	static const uint32_t gids[] = { 10100, 10101 };
	static const uint32_t mem[] = { 0, 1 };
	struct idg_snap_in_user u[2] = {
		{ "alice", "Alice", "/home/alice", "/bin/bash", 10001, 10100, gids, 2 },
		{ "bob", "", "/home/bob", "/bin/sh", 10002, 10101, NULL, 0 } };
	struct idg_snap_in_group g[2] = { { "devs", 10100, mem, 2 }, { "ops", 10101, mem, 1 } };
	struct idg_snap_in in = { .generation = 1, .flags = 3, .id_min = 10000, .id_max = 20000,
		.ask_socket = "/run/idgate/pam.sock", .users = u, .nusers = 2, .groups = g,
		.ngroups = 2 };

	if (which == 1)
		in.nusers = in.ngroups = 0;
	if (which == 2)
		in.ngroups = 1;
	return idg_snap_build(&in, buf, len);
}

/* One mutation of a copy of the seed. */
static size_t
mutate(uint8_t *m, size_t len)
{
	static const uint32_t edge[] = { 0, 1, 7, 8, 0x7fffffff, 0x80000000, 0xfffffff8,
		0xffffffff, 264, 65536 };
	int k = 1 + (int)(rnd() % 4);

	for (int i = 0; i < k; i++) {
		size_t at = rnd() % len;

		switch (rnd() % 5) {
		case 0: m[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
		case 1: m[at] = (uint8_t)rnd(); break;
		case 2:
			at = (at & ~(size_t)3) % (len - 3);
			memcpy(m + at, &edge[rnd() % 10], 4);
			break;
		case 3: {	/* a header field */
			size_t f = 4 * (rnd() % (sizeof(struct idg_snap_hdr) / 4));
			memcpy(m + f, &edge[rnd() % 10], 4);
			break;
		}
		default:
			len = rnd() % (len + 1);
			if (len < 4)
				return len;
		}
	}
	return len;
}

int
main(void)
{
	int fails = 0, n = 0;
	long runs = 0;

	for (int which = 0; which < 3; which++) {
		uint8_t *buf, *m;
		size_t len;

		if (seed(which, &buf, &len) < 0) {
			printf("not ok %d - seed %d builds\n", ++n, which);
			fails++;
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		m = malloc(len);
		for (int i = 0; i < 7000; i++, runs++) {
			memcpy(m, buf, len);
			LLVMFuzzerTestOneInput(m, mutate(m, len));
		}
		free(m);
		free(buf);
		printf("ok %d - seed %d and 7,000 mutations of it\n", ++n, which);
	}
	for (int i = 0; i < 1000; i++, runs++) {	/* plain random bytes */
		uint8_t r[512];
		size_t len = rnd() % sizeof(r);

		for (size_t j = 0; j < len; j++)
			r[j] = (uint8_t)rnd();
		LLVMFuzzerTestOneInput(r, len);
	}
	printf("ok %d - 1,000 random inputs (%ld runs in all)\n", ++n, runs);
	printf("1..%d\n", n);
	return fails ? 1 : 0;
}
