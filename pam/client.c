/* How pam_idgate.so asks idgated: one connection per request on pam.sock, the connect, the
 * send and the receive all inside one deadline (poll, never a blocking call), a reply of at
 * most IDG_PAM_REPLY_MAX bytes with a status. Also the small text checks the module needs. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "pam/pam_idgate.h"
#include "proto/api.h"

int64_t
idg_pam_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - idg_pam_now_ms();

	return left > 0 ? (int)left : 0;
}

/* A nonblocking connect finished within the deadline. A full backlog (EAGAIN) counts as
 * no daemon: waiting for room would be waiting on a daemon that is not reading. */
static int
connect_sock(const char *path, int64_t deadline, int *fd_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, err = 0, rc = IDG_ERR_UNAVAIL;
	socklen_t elen = sizeof(err);

	if (len == 0 || len >= sizeof(sa.sun_path))
		return IDG_ERR_UNAVAIL;
	memcpy(sa.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return IDG_ERR_IO;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r;

		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		do
			r = poll(&p, 1, left_ms(deadline));
		while (r < 0 && errno == EINTR);
		if (r == 0)
			rc = IDG_ERR_TIMEOUT;
		if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
			goto fail;
	}
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return rc;
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
	int64_t deadline = idg_pam_now_ms() + timeout_ms;
	struct idg_pam_reply r = { NULL, { NULL, 0 }, 0, NULL };
	const uint8_t *frame;
	size_t flen, blen = 0;
	int fd = -1, rc;

	if ((rc = connect_sock(sock, deadline, &fd)) < 0)
		return rc;
	frame = idg_msg_frame(req, &flen);
	if ((rc = idg_wire_send(fd, frame, flen, -1, left_ms(deadline))) < 0)
		goto out;
	rc = idg_wire_recv(fd, IDG_PAM_REPLY_MAX, &r.body, &blen, NULL, left_ms(deadline));
	if (rc == IDG_ERR_TOOBIG)
		rc = IDG_ERR_PROTO;
	if (rc < 0)
		goto out;
	if ((rc = reply_parse(&r, blen)) < 0)
		goto out;
	*out = r;
	r.body = NULL;
	r.v.fields = NULL;
out:
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
