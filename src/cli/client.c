/* idgatectl's connection to idgated, option parsing shared by every command, and output. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"
#include "common/util.h"

void
req_init(struct req *r, enum idg_op op)
{
	if (idg_msg_init(&r->m, IDG_WIRE_REQUEST_MAX) < 0) {
		fprintf(stderr, "idgatectl: out of memory\n");
		exit(EXIT_FAIL);
	}
	r->fd = -1;
	idg_msg_add_u32(&r->m, IDG_T_OP, (uint32_t)op);
}

static void
req_check(int rc)
{
	if (rc == IDG_ERR_TOOBIG) {
		fprintf(stderr, "idgatectl: the request is larger than %u bytes: shorten the arguments\n",
		    IDG_WIRE_REQUEST_MAX);
		exit(EXIT_USAGE);
	}
	if (rc < 0) {
		fprintf(stderr, "idgatectl: out of memory\n");
		exit(EXIT_FAIL);
	}
}

void
req_str(struct req *r, uint16_t tag, const char *s)
{
	req_check(idg_msg_add_str(&r->m, tag, s));
}

void
req_u32(struct req *r, uint16_t tag, uint32_t v)
{
	req_check(idg_msg_add_u32(&r->m, tag, v));
}

void
req_u64(struct req *r, uint16_t tag, uint64_t v)
{
	req_check(idg_msg_add_u64(&r->m, tag, v));
}

int
status_exit(uint32_t status)
{
	switch (status) {
	case IDG_ST_OK: return EXIT_OK;
	case IDG_ST_DENIED: return EXIT_DENIED;
	case IDG_ST_INPUT: return EXIT_USAGE;
	default: return EXIT_FAIL;
	}
}

static int
connect_daemon(const struct cli *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(c->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "idgatectl: socket path too long: %s\n", c->socket);
		return -1;
	}
	strcpy(sa.sun_path, c->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "idgatectl: cannot reach idgated at %s: %s (is idgated running?)\n",
		    c->socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
call(const struct cli *c, struct req *r, struct reply *rep)
{
	const uint8_t *frame;
	uint8_t *body = NULL;
	struct idg_msgview v = { 0 };
	const char *s;
	size_t len, blen;
	int fd, rc, out = EXIT_FAIL;

	memset(rep, 0, sizeof(*rep));
	rep->fd = -1;
	rep->status = IDG_ST_ERROR;
	if (c->token)
		req_str(r, IDG_T_TOKEN, c->token);
	if (c->as)
		req_str(r, IDG_T_AS, c->as);
	frame = idg_msg_frame(&r->m, &len);
	if ((fd = connect_daemon(c)) < 0)
		goto done;
	if ((rc = idg_wire_send(fd, frame, len, r->fd, c->timeout_ms)) < 0 ||
	    (rc = idg_wire_recv(fd, IDG_WIRE_REPLY_MAX, &body, &blen, &rep->fd, c->timeout_ms)) < 0) {
		fprintf(stderr, "idgatectl: talking to idgated: %s\n",
		    rc == IDG_ERR_TIMEOUT ? "timed out" : rc == IDG_ERR_UNAVAIL ?
		    "the connection was closed" : idg_strerror(rc));
		close(fd);
		goto done;
	}
	close(fd);
	if (idg_msg_parse(body, blen, &v) < 0 || idg_msg_get_u32(&v, IDG_T_STATUS, &rep->status) < 0) {
		fprintf(stderr, "idgatectl: malformed reply from idgated\n");
		rep->status = IDG_ST_ERROR;
		goto done;
	}
	if (idg_msg_get_str(&v, IDG_T_ERROR, &s) == 0)
		snprintf(rep->error, sizeof(rep->error), "%s", s);
	if (idg_msg_get_str(&v, IDG_T_JSON, &s) == 0 && (rep->json = cJSON_Parse(s)) == NULL) {
		fprintf(stderr, "idgatectl: malformed reply from idgated\n");
		rep->status = IDG_ST_ERROR;
		goto done;
	}
	out = status_exit(rep->status);
done:
	idg_msgview_free(&v);
	free(body);
	idg_msg_free(&r->m);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	return out;
}

void
reply_free(struct reply *rep)
{
	cJSON_Delete(rep->json);
	rep->json = NULL;
	if (rep->fd >= 0)
		close(rep->fd);
	rep->fd = -1;
}

void
print_json(const cJSON *j)
{
	char *s = j ? cJSON_Print(j) : strdup("{}");

	if (s) {
		puts(s);
		free(s);
	}
}

/* ---------- tables ---------- */

struct table {
	size_t ncols, nrows, cap;
	char **cells;	/* row-major, header first */
};

static void
table_add(struct table *t, va_list ap)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, ncap * t->ncols * sizeof(*n));

		if (n == NULL) {
			fprintf(stderr, "idgatectl: out of memory\n");
			exit(EXIT_FAIL);
		}
		t->cells = n;
		t->cap = ncap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		t->cells[t->nrows * t->ncols + i] = strdup(s ? s : "");
	}
	t->nrows++;
}

struct table *
table_new(size_t ncols, ...)
{
	struct table *t = calloc(1, sizeof(*t));
	va_list ap;

	if (t == NULL)
		exit(EXIT_FAIL);
	t->ncols = ncols;
	va_start(ap, ncols);
	table_add(t, ap);
	va_end(ap);
	return t;
}

void
table_row(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	table_add(t, ap);
	va_end(ap);
}

void
table_print(struct table *t)
{
	size_t w[16] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols && c < 16; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c < 16 ? c : 15], s);
		}
	}
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---------- JSON accessors ---------- */

const char *
jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

double
jnum(const cJSON *o, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

bool
jbool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

const char *
jlist(const cJSON *arr, const char *sep, const char *open, const char *close, char *buf, size_t len)
{
	const cJSON *e;
	size_t off = (size_t)snprintf(buf, len, "%s", open);
	bool first = true;

	cJSON_ArrayForEach(e, arr) {
		const char *s = cJSON_GetStringValue(e);

		if (s == NULL || off >= len)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", first ? "" : sep, s);
		first = false;
	}
	if (off < len)
		snprintf(buf + off, len - off, "%s", close);
	return buf;
}

const char *
jtime(double t, char *buf, size_t len)
{
	if (t <= 0)
		snprintf(buf, len, "-");
	else
		idg_time_iso((time_t)t, buf, len);
	return buf;
}

int
usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "idgatectl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", c->prog ? c->prog : "idgatectl");
	return EXIT_USAGE;
}

/* ---------- options ---------- */

void
command_help(const struct command *cmd, FILE *f)
{
	fprintf(f, "Usage: idgatectl %s\n\n%s\n%s", cmd->synopsis, cmd->summary, cmd->help);
	fprintf(f, "\nGlobal options (any command):\n"
	    "  -o, --output FORMAT   text (default) or json\n"
	    "      --socket PATH     idgated's api.sock (default $IDGATE_SOCKET or " IDG_RUNDIR "/api.sock)\n"
	    "      --token TOKEN     authenticate as a robot (default $IDGATE_TOKEN)\n"
	    "      --as SUBJECT      root only: act as SUBJECT, e.g. to try a user's view\n"
	    "      --timeout SECONDS give up on idgated after this long (default 30)\n"
	    "  -h, --help            this help\n"
	    "\nExit status: 0 success or allowed; 1 denied; 2 usage or input error; 3 idgated\n"
	    "unreachable or failed. See idgatectl(1).\n");
}

int
parse_opts(struct cli *c, const struct command *cmd, int argc, char **argv,
    const struct cmdopt *opts, int *rc)
{
	enum { O_SOCKET = 1000, O_TOKEN, O_AS, O_TIMEOUT };
	struct option lo[40];
	char so[80] = "+:o:h";
	size_t n = 0, sl = strlen(so);
	int opt;

	/* The command's own options first: getopt_long takes the first exact match, so a
	 * command may reuse a global name (auth revoke --token names the token to revoke). */
	for (size_t i = 0; opts && opts[i].name && n < 32; i++) {
		lo[n++] = (struct option){ opts[i].name, opts[i].has_arg ? required_argument : no_argument,
		    NULL, opts[i].shortname ? opts[i].shortname : (int)(2000 + i) };
		if (opts[i].shortname && sl + 2 < sizeof(so)) {
			so[sl++] = opts[i].shortname;
			if (opts[i].has_arg)
				so[sl++] = ':';
			so[sl] = '\0';
		}
	}
	lo[n++] = (struct option){ "output", required_argument, NULL, 'o' };
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option){ "socket", required_argument, NULL, O_SOCKET };
	lo[n++] = (struct option){ "token", required_argument, NULL, O_TOKEN };
	lo[n++] = (struct option){ "as", required_argument, NULL, O_AS };
	lo[n++] = (struct option){ "timeout", required_argument, NULL, O_TIMEOUT };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	opterr = 0;
	/* Options may come anywhere: permute operands behind them (no leading '+'). */
	while ((opt = getopt_long(argc, argv, so + 1, lo, NULL)) != -1) {
		long long v;

		switch (opt) {
		case 'h':
			command_help(cmd, stdout);
			*rc = EXIT_OK;
			return -1;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				*rc = usage_error(c, "--output must be text or json, not '%s'", optarg);
				return -1;
			}
			c->json = strcmp(optarg, "json") == 0;
			continue;
		case O_SOCKET: c->socket = optarg; continue;
		case O_TOKEN: c->token = optarg; continue;
		case O_AS: c->as = optarg; continue;
		case O_TIMEOUT:
			if (idg_parse_int(optarg, 1, 86400, &v) < 0) {
				*rc = usage_error(c, "--timeout must be a number of seconds from 1 to 86400");
				return -1;
			}
			c->timeout_ms = (int)v * 1000;
			continue;
		case ':':
			*rc = usage_error(c, "option %s needs an argument", argv[optind - 1]);
			return -1;
		case '?':
			*rc = usage_error(c, "unknown option %s", argv[optind - 1]);
			return -1;
		default:
			break;
		}
		for (size_t i = 0; opts && opts[i].name; i++) {
			if (opt != (opts[i].shortname ? opts[i].shortname : (int)(2000 + i)))
				continue;
			if (opts[i].flag)
				*opts[i].flag = true;
			if (opts[i].value)
				*opts[i].value = optarg;
			if (opts[i].multi) {
				const char **nv = realloc(*opts[i].multi, (*opts[i].nmulti + 1) * sizeof(*nv));

				if (nv == NULL)
					exit(EXIT_FAIL);
				nv[(*opts[i].nmulti)++] = optarg;
				*opts[i].multi = nv;
			}
		}
	}
	return optind;
}

int
parse_resource(const struct cli *c, int argc, char **argv, int *i, const char **type,
    const char **name)
{
	const char *w;

	if (*i >= argc)
		return usage_error(c, "name a resource: cluster, project NAME or repo NAME");
	w = argv[(*i)++];
	if (strcmp(w, "cluster") == 0) {
		*type = "cluster";
		*name = NULL;
		return EXIT_OK;
	}
	if (strncmp(w, "project:", 8) == 0 || strncmp(w, "repo:", 5) == 0) {
		*type = w[0] == 'p' ? "project" : "repo";
		*name = strchr(w, ':') + 1;
		return EXIT_OK;
	}
	if (strcmp(w, "project") == 0 || strcmp(w, "repo") == 0) {
		*type = w;
		if (*i >= argc)
			return usage_error(c, "name the %s: %s NAME", w, w);
		*name = argv[(*i)++];
		return EXIT_OK;
	}
	return usage_error(c, "unknown resource type '%s': expected cluster, project NAME or repo NAME",
	    w);
}

int
call_simple(struct cli *c, struct req *r, void (*text)(const struct cli *, const cJSON *))
{
	struct reply rep;
	int rc = call(c, r, &rep);

	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	else if (text)
		text(c, rep.json);
	reply_free(&rep);
	return rc;
}
