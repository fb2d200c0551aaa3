/* The deterministic driver of the parser fuzz targets for 'make check' (gcc; ASan + UBSan in
 * the sanitizer build): every committed seed (tests/fuzz/corpus/NAME) and regression input
 * (tests/fuzz/regress/NAME) once, then seeded random mutations of the seeds (bit flips,
 * overwrites, inserts of syntax bytes, deletions, duplications, splices, truncation) for at
 * most FUZZ_DET_RUNS inputs or FUZZ_DET_MS milliseconds, whichever ends first. TAP output.
 * tests/fuzz/run.sh builds the same targets with libFuzzer for open-ended runs. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME names the target's corpus directory"
#endif
#ifndef FUZZ_DET_RUNS
#define FUZZ_DET_RUNS 20000
#endif
#ifndef FUZZ_DET_MS
#define FUZZ_DET_MS 4000
#endif
#define INPUT_MAX (256 * 1024)
#define SEEDS_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	uint8_t *p;
	size_t len;
};

static uint64_t rng = 0x5eed1dea7e0001ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, sorted by name, appended to v (at most SEEDS_MAX in all). */
static size_t
load_dir(const char *dir, struct input *v, size_t n)
{
	char *names[SEEDS_MAX], path[4096];
	size_t nn = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return n;
	while ((e = readdir(d)) != NULL && nn < SEEDS_MAX)
		if (e->d_name[0] != '.')
			names[nn++] = strdup(e->d_name);
	closedir(d);
	qsort(names, nn, sizeof(names[0]), by_name);
	for (size_t i = 0; i < nn; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		if (n >= SEEDS_MAX || (f = fopen(path, "rb")) == NULL)
			continue;
		v[n].p = malloc(INPUT_MAX);
		v[n].len = fread(v[n].p, 1, INPUT_MAX, f);
		fclose(f);
		n++;
	}
	return n;
}

/* Bytes that change the meaning of JSON, XML, INI and the wire format. */
static const char *const dict[] = { "\"", "{", "}", "[", "]", ":", ",", "<", ">", "/", "=",
	"\n", "\\", "\\u0000", "\\ud800", "-1", "1e999", "null", "true", "0", "4294967295",
	"&amp;", "<!DOCTYPE a [<!ENTITY e \"x\">]>", "&e;", "<![CDATA[", "]]>", "<!--", "-->",
	"xmlns:", "#", ";", "[daemon]", "\xff", "\xc3", "\x00\x00\x00\x00", "\xff\xff\xff\xff" };

/* One mutation of m (len bytes, room for INPUT_MAX) from seed a and another seed b. */
static size_t
mutate(uint8_t *m, size_t len, const struct input *b)
{
	int k = 1 + (int)(rnd() % 4);

	for (int i = 0; i < k; i++) {
		size_t at = len ? rnd() % len : 0, n;
		const char *w;

		switch (rnd() % 8) {
		case 0:
			if (len)
				m[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			if (len)
				m[at] = (uint8_t)rnd();
			break;
		case 2:	/* insert a syntax word */
			w = dict[rnd() % (sizeof(dict) / sizeof(dict[0]))];
			n = strlen(w) ? strlen(w) : 1;
			if (len + n <= INPUT_MAX) {
				memmove(m + at + n, m + at, len - at);
				memcpy(m + at, w, n);
				len += n;
			}
			break;
		case 3:	/* delete a run */
			n = len - at ? 1 + rnd() % (len - at < 16 ? len - at : 16) : 0;
			memmove(m + at, m + at + n, len - at - n);
			len -= n;
			break;
		case 4: {	/* duplicate a run */
			size_t from = len ? rnd() % len : 0;
			uint8_t run[64];

			n = len - from ? 1 + rnd() % (len - from < 64 ? len - from : 64) : 0;
			if (len + n <= INPUT_MAX) {
				memcpy(run, m + from, n);
				memmove(m + at + n, m + at, len - at);
				memcpy(m + at, run, n);
				len += n;
			}
			break;
		}
		case 5:	/* splice: the rest comes from another seed */
			if (b->len) {
				size_t from = rnd() % b->len;

				n = b->len - from;
				if (at + n > INPUT_MAX)
					n = INPUT_MAX - at;
				memcpy(m + at, b->p + from, n);
				len = at + n;
			}
			break;
		case 6:
			len = len ? rnd() % len : 0;
			break;
		default:	/* a digit changed: numbers, lengths, dates */
			for (size_t j = 0; j < len; j++) {
				size_t p = (at + j) % len;

				if (m[p] >= '0' && m[p] <= '9') {
					m[p] = (uint8_t)('0' + rnd() % 10);
					break;
				}
			}
		}
	}
	return len;
}

/* The input in a block of exactly its size, so a read past its end is caught. */
static void
run_one(const uint8_t *m, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	memcpy(copy, m, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

int
main(void)
{
	static struct input seeds[SEEDS_MAX];
	const char *top = getenv("top_srcdir");
	char dir[4096];
	size_t nseeds, nreg;
	uint8_t *m = malloc(INPUT_MAX);
	long runs = 0;
	int64_t t0;
	int n = 0;

	if (top == NULL)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top, FUZZ_NAME);
	nseeds = load_dir(dir, seeds, 0);
	if (nseeds == 0) {
		printf("not ok 1 - %s: no seeds in %s\n1..1\n", FUZZ_NAME, dir);
		return 1;
	}
	for (size_t i = 0; i < nseeds; i++) {
		run_one(seeds[i].p, seeds[i].len);
	}
	printf("ok %d - %s: the %zu seeds\n", ++n, FUZZ_NAME, nseeds);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", top, FUZZ_NAME);
	nreg = load_dir(dir, seeds, nseeds) - nseeds;
	for (size_t i = nseeds; i < nseeds + nreg; i++) {
		run_one(seeds[i].p, seeds[i].len);
	}
	printf("ok %d - %s: %zu regression inputs\n", ++n, FUZZ_NAME, nreg);
	t0 = ms_now();
	while (runs < FUZZ_DET_RUNS && (runs % 64 != 0 || ms_now() - t0 < FUZZ_DET_MS)) {
		const struct input *a = &seeds[rnd() % (nseeds + nreg)];
		const struct input *b = &seeds[rnd() % (nseeds + nreg)];
		size_t len;

		memcpy(m, a->p, a->len);
		len = mutate(m, a->len, b);
		run_one(m, len);
		runs++;
	}
	printf("ok %d - %s: %ld seeded mutations in %lld ms\n", ++n, FUZZ_NAME, runs,
	    (long long)(ms_now() - t0));
	printf("1..%d\n", n);
	for (size_t i = 0; i < nseeds + nreg; i++)
		free(seeds[i].p);
	free(m);
	return 0;
}
