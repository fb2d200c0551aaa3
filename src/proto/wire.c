/* Building, parsing, sending and receiving wire messages. */
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
#include "proto/wire.h"

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
idg_msg_init(struct idg_msg *m, size_t max_body)
{
	m->cap = 256;
	m->data = calloc(1, m->cap);
	m->len = IDG_WIRE_HDR;
	m->max = max_body;
	m->nfields = 0;
	return m->data ? 0 : IDG_ERR_NOMEM;
}

int
idg_msg_add(struct idg_msg *m, uint16_t tag, const void *val, size_t len)
{
	size_t need;

	if (m->data == NULL)
		return IDG_ERR_NOMEM;
	if (m->nfields >= IDG_WIRE_FIELDS_MAX)
		return IDG_ERR_TOOBIG;
	if (len > UINT32_MAX || len + 6 > m->max - (m->len - IDG_WIRE_HDR) ||
	    m->len - IDG_WIRE_HDR > m->max)
		return IDG_ERR_TOOBIG;
	need = m->len + 6 + len;
	if (need > m->cap) {
		size_t ncap = m->cap;
		uint8_t *nd;

		while (ncap < need)
			ncap *= 2;
		if ((nd = malloc(ncap)) == NULL)
			return IDG_ERR_NOMEM;
		memcpy(nd, m->data, m->len);
		explicit_bzero(m->data, m->cap);
		free(m->data);
		m->data = nd;
		m->cap = ncap;
	}
	m->data[m->len] = (uint8_t)(tag >> 8);
	m->data[m->len + 1] = (uint8_t)tag;
	put_be32(m->data + m->len + 2, (uint32_t)len);
	if (len)
		memcpy(m->data + m->len + 6, val, len);
	m->len = need;
	m->nfields++;
	return 0;
}

int
idg_msg_add_str(struct idg_msg *m, uint16_t tag, const char *s)
{
	return idg_msg_add(m, tag, s, strlen(s) + 1);
}

int
idg_msg_add_u32(struct idg_msg *m, uint16_t tag, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	return idg_msg_add(m, tag, b, sizeof(b));
}

int
idg_msg_add_u64(struct idg_msg *m, uint16_t tag, uint64_t v)
{
	uint8_t b[8];

	put_be32(b, (uint32_t)(v >> 32));
	put_be32(b + 4, (uint32_t)v);
	return idg_msg_add(m, tag, b, sizeof(b));
}

const uint8_t *
idg_msg_frame(struct idg_msg *m, size_t *len_out)
{
	put_be32(m->data, (uint32_t)(m->len - IDG_WIRE_HDR));
	*len_out = m->len;
	return m->data;
}

void
idg_msg_free(struct idg_msg *m)
{
	if (m == NULL || m->data == NULL)
		return;
	explicit_bzero(m->data, m->cap);
	free(m->data);
	m->data = NULL;
	m->len = m->cap = 0;
}

uint32_t
idg_wire_body_len(const uint8_t hdr[IDG_WIRE_HDR])
{
	return get_be32(hdr);
}

int
idg_msg_parse(const uint8_t *body, size_t len, struct idg_msgview *view)
{
	size_t pos = 0, n = 0, cap = 16;
	struct idg_field *f;

	view->fields = NULL;
	view->n = 0;
	if ((f = malloc(cap * sizeof(*f))) == NULL)
		return IDG_ERR_NOMEM;
	while (pos < len) {
		uint32_t flen;

		if (len - pos < 6 || n == IDG_WIRE_FIELDS_MAX)
			goto bad;
		flen = get_be32(body + pos + 2);
		if (flen > len - pos - 6)
			goto bad;
		if (n == cap) {
			struct idg_field *nf = realloc(f, 2 * cap * sizeof(*f));

			if (nf == NULL) {
				free(f);
				return IDG_ERR_NOMEM;
			}
			f = nf;
			cap *= 2;
		}
		f[n].tag = (uint16_t)(body[pos] << 8 | body[pos + 1]);
		f[n].len = flen;
		f[n].val = body + pos + 6;
		n++;
		pos += 6 + (size_t)flen;
	}
	view->fields = f;
	view->n = n;
	return 0;
bad:
	free(f);
	return IDG_ERR_PROTO;
}

void
idg_msgview_free(struct idg_msgview *view)
{
	if (view == NULL)
		return;
	free(view->fields);
	view->fields = NULL;
	view->n = 0;
}

const struct idg_field *
idg_msg_get(const struct idg_msgview *v, uint16_t tag)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->fields[i].tag == tag)
			return &v->fields[i];
	return NULL;
}

int
idg_field_str(const struct idg_field *f, const char **out)
{
	if (f->len == 0 || f->val[f->len - 1] != '\0' || memchr(f->val, '\0', f->len - 1) != NULL)
		return IDG_ERR_PROTO;
	*out = (const char *)f->val;
	return 0;
}

int
idg_msg_get_str(const struct idg_msgview *v, uint16_t tag, const char **out)
{
	const struct idg_field *f = idg_msg_get(v, tag);

	if (f == NULL)
		return IDG_ERR_NOTFOUND;
	return idg_field_str(f, out);
}

int
idg_msg_get_u32(const struct idg_msgview *v, uint16_t tag, uint32_t *out)
{
	const struct idg_field *f = idg_msg_get(v, tag);

	if (f == NULL)
		return IDG_ERR_NOTFOUND;
	if (f->len != 4)
		return IDG_ERR_PROTO;
	*out = get_be32(f->val);
	return 0;
}

int
idg_msg_get_u64(const struct idg_msgview *v, uint16_t tag, uint64_t *out)
{
	const struct idg_field *f = idg_msg_get(v, tag);

	if (f == NULL)
		return IDG_ERR_NOTFOUND;
	if (f->len != 8)
		return IDG_ERR_PROTO;
	*out = (uint64_t)get_be32(f->val) << 32 | get_be32(f->val + 4);
	return 0;
}

size_t
idg_msg_count(const struct idg_msgview *v, uint16_t tag)
{
	size_t c = 0;

	for (size_t i = 0; i < v->n; i++)
		if (v->fields[i].tag == tag)
			c++;
	return c;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - mono_ms();
		int r;

		if (left <= 0)
			return IDG_ERR_TIMEOUT;
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return IDG_ERR_IO;
	}
}

int
idg_wire_send(int sock, const uint8_t *frame, size_t len, int pass_fd, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	size_t off = 0;

	while (off < len) {
		struct iovec iov = { .iov_base = (void *)(frame + off), .iov_len = len - off };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		int r;

		if (off == 0 && pass_fd >= 0) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = sizeof(ctl.buf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return errno == EPIPE || errno == ECONNRESET ? IDG_ERR_UNAVAIL : IDG_ERR_IO;
		if ((r = wait_fd(sock, POLLOUT, deadline)) < 0)
			return r;
	}
	return 0;
}

/* Read exactly len bytes; keep at most one passed fd. */
static int
recv_exact(int sock, uint8_t *buf, size_t len, int *fd_out, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		struct iovec iov = { .iov_base = buf + off, .iov_len = len - off };
		union {
			char buf[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int r;

		if (n > 0) {
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
					continue;
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < nfd; i++) {
					int fd;

					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					if (fd_out && *fd_out < 0)
						*fd_out = fd;
					else
						close(fd);
				}
			}
			off += (size_t)n;
			continue;
		}
		if (n == 0)
			return IDG_ERR_UNAVAIL;	/* peer closed */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return errno == ECONNRESET ? IDG_ERR_UNAVAIL : IDG_ERR_IO;
		if ((r = wait_fd(sock, POLLIN, deadline)) < 0)
			return r;
	}
	return 0;
}

int
idg_wire_recv(int sock, size_t max, uint8_t **body_out, size_t *len_out, int *fd_out,
    int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	uint8_t hdr[IDG_WIRE_HDR], *body;
	uint32_t len;
	int fd = -1, rc;

	if ((rc = recv_exact(sock, hdr, sizeof(hdr), &fd, deadline)) < 0)
		goto fail;
	len = idg_wire_body_len(hdr);
	if (len > max) {
		rc = IDG_ERR_TOOBIG;
		goto fail;
	}
	if ((body = malloc(len ? len : 1)) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto fail;
	}
	if ((rc = recv_exact(sock, body, len, &fd, deadline)) < 0) {
		free(body);
		goto fail;
	}
	*body_out = body;
	*len_out = len;
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return rc;
}

int64_t
idg_wire_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
idg_wire_left_ms(int64_t deadline)
{
	int64_t left = deadline - idg_wire_now_ms();

	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int
idg_wire_connect(const char *path, int64_t deadline, int *fd_out)
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
			r = poll(&p, 1, idg_wire_left_ms(deadline));
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
