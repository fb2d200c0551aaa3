/* The INI config parser shared by idgated and its tools: a schema table says which sections
 * and keys exist, their types, defaults and limits; values land in a caller's struct.
 * Every problem is reported as "FILE:LINE: what is wrong, what is expected", all of them
 * before giving up. */
#ifndef IDG_COMMON_CONF_H
#define IDG_COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum idg_conf_type {
	IDG_CONF_STR,		/* char *, printable, at most max bytes (0: 1024) */
	IDG_CONF_PATH,		/* char *, an absolute path */
	IDG_CONF_BOOL,		/* bool */
	IDG_CONF_INT,		/* long long in [min, max] */
	IDG_CONF_DURATION,	/* int64_t seconds in [min, max] */
	IDG_CONF_MSEC,		/* int64_t milliseconds in [min, max] ("500ms", "2s") */
	IDG_CONF_SIZE,		/* uint64_t bytes in [min, max] */
	IDG_CONF_ENUM,		/* int: index into choices */
};

struct idg_conf_key {
	const char *section;
	const char *key;
	enum idg_conf_type type;
	const char *def;		/* default as text; NULL: no default */
	bool required;			/* must appear in the file */
	long long min, max;		/* INT, DURATION, MSEC, SIZE limits; STR length max */
	const char *const *choices;	/* ENUM: NULL-terminated */
	size_t offset;			/* where the value goes in the caller's struct */
	const char *doc;		/* one line for --help and the man page */
};

#define IDG_CONF_MAX_FILE (1024 * 1024)
#define IDG_CONF_MAX_LINE 4096

/* Apply every default of schema (n keys) to dst. Fails only on a bad default (a bug). */
int idg_conf_defaults(const struct idg_conf_key *schema, size_t n, void *dst, struct idg_buf *errs);

/* Parse path into dst (defaults applied first). On failure every error is appended to errs,
 * one per line, and dst holds defaults plus whatever parsed; the caller frees it either way. */
int idg_conf_load(const char *path, const struct idg_conf_key *schema, size_t n, void *dst,
    struct idg_buf *errs);

/* Parse text (named name in messages) the same way; for tests and for --check-config. */
int idg_conf_parse(const char *name, const char *text, size_t len,
    const struct idg_conf_key *schema, size_t n, void *dst, struct idg_buf *errs);

/* The same, and lines_out (n entries, zeroed by the caller, or NULL) gets the line each key
 * of schema is set on, 0 where the file does not set it: checks made after parsing name
 * FILE:LINE too. */
int idg_conf_load_lines(const char *path, const struct idg_conf_key *schema, size_t n,
    void *dst, unsigned *lines_out, struct idg_buf *errs);
int idg_conf_parse_lines(const char *name, const char *text, size_t len,
    const struct idg_conf_key *schema, size_t n, void *dst, unsigned *lines_out,
    struct idg_buf *errs);

/* Free every string the schema put in dst. */
void idg_conf_free(const struct idg_conf_key *schema, size_t n, void *dst);

/* Append "NAME:LINE: message\n" to errs ("NAME: message" when line is 0): the one form every
 * configuration error takes. */
void idg_conf_error_at(struct idg_buf *errs, const char *name, unsigned line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

#endif
