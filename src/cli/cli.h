/* idgatectl: shared context, the request helpers and output formatting. */
#ifndef IDG_CLI_CLI_H
#define IDG_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "proto/api.h"
#include "proto/wire.h"

/* Exit codes (idgatectl(1)). */
enum {
	EXIT_OK = 0,
	EXIT_DENIED = 1,	/* the role engine refused, or a check said no */
	EXIT_USAGE = 2,		/* bad usage or input, unknown name */
	EXIT_FAIL = 3,		/* idgated unreachable or failed */
	EXIT_IDP = 4,		/* login test: the IdP answered, but nothing usable as configured */
};

struct cli {
	const char *socket;
	const char *token;	/* robot token: --token or IDGATE_TOKEN */
	const char *as;		/* root only: act as this subject */
	bool json;		/* --output json */
	bool quiet;
	int timeout_ms;
	const char *prog;	/* "idgatectl auth set": for messages */
};

/* A request being built. */
struct req {
	struct idg_msg m;
	int fd;			/* passed along, or -1 */
};

/* A reply: status, error text, parsed JSON, and a passed fd. */
struct reply {
	uint32_t status;
	char error[4096];
	cJSON *json;
	int fd;
};

void req_init(struct req *r, enum idg_op op);
void req_str(struct req *r, uint16_t tag, const char *s);
void req_u32(struct req *r, uint16_t tag, uint32_t v);
void req_u64(struct req *r, uint16_t tag, uint64_t v);

/* Send r, wait for the reply. Returns an exit code: EXIT_OK when the daemon said OK,
 * else prints the daemon's message (unless the caller handles it: pass quiet_error). */
int call(const struct cli *c, struct req *r, struct reply *rep);
void reply_free(struct reply *rep);
/* call(), then print the reply: JSON with --output json, else through text (may be NULL);
 * the daemon's message on stderr when it refused. Returns the exit code. */
int call_simple(struct cli *c, struct req *r, void (*text)(const struct cli *, const cJSON *));

/* Exit code for a reply status. */
int status_exit(uint32_t status);

/* Print the reply's JSON (for --output json). */
void print_json(const cJSON *j);

/* Plain tables: add rows of cells, then print with aligned columns. */
struct table;
struct table *table_new(size_t ncols, ...);	/* column headers */
void table_row(struct table *t, ...);		/* ncols strings */
void table_print(struct table *t);
void table_free(struct table *t);

/* JSON accessors that never return NULL. */
const char *jstr(const cJSON *o, const char *key);
double jnum(const cJSON *o, const char *key);
bool jbool(const cJSON *o, const char *key);
/* "[a b c]" from an array of strings into buf. */
const char *jlist(const cJSON *arr, const char *sep, const char *open, const char *close,
    char *buf, size_t len);
/* "2026-11-22T10:00:00Z" from a unix time. */
const char *jtime(double t, char *buf, size_t len);

/* Usage errors: print "idgatectl: ..." and a hint; return EXIT_USAGE. */
int usage_error(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Commands. */
struct command {
	const char *words[2];	/* e.g. { "auth", "set" }; second may be NULL */
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *synopsis;	/* "auth set RESOURCE ROLE[,ROLE...]|none [SUBJECT]" */
	const char *summary;	/* one line */
	const char *help;	/* the full --help text after the synopsis */
};

extern const struct command cmds_auth[], cmds_rbac[], cmds_group[], cmds_objects[],
    cmds_login[], cmds_user[];
extern const size_t ncmds_auth, ncmds_rbac, ncmds_group, ncmds_objects, ncmds_login,
    ncmds_user;

/* Parse the options every command accepts (global ones, -h) plus the command's own.
 * Returns the index of the first operand, or -1 after printing help (*rc set). */
struct cmdopt {
	const char *name;	/* long name without dashes */
	char shortname;		/* 0: none */
	bool has_arg;
	const char **value;	/* where the argument goes (has_arg) */
	bool *flag;		/* set when present (no arg) */
	const char ***multi;	/* repeated: array grown here */
	size_t *nmulti;
};
int parse_opts(struct cli *c, const struct command *cmd, int argc, char **argv,
    const struct cmdopt *opts, int *rc);

/* RESOURCE operands: "cluster" | "project NAME" | "repo NAME" (also "project:NAME").
 * Consumes 1 or 2 words from argv[*i]; fills type and name. */
int parse_resource(const struct cli *c, int argc, char **argv, int *i, const char **type,
    const char **name);

/* Print a command's help page. */
void command_help(const struct command *cmd, FILE *f);

#endif
