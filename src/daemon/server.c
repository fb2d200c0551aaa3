/* idgated's sockets and event loop: api.sock (any uid) and pam.sock (root only), one epoll
 * loop, non-blocking I/O with bounded buffers, so a slow or hostile client cannot stall the
 * others. Each caller is identified by SO_PEERCRED when it connects. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/lograte.h"
#include "common/util.h"
#include "daemon/daemon.h"

#define READ_CHUNK 65536
#define OUT_HIGH_WATER (1024 * 1024)	/* stop taking requests while this much is unsent */
#define LISTEN_BACKLOG 128
/* Lines a local peer can cause at will: at most one per uid and kind in this time, then a
 * count (a refused-connection loop made ~24,000 lines a second; issue 13). */
#define PEER_LOG_INTERVAL_MS 5000

/* What a rate-limited line is about; with the peer's uid, the key of its window. */
enum peer_log_kind { PL_PAM_NOT_ROOT = 1, PL_CONN_LIMIT, PL_UID_LIMIT, PL_MALFORMED, PL_UNKNOWN,
	PL_TOO_LARGE, PL_DEADLINE, PL_REQUEST };

/* What an epoll event points at: the first member of a conn and of a watch. */
enum ep_kind { EK_API, EK_PAM, EK_SIG, EK_TIMER, EK_CONN, EK_WATCH };

struct ep_item {
	enum ep_kind kind;
};

struct conn {
	struct ep_item ep;	/* EK_CONN */
	int fd;
	uint64_t serial;	/* names the connection to a deferred reply */
	bool waiting;		/* a request's reply is deferred: take no more requests */
	struct ucred cred;
	bool pam;
	struct idg_buf in, out;
	int in_fd;		/* fd passed by the client, for the frame at in_fd_at */
	size_t in_fd_at;
	int out_fd;		/* fd to pass with the frame at out_fd_at */
	size_t out_fd_at;
	int64_t last_activity;	/* ms */
	int64_t partial_since;	/* ms; 0: no incomplete request */
	int64_t out_since;	/* ms; 0: nothing waiting to be sent */
	bool closing;		/* send what is queued, then close */
	bool dead;		/* closed; freed after the current batch of events */
	struct conn *next, *prev;
};

struct idg_server {
	struct idg_daemon *d;
	int ep, sigfd, timerfd;
	int api_fd, pam_fd;
	char api_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char pam_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns;
	size_t nconns;
	struct conn *graveyard;	/* closed during this batch of events */
	uint64_t next_serial;
	struct idg_watch *watches;
	void (*tick)(struct idg_daemon *d, int64_t now);	/* once a second */
	void (*pam_closed)(struct idg_daemon *d, uint64_t serial);	/* a pam.sock peer left */
	struct idg_lograte peer_log;	/* what peers can make us log */
	bool stop;
};

static uint64_t
peer_key(enum peer_log_kind kind, uid_t uid)
{
	return (uint64_t)kind << 32 | (uint64_t)uid;
}

/* A descriptor someone else owns (the connector's socket), with its callback. */
struct idg_watch {
	struct ep_item ep;	/* EK_WATCH */
	int fd;
	void (*cb)(void *ctx, uint32_t events);
	void *ctx;
	bool dead;
	struct idg_watch *next;
};

/* epoll tags for the non-connection fds */
static struct ep_item tag_api = { EK_API }, tag_pam = { EK_PAM }, tag_sig = { EK_SIG },
    tag_timer = { EK_TIMER };

static int
make_listener(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket: refusing to replace it", path);
			return -1;
		}
		unlink(path);	/* stale: the pid-file lock proved no other idgated runs */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* The umask makes the socket right from the first instant; chmod confirms it. */
	old = umask((mode_t)(~mode & 0777));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, mode) < 0 || chown(path, 0, 0) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "setting up %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int
ep_add(int ep, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int
idg_server_new(struct idg_daemon *d, struct idg_server **out, char *err, size_t errlen)
{
	struct idg_server *s = calloc(1, sizeof(*s));
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;

	if (s == NULL)
		return IDG_ERR_NOMEM;
	s->d = d;
	idg_lograte_init(&s->peer_log, PEER_LOG_INTERVAL_MS);
	s->api_fd = s->pam_fd = s->sigfd = s->timerfd = s->ep = -1;
	snprintf(s->api_path, sizeof(s->api_path), "%s/api.sock", d->cfg.run_dir);
	snprintf(s->pam_path, sizeof(s->pam_path), "%s/pam.sock", d->cfg.run_dir);
	if ((s->api_fd = make_listener(s->api_path, 0666, err, errlen)) < 0 ||
	    (s->pam_fd = make_listener(s->pam_path, 0600, err, errlen)) < 0)
		goto fail;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(s->timerfd, 0, &tick, NULL) < 0 ||
	    (s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errlen, "event loop setup: %s", strerror(errno));
		goto fail;
	}
	if (ep_add(s->ep, s->api_fd, EPOLLIN, &tag_api) < 0 ||
	    ep_add(s->ep, s->pam_fd, EPOLLIN, &tag_pam) < 0 ||
	    ep_add(s->ep, s->sigfd, EPOLLIN, &tag_sig) < 0 ||
	    ep_add(s->ep, s->timerfd, EPOLLIN, &tag_timer) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	idg_server_free(s);
	return IDG_ERR_IO;
}

static void unwatch_dead(struct idg_server *s);

static void
conn_close(struct idg_server *s, struct conn *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->in_fd = c->out_fd = -1;
	idg_buf_free(&c->in);
	idg_buf_free(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	/* The current batch of events may still name c: free it after the batch. */
	c->dead = true;
	if (c->pam && s->pam_closed)
		s->pam_closed(s->d, c->serial);
	c->next = s->graveyard;
	s->graveyard = c;
}

static void
bury(struct idg_server *s)
{
	while (s->graveyard) {
		struct conn *c = s->graveyard;

		s->graveyard = c->next;
		free(c);
	}
}

void
idg_server_free(struct idg_server *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		conn_close(s, s->conns);
	bury(s);
	for (struct idg_watch *w = s->watches; w; w = w->next)
		w->dead = true;
	unwatch_dead(s);
	if (s->api_fd >= 0) {
		close(s->api_fd);
		unlink(s->api_path);
	}
	if (s->pam_fd >= 0) {
		close(s->pam_fd);
		unlink(s->pam_path);
	}
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->timerfd >= 0)
		close(s->timerfd);
	if (s->ep >= 0)
		close(s->ep);
	free(s);
}

static void
conn_update_events(struct idg_server *s, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	/* Reading stops while a reply backs up, a reply is deferred, or once the connection is
	 * closing; a peer hanging up is still noticed. */
	if (!c->closing && !c->waiting && c->out.len < OUT_HIGH_WATER && c->out_fd < 0)
		ev.events |= EPOLLIN;
	ev.events |= EPOLLRDHUP;
	if (c->out.len > 0)
		ev.events |= EPOLLOUT;
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A passwd entry's fields. */
static int
add_pw(struct idg_msg *m, const struct idg_reply *rp)
{
	int rc;

	if ((rc = idg_msg_add_u32(m, IDG_T_UID, rp->pw.uid)) < 0 ||
	    (rc = idg_msg_add_u32(m, IDG_T_GID, rp->pw.gid)) < 0 ||
	    (rc = idg_msg_add_str(m, IDG_T_GECOS, rp->pw.gecos)) < 0 ||
	    (rc = idg_msg_add_str(m, IDG_T_HOME, rp->pw.home)) < 0)
		return rc;
	return idg_msg_add_str(m, IDG_T_SHELL, rp->pw.shell);
}

/* The fields of rp->fields, appended to m. */
static int
add_fields(struct idg_msg *m, struct idg_msg *extra)
{
	struct idg_msgview v = { 0 };
	const uint8_t *frame;
	size_t len;
	int rc;

	frame = idg_msg_frame(extra, &len);
	if ((rc = idg_msg_parse(frame + IDG_WIRE_HDR, len - IDG_WIRE_HDR, &v)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < v.n; i++)
		rc = idg_msg_add(m, v.fields[i].tag, v.fields[i].val, v.fields[i].len);
	idg_msgview_free(&v);
	return rc;
}

void
idg_reply_clear(struct idg_reply *rp)
{
	cJSON_Delete(rp->json);
	rp->json = NULL;
	free(rp->pw.gecos);
	free(rp->pw.home);
	free(rp->pw.shell);
	memset(&rp->pw, 0, sizeof(rp->pw));
	if (rp->fields) {
		idg_msg_free(rp->fields);
		free(rp->fields);
		rp->fields = NULL;
	}
	if (rp->fd >= 0)
		close(rp->fd);
	rp->fd = -1;
}

/* Queue a reply frame on c. */
static void
queue_reply(struct conn *c, struct idg_reply *rp)
{
	struct idg_msg m;
	char *json = NULL;
	const uint8_t *frame;
	size_t len;
	int rc;

	if (idg_msg_init(&m, IDG_WIRE_REPLY_MAX) < 0)
		goto fail;
	if (rp->json && (json = cJSON_PrintUnformatted(rp->json)) == NULL)
		goto fail;
	rc = idg_msg_add_u32(&m, IDG_T_STATUS, rp->status);
	if (rc == 0 && rp->status != IDG_ST_OK)
		rc = idg_msg_add_str(&m, IDG_T_ERROR, rp->error);
	if (rc == 0 && json)
		rc = idg_msg_add_str(&m, IDG_T_JSON, json);
	if (rc == 0 && rp->status == IDG_ST_OK && rp->pw.set)
		rc = add_pw(&m, rp);
	if (rc == 0 && rp->fields)
		rc = add_fields(&m, rp->fields);
	if (rc == IDG_ERR_TOOBIG) {
		/* The result does not fit in a reply: say so instead. */
		idg_msg_free(&m);
		free(json);
		json = NULL;
		if (rp->fd >= 0)
			close(rp->fd);
		rp->fd = -1;
		if (idg_msg_init(&m, IDG_WIRE_REPLY_MAX) < 0 ||
		    idg_msg_add_u32(&m, IDG_T_STATUS, IDG_ST_ERROR) < 0 ||
		    idg_msg_add_str(&m, IDG_T_ERROR, "the result is too large for one reply: "
		    "narrow the request") < 0)
			goto fail;
	} else if (rc < 0) {
		goto fail;
	}
	frame = idg_msg_frame(&m, &len);
	if (rp->fd >= 0) {
		c->out_fd = rp->fd;
		c->out_fd_at = c->out.len;
		rp->fd = -1;
	}
	if (idg_buf_append(&c->out, frame, len) < 0)
		c->closing = true;
	idg_msg_free(&m);
	free(json);
	return;
fail:
	idg_msg_free(&m);
	free(json);
	c->closing = true;
}

static void
error_reply(struct conn *c, uint32_t status, const char *msg)
{
	struct idg_reply rp = { .status = status, .fd = -1 };

	snprintf(rp.error, sizeof(rp.error), "%s", msg);
	queue_reply(c, &rp);
}

/* Handle the complete frame at the start of c->in (body_len bytes after the header). */
static void
handle_frame(struct idg_server *s, struct conn *c, uint32_t body_len)
{
	struct idg_msgview v;
	struct idg_req rq = { .fd = -1 };
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	uint32_t op;
	int rc;

	if (c->in_fd >= 0 && c->in_fd_at == 0) {
		rq.fd = c->in_fd;
		c->in_fd = -1;
	}
	rc = idg_msg_parse((const uint8_t *)c->in.data + IDG_WIRE_HDR, body_len, &v);
	if (rc == 0)
		rc = idg_api_check_fields(&v);
	/* Only a put carries a descriptor. */
	if (rc == 0 && idg_msg_get_u32(&v, IDG_T_OP, &op) == 0 && rq.fd >= 0 && op != IDG_OP_FILE_PUT)
		rc = IDG_ERR_PROTO;
	if (rc < 0 || idg_msg_get_u32(&v, IDG_T_OP, &op) < 0) {
		idg_lograte_log(&s->peer_log, peer_key(PL_MALFORMED, c->cred.uid), idg_now_ms(),
		    LOG_NOTICE, "uid %u pid %d: malformed request; closing the connection",
		    (unsigned)c->cred.uid, (int)c->cred.pid);
		error_reply(c, IDG_ST_INPUT, "malformed request: the connection is closed");
		c->closing = true;
		goto out;
	}
	rq.op = (enum idg_op)op;
	rq.v = &v;
	rq.who.uid = c->cred.uid;
	rq.who.pid = c->cred.pid;
	rq.who.pam = c->pam;
	rq.conn_serial = c->serial;
	idg_api_identify(s->d, &rq, &rp);
	if (rp.status == IDG_ST_OK && !idg_api_dispatch(s->d, &rq, &rp)) {
		idg_lograte_log(&s->peer_log, peer_key(PL_UNKNOWN, c->cred.uid), idg_now_ms(),
		    LOG_NOTICE, "uid %u pid %d: unknown request %u; closing the connection",
		    (unsigned)c->cred.uid, (int)c->cred.pid, op);
		error_reply(c, IDG_ST_INPUT, "unknown request: the connection is closed");
		c->closing = true;
		goto out;
	}
	if (rp.status == IDG_ST_DEFER)
		c->waiting = true;	/* idg_server_complete answers later */
	else
		queue_reply(c, &rp);
out:
	idg_reply_clear(&rp);
	if (rq.fd >= 0)
		close(rq.fd);
	idg_msgview_free(&v);
}

/* Take as many complete requests from c->in as the output allows. */
static void
process_input(struct idg_server *s, struct conn *c, int64_t now)
{
	while (!c->closing && !c->waiting && c->out.len < OUT_HIGH_WATER && c->out_fd < 0) {
		uint32_t body_len;
		size_t frame_len;

		if (c->in.len < IDG_WIRE_HDR)
			break;
		body_len = idg_wire_body_len((const uint8_t *)c->in.data);
		if (body_len > IDG_WIRE_REQUEST_MAX) {
			idg_lograte_log(&s->peer_log, peer_key(PL_TOO_LARGE, c->cred.uid), now,
			    LOG_NOTICE, "uid %u pid %d: request of %u bytes is over the %u-byte "
			    "limit; closing", (unsigned)c->cred.uid, (int)c->cred.pid, body_len,
			    IDG_WIRE_REQUEST_MAX);
			error_reply(c, IDG_ST_INPUT, "request too large: the connection is closed");
			c->closing = true;
			break;
		}
		frame_len = IDG_WIRE_HDR + (size_t)body_len;
		if (c->in.len < frame_len)
			break;
		/* A passed fd must arrive with the first byte of a frame. */
		if (c->in_fd >= 0 && c->in_fd_at > 0 && c->in_fd_at < frame_len) {
			error_reply(c, IDG_ST_INPUT, "malformed request: the connection is closed");
			c->closing = true;
			break;
		}
		handle_frame(s, c, body_len);
		idg_buf_consume(&c->in, frame_len);
		if (c->in_fd >= 0)
			c->in_fd_at -= frame_len;
	}
	c->partial_since = c->in.len > 0 ? (c->partial_since ? c->partial_since : now) : 0;
}

static void conn_write(struct idg_server *s, struct conn *c, int64_t now);

static void
conn_read(struct idg_server *s, struct conn *c, int64_t now)
{
	for (int rounds = 0; rounds < 16 && !c->closing; rounds++) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		size_t room = IDG_WIRE_HDR + IDG_WIRE_REQUEST_MAX - c->in.len;
		ssize_t n;

		if (room == 0)
			break;	/* a full frame is buffered: process it first */
		if (room > READ_CHUNK)
			room = READ_CHUNK;
		if (idg_buf_reserve(&c->in, room) < 0) {
			c->closing = true;
			break;
		}
		iov.iov_base = c->in.data + c->in.len;
		iov.iov_len = room;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			conn_close(s, c);
			return;
		}
		if (n == 0) {
			conn_close(s, c);
			return;
		}
		if (mh.msg_flags & MSG_CTRUNC)
			c->closing = true;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				/* One fd per request, with its first byte; anything else is hostile. */
				if (c->in_fd >= 0 || i > 0) {
					close(fd);
					c->closing = true;
					continue;
				}
				c->in_fd = fd;
				c->in_fd_at = c->in.len;
			}
		}
		c->in.len += (size_t)n;
		c->last_activity = now;
		if ((size_t)n < room)
			break;
	}
	if (c->closing && c->out.len == 0)
		error_reply(c, IDG_ST_INPUT, "malformed request: the connection is closed");
	process_input(s, c, now);
	/* Most replies fit the socket buffer: send now rather than after another epoll turn. */
	conn_write(s, c, now);
}

static void
conn_write(struct idg_server *s, struct conn *c, int64_t now)
{
	while (c->out.len > 0) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = c->out.data, .iov_len = c->out.len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		bool with_fd = c->out_fd >= 0 && c->out_fd_at == 0;
		ssize_t n;

		if (c->out_fd >= 0 && c->out_fd_at > 0)
			iov.iov_len = c->out_fd_at;	/* the fd goes with the next frame's first byte */
		if (with_fd) {
			struct cmsghdr *cm;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = sizeof(ctl.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &c->out_fd, sizeof(int));
		}
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			conn_close(s, c);
			return;
		}
		if (with_fd) {
			close(c->out_fd);
			c->out_fd = -1;
		} else if (c->out_fd >= 0) {
			c->out_fd_at -= (size_t)n;
		}
		idg_buf_consume(&c->out, (size_t)n);
		c->last_activity = now;
		c->out_since = c->out.len ? now : 0;
	}
	if (c->out.len == 0 && c->closing) {
		conn_close(s, c);
		return;
	}
	/* Unsent replies start the clock even when the first write found the socket full. */
	if (c->out.len > 0 && c->out_since == 0)
		c->out_since = now;
	/* Output drained: requests that waited for it can run now. */
	process_input(s, c, now);
	conn_update_events(s, c);
}

static size_t
conns_of_uid(const struct idg_server *s, uid_t uid)
{
	size_t n = 0;

	for (const struct conn *c = s->conns; c; c = c->next)
		if (c->cred.uid == uid)
			n++;
	return n;
}

static void
refuse(int fd, const char *msg)
{
	struct conn tmp = { .fd = fd, .in_fd = -1, .out_fd = -1 };

	idg_buf_init(&tmp.out, 4096);
	error_reply(&tmp, IDG_ST_ERROR, msg);
	if (tmp.out.len)
		(void)send(fd, tmp.out.data, tmp.out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	idg_buf_free(&tmp.out);
	close(fd);
}

static void
do_accept(struct idg_server *s, int lfd, bool pam, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
			close(fd);
			continue;
		}
		if (pam && cred.uid != 0) {
			idg_lograte_log(&s->peer_log, peer_key(PL_PAM_NOT_ROOT, cred.uid), now,
			    LOG_WARNING, "pam.sock: refused uid %u pid %d (root only)",
			    (unsigned)cred.uid, (int)cred.pid);
			close(fd);
			continue;
		}
		if (s->nconns >= (size_t)s->d->cfg.max_connections) {
			/* one condition for all: one window, whoever meets it */
			idg_lograte_log(&s->peer_log, peer_key(PL_CONN_LIMIT, 0), now, LOG_WARNING,
			    "connection limit (%lld) reached; refused uid %u pid %d",
			    s->d->cfg.max_connections, (unsigned)cred.uid, (int)cred.pid);
			refuse(fd, "idgated is busy: too many connections");
			continue;
		}
		if (cred.uid != 0 && conns_of_uid(s, cred.uid) >= (size_t)s->d->cfg.max_connections_per_uid) {
			idg_lograte_log(&s->peer_log, peer_key(PL_UID_LIMIT, cred.uid), now,
			    LOG_WARNING, "per-uid connection limit (%lld) reached for uid %u; "
			    "refused", s->d->cfg.max_connections_per_uid, (unsigned)cred.uid);
			refuse(fd, "too many connections from this user");
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->ep.kind = EK_CONN;
		c->serial = ++s->next_serial;
		c->fd = fd;
		c->cred = cred;
		c->pam = pam;
		c->in_fd = c->out_fd = -1;
		c->last_activity = now;
		idg_buf_init(&c->in, IDG_WIRE_HDR + IDG_WIRE_REQUEST_MAX);
		idg_buf_init(&c->out, IDG_WIRE_HDR + IDG_WIRE_REPLY_MAX + OUT_HIGH_WATER);
		if (ep_add(s->ep, fd, EPOLLIN | EPOLLRDHUP, c) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}

static void
check_deadlines(struct idg_server *s, int64_t now)
{
	const struct idg_config *cfg = &s->d->cfg;
	struct conn *c = s->conns, *next;

	for (; c; c = next) {
		const char *why = NULL;

		next = c->next;
		if (c->out_since && now - c->out_since > cfg->request_timeout * 1000)
			why = "did not read its replies";
		else if (c->partial_since && now - c->partial_since > cfg->request_timeout * 1000)
			why = "sent an incomplete request for too long";
		if (why) {
			idg_lograte_log(&s->peer_log, peer_key(PL_DEADLINE, c->cred.uid), now,
			    LOG_NOTICE, "uid %u pid %d %s; closing the connection",
			    (unsigned)c->cred.uid, (int)c->cred.pid, why);
			conn_close(s, c);
		} else if (c->in.len == 0 && c->out.len == 0 && !c->waiting &&
		    now - c->last_activity > cfg->idle_timeout * 1000) {
			conn_close(s, c);	/* idle */
		}
	}
}

static void
handle_signals(struct idg_server *s, void (*reload)(struct idg_daemon *d))
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_notice("SIGHUP: reloading configuration");
			reload(s->d);
		} else {
			log_notice("signal %u: stopping", si.ssi_signo);
			s->stop = true;
		}
	}
}

int
idg_server_watch(struct idg_server *s, int fd, void (*cb)(void *ctx, uint32_t events), void *ctx,
    struct idg_watch **out)
{
	struct idg_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return IDG_ERR_NOMEM;
	w->ep.kind = EK_WATCH;
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	if (ep_add(s->ep, fd, EPOLLIN, w) < 0) {
		free(w);
		return IDG_ERR_IO;
	}
	w->next = s->watches;
	s->watches = w;
	*out = w;
	return 0;
}

void
idg_server_unwatch(struct idg_server *s, struct idg_watch *w)
{
	if (s == NULL || w == NULL || w->dead)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;	/* freed after the current batch of events */
}

/* Free the watches dropped during this batch of events. */
static void
unwatch_dead(struct idg_server *s)
{
	for (struct idg_watch **pp = &s->watches; *pp;) {
		struct idg_watch *w = *pp;

		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void
idg_server_on_pam_close(struct idg_server *s, void (*cb)(struct idg_daemon *d, uint64_t serial))
{
	s->pam_closed = cb;
}

void
idg_server_log_peer(struct idg_server *s, uid_t uid, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idg_lograte_vlog(&s->peer_log, peer_key(PL_REQUEST, uid), idg_now_ms(), prio, fmt, ap);
	va_end(ap);
}

void
idg_server_set_tick(struct idg_server *s, void (*tick)(struct idg_daemon *d, int64_t now))
{
	s->tick = tick;
}

bool
idg_server_waiting(const struct idg_server *s, uint64_t conn_serial)
{
	const struct conn *c;
	struct pollfd p;

	for (c = s->conns; c; c = c->next)
		if (c->serial == conn_serial && c->waiting)
			break;
	if (c == NULL)
		return false;
	/* Hung up but not yet seen by the event loop (it closes on the same events). */
	p.fd = c->fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return !(poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)));
}

bool
idg_server_complete(struct idg_server *s, uint64_t conn_serial, struct idg_reply *rp)
{
	int64_t now = idg_now_ms();
	struct conn *c;

	for (c = s->conns; c; c = c->next)
		if (c->serial == conn_serial && c->waiting)
			break;
	if (c == NULL)
		return false;	/* the caller went away meanwhile */
	c->waiting = false;
	c->last_activity = now;
	queue_reply(c, rp);
	conn_write(s, c, now);	/* sends, then takes the requests that waited */
	return true;
}

int
idg_server_run(struct idg_server *s, void (*reload)(struct idg_daemon *d))
{
	struct epoll_event evs[64];

	while (!s->stop) {
		int n = epoll_wait(s->ep, evs, 64, -1);
		int64_t now = idg_now_ms();

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return IDG_ERR_IO;
		}
		for (int i = 0; i < n && !s->stop; i++) {
			struct ep_item *it = evs[i].data.ptr;

			switch (it->kind) {
			case EK_API:
				do_accept(s, s->api_fd, false, now);
				break;
			case EK_PAM:
				do_accept(s, s->pam_fd, true, now);
				break;
			case EK_SIG:
				handle_signals(s, reload);
				break;
			case EK_TIMER: {
				uint64_t ticks;

				(void)!read(s->timerfd, &ticks, sizeof(ticks));
				check_deadlines(s, now);
				idg_lograte_flush(&s->peer_log, now);
				if (s->tick)
					s->tick(s->d, now);
				break;
			}
			case EK_WATCH: {
				struct idg_watch *w = (struct idg_watch *)it;

				if (!w->dead)
					w->cb(w->ctx, evs[i].events);
				break;
			}
			case EK_CONN: {
				struct conn *c = (struct conn *)it;

				if (c->dead)
					continue;
				if (evs[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP) &&
				    !(evs[i].events & EPOLLIN)) {
					conn_close(s, c);
					continue;
				}
				if (evs[i].events & EPOLLIN)
					conn_read(s, c, now);
				else if (evs[i].events & EPOLLOUT)
					conn_write(s, c, now);
				break;
			}
			}
		}
		unwatch_dead(s);
		bury(s);
	}
	return 0;
}
