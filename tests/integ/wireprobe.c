/* wireprobe: a raw client of idgated's sockets for the robustness tests (t_wire.sh,
 * t_daemon.sh, t_crash.sh). It builds frames from field specs, well-formed or not, and sends
 * them whole, cut short, one byte a second or as a flood; it holds connections open, pipelines
 * requests it never reads, and runs numbered request loops that record each acknowledged
 * request as soon as its reply arrives. Results are printed one per line for the scripts to
 * match; usage() lists the modes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "proto/api.h"
#include "proto/wire.h"

#define BODY_MAX (1024u * 1024u)	/* we may build bodies far past the daemon's cap */
#define EXIT_REFUSED 1
#define EXIT_LOST 2
#define EXIT_USAGE 3

static int timeout_ms = 5000;

/* A growing byte string, for bodies that wire.c would refuse to build. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs("usage: wireprobe [-t MS] SOCKET MODE ARGS...\n"
	    "  send [--fd FILE] [--fd2 FILE] [--fd-late] [--len N] [--cut N] [--close|--shut] FIELD...\n"
	    "      send one frame; print the reply and whether the daemon then closed the connection\n"
	    "  trickle MAXSECS FIELD...   send the frame one byte per second\n"
	    "  hold N SECS idle|ping      open N connections (ping: one request each), hold them\n"
	    "  repeat SECS MAX FIELD...   send the frame and read its reply, again and again on one\n"
	    "                             connection, for SECS seconds or MAX times; count statuses\n"
	    "  connflood N SECS MAX       hold N pinged connections, then connect, read the\n"
	    "                             refusal and close, for SECS seconds or MAX times\n"
	    "  pipeline MAXSECS [FRAMES]  send pings (at most FRAMES) without ever reading a reply\n"
	    "  flood BYTES ff|00|rand     send BYTES of garbage as fast as the daemon takes them\n"
	    "  loop [--kill PID AFTER [--delay US]] ACKFILE FROM TO FIELD...  one request per N\n"
	    "                             on one connection; append each acknowledged N to ACKFILE;\n"
	    "                             SIGKILL PID US microseconds (default: 0-1500, varying)\n"
	    "                             after sending the request that follows AFTER acks\n"
	    "FIELD: op:N (u32:1:N)  u32:TAG:N  u64:TAG:N  str:TAG:TEXT (with its NUL)\n"
	    "       raw:TAG:TEXT (no NUL)  hex:TAG:HEX  over:TAG:LEN:TEXT (header claims LEN)\n"
	    "       junk:HEX (bytes without a field header); in loop, {N} and {N1} in TEXT are\n"
	    "       replaced by the request number and the number plus one\n", stderr);
	exit(EXIT_USAGE);
}

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > BODY_MAX) {
		fprintf(stderr, "wireprobe: body larger than %u bytes\n", BODY_MAX);
		exit(EXIT_USAGE);
	}
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n)
			ncap *= 2;
		if ((b->p = realloc(b->p, ncap)) == NULL) {
			perror("wireprobe: realloc");
			exit(EXIT_USAGE);
		}
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static unsigned long long
number(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end != '\0' || v > max) {
		fprintf(stderr, "wireprobe: bad number '%s'\n", s);
		exit(EXIT_USAGE);
	}
	return v;
}

static size_t
unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; h[0] && h[1] && n < max; h += 2) {
		unsigned v;

		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* text with {N} and {N1} replaced. */
static void
substitute(const char *text, long n, char *out, size_t len)
{
	size_t o = 0;

	while (*text && o + 24 < len) {
		if (strncmp(text, "{N1}", 4) == 0) {
			o += (size_t)snprintf(out + o, len - o, "%ld", n + 1);
			text += 4;
		} else if (strncmp(text, "{N}", 3) == 0) {
			o += (size_t)snprintf(out + o, len - o, "%ld", n);
			text += 3;
		} else {
			out[o++] = *text++;
		}
	}
	out[o] = '\0';
}

/* A well-formed field, encoded by wire.c, appended to b. */
static void
add_wellformed(struct bytes *b, uint16_t tag, const void *val, size_t len)
{
	struct idg_msg m;
	size_t flen;
	const uint8_t *f;

	if (idg_msg_init(&m, BODY_MAX) < 0 || idg_msg_add(&m, tag, val, len) < 0) {
		fprintf(stderr, "wireprobe: cannot encode field %u\n", tag);
		exit(EXIT_USAGE);
	}
	f = idg_msg_frame(&m, &flen);
	bytes_add(b, f + IDG_WIRE_HDR, flen - IDG_WIRE_HDR);
	idg_msg_free(&m);
}

/* One FIELD spec (see usage) appended to b; n feeds {N}. */
static void
add_field(struct bytes *b, const char *spec, long n)
{
	static char text[BODY_MAX];
	static uint8_t bin[BODY_MAX];
	const char *kind_end = strchr(spec, ':'), *rest, *colon;
	char tagbuf[16];
	uint16_t tag;
	uint8_t v[8];

	if (kind_end == NULL)
		goto bad;
	rest = kind_end + 1;
	if (strncmp(spec, "op:", 3) == 0) {
		be32(v, (uint32_t)number(rest, UINT32_MAX));
		add_wellformed(b, IDG_T_OP, v, 4);
		return;
	}
	if (strncmp(spec, "junk:", 5) == 0) {
		bytes_add(b, bin, unhex(rest, bin, sizeof(bin)));
		return;
	}
	if ((colon = strchr(rest, ':')) == NULL || (size_t)(colon - rest) >= sizeof(tagbuf))
		goto bad;
	memcpy(tagbuf, rest, (size_t)(colon - rest));
	tagbuf[colon - rest] = '\0';
	tag = (uint16_t)number(tagbuf, UINT16_MAX);
	substitute(colon + 1, n, text, sizeof(text));
	if (strncmp(spec, "u32:", 4) == 0) {
		be32(v, (uint32_t)number(text, UINT32_MAX));
		add_wellformed(b, tag, v, 4);
	} else if (strncmp(spec, "u64:", 4) == 0) {
		unsigned long long x = number(text, UINT64_MAX);

		be32(v, (uint32_t)(x >> 32));
		be32(v + 4, (uint32_t)x);
		add_wellformed(b, tag, v, 8);
	} else if (strncmp(spec, "str:", 4) == 0) {
		add_wellformed(b, tag, text, strlen(text) + 1);
	} else if (strncmp(spec, "raw:", 4) == 0) {
		add_wellformed(b, tag, text, strlen(text));
	} else if (strncmp(spec, "hex:", 4) == 0) {
		add_wellformed(b, tag, bin, unhex(text, bin, sizeof(bin)));
	} else if (strncmp(spec, "over:", 5) == 0) {
		/* A field whose header claims LEN bytes while TEXT follows. */
		char *c2 = strchr(text, ':');
		uint8_t h[6];

		if (c2 == NULL)
			goto bad;
		*c2 = '\0';
		h[0] = (uint8_t)(tag >> 8);
		h[1] = (uint8_t)tag;
		be32(h + 2, (uint32_t)number(text, UINT32_MAX));
		bytes_add(b, h, 6);
		bytes_add(b, c2 + 1, strlen(c2 + 1));
	} else {
		goto bad;
	}
	return;
bad:
	fprintf(stderr, "wireprobe: bad field spec '%s'\n", spec);
	exit(EXIT_USAGE);
}

/* The frame for fields: header (body length, or claimed_len when >= 0) and body. */
static void
build_frame(struct bytes *frame, char **fields, int nfields, long n, long long claimed_len)
{
	struct bytes body = { 0 };
	uint8_t hdr[IDG_WIRE_HDR];

	for (int i = 0; i < nfields; i++)
		add_field(&body, fields[i], n);
	be32(hdr, claimed_len >= 0 ? (uint32_t)claimed_len : (uint32_t)body.len);
	frame->len = 0;
	bytes_add(frame, hdr, sizeof(hdr));
	bytes_add(frame, body.p, body.len);
	free(body.p);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "wireprobe: socket path too long\n");
		exit(EXIT_USAGE);
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("connect: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* sendmsg of len bytes with nfds copies of fd attached (nfds 0, 1 or 2). */
static ssize_t
send_with_fds(int sock, const uint8_t *p, size_t len, int fd, int nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *c;
		int fds[2] = { fd, fd };

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
}

/* Blocking send of everything (fd, if any, with the first byte). */
static int
send_all(int sock, const uint8_t *p, size_t len, int fd, int nfds)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send_with_fds(sock, p + off, len - off, fd, off ? 0 : nfds, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Receive one reply and print it as "reply status=S ms=T error=E" or "... json=J".
 * Returns the status, or -1 (printing "noreply: WHY"). */
static long
print_reply(int sock, int64_t t0)
{
	struct idg_msgview v = { 0 };
	uint8_t *body = NULL;
	const char *s;
	size_t len;
	uint32_t st;
	int rfd = -1, rc;

	rc = idg_wire_recv(sock, IDG_WIRE_REPLY_MAX, &body, &len, &rfd, timeout_ms);
	if (rc < 0) {
		printf("noreply: %s\n", rc == IDG_ERR_UNAVAIL ? "closed" : idg_strerror(rc));
		return -1;
	}
	if (rfd >= 0)
		close(rfd);
	if (idg_msg_parse(body, len, &v) < 0 || idg_msg_get_u32(&v, IDG_T_STATUS, &st) < 0) {
		printf("noreply: malformed reply\n");
		free(body);
		return -1;
	}
	printf("reply status=%u ms=%lld", st, (long long)(idg_now_ms() - t0));
	if (idg_msg_get_str(&v, IDG_T_ERROR, &s) == 0)
		printf(" error=%s", s);
	if (idg_msg_get_str(&v, IDG_T_JSON, &s) == 0)
		printf(" json=%s", s);
	printf("\n");
	idg_msgview_free(&v);
	free(body);
	return st;
}

/* After a reply: does the daemon close the connection within the timeout? */
static const char *
closed_state(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char c;

	if (poll(&p, 1, timeout_ms) <= 0)
		return "open";
	if (recv(sock, &c, 1, MSG_DONTWAIT) > 0)
		return "more-data";
	return "closed";
}

/* ---------- modes ---------- */

static int
mode_send(int sock, int argc, char **argv)
{
	struct bytes frame = { 0 };
	const char *fdfile = NULL;
	long long claimed = -1, cut = -1;
	int nfds = 1, i, pass = -1, rc;
	int64_t t0;
	bool late = false, close_after = false, shut = false;

	for (i = 0; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc)
			fdfile = argv[++i];
		else if (strcmp(argv[i], "--fd2") == 0 && i + 1 < argc)
			fdfile = argv[++i], nfds = 2;
		else if (strcmp(argv[i], "--fd-late") == 0)
			late = true;
		else if (strcmp(argv[i], "--len") == 0 && i + 1 < argc)
			claimed = (long long)number(argv[++i], UINT32_MAX);
		else if (strcmp(argv[i], "--cut") == 0 && i + 1 < argc)
			cut = (long long)number(argv[++i], BODY_MAX);
		else if (strcmp(argv[i], "--close") == 0)
			close_after = true;
		else if (strcmp(argv[i], "--shut") == 0)
			shut = true;
		else
			usage();
	}
	build_frame(&frame, argv + i, argc - i, 0, claimed);
	if (cut >= 0 && (size_t)cut < frame.len)
		frame.len = (size_t)cut;
	if (fdfile && (pass = open(fdfile, O_RDONLY | O_CLOEXEC)) < 0) {
		perror(fdfile);
		return EXIT_USAGE;
	}
	t0 = idg_now_ms();
	if (late && frame.len > 1) {
		/* The fd arrives with the second read of the frame, not with its first byte. */
		rc = send_all(sock, frame.p, 1, -1, 0);
		sleep_ms(300);
		if (rc == 0)
			rc = send_all(sock, frame.p + 1, frame.len - 1, pass, nfds);
	} else {
		rc = send_all(sock, frame.p, frame.len, pass, pass >= 0 ? nfds : 0);
	}
	printf("sent %zu bytes%s\n", frame.len, rc < 0 ? " (send failed)" : "");
	free(frame.p);
	if (pass >= 0)
		close(pass);
	if (close_after)
		return 0;
	if (shut)
		shutdown(sock, SHUT_WR);
	if (print_reply(sock, t0) < 0)
		return 0;
	printf("after: %s\n", closed_state(sock));
	return 0;
}

/* Wait up to ms for the daemon to close sock or send something: 1 closed, 2 data, 0 neither. */
static int
wait_peer(int sock, int ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char c;
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = recv(sock, &c, 1, MSG_DONTWAIT | MSG_PEEK);
	if (n > 0)
		return 2;
	return n == 0 || (errno != EAGAIN && errno != EINTR) ? 1 : 0;
}

static int
mode_trickle(int sock, int argc, char **argv)
{
	struct bytes frame = { 0 };
	long maxsecs;
	int64_t t0 = idg_now_ms();
	size_t i;

	if (argc < 2)
		usage();
	maxsecs = (long)number(argv[0], 3600);
	build_frame(&frame, argv + 1, argc - 1, 0, -1);
	for (i = 0; i < frame.len && idg_now_ms() - t0 < maxsecs * 1000; i++) {
		int w;

		if (send(sock, frame.p + i, 1, MSG_NOSIGNAL) != 1) {
			printf("closed after %zu bytes, %lld ms (send: %s)\n", i,
			    (long long)(idg_now_ms() - t0), strerror(errno));
			return 0;
		}
		if ((w = wait_peer(sock, 1000)) == 1) {
			printf("closed after %zu bytes, %lld ms\n", i + 1, (long long)(idg_now_ms() - t0));
			return 0;
		} else if (w == 2) {
			break;
		}
	}
	if (i >= frame.len || wait_peer(sock, 0) == 2) {
		print_reply(sock, t0);
		return 0;
	}
	printf("open after %zu bytes, %lld ms\n", i, (long long)(idg_now_ms() - t0));
	return 0;
}

/* One ping on sock: its status, or -1. Quiet. */
static long
ping_status(int sock, char *err, size_t errlen)
{
	struct idg_msg m;
	struct idg_msgview v = { 0 };
	const uint8_t *f;
	uint8_t *body = NULL;
	const char *s;
	size_t len;
	uint32_t st = 0;
	long out = -1;

	err[0] = '\0';
	if (idg_msg_init(&m, IDG_WIRE_REQUEST_MAX) < 0 || idg_msg_add_u32(&m, IDG_T_OP, IDG_OP_PING) < 0)
		return -1;
	f = idg_msg_frame(&m, &len);
	/* A refusal may come (and the daemon hang up) before the ping is sent: read anyway. */
	(void)idg_wire_send(sock, f, len, -1, timeout_ms);
	if (idg_wire_recv(sock, IDG_WIRE_REPLY_MAX, &body, &len, NULL, timeout_ms) == 0 &&
	    idg_msg_parse(body, len, &v) == 0 && idg_msg_get_u32(&v, IDG_T_STATUS, &st) == 0) {
		out = st;
		if (idg_msg_get_str(&v, IDG_T_ERROR, &s) == 0)
			snprintf(err, errlen, "%s", s);
	}
	idg_msgview_free(&v);
	free(body);
	idg_msg_free(&m);
	return out;
}

static int
mode_hold(const char *path, int argc, char **argv)
{
	int n, ok = 0, refused = 0, failed = 0, *fds, closed = 0;
	long secs;
	bool ping;
	char err[2048], first_err[2100] = "";
	int64_t t0;

	if (argc != 3)
		usage();
	n = (int)number(argv[0], 4096);
	secs = (long)number(argv[1], 3600);
	ping = strcmp(argv[2], "ping") == 0;
	if ((fds = calloc((size_t)n + 1, sizeof(int))) == NULL)
		return EXIT_USAGE;
	for (int i = 0; i < n; i++) {
		long st;

		if ((fds[i] = connect_to(path)) < 0) {
			failed++;
			continue;
		}
		if (!ping) {
			ok++;
			continue;
		}
		st = ping_status(fds[i], err, sizeof(err));
		if (st == 0) {
			ok++;
		} else {
			refused++;
			if (first_err[0] == '\0')
				snprintf(first_err, sizeof(first_err), "status=%ld error=%s", st, err);
			close(fds[i]);
			fds[i] = -1;
		}
	}
	printf("held %d ok %d refused %d failed %d\n", n, ok, refused, failed);
	if (first_err[0])
		printf("refusal: %s\n", first_err);
	fflush(stdout);
	t0 = idg_now_ms();
	while (idg_now_ms() - t0 < secs * 1000)
		sleep_ms(100);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0 && wait_peer(fds[i], 0) == 1)
			closed++;
	printf("end: %d of %d closed by the daemon\n", closed, ok);
	free(fds);
	return 0;
}

/* A uid at its connection cap connecting again and again (issue 13): each attempt waits for
 * the daemon's answer, so "refused" counts the refusals the daemon made. */
static int
mode_connflood(const char *path, int argc, char **argv)
{
	int n, held = 0, fd;
	long secs, max, tries = 0, refused = 0, other = 0;
	int *fds;
	char err[2048];
	int64_t t0;

	if (argc != 3)
		usage();
	n = (int)number(argv[0], 4096);
	secs = (long)number(argv[1], 60);
	max = (long)number(argv[2], 10000000);
	if ((fds = calloc((size_t)n + 1, sizeof(int))) == NULL)
		return EXIT_USAGE;
	for (int i = 0; i < n; i++)
		if ((fds[i] = connect_to(path)) >= 0 && ping_status(fds[i], err, sizeof(err)) == 0)
			held++;
	t0 = idg_now_ms();
	while (tries < max && idg_now_ms() - t0 < secs * 1000) {
		tries++;
		if ((fd = connect_to(path)) < 0) {
			other++;
			continue;
		}
		if (ping_status(fd, err, sizeof(err)) == IDG_ST_ERROR &&
		    strstr(err, "too many connections") != NULL)
			refused++;
		else
			other++;
		close(fd);
	}
	printf("held %d tries %ld refused %ld other %ld in %lld ms\n", held, tries, refused, other,
	    (long long)(idg_now_ms() - t0));
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

/* One request over and over, each reply read (issue 13: refusals a user can ask for at will). */
static int
mode_repeat(int sock, int argc, char **argv)
{
	struct bytes frame = { 0 };
	long secs, max, n = 0, counts[8] = { 0 };
	int64_t t0 = idg_now_ms();

	if (argc < 3)
		usage();
	secs = (long)number(argv[0], 60);
	max = (long)number(argv[1], 10000000);
	build_frame(&frame, argv + 2, argc - 2, 0, -1);
	while (n < max && idg_now_ms() - t0 < secs * 1000) {
		struct idg_msgview v = { 0 };
		uint8_t *body = NULL;
		size_t len;
		uint32_t st = 7;

		if (idg_wire_send(sock, frame.p, frame.len, -1, timeout_ms) < 0 ||
		    idg_wire_recv(sock, IDG_WIRE_REPLY_MAX, &body, &len, NULL, timeout_ms) < 0)
			break;
		if (idg_msg_parse(body, len, &v) == 0)
			(void)idg_msg_get_u32(&v, IDG_T_STATUS, &st);
		counts[st < 7 ? st : 7]++;
		idg_msgview_free(&v);
		free(body);
		n++;
	}
	printf("sent %ld ok %ld denied %ld input %ld other %ld in %lld ms\n", n, counts[0],
	    counts[1], counts[2], n - counts[0] - counts[1] - counts[2],
	    (long long)(idg_now_ms() - t0));
	free(frame.p);
	return 0;
}

/* Pings sent back to back (at most FRAMES of them, then silence), never reading a reply;
 * reports when the daemon hangs up. */
static int
mode_pipeline(int sock, int argc, char **argv)
{
	struct bytes frame = { 0 };
	char *ping[] = { (char *)"op:1" };
	unsigned long long frames = ~0ULL, done = 0;
	size_t off = 0;
	long maxsecs;
	int64_t t0 = idg_now_ms();

	if (argc < 1 || argc > 2)
		usage();
	maxsecs = (long)number(argv[0], 3600);
	if (argc == 2)
		frames = number(argv[1], ~0ULL);
	build_frame(&frame, ping, 1, 0, -1);
	while (idg_now_ms() - t0 < maxsecs * 1000) {
		struct pollfd p = { .fd = sock, .events = POLLRDHUP | (done < frames ? POLLOUT : 0) };
		ssize_t n = 0;

		if (done < frames)
			n = send(sock, frame.p + off, frame.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			if (off == frame.len) {
				off = 0;
				done++;
			}
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			printf("closed after %lld ms, %llu requests sent (%s)\n",
			    (long long)(idg_now_ms() - t0), done, strerror(errno));
			return 0;
		}
		if (poll(&p, 1, 100) > 0 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP))) {
			printf("closed after %lld ms, %llu requests sent (hangup)\n",
			    (long long)(idg_now_ms() - t0), done);
			return 0;
		}
	}
	printf("open after %lld ms, %llu requests sent\n", (long long)(idg_now_ms() - t0), done);
	return 0;
}

static int
mode_flood(int sock, int argc, char **argv)
{
	static uint8_t chunk[65536];
	unsigned long long total, sent = 0;
	uint32_t x = 12345;
	int64_t t0 = idg_now_ms();
	const char *why = "all sent";

	if (argc != 2)
		usage();
	total = number(argv[0], 1ULL << 34);
	for (size_t i = 0; i < sizeof(chunk); i++) {
		x = x * 1103515245u + 12345u;
		chunk[i] = strcmp(argv[1], "ff") == 0 ? 0xff : strcmp(argv[1], "00") == 0 ? 0 :
		    (uint8_t)(x >> 16);
	}
	while (sent < total) {
		size_t want = total - sent < sizeof(chunk) ? (size_t)(total - sent) : sizeof(chunk);
		ssize_t n = send(sock, chunk, want, MSG_NOSIGNAL | MSG_DONTWAIT);
		struct pollfd p = { .fd = sock, .events = POLLOUT };

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			why = strerror(errno);
			break;
		}
		if (idg_now_ms() - t0 > timeout_ms) {
			why = "timed out";
			break;
		}
		if (poll(&p, 1, 100) > 0 && (p.revents & (POLLHUP | POLLERR))) {
			why = "hangup";
			break;
		}
	}
	printf("stopped after %lld ms, sent %llu of %llu bytes (%s)\n",
	    (long long)(idg_now_ms() - t0), sent, total, why);
	print_reply(sock, t0);
	return 0;
}

/* Send request n of a loop and wait for its reply: 0 when acknowledged, or EXIT_*.
 * kill_pid > 0: SIGKILL it kill_delay_us after the request is sent, before the reply. */
static int
loop_one(int sock, struct bytes *frame, long n, pid_t kill_pid, long kill_delay_us)
{
	struct idg_msgview v = { 0 };
	uint8_t *body = NULL;
	const char *s = "";
	size_t len;
	uint32_t st = 0;
	int rc, out = 0;

	if ((rc = idg_wire_send(sock, frame->p, frame->len, -1, timeout_ms)) == 0 && kill_pid > 0) {
		if (kill_delay_us) {
			struct timespec ts = { 0, kill_delay_us * 1000 };

			nanosleep(&ts, NULL);
		}
		kill(kill_pid, SIGKILL);
		printf("killed %ld with request %ld in flight (%ld us after sending)\n", (long)kill_pid,
		    n, kill_delay_us);
	}
	if (rc < 0 ||
	    (rc = idg_wire_recv(sock, IDG_WIRE_REPLY_MAX, &body, &len, NULL, timeout_ms)) < 0) {
		printf("lost at %ld: %s\n", n, idg_strerror(rc));
		return EXIT_LOST;
	}
	if (idg_msg_parse(body, len, &v) < 0 || idg_msg_get_u32(&v, IDG_T_STATUS, &st) < 0 ||
	    st != IDG_ST_OK) {
		(void)idg_msg_get_str(&v, IDG_T_ERROR, &s);
		printf("refused at %ld: status=%u error=%s\n", n, st, s);
		out = EXIT_REFUSED;
	}
	idg_msgview_free(&v);
	free(body);
	return out;
}

/* Requests FROM..TO on one connection; each acknowledged number is appended to ACKFILE as
 * soon as its reply arrives. --kill PID AFTER: once AFTER requests are acknowledged, send
 * the next one and SIGKILL PID a few hundred microseconds later (or --delay US), mid-way
 * through it. */
static int
mode_loop(int sock, int argc, char **argv)
{
	struct bytes frame = { 0 };
	long from, to, after = -1, acked = 0, delay = -1;
	pid_t kill_pid = 0;
	int ack, rc = 0;

	if (argc > 3 && strcmp(argv[0], "--kill") == 0) {
		kill_pid = (pid_t)number(argv[1], 4194304);
		after = (long)number(argv[2], 1000000000);
		argc -= 3;
		argv += 3;
	}
	if (argc > 2 && strcmp(argv[0], "--delay") == 0) {
		delay = (long)number(argv[1], 999999);
		argc -= 2;
		argv += 2;
	}
	if (argc < 4)
		usage();
	if ((ack = open(argv[0], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		perror(argv[0]);
		return EXIT_USAGE;
	}
	from = (long)number(argv[1], 1000000000);
	to = (long)number(argv[2], 1000000000);
	for (long n = from; n <= to && rc == 0; n++) {
		char line[32];
		bool killing = kill_pid > 0 && acked == after;

		build_frame(&frame, argv + 3, argc - 3, n, -1);
		/* A different delay at each kill point: before, during or after the commit. */
		if ((rc = loop_one(sock, &frame, n, killing ? kill_pid : 0,
		    !killing ? 0 : delay >= 0 ? delay : (after * 7919) % 1500)) != 0)
			break;
		acked++;
		snprintf(line, sizeof(line), "%ld\n", n);
		if (write(ack, line, strlen(line)) != (ssize_t)strlen(line)) {
			perror("ack file");
			rc = EXIT_USAGE;
		}
	}
	if (rc == 0)
		printf("done %ld..%ld\n", from, to);
	close(ack);
	free(frame.p);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path, *mode;
	int sock, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = (int)number(argv[2], 3600000);
		argc -= 2;
		argv += 2;
	}
	if (argc < 3)
		usage();
	path = argv[1];
	mode = argv[2];
	if (strcmp(mode, "hold") == 0)
		return mode_hold(path, argc - 3, argv + 3);
	if (strcmp(mode, "connflood") == 0)
		return mode_connflood(path, argc - 3, argv + 3);
	if ((sock = connect_to(path)) < 0)
		return EXIT_USAGE;
	if (strcmp(mode, "send") == 0)
		rc = mode_send(sock, argc - 3, argv + 3);
	else if (strcmp(mode, "trickle") == 0)
		rc = mode_trickle(sock, argc - 3, argv + 3);
	else if (strcmp(mode, "pipeline") == 0)
		rc = mode_pipeline(sock, argc - 3, argv + 3);
	else if (strcmp(mode, "flood") == 0)
		rc = mode_flood(sock, argc - 3, argv + 3);
	else if (strcmp(mode, "repeat") == 0)
		rc = mode_repeat(sock, argc - 3, argv + 3);
	else if (strcmp(mode, "loop") == 0)
		rc = mode_loop(sock, argc - 3, argv + 3);
	else
		usage();
	close(sock);
	return rc;
}
