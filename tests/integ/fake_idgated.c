/* A fake idgated for pam_idgate.so's tests: a pam.sock server that answers each request
 * with the next scripted reply for its operation and records every request it got.
 *
 *   fake_idgated -s SOCKET -r SCRIPT -l LOG [-n]
 *
 * SCRIPT: one reply per line, "OP ACTION [KEY=VALUE ...]". OP is auth, start, wait, cancel,
 * account, open or close (the PAM requests 91..97). The Nth request of an operation gets its
 * Nth line; the last line repeats. ACTION is a status (OK DENIED INPUT ERROR UNAVAIL PENDING
 * UNKNOWN, or status=N) or a misbehaviour: hang (read the request, never answer), close
 * (close without answering), garbage (a field running past its body), huge (a header
 * announcing 100 MiB), bigbody (a 70 KiB reply), badstr (a reason without its NUL), nostatus,
 * twostatus, partial (half a reply, then nothing). KEYs: handle=N code=S uri=S complete=S
 * interval=N expires=N delay=MS, and error=TEXT, which takes the rest of the line. Values
 * are %XX-decoded (so a value may hold a space or an escape character).
 *
 * LOG: one line per request, its fields in order: "op=auth name=alice service=s method=1
 * secret=..." (strings %XX-encoded when not printable), then "ok" or "badfields" (a field of
 * an unknown tag or the wrong shape). -n: listen but never accept (a daemon that is stuck).
 * Runs until killed. Test code: it logs secrets on purpose. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/api.h"
#include "proto/wire.h"

#define LINES_MAX 64
#define HELD_MAX 256

static const char *const op_names[] = { "auth", "start", "wait", "cancel", "account", "open",
	"close" };

struct script {
	char *lines[7][LINES_MAX];
	size_t n[7];
	size_t next[7];
};

static int held[HELD_MAX];
static size_t nheld;

static int
op_index(uint32_t op)
{
	return op >= IDG_OP_PAM_AUTH && op <= IDG_OP_PAM_SESSION_CLOSE ?
	    (int)(op - IDG_OP_PAM_AUTH) : -1;
}

static void
script_load(struct script *s, const char *path)
{
	char line[8192];
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t i;

		line[strcspn(line, "\n")] = '\0';
		for (i = 0; i < 7; i++) {
			size_t k = strlen(op_names[i]);

			if (strncmp(line, op_names[i], k) == 0 && line[k] == ' ')
				break;
		}
		if (i == 7 || s->n[i] == LINES_MAX) {
			if (line[0] != '\0' && line[0] != '#')
				fprintf(stderr, "fake_idgated: script line ignored: %s\n", line);
			continue;
		}
		s->lines[i][s->n[i]++] = strdup(line + strlen(op_names[i]) + 1);
	}
	fclose(f);
}

static void
pct_decode(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		unsigned v;

		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void
log_str(FILE *log, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '%')
			fputc(p[i], log);
		else if (!(p[i] == 0 && i == n - 1))
			fprintf(log, "%%%02X", p[i]);
	}
}

static const char *
tag_name(uint16_t tag)
{
	switch (tag) {
	case IDG_T_OP: return "op";
	case IDG_T_NAME: return "name";
	case IDG_T_SERVICE: return "service";
	case IDG_T_RHOST: return "rhost";
	case IDG_T_METHOD: return "method";
	case IDG_T_SECRET: return "secret";
	case IDG_T_HANDLE: return "handle";
	case IDG_T_PID: return "pid";
	default: return NULL;
	}
}

static void
log_request(FILE *log, const struct idg_msgview *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct idg_field *f = &v->fields[i];
		const char *name = tag_name(f->tag);

		if (name != NULL)
			fprintf(log, "%s=", name);
		else
			fprintf(log, "tag%u=", f->tag);
		if (f->tag == IDG_T_OP && f->len == 4) {
			uint32_t op = (uint32_t)f->val[0] << 24 | (uint32_t)f->val[1] << 16 |
			    (uint32_t)f->val[2] << 8 | f->val[3];
			int k = op_index(op);

			if (k >= 0)
				fputs(op_names[k], log);
			else
				fprintf(log, "%u", op);
		} else if (f->len == 4 && f->tag != IDG_T_NAME && f->tag != IDG_T_SECRET &&
		    f->tag != IDG_T_SERVICE && f->tag != IDG_T_RHOST) {
			fprintf(log, "%u", (uint32_t)f->val[0] << 24 | (uint32_t)f->val[1] << 16 |
			    (uint32_t)f->val[2] << 8 | f->val[3]);
		} else if (f->len == 8 && f->tag == IDG_T_HANDLE) {
			uint64_t h = 0;

			for (int b = 0; b < 8; b++)
				h = h << 8 | f->val[b];
			fprintf(log, "%llu", (unsigned long long)h);
		} else {
			log_str(log, f->val, f->len);
		}
		fputc(' ', log);
	}
	fputs(idg_api_check_fields(v) == 0 ? "ok\n" : "badfields\n", log);
	fflush(log);
}

static int
send_raw(int fd, const void *p, size_t n)
{
	return idg_wire_send(fd, p, n, -1, 5000);
}

static int
status_of(const char *a, uint32_t *st)
{
	static const char *const names[] = { "OK", "DENIED", "INPUT", "ERROR", "UNAVAIL",
		"PENDING", "UNKNOWN" };

	for (uint32_t i = 0; i < 7; i++)
		if (strcmp(a, names[i]) == 0) {
			*st = i;
			return 1;
		}
	if (strncmp(a, "status=", 7) == 0) {
		*st = (uint32_t)strtoul(a + 7, NULL, 10);
		return 1;
	}
	return 0;
}

/* A misbehaviour; returns 1 when the connection is to be kept open (never answered). */
static int
misbehave(int fd, const char *a)
{
	static uint8_t big[70 * 1024 + 64];
	const uint8_t *frame;
	struct idg_msg m;
	size_t n;

	if (strcmp(a, "hang") == 0)
		return 1;
	if (strcmp(a, "garbage") == 0) {
		static const uint8_t g[] = { 0, 0, 0, 8, 0, 100, 0, 0, 0, 40, 1, 2 };

		send_raw(fd, g, sizeof(g));
	} else if (strcmp(a, "huge") == 0) {
		static const uint8_t h[] = { 0x06, 0x40, 0, 0 };

		send_raw(fd, h, sizeof(h));
		return 1;
	} else if (strcmp(a, "partial") == 0) {
		static const uint8_t p[] = { 0, 0, 0, 10, 0, 100, 0 };

		send_raw(fd, p, sizeof(p));
		return 1;
	} else if (strcmp(a, "bigbody") == 0 || strcmp(a, "badstr") == 0 ||
	    strcmp(a, "nostatus") == 0 || strcmp(a, "twostatus") == 0) {
		idg_msg_init(&m, IDG_WIRE_REPLY_MAX);
		if (strcmp(a, "nostatus") != 0)
			idg_msg_add_u32(&m, IDG_T_STATUS, IDG_ST_DENIED);
		if (strcmp(a, "twostatus") == 0)
			idg_msg_add_u32(&m, IDG_T_STATUS, IDG_ST_OK);
		if (strcmp(a, "bigbody") == 0) {
			memset(big, 'x', sizeof(big) - 1);
			idg_msg_add(&m, IDG_T_ERROR, big, sizeof(big));
		} else {
			idg_msg_add(&m, IDG_T_ERROR, "no nul", 6);
		}
		frame = idg_msg_frame(&m, &n);
		send_raw(fd, frame, n);
		idg_msg_free(&m);
	} else if (strcmp(a, "close") != 0) {
		fprintf(stderr, "fake_idgated: unknown action %s\n", a);
	}
	return 0;
}

/* Answer one request by its script line; returns 1 to keep the connection open. */
static int
answer(int fd, char *line)
{
	char *sp, *act = line, *rest;
	struct idg_msg m;
	const uint8_t *frame;
	uint32_t st;
	size_t n;

	rest = strchr(line, ' ');
	if (rest != NULL)
		*rest++ = '\0';
	if (!status_of(act, &st))
		return misbehave(fd, act);
	idg_msg_init(&m, IDG_WIRE_REPLY_MAX);
	idg_msg_add_u32(&m, IDG_T_STATUS, st);
	while (rest != NULL && *rest != '\0') {
		char *kv = rest, *val;

		if (strncmp(kv, "error=", 6) == 0) {
			pct_decode(kv + 6);
			idg_msg_add_str(&m, IDG_T_ERROR, kv + 6);
			break;
		}
		if ((sp = strchr(kv, ' ')) != NULL)
			*sp++ = '\0';
		rest = sp;
		if ((val = strchr(kv, '=')) == NULL)
			continue;
		*val++ = '\0';
		pct_decode(val);
		if (strcmp(kv, "handle") == 0)
			idg_msg_add_u64(&m, IDG_T_HANDLE, strtoull(val, NULL, 10));
		else if (strcmp(kv, "code") == 0)
			idg_msg_add_str(&m, IDG_T_USER_CODE, val);
		else if (strcmp(kv, "uri") == 0)
			idg_msg_add_str(&m, IDG_T_VERIFY_URI, val);
		else if (strcmp(kv, "complete") == 0)
			idg_msg_add_str(&m, IDG_T_VERIFY_URI_COMPLETE, val);
		else if (strcmp(kv, "interval") == 0)
			idg_msg_add_u32(&m, IDG_T_INTERVAL, (uint32_t)strtoul(val, NULL, 10));
		else if (strcmp(kv, "expires") == 0)
			idg_msg_add_u32(&m, IDG_T_EXPIRES, (uint32_t)strtoul(val, NULL, 10));
		else if (strcmp(kv, "delay") == 0) {
			struct timespec ts = { atol(val) / 1000, (atol(val) % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	frame = idg_msg_frame(&m, &n);
	send_raw(fd, frame, n);
	idg_msg_free(&m);
	return 0;
}

static void
serve(int fd, struct script *s, FILE *log)
{
	struct idg_msgview v = { NULL, 0 };
	uint8_t *body = NULL;
	size_t len;
	uint32_t op = 0;
	int k, keep = 0;
	char *line;

	if (idg_wire_recv(fd, IDG_WIRE_REQUEST_MAX, &body, &len, NULL, 5000) < 0) {
		fputs("unreadable request\n", log);
		fflush(log);
		close(fd);
		return;
	}
	if (idg_msg_parse(body, len, &v) < 0) {
		fputs("malformed request\n", log);
	} else {
		log_request(log, &v);
		idg_msg_get_u32(&v, IDG_T_OP, &op);
	}
	if ((k = op_index(op)) < 0 || s->n[k] == 0) {
		char no[] = "ERROR error=fake: no script for this request";

		keep = answer(fd, no);
	} else {
		size_t i = s->next[k] < s->n[k] ? s->next[k]++ : s->n[k] - 1;

		line = strdup(s->lines[k][i]);
		keep = answer(fd, line);
		free(line);
	}
	if (keep && nheld < HELD_MAX)
		held[nheld++] = fd;
	else
		close(fd);
	idg_msgview_free(&v);
	free(body);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *script = NULL, *logpath = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct script s;
	int opt, lfd, noaccept = 0;
	FILE *log;

	while ((opt = getopt(argc, argv, "s:r:l:n")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'r': script = optarg; break;
		case 'l': logpath = optarg; break;
		case 'n': noaccept = 1; break;
		default: return 2;
		}
	}
	if (sock == NULL || script == NULL || logpath == NULL ||
	    strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fake_idgated -s SOCKET -r SCRIPT -l LOG [-n]\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	script_load(&s, script);
	if ((log = fopen(logpath, "a")) == NULL) {
		perror(logpath);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	unlink(sock);

	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0) {
		perror(sock);
		return 2;
	}
	for (;;) {
		int fd;

		if (noaccept) {
			pause();
			continue;
		}
		if ((fd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		serve(fd, &s, log);
	}
}
