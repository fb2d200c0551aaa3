/* How pam_idgate.so asks idgated: one connection per request on pam.sock, the connect, the
 * send and the receive all inside one deadline (poll, never a blocking call), a reply of at
 * most IDG_PAM_REPLY_MAX bytes with a status. Also the small text checks the module needs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "pam/pam_idgate.h"
#include "proto/api.h"

int64_t
idg_pam_now_ms(void)
{
	return idg_wire_now_ms();
}

/* The status, and the reason if there is one; each field of the shape its tag requires. */
static int
reply_parse(struct idg_pam_reply *r, size_t len)
{
	const struct idg_field *f;

	if (idg_msg_parse(r->body, len, &r->v) < 0)
		return IDG_ERR_PROTO;
	if (idg_msg_count(&r->v, IDG_T_STATUS) != 1 ||
	    idg_msg_get_u32(&r->v, IDG_T_STATUS, &r->status) < 0)
		return IDG_ERR_PROTO;
	r->error = NULL;
	if ((f = idg_msg_get(&r->v, IDG_T_ERROR)) != NULL && idg_field_str(f, &r->error) < 0)
		return IDG_ERR_PROTO;
	return 0;
}

int
idg_pam_call(const char *sock, struct idg_msg *req, unsigned timeout_ms,
    struct idg_pam_reply *out)
{
	return idg_pam_call_keep(sock, req, timeout_ms, out, NULL);
}

int
idg_pam_call_keep(const char *sock, struct idg_msg *req, unsigned timeout_ms,
    struct idg_pam_reply *out, int *keep_fd_out)
{
	int64_t deadline = idg_pam_now_ms() + timeout_ms;
	struct idg_pam_reply r = { NULL, { NULL, 0 }, 0, NULL };
	const uint8_t *frame;
	size_t flen, blen = 0;
	int fd = -1, rc;

	if ((rc = idg_wire_connect(sock, deadline, &fd)) < 0)
		return rc;
	frame = idg_msg_frame(req, &flen);
	if ((rc = idg_wire_send(fd, frame, flen, -1, idg_wire_left_ms(deadline))) < 0)
		goto out;
	rc = idg_wire_recv(fd, IDG_PAM_REPLY_MAX, &r.body, &blen, NULL,
	    idg_wire_left_ms(deadline));
	if (rc == IDG_ERR_TOOBIG)
		rc = IDG_ERR_PROTO;
	if (rc < 0)
		goto out;
	if ((rc = reply_parse(&r, blen)) < 0)
		goto out;
	*out = r;
	r.body = NULL;
	r.v.fields = NULL;
	if (keep_fd_out) {
		*keep_fd_out = fd;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	idg_pam_reply_free(&r);
	return rc;
}

void
idg_pam_reply_free(struct idg_pam_reply *r)
{
	if (r == NULL)
		return;
	idg_msgview_free(&r->v);
	free(r->body);
	r->body = NULL;
	r->error = NULL;
}

void
idg_pam_printable(const char *text, char *out, size_t size)
{
	size_t n = 0;

	for (; text != NULL && *text != '\0' && n + 1 < size; text++)
		out[n++] = (*text >= 0x20 && *text < 0x7f) ? *text : '?';
	out[n] = '\0';
}

int
idg_pam_word(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (*s <= 0x20 || *s >= 0x7f || n >= max)
			return 0;
	return n > 0;
}

static int
b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

int
idg_pam_token_shaped(const char *s)
{
	size_t parts = 1, run = 0, i;

	if (strncmp(s, "idgr_", 5) == 0) {
		for (i = 5; b64url(s[i]); i++)
			;
		return s[i] == '\0' && i == 5 + 43;
	}
	if (strncmp(s, "eyJ", 3) != 0)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (run == 0)
				return 0;
			parts++;
			run = 0;
		} else if (b64url(*s)) {
			run++;
		} else {
			return 0;
		}
	}
	return parts == 3 && run > 0;
}
