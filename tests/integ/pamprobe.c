/* pamprobe: speaks pam.sock's PAM requests (src/proto/api.h, IDG_OP_PAM_*) the way
 * pam_idgate.so does, for tests/integ/t_pam_daemon.sh. It prints the reply one field per
 * line ("status ok", "error TEXT", "uid N", "home PATH", "handle N", ...) and exits with the
 * reply's status number (or 100 and up for its own failures). A secret is read from standard
 * input (one line), never from the command line. 'device' runs a whole device login: start,
 * then waits until the answer is not "pending", printing each answer with its delay.
 * saml-start / saml-wait / saml-cancel: one request each of a SAML login. With '+account',
 * an authentication that succeeds is followed by PAM account from the same process, as sshd
 * does (idgated pins a first login only then, for the process that authenticated); those
 * lines start with "account " and the exit status is account's; with 'wait=FILE' too, account
 * is sent only once FILE exists (at most 30 s), so a test can interleave two logins.
 *
 * As pam_idgate.so does, the connection of a device-start or saml-start stays open while the
 * login goes on (idgated forgets a login whose starting connection closes): 'device' keeps
 * it for its own life; a lone device-start or saml-start leaves a background process holding
 * it until idgated closes it or 120 s pass ('nohold' closes it at once, as a killed sshd
 * child would). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/api.h"
#include "proto/wire.h"

#define EXIT_USAGE 100
#define EXIT_LOST 101
#define SECRET_MAX 65536

static int timeout_ms = 60000;
static int held_fd = -1;	/* the connection of the last START, kept open */

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs("usage: pamprobe [-t MS] SOCKET OP NAME [service=S] [rhost=H] [pid=N] [handle=N]"
	    " [+account [wait=FILE]] [nohold] [decoy]\n"
	    "  OP: password | token (the secret on standard input) | device-start |\n"
	    "      device-wait | device-cancel | saml-start | saml-wait | saml-cancel |\n"
	    "      account | open | close |\n"
	    "      device (start, then wait until it is decided)\n"
	    "  service defaults to 'sshd'; 'service=' sends none\n", stderr);
	exit(EXIT_USAGE);
}

static const char *const statuses[] = {
	[IDG_ST_OK] = "ok", [IDG_ST_DENIED] = "denied", [IDG_ST_INPUT] = "input",
	[IDG_ST_ERROR] = "error", [IDG_ST_UNAVAIL] = "unavail", [IDG_ST_PENDING] = "pending",
	[IDG_ST_UNKNOWN] = "unknown",
};

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int
dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		usage();
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "pamprobe: %s: %s\n", path, strerror(errno));
		exit(EXIT_LOST);
	}
	return fd;
}

struct args {
	const char *sock, *name, *service, *rhost, *secret;
	uint32_t pid;
	uint64_t handle;
	bool has_pid;
	bool then_account;	/* +account */
	const char *wait_file;	/* wait=FILE: account only once it exists */
};

static uint32_t exchange(const struct args *a, enum idg_op op, uint32_t method,
    const char *prefix, uint64_t *handle_out, uint32_t *interval_out);

/* An authentication's status, followed by account's when +account asks for it. */
static int
authed(const struct args *a, uint32_t st)
{
	if (st != IDG_ST_OK || !a->then_account)
		return (int)st;
	for (int i = 0; a->wait_file && access(a->wait_file, F_OK) != 0 && i < 600; i++)
		usleep(50000);
	return (int)exchange(a, IDG_OP_PAM_ACCOUNT, 0, "account ", NULL, NULL);
}

/* One request, one reply (printed, with prefix before each line); the reply's status. */
static uint32_t
exchange(const struct args *a, enum idg_op op, uint32_t method, const char *prefix,
    uint64_t *handle_out, uint32_t *interval_out)
{
	struct idg_msg m;
	struct idg_msgview v = { 0 };
	const uint8_t *frame;
	uint8_t *body = NULL;
	size_t len;
	uint32_t status = 0;
	int fd = dial(a->sock), rc;

	if (idg_msg_init(&m, IDG_WIRE_REQUEST_MAX) < 0)
		exit(EXIT_LOST);
	rc = idg_msg_add_u32(&m, IDG_T_OP, op);
	if (rc == 0)
		rc = idg_msg_add_str(&m, IDG_T_NAME, a->name);
	if (rc == 0 && a->service && op != IDG_OP_PAM_DEVICE_WAIT && op != IDG_OP_PAM_DEVICE_CANCEL &&
	    op != IDG_OP_PAM_SAML_WAIT && op != IDG_OP_PAM_SAML_CANCEL)
		rc = idg_msg_add_str(&m, IDG_T_SERVICE, a->service);
	if (rc == 0 && a->rhost)
		rc = idg_msg_add_str(&m, IDG_T_RHOST, a->rhost);
	if (rc == 0 && a->has_pid)
		rc = idg_msg_add_u32(&m, IDG_T_PID, a->pid);
	if (rc == 0 && method)
		rc = idg_msg_add_u32(&m, IDG_T_METHOD, method);
	if (rc == 0 && method)
		rc = idg_msg_add_str(&m, IDG_T_SECRET, a->secret);
	if (rc == 0 && (op == IDG_OP_PAM_DEVICE_WAIT || op == IDG_OP_PAM_DEVICE_CANCEL ||
	    op == IDG_OP_PAM_SAML_WAIT || op == IDG_OP_PAM_SAML_CANCEL))
		rc = idg_msg_add_u64(&m, IDG_T_HANDLE, a->handle);
	if (rc < 0) {
		fprintf(stderr, "pamprobe: the request is too large\n");
		exit(EXIT_USAGE);
	}
	frame = idg_msg_frame(&m, &len);
	if (idg_wire_send(fd, frame, len, -1, timeout_ms) < 0 ||
	    (rc = idg_wire_recv(fd, IDG_WIRE_REPLY_MAX, &body, &len, NULL, timeout_ms)) < 0 ||
	    idg_msg_parse(body, len, &v) < 0 || idg_msg_get_u32(&v, IDG_T_STATUS, &status) < 0) {
		printf("%slost\n", prefix);
		fprintf(stderr, "pamprobe: no reply: %s\n", idg_strerror(rc < 0 ? rc : IDG_ERR_PROTO));
		exit(EXIT_LOST);
	}
	idg_msg_free(&m);
	if (op == IDG_OP_PAM_DEVICE_START || op == IDG_OP_PAM_SAML_START) {
		if (held_fd >= 0)
			close(held_fd);
		held_fd = fd;
	} else {
		close(fd);
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct idg_field *f = &v.fields[i];
		const char *s = NULL, *tag = NULL;
		uint32_t u32;
		uint64_t u64;

		switch (f->tag) {
		case IDG_T_STATUS:
			printf("%sstatus %s\n", prefix, status < sizeof(statuses) / sizeof(*statuses) &&
			    statuses[status] ? statuses[status] : "?");
			continue;
		case IDG_T_HANDLE:
			(void)idg_msg_get_u64(&v, IDG_T_HANDLE, &u64);
			printf("%shandle %llu\n", prefix, (unsigned long long)u64);
			if (handle_out)
				*handle_out = u64;
			continue;
		case IDG_T_UID: tag = "uid"; break;
		case IDG_T_GID: tag = "gid"; break;
		case IDG_T_INTERVAL: tag = "interval"; break;
		case IDG_T_EXPIRES: tag = "expires"; break;
		case IDG_T_ERROR: tag = "error"; break;
		case IDG_T_GECOS: tag = "gecos"; break;
		case IDG_T_HOME: tag = "home"; break;
		case IDG_T_SHELL: tag = "shell"; break;
		case IDG_T_USER_CODE: tag = "user_code"; break;
		case IDG_T_VERIFY_URI: tag = "verify_uri"; break;
		case IDG_T_VERIFY_URI_COMPLETE: tag = "verify_uri_complete"; break;
		case IDG_T_JSON: tag = "json"; break;
		default:
			printf("%sfield %u\n", prefix, f->tag);
			continue;
		}
		if (f->tag == IDG_T_UID || f->tag == IDG_T_GID || f->tag == IDG_T_INTERVAL ||
		    f->tag == IDG_T_EXPIRES) {
			if (f->len != 4) {
				printf("%s%s (malformed)\n", prefix, tag);
				continue;
			}
			u32 = (uint32_t)f->val[0] << 24 | (uint32_t)f->val[1] << 16 |
			    (uint32_t)f->val[2] << 8 | f->val[3];
			printf("%s%s %u\n", prefix, tag, u32);
			if (f->tag == IDG_T_INTERVAL && interval_out)
				*interval_out = u32;
		} else if (idg_field_str(f, &s) == 0) {
			printf("%s%s %s\n", prefix, tag, s);
		} else {
			printf("%s%s (malformed)\n", prefix, tag);
		}
	}
	fflush(stdout);
	idg_msgview_free(&v);
	free(body);
	return status;
}

/* The secret: one line of standard input, without its newline. */
static char *
read_secret(void)
{
	char *buf = malloc(SECRET_MAX + 2);
	size_t n;

	if (buf == NULL || fgets(buf, SECRET_MAX + 2, stdin) == NULL) {
		fprintf(stderr, "pamprobe: no secret on standard input\n");
		exit(EXIT_USAGE);
	}
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

/* Keep the START's connection open in a background process (stdout and stderr closed, so
 * a shell's $(...) does not wait for it) until idgated closes it, or for 120 s. */
static void
hold_in_background(void)
{
	struct pollfd p = { .fd = held_fd, .events = POLLIN };

	fflush(stdout);
	if (held_fd < 0 || fork() != 0)
		return;
	(void)setsid();
	for (int f = 0; f < 3; f++)
		close(f);
	(void)poll(&p, 1, 120000);
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct args a = { .service = "sshd" };
	const char *op;
	uint32_t st, interval = 5;
	bool hold = true, decoy = false;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = atoi(argv[2]);
		i = 3;
	}
	if (argc - i < 3)
		usage();
	a.sock = argv[i];
	op = argv[i + 1];
	a.name = argv[i + 2];
	for (i += 3; i < argc; i++) {
		if (strncmp(argv[i], "service=", 8) == 0)
			a.service = argv[i][8] ? argv[i] + 8 : NULL;
		else if (strncmp(argv[i], "rhost=", 6) == 0)
			a.rhost = argv[i] + 6;
		else if (strncmp(argv[i], "pid=", 4) == 0)
			a.pid = (uint32_t)strtoul(argv[i] + 4, NULL, 10), a.has_pid = true;
		else if (strncmp(argv[i], "handle=", 7) == 0)
			a.handle = strtoull(argv[i] + 7, NULL, 10);
		else if (strcmp(argv[i], "nohold") == 0)
			hold = false;
		else if (strcmp(argv[i], "decoy") == 0)
			decoy = true;
		else if (strcmp(argv[i], "+account") == 0)
			a.then_account = true;
		else if (strncmp(argv[i], "wait=", 5) == 0)
			a.wait_file = argv[i] + 5;
		else
			usage();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(op, "password") == 0 || strcmp(op, "token") == 0) {
		/* 'decoy': sshd's stand-in password for a user it could not resolve (it holds a
		 * newline, so it cannot come as a line of standard input) */
		char *secret = decoy ? strdup("\b\n\r\177INCORRECT") : read_secret();

		if (secret == NULL)
			return EXIT_LOST;
		a.secret = secret;
		st = exchange(&a, IDG_OP_PAM_AUTH, op[0] == 'p' ? IDG_LOGIN_PASSWORD :
		    IDG_LOGIN_TOKEN, "", NULL, NULL);
		free(secret);
		return authed(&a, st);
	}
	if (strcmp(op, "device-start") == 0 || strcmp(op, "saml-start") == 0) {
		st = exchange(&a, op[0] == 'd' ? IDG_OP_PAM_DEVICE_START : IDG_OP_PAM_SAML_START, 0,
		    "", NULL, NULL);
		if (hold)
			hold_in_background();
		return (int)st;
	}
	if (strcmp(op, "device-wait") == 0)
		return (int)exchange(&a, IDG_OP_PAM_DEVICE_WAIT, 0, "", NULL, NULL);
	if (strcmp(op, "device-cancel") == 0)
		return (int)exchange(&a, IDG_OP_PAM_DEVICE_CANCEL, 0, "", NULL, NULL);
	if (strcmp(op, "saml-wait") == 0)
		return authed(&a, exchange(&a, IDG_OP_PAM_SAML_WAIT, 0, "", NULL, NULL));
	if (strcmp(op, "saml-cancel") == 0)
		return (int)exchange(&a, IDG_OP_PAM_SAML_CANCEL, 0, "", NULL, NULL);
	if (strcmp(op, "account") == 0)
		return (int)exchange(&a, IDG_OP_PAM_ACCOUNT, 0, "", NULL, NULL);
	if (strcmp(op, "open") == 0)
		return (int)exchange(&a, IDG_OP_PAM_SESSION_OPEN, 0, "", NULL, NULL);
	if (strcmp(op, "close") == 0)
		return (int)exchange(&a, IDG_OP_PAM_SESSION_CLOSE, 0, "", NULL, NULL);
	if (strcmp(op, "device") != 0)
		usage();
	if ((st = exchange(&a, IDG_OP_PAM_DEVICE_START, 0, "start ", &a.handle, &interval)) != 0)
		return (int)st;
	for (int n = 0; n < 1000; n++) {
		int64_t t0 = now_ms();

		st = exchange(&a, IDG_OP_PAM_DEVICE_WAIT, 0, "wait ", NULL, NULL);
		printf("waited %lld ms\n", (long long)(now_ms() - t0));
		if (st != IDG_ST_PENDING)
			return authed(&a, st);
	}
	return EXIT_LOST;
}
