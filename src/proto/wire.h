/* idgate's wire protocol: length-prefixed frames of tag-length-value fields. See README.md. */
#ifndef IDG_PROTO_WIRE_H
#define IDG_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDG_WIRE_HDR 4u
#define IDG_WIRE_REQUEST_MAX (64u * 1024u)
#define IDG_WIRE_REPLY_MAX (64u * 1024u * 1024u)
#define IDG_WIRE_FIELDS_MAX 4096u

/* A message being built: data holds the frame (header included). */
struct idg_msg {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;	/* body limit */
	size_t nfields;	/* at most IDG_WIRE_FIELDS_MAX, as receivers require */
};

/* A field of a received body: val points into the body, never copied. */
struct idg_field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *val;
};

/* A parsed body: the fields in order. */
struct idg_msgview {
	struct idg_field *fields;
	size_t n;
};

int idg_msg_init(struct idg_msg *m, size_t max_body);
int idg_msg_add(struct idg_msg *m, uint16_t tag, const void *val, size_t len);
int idg_msg_add_str(struct idg_msg *m, uint16_t tag, const char *s);
int idg_msg_add_u32(struct idg_msg *m, uint16_t tag, uint32_t v);
int idg_msg_add_u64(struct idg_msg *m, uint16_t tag, uint64_t v);
/* The frame to send (header filled in). */
const uint8_t *idg_msg_frame(struct idg_msg *m, size_t *len_out);
void idg_msg_free(struct idg_msg *m);	/* wipes: messages may carry passwords */

/* Read a frame's body length from its 4-byte header. */
uint32_t idg_wire_body_len(const uint8_t hdr[IDG_WIRE_HDR]);

/* Split a body into fields; IDG_ERR_PROTO if any field is truncated or there are too many.
 * view->fields is allocated (free with idg_msgview_free). */
int idg_msg_parse(const uint8_t *body, size_t len, struct idg_msgview *view);
void idg_msgview_free(struct idg_msgview *view);

/* The first field with tag, or NULL. */
const struct idg_field *idg_msg_get(const struct idg_msgview *v, uint16_t tag);
/* A string field: IDG_ERR_NOTFOUND if absent, IDG_ERR_PROTO if not one NUL-terminated string. */
int idg_msg_get_str(const struct idg_msgview *v, uint16_t tag, const char **out);
int idg_msg_get_u32(const struct idg_msgview *v, uint16_t tag, uint32_t *out);
int idg_msg_get_u64(const struct idg_msgview *v, uint16_t tag, uint64_t *out);
/* Validate one field as a string. */
int idg_field_str(const struct idg_field *f, const char **out);
/* Count the fields with tag. */
size_t idg_msg_count(const struct idg_msgview *v, uint16_t tag);

/* Blocking helpers for clients: send a whole frame (with an optional fd passed along),
 * and receive a whole frame of at most max body bytes (body malloc'd, optional fd out).
 * timeout_ms bounds the whole call. */
int idg_wire_send(int sock, const uint8_t *frame, size_t len, int pass_fd, int timeout_ms);
int idg_wire_recv(int sock, size_t max, uint8_t **body_out, size_t *len_out, int *fd_out,
    int timeout_ms);

/* Deadlines for clients (the PAM and NSS modules): milliseconds on the monotonic clock, and
 * what is left of a deadline as a poll timeout (never negative). */
int64_t idg_wire_now_ms(void);
int idg_wire_left_ms(int64_t deadline);
/* Connect to the stream socket at path without waiting past deadline: 0 and *fd_out
 * (nonblocking, close-on-exec). IDG_ERR_UNAVAIL when the path is unusable, nobody listens
 * or the backlog is full (EAGAIN: waiting for room would be waiting on a daemon that is not
 * reading); IDG_ERR_TIMEOUT when the deadline passed; IDG_ERR_IO when no socket was made. */
int idg_wire_connect(const char *path, int64_t deadline, int *fd_out);

#endif
