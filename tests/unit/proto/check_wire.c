/* The wire protocol (wire.c): building and parsing bodies, every malformed shape the
 * parser must refuse, a deterministic random-body fuzz loop (run it under ASan), and the
 * blocking send/receive helpers over a socketpair: fd passing, size cap, a peer that
 * hangs up mid-frame, timeouts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "proto/wire.h"

/* ---------- helpers ---------- */

/* A body written by hand: tag (2, BE), length (4, BE), value. */
static size_t
put_field(uint8_t *p, uint16_t tag, uint32_t len, const void *val, size_t vlen)
{
	p[0] = (uint8_t)(tag >> 8);
	p[1] = (uint8_t)tag;
	p[2] = (uint8_t)(len >> 24);
	p[3] = (uint8_t)(len >> 16);
	p[4] = (uint8_t)(len >> 8);
	p[5] = (uint8_t)len;
	if (vlen)
		memcpy(p + 6, val, vlen);
	return 6 + vlen;
}

/* The body of a built message (the frame without its header). */
static const uint8_t *
body_of(struct idg_msg *m, size_t *len)
{
	size_t flen;
	const uint8_t *f = idg_msg_frame(m, &flen);

	assert_int_equal(idg_wire_body_len(f), flen - IDG_WIRE_HDR);
	*len = flen - IDG_WIRE_HDR;
	return f + IDG_WIRE_HDR;
}

/* Parse a heap copy of exactly len bytes, so ASan sees any read past the body. */
static int
parse_copy(const uint8_t *body, size_t len, uint8_t **copy, struct idg_msgview *v)
{
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	if (len)
		memcpy(*copy, body, len);
	return idg_msg_parse(*copy, len, v);
}

/* ---------- build and parse ---------- */

static void
build_and_parse_round_trip(void **state)
{
	struct idg_msg m;
	struct idg_msgview v;
	const uint8_t *body;
	uint8_t blob[3] = { 0, 1, 0 };
	const char *s;
	uint32_t u32;
	uint64_t u64;
	size_t len;

	(void)state;
	assert_int_equal(idg_msg_init(&m, IDG_WIRE_REQUEST_MAX), 0);
	assert_int_equal(idg_msg_add_str(&m, 1, "user:alice@example.com"), 0);
	assert_int_equal(idg_msg_add_u32(&m, 2, 0xdeadbeef), 0);
	assert_int_equal(idg_msg_add_u64(&m, 3, UINT64_C(0x0123456789abcdef)), 0);
	assert_int_equal(idg_msg_add_str(&m, 4, ""), 0);
	assert_int_equal(idg_msg_add(&m, 5, blob, sizeof(blob)), 0);
	assert_int_equal(idg_msg_add(&m, 6, NULL, 0), 0);
	assert_int_equal(idg_msg_add_str(&m, 4, "second"), 0);
	assert_int_equal(idg_msg_add_u32(&m, 0xffff, 0), 0);
	body = body_of(&m, &len);
	/* Each field is 6 header bytes and its value; strings carry their NUL. */
	assert_int_equal(len, (6 + 23) + (6 + 4) + (6 + 8) + (6 + 1) + (6 + 3) + 6 + (6 + 7) + (6 + 4));

	assert_int_equal(idg_msg_parse(body, len, &v), 0);
	assert_int_equal(v.n, 8);
	assert_int_equal(idg_msg_get_str(&v, 1, &s), 0);
	assert_string_equal(s, "user:alice@example.com");
	assert_int_equal(idg_msg_get_u32(&v, 2, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(idg_msg_get_u64(&v, 3, &u64), 0);
	assert_true(u64 == UINT64_C(0x0123456789abcdef));
	assert_int_equal(idg_msg_get_str(&v, 4, &s), 0);	/* the first with the tag */
	assert_string_equal(s, "");
	assert_int_equal(idg_msg_count(&v, 4), 2);
	assert_string_equal((const char *)v.fields[6].val, "second");
	assert_int_equal(idg_msg_get(&v, 5)->len, 3);
	assert_memory_equal(idg_msg_get(&v, 5)->val, blob, 3);
	assert_int_equal(idg_msg_get(&v, 6)->len, 0);
	assert_int_equal(idg_msg_get_u32(&v, 0xffff, &u32), 0);
	assert_int_equal(u32, 0);
	assert_null(idg_msg_get(&v, 7));
	assert_int_equal(idg_msg_get_str(&v, 7, &s), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_msg_get_u32(&v, 7, &u32), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_msg_get_u64(&v, 7, &u64), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_msg_count(&v, 7), 0);
	/* Fields point into the body, never copies. */
	assert_true(v.fields[0].val > body && v.fields[0].val < body + len);
	idg_msgview_free(&v);
	assert_null(v.fields);
	idg_msgview_free(&v);
	idg_msgview_free(NULL);
	idg_msg_free(&m);
	assert_null(m.data);
	idg_msg_free(&m);
	idg_msg_free(NULL);
}

static void
empty_body_parses_to_no_fields(void **state)
{
	struct idg_msg m;
	struct idg_msgview v;
	size_t len;

	(void)state;
	assert_int_equal(idg_msg_init(&m, 16), 0);
	body_of(&m, &len);
	assert_int_equal(len, 0);
	assert_int_equal(idg_msg_parse((const uint8_t *)"", 0, &v), 0);
	assert_int_equal(v.n, 0);
	assert_null(idg_msg_get(&v, 0));
	idg_msgview_free(&v);
	idg_msg_free(&m);
}

static void
truncated_and_overlong_fields_are_protocol_errors(void **state)
{
	uint8_t b[64], *copy;
	struct idg_msgview v;
	size_t n;

	(void)state;
	n = put_field(b, 1, 4, "abcd", 4);
	/* Every proper prefix that cuts a field (header or value) is refused. */
	for (size_t cut = 1; cut < n; cut++) {
		static struct idg_field stale;

		v.fields = &stale;	/* the view must be reset even on failure */
		v.n = 99;
		assert_int_equal(parse_copy(b, cut, &copy, &v), IDG_ERR_PROTO);
		assert_null(v.fields);
		assert_int_equal(v.n, 0);
		free(copy);
	}
	/* A length one past the body, and the largest length there is. */
	n = put_field(b, 1, 5, "abcd", 4);
	assert_int_equal(parse_copy(b, n, &copy, &v), IDG_ERR_PROTO);
	free(copy);
	n = put_field(b, 1, UINT32_MAX, "abcd", 4);
	assert_int_equal(parse_copy(b, n, &copy, &v), IDG_ERR_PROTO);
	free(copy);
	/* A good field followed by a bad one spoils the whole body. */
	n = put_field(b, 1, 2, "ok", 2);
	n += put_field(b + n, 2, 0xfffffffa, "", 0);
	assert_int_equal(parse_copy(b, n, &copy, &v), IDG_ERR_PROTO);
	free(copy);
	/* Trailing bytes shorter than a field header. */
	n = put_field(b, 1, 2, "ok", 2);
	b[n++] = 0;
	assert_int_equal(parse_copy(b, n, &copy, &v), IDG_ERR_PROTO);
	free(copy);
}

static void
field_count_is_capped(void **state)
{
	size_t len = (IDG_WIRE_FIELDS_MAX + 1) * 6;
	uint8_t *b = calloc(1, len), *copy;
	struct idg_msgview v;

	(void)state;
	assert_non_null(b);
	/* All-zero bytes are empty fields with tag 0: exactly the maximum parses ... */
	assert_int_equal(parse_copy(b, IDG_WIRE_FIELDS_MAX * 6, &copy, &v), 0);
	assert_int_equal(v.n, IDG_WIRE_FIELDS_MAX);
	assert_int_equal(idg_msg_count(&v, 0), IDG_WIRE_FIELDS_MAX);
	idg_msgview_free(&v);
	free(copy);
	/* ... one more does not. */
	assert_int_equal(parse_copy(b, len, &copy, &v), IDG_ERR_PROTO);
	free(copy);
	free(b);
}

static void
string_fields_need_exactly_one_final_nul(void **state)
{
	static const struct { const char *val; uint32_t len; int rc; } cases[] = {
		{ "abc", 4, 0 },		/* "abc\0" */
		{ "", 1, 0 },			/* "\0": the empty string */
		{ "abc", 3, IDG_ERR_PROTO },	/* no terminating NUL */
		{ "", 0, IDG_ERR_PROTO },	/* nothing at all */
		{ "ab\0c", 5, IDG_ERR_PROTO },	/* interior NUL */
		{ "\0\0", 2, IDG_ERR_PROTO },
		{ "\0abc", 5, IDG_ERR_PROTO },
	};
	uint8_t b[32], *copy;
	struct idg_msgview v;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(cases); i++) {
		const char *s = "untouched";
		size_t n = put_field(b, 9, cases[i].len, cases[i].val, cases[i].len);

		assert_int_equal(parse_copy(b, n, &copy, &v), 0);
		if (idg_field_str(&v.fields[0], &s) != cases[i].rc)
			fail_msg("string case %zu: idg_field_str gave %d", i,
			    idg_field_str(&v.fields[0], &s));
		assert_int_equal(idg_msg_get_str(&v, 9, &s), cases[i].rc);
		if (cases[i].rc == 0)
			assert_string_equal(s, cases[i].val);
		else
			assert_string_equal(s, "untouched");
		idg_msgview_free(&v);
		free(copy);
	}
}

static void
number_fields_need_their_exact_length(void **state)
{
	uint8_t b[32], *copy, zeros[16] = { 0 };
	struct idg_msgview v;
	uint32_t u32 = 7;
	uint64_t u64 = 7;

	(void)state;
	for (uint32_t len = 0; len <= 16; len++) {
		size_t n = put_field(b, 3, len, zeros, len);

		assert_int_equal(parse_copy(b, n, &copy, &v), 0);
		assert_int_equal(idg_msg_get_u32(&v, 3, &u32), len == 4 ? 0 : IDG_ERR_PROTO);
		assert_int_equal(idg_msg_get_u64(&v, 3, &u64), len == 8 ? 0 : IDG_ERR_PROTO);
		idg_msgview_free(&v);
		free(copy);
	}
	/* Big-endian on the wire. */
	put_field(b, 3, 4, "\x01\x02\x03\x04", 4);
	assert_int_equal(parse_copy(b, 10, &copy, &v), 0);
	assert_int_equal(idg_msg_get_u32(&v, 3, &u32), 0);
	assert_int_equal(u32, 0x01020304);
	idg_msgview_free(&v);
	free(copy);
}

static void
msg_add_refuses_past_the_body_limit(void **state)
{
	struct idg_msg m;
	uint8_t *big = calloc(1, 1024);
	size_t len;

	(void)state;
	assert_non_null(big);
	assert_int_equal(idg_msg_init(&m, 100), 0);
	/* 6 + 94 = 100: exactly the limit. */
	assert_int_equal(idg_msg_add(&m, 1, big, 94), 0);
	assert_int_equal(idg_msg_add(&m, 2, NULL, 0), IDG_ERR_TOOBIG);
	assert_int_equal(idg_msg_add_u32(&m, 2, 1), IDG_ERR_TOOBIG);
	body_of(&m, &len);
	assert_int_equal(len, 100);	/* the refusals left the message as it was */
	idg_msg_free(&m);

	assert_int_equal(idg_msg_init(&m, 100), 0);
	assert_int_equal(idg_msg_add(&m, 1, big, 95), IDG_ERR_TOOBIG);
	assert_int_equal(idg_msg_add(&m, 1, big, 1000), IDG_ERR_TOOBIG);
	assert_int_equal(idg_msg_add(&m, 1, big, SIZE_MAX - 2), IDG_ERR_TOOBIG);
	assert_int_equal(idg_msg_add(&m, 1, big, (size_t)UINT32_MAX + 1), IDG_ERR_TOOBIG);
	body_of(&m, &len);
	assert_int_equal(len, 0);
	idg_msg_free(&m);

	/* Growth past the initial allocation keeps earlier fields intact. */
	assert_int_equal(idg_msg_init(&m, IDG_WIRE_REQUEST_MAX), 0);
	for (int i = 0; i < 200; i++) {
		memset(big, i, 300);
		assert_int_equal(idg_msg_add(&m, (uint16_t)i, big, 300), 0);
	}
	{
		struct idg_msgview v;
		const uint8_t *body = body_of(&m, &len);

		assert_int_equal(idg_msg_parse(body, len, &v), 0);
		assert_int_equal(v.n, 200);
		for (int i = 0; i < 200; i++) {
			assert_int_equal(v.fields[i].tag, i);
			assert_int_equal(v.fields[i].len, 300);
			assert_int_equal(v.fields[i].val[0], (uint8_t)i);
			assert_int_equal(v.fields[i].val[299], (uint8_t)i);
		}
		idg_msgview_free(&v);
	}
	idg_msg_free(&m);
	free(big);
}

/* ---------- fuzz ---------- */

static uint64_t fuzz_state = UINT64_C(0x243f6a8885a308d3);

static uint32_t
fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (uint32_t)(fuzz_state >> 16);
}

/* A body that is often nearly valid: a few fields with plausible lengths, then a random
 * mutation (a flipped byte, a cut, random garbage). */
static size_t
fuzz_body(uint8_t *b, size_t cap)
{
	size_t n = 0;
	unsigned nf = fuzz_rand() % 6;

	if (fuzz_rand() % 8 == 0) {		/* pure noise */
		n = fuzz_rand() % cap;
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)fuzz_rand();
		return n;
	}
	for (unsigned f = 0; f < nf && n + 6 + 16 <= cap; f++) {
		uint32_t len = fuzz_rand() % 17;
		uint8_t val[16];

		for (uint32_t i = 0; i < len; i++)
			val[i] = fuzz_rand() % 4 ? (uint8_t)('a' + fuzz_rand() % 26) : 0;
		n += put_field(b + n, (uint16_t)(fuzz_rand() % 4), len, val, len);
	}
	switch (fuzz_rand() % 4) {
	case 0:
		if (n)
			b[fuzz_rand() % n] = (uint8_t)fuzz_rand();
		break;
	case 1:
		if (n)
			n = fuzz_rand() % n;
		break;
	case 2:
		while (n < cap && fuzz_rand() % 3)
			b[n++] = (uint8_t)fuzz_rand();
		break;
	default:
		break;
	}
	return n;
}

static void
fuzz_random_bodies_never_crash_and_views_stay_inside(void **state)
{
	uint8_t scratch[160];
	size_t parsed = 0;

	(void)state;
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = fuzz_body(scratch, sizeof(scratch)), total = 0;
		uint8_t *copy;
		struct idg_msgview v;
		int rc = parse_copy(scratch, len, &copy, &v);

		if (rc != 0) {
			assert_int_equal(rc, IDG_ERR_PROTO);
			free(copy);
			continue;
		}
		parsed++;
		/* A parsed body is exactly its fields, each inside the body. */
		for (size_t i = 0; i < v.n; i++) {
			const struct idg_field *f = &v.fields[i];
			const char *s;
			uint32_t u32;
			uint64_t u64;

			assert_true(f->val >= copy + 6 && f->val + f->len <= copy + len);
			total += 6 + f->len;
			if (idg_field_str(f, &s) == 0)
				assert_int_equal(strlen(s) + 1, f->len);
			(void)idg_msg_get_str(&v, f->tag, &s);
			(void)idg_msg_get_u32(&v, f->tag, &u32);
			(void)idg_msg_get_u64(&v, f->tag, &u64);
			assert_true(idg_msg_count(&v, f->tag) >= 1);
		}
		assert_int_equal(total, len);
		idg_msgview_free(&v);
		free(copy);
	}
	print_message("# 200000 bodies, %zu parsed\n", parsed);
	/* Both paths must have been exercised for the loop to mean anything. */
	assert_true(parsed > 20000 && parsed < 180000);
}

/* ---------- send and receive ---------- */

static size_t
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void
small_frame_round_trip_over_a_socketpair(void **state)
{
	struct idg_msg m;
	const uint8_t *frame;
	uint8_t *body = NULL;
	size_t flen, blen;
	int sv[2], fd = 12345;
	struct idg_msgview v;
	const char *s;

	(void)state;
	pair(sv);
	assert_int_equal(idg_msg_init(&m, IDG_WIRE_REQUEST_MAX), 0);
	assert_int_equal(idg_msg_add_str(&m, 1, "whoami"), 0);
	frame = idg_msg_frame(&m, &flen);
	assert_int_equal(idg_wire_send(sv[0], frame, flen, -1, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], IDG_WIRE_REQUEST_MAX, &body, &blen, &fd, 1000), 0);
	assert_int_equal(fd, -1);	/* none was passed */
	assert_int_equal(blen, flen - IDG_WIRE_HDR);
	assert_memory_equal(body, frame + IDG_WIRE_HDR, blen);
	assert_int_equal(idg_msg_parse(body, blen, &v), 0);
	assert_int_equal(idg_msg_get_str(&v, 1, &s), 0);
	assert_string_equal(s, "whoami");
	idg_msgview_free(&v);
	free(body);

	/* An empty body is a valid frame too. */
	idg_msg_free(&m);
	assert_int_equal(idg_msg_init(&m, 16), 0);
	frame = idg_msg_frame(&m, &flen);
	assert_int_equal(idg_wire_send(sv[0], frame, flen, -1, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], 16, &body, &blen, NULL, 1000), 0);
	assert_int_equal(blen, 0);
	free(body);
	idg_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

static void
fd_passes_with_scm_rights(void **state)
{
	char dir[] = "/tmp/idg-wire-XXXXXX", path[64];
	struct idg_msg m;
	const uint8_t *frame;
	uint8_t *body = NULL;
	size_t flen, blen;
	int sv[2], file, got = -1;
	size_t nfds;
	struct stat a, b;
	char buf[8] = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/passed", dir);
	file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(file >= 0);
	assert_int_equal(write(file, "payload", 7), 7);
	pair(sv);
	assert_int_equal(idg_msg_init(&m, 64), 0);
	assert_int_equal(idg_msg_add_str(&m, 1, "with fd"), 0);
	frame = idg_msg_frame(&m, &flen);
	assert_int_equal(idg_wire_send(sv[0], frame, flen, file, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], 64, &body, &blen, &got, 1000), 0);
	assert_true(got >= 0);
	assert_int_not_equal(got, file);
	/* The same open file: same inode, shared offset, and close-on-exec on our side. */
	assert_int_equal(fstat(file, &a), 0);
	assert_int_equal(fstat(got, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_int_equal(pread(got, buf, 7, 0), 7);
	assert_string_equal(buf, "payload");
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	assert_memory_equal(body, frame + IDG_WIRE_HDR, blen);
	free(body);
	close(got);

	/* A receiver that asks for no fd gets the frame, and the passed fd is closed for it
	 * instead of leaking. */
	nfds = count_fds();
	assert_int_equal(idg_wire_send(sv[0], frame, flen, file, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], 64, &body, &blen, NULL, 1000), 0);
	free(body);
	assert_int_equal(count_fds(), nfds);
	/* So is one that arrives with a frame that is then refused as too big. */
	assert_int_equal(idg_wire_send(sv[0], frame, flen, file, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], 4, &body, &blen, &got, 1000), IDG_ERR_TOOBIG);
	assert_int_equal(count_fds(), nfds);
	idg_msg_free(&m);
	close(file);
	close(sv[0]);
	close(sv[1]);
	unlink(path);
	rmdir(dir);
}

static void
frame_over_the_receivers_max_is_too_big(void **state)
{
	struct idg_msg m;
	const uint8_t *frame;
	uint8_t *body = (uint8_t *)&m;	/* must stay untouched */
	size_t flen, blen = 777;
	int sv[2];
	uint8_t pad[100] = { 0 };
	uint8_t hdr[4] = { 0xff, 0xff, 0xff, 0xff };

	(void)state;
	pair(sv);
	assert_int_equal(idg_msg_init(&m, 1000), 0);
	assert_int_equal(idg_msg_add(&m, 1, pad, sizeof(pad)), 0);	/* body 106 */
	frame = idg_msg_frame(&m, &flen);
	assert_int_equal(idg_wire_send(sv[0], frame, flen, -1, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], 105, &body, &blen, NULL, 1000), IDG_ERR_TOOBIG);
	assert_ptr_equal(body, (uint8_t *)&m);
	assert_int_equal(blen, 777);
	close(sv[1]);
	/* A 4 GiB header is refused before anything is allocated for it. */
	pair(sv);
	assert_int_equal(write(sv[0], hdr, 4), 4);
	assert_int_equal(idg_wire_recv(sv[1], IDG_WIRE_REPLY_MAX, &body, &blen, NULL, 1000),
	    IDG_ERR_TOOBIG);
	/* Exactly the max is fine. */
	close(sv[0]);
	close(sv[1]);
	pair(sv);
	assert_int_equal(idg_wire_send(sv[0], frame, flen, -1, 1000), 0);
	assert_int_equal(idg_wire_recv(sv[1], 106, &body, &blen, NULL, 1000), 0);
	assert_int_equal(blen, 106);
	free(body);
	idg_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

static void
peer_closing_mid_frame_is_unavailable(void **state)
{
	static const uint8_t half_header[2] = { 0, 0 };
	static const uint8_t short_body[4 + 10] = { 0, 0, 0, 100, 1, 2, 3 };
	uint8_t *body = NULL;
	size_t blen;
	int sv[2], fd = -1;

	(void)state;
	/* Closed before any byte. */
	pair(sv);
	close(sv[0]);
	assert_int_equal(idg_wire_recv(sv[1], 1024, &body, &blen, &fd, 1000), IDG_ERR_UNAVAIL);
	close(sv[1]);
	/* Closed inside the header. */
	pair(sv);
	assert_int_equal(write(sv[0], half_header, 2), 2);
	close(sv[0]);
	assert_int_equal(idg_wire_recv(sv[1], 1024, &body, &blen, &fd, 1000), IDG_ERR_UNAVAIL);
	close(sv[1]);
	/* Closed inside the body: 10 of 100 bytes. */
	pair(sv);
	assert_int_equal(write(sv[0], short_body, sizeof(short_body)), (ssize_t)sizeof(short_body));
	close(sv[0]);
	assert_int_equal(idg_wire_recv(sv[1], 1024, &body, &blen, &fd, 1000), IDG_ERR_UNAVAIL);
	assert_null(body);
	assert_int_equal(fd, -1);
	close(sv[1]);
	/* Sending to a peer that is gone: no SIGPIPE, just UNAVAIL. */
	pair(sv);
	close(sv[1]);
	assert_int_equal(idg_wire_send(sv[0], short_body, sizeof(short_body), -1, 1000),
	    IDG_ERR_UNAVAIL);
	close(sv[0]);
}

static void
silent_peer_times_out(void **state)
{
	uint8_t *body = NULL, *big;
	size_t blen;
	int sv[2];
	int64_t t0, dt;
	const size_t bigsz = 16u * 1024 * 1024;

	(void)state;
	pair(sv);
	t0 = idg_now_ms();
	assert_int_equal(idg_wire_recv(sv[1], 1024, &body, &blen, NULL, 150), IDG_ERR_TIMEOUT);
	dt = idg_now_ms() - t0;
	assert_in_range(dt, 140, 3000);
	/* Half a frame, then silence: the deadline covers the whole call. */
	assert_int_equal(write(sv[0], "\0\0\0\x10" "abc", 7), 7);
	t0 = idg_now_ms();
	assert_int_equal(idg_wire_recv(sv[1], 1024, &body, &blen, NULL, 150), IDG_ERR_TIMEOUT);
	assert_in_range(idg_now_ms() - t0, 140, 3000);
	assert_null(body);
	/* A peer that never reads: a big frame cannot be sent in time. */
	big = calloc(1, bigsz);
	assert_non_null(big);
	big[0] = (uint8_t)((bigsz - 4) >> 24);
	big[1] = (uint8_t)((bigsz - 4) >> 16);
	t0 = idg_now_ms();
	assert_int_equal(idg_wire_send(sv[0], big, bigsz, -1, 150), IDG_ERR_TIMEOUT);
	assert_in_range(idg_now_ms() - t0, 140, 3000);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void
large_frame_crosses_the_socket_buffer(void **state)
{
	const size_t blen = 8u * 1024 * 1024;
	struct idg_msg m;
	uint8_t *val = malloc(blen - 6), *body = NULL;
	const uint8_t *frame;
	size_t flen, got;
	int sv[2], status;
	pid_t child;

	(void)state;
	assert_non_null(val);
	for (size_t i = 0; i < blen - 6; i++)
		val[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(idg_msg_init(&m, IDG_WIRE_REPLY_MAX), 0);
	assert_int_equal(idg_msg_add(&m, 1, val, blen - 6), 0);
	frame = idg_msg_frame(&m, &flen);
	pair(sv);
	/* The sender is a child so that both ends make progress at once. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(sv[1]);
		_exit(idg_wire_send(sv[0], frame, flen, -1, 10000) == 0 ? 0 : 1);
	}
	close(sv[0]);
	assert_int_equal(idg_wire_recv(sv[1], IDG_WIRE_REPLY_MAX, &body, &got, NULL, 10000), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(got, blen);
	assert_memory_equal(body, frame + IDG_WIRE_HDR, blen);
	free(body);
	free(val);
	idg_msg_free(&m);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(build_and_parse_round_trip),
		cmocka_unit_test(empty_body_parses_to_no_fields),
		cmocka_unit_test(truncated_and_overlong_fields_are_protocol_errors),
		cmocka_unit_test(field_count_is_capped),
		cmocka_unit_test(string_fields_need_exactly_one_final_nul),
		cmocka_unit_test(number_fields_need_their_exact_length),
		cmocka_unit_test(msg_add_refuses_past_the_body_limit),
		cmocka_unit_test(fuzz_random_bodies_never_crash_and_views_stay_inside),
		cmocka_unit_test(small_frame_round_trip_over_a_socketpair),
		cmocka_unit_test(fd_passes_with_scm_rights),
		cmocka_unit_test(frame_over_the_receivers_max_is_too_big),
		cmocka_unit_test(peer_closing_mid_frame_is_unavailable),
		cmocka_unit_test(silent_peer_times_out),
		cmocka_unit_test(large_frame_crosses_the_socket_buffer),
	};

	return cmocka_run_group_tests_name("proto/wire", tests, NULL, NULL);
}
