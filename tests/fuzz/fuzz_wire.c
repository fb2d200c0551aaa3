/* Fuzz target for the wire protocol as idgated's sockets and the clients receive it: a frame
 * (4-byte length, then the body) through idg_wire_body_len, idg_msg_parse,
 * idg_api_check_fields and every getter; a body that passes is rebuilt with the writer and
 * must come out byte for byte the same. libFuzzer by run.sh; fuzz_wire_det for make check. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/api.h"
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint32_t sink;

static void
walk(const struct idg_msgview *v)
{
	const char *s;
	uint32_t u32;
	uint64_t u64;

	for (size_t i = 0; i < v->n; i++) {
		const struct idg_field *f = &v->fields[i];

		if (f->len > 0)
			sink += f->val[0] + f->val[f->len - 1];
		if (idg_field_str(f, &s) == 0)
			sink += (uint32_t)strlen(s);
		(void)idg_msg_get_str(v, f->tag, &s);
		(void)idg_msg_get_u32(v, f->tag, &u32);
		(void)idg_msg_get_u64(v, f->tag, &u64);
		sink += (uint32_t)idg_msg_count(v, f->tag);
		if (idg_msg_get(v, f->tag) == NULL)
			abort();	/* a field that is there must be found */
	}
	(void)idg_msg_get(v, 0xffff);
}

/* The writer must give back the very body the reader took apart. */
static void
round_trip(const uint8_t *body, size_t len, const struct idg_msgview *v)
{
	struct idg_msg m;
	const uint8_t *frame;
	size_t flen;

	if (idg_msg_init(&m, IDG_WIRE_REQUEST_MAX) < 0)
		return;
	for (size_t i = 0; i < v->n; i++)
		if (idg_msg_add(&m, v->fields[i].tag, v->fields[i].val, v->fields[i].len) < 0)
			abort();
	frame = idg_msg_frame(&m, &flen);
	if (flen != IDG_WIRE_HDR + len || idg_wire_body_len(frame) != len ||
	    memcmp(frame + IDG_WIRE_HDR, body, len) != 0)
		abort();
	idg_msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idg_msgview v = { 0 };
	uint32_t blen;
	uint8_t *body;

	if (size < IDG_WIRE_HDR)
		return 0;
	blen = idg_wire_body_len(data);
	if (blen > IDG_WIRE_REQUEST_MAX)
		return 0;	/* the server refuses it unread */
	if (blen > size - IDG_WIRE_HDR)
		blen = (uint32_t)(size - IDG_WIRE_HDR);	/* what arrived of it */
	/* the body alone, in a block of its size: a read past it is caught */
	if ((body = malloc(blen ? blen : 1)) == NULL)
		return 0;
	memcpy(body, data + IDG_WIRE_HDR, blen);
	if (idg_msg_parse(body, blen, &v) == 0) {
		walk(&v);
		if (idg_api_check_fields(&v) == 0)
			round_trip(body, blen, &v);
	}
	idg_msgview_free(&v);
	free(body);
	return 0;
}
