/* INI config parsing against a schema: sections, key = value, '#' or ';' comments on
 * their own lines, optional double quotes around a value. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/util.h"

#define SECTION_MAX 64

void
idg_conf_error_at(struct idg_buf *errs, const char *name, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		idg_buf_printf(errs, "%s:%u: %s\n", name, line, msg);
	else
		idg_buf_printf(errs, "%s: %s\n", name, msg);
}

static const char *
type_expect(const struct idg_conf_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case IDG_CONF_STR: snprintf(buf, len, "a string of at most %lld printable characters",
	    k->max ? k->max : 1024); break;
	case IDG_CONF_PATH: snprintf(buf, len, "an absolute path"); break;
	case IDG_CONF_BOOL: snprintf(buf, len, "yes or no"); break;
	case IDG_CONF_INT: snprintf(buf, len, "an integer from %lld to %lld", k->min, k->max); break;
	case IDG_CONF_DURATION:
		snprintf(buf, len, "a duration from %llds to %llds (e.g. 90s, 15m, 12h, 30d)",
		    k->min, k->max);
		break;
	case IDG_CONF_MSEC:
		snprintf(buf, len, "a duration from %lldms to %lldms (e.g. 500ms, 2s)", k->min, k->max);
		break;
	case IDG_CONF_SIZE:
		snprintf(buf, len, "a size from %lld to %lld bytes (e.g. 512, 64k, 10M)", k->min, k->max);
		break;
	case IDG_CONF_ENUM: {
		size_t off = 0;

		off += (size_t)snprintf(buf, len, "one of:");
		for (size_t i = 0; k->choices[i] && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, " %s", k->choices[i]);
		break;
	}
	}
	return buf;
}

/* Store value into dst per k; IDG_ERR_INVAL when it does not fit the type. */
static int
conf_set(const struct idg_conf_key *k, const char *value, void *dst)
{
	char *at = (char *)dst + k->offset;

	switch (k->type) {
	case IDG_CONF_STR:
	case IDG_CONF_PATH: {
		size_t max = k->max ? (size_t)k->max : 1024;
		char *s;

		if (!idg_str_printable(value) || strlen(value) > max)
			return IDG_ERR_INVAL;
		if (k->type == IDG_CONF_PATH && (value[0] != '/' || strlen(value) > 4000))
			return IDG_ERR_INVAL;
		if ((s = strdup(value)) == NULL)
			return IDG_ERR_NOMEM;
		free(*(char **)at);
		*(char **)at = s;
		return 0;
	}
	case IDG_CONF_BOOL:
		return idg_parse_bool(value, (bool *)at);
	case IDG_CONF_INT: {
		long long v;
		int r = idg_parse_int(value, k->min, k->max, &v);

		if (r == 0)
			*(long long *)at = v;
		return r;
	}
	case IDG_CONF_DURATION: {
		int64_t v;

		if (idg_parse_duration(value, &v) < 0 || v < k->min || v > k->max)
			return IDG_ERR_INVAL;
		*(int64_t *)at = v;
		return 0;
	}
	case IDG_CONF_MSEC: {
		int64_t v;

		if (idg_parse_duration_ms(value, &v) < 0 || v < k->min || v > k->max)
			return IDG_ERR_INVAL;
		*(int64_t *)at = v;
		return 0;
	}
	case IDG_CONF_SIZE: {
		uint64_t v;

		if (idg_parse_size(value, &v) < 0 || v < (uint64_t)k->min || v > (uint64_t)k->max)
			return IDG_ERR_INVAL;
		*(uint64_t *)at = v;
		return 0;
	}
	case IDG_CONF_ENUM:
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(value, k->choices[i]) == 0) {
				*(int *)at = i;
				return 0;
			}
		}
		return IDG_ERR_INVAL;
	}
	return IDG_ERR_INTERNAL;
}

int
idg_conf_defaults(const struct idg_conf_key *schema, size_t n, void *dst, struct idg_buf *errs)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct idg_conf_key *k = &schema[i];

		if (k->def == NULL)
			continue;
		if (conf_set(k, k->def, dst) < 0) {
			idg_conf_error_at(errs, "(built-in defaults)", 0, "bad default for [%s] %s",
			    k->section, k->key);
			rc = IDG_ERR_INTERNAL;
		}
	}
	return rc;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static bool
section_known(const struct idg_conf_key *schema, size_t n, const char *section)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(schema[i].section, section) == 0)
			return true;
	return false;
}

static void
list_keys(const struct idg_conf_key *schema, size_t n, const char *section, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		if (strcmp(schema[i].section, section) != 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", schema[i].key);
	}
}

static void
list_sections(const struct idg_conf_key *schema, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			if (strcmp(schema[j].section, schema[i].section) == 0)
				seen = true;
		if (!seen)
			off += (size_t)snprintf(buf + off, len - off, "%s[%s]", off ? ", " : "",
			    schema[i].section);
	}
}

/* One line: a section header, a key = value, a comment or blank. */
static int
parse_line(const char *name, unsigned lineno, char *line, char *section, unsigned *seen_line,
    const struct idg_conf_key *schema, size_t n, void *dst, struct idg_buf *errs)
{
	char *s = trim(line), *eq, *key, *value;
	char expect[512];
	size_t i;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (!idg_str_printable(s)) {
		idg_conf_error_at(errs, name, lineno, "control character or invalid UTF-8 in line");
		return IDG_ERR_CONFIG;
	}
	if (*s == '[') {
		char *end = strchr(s, ']');

		if (end == NULL || trim(end + 1)[0] != '\0') {
			idg_conf_error_at(errs, name, lineno, "malformed section header: expected [name]");
			return IDG_ERR_CONFIG;
		}
		*end = '\0';
		s = trim(s + 1);
		if (!section_known(schema, n, s) || strlen(s) >= SECTION_MAX) {
			list_sections(schema, n, expect, sizeof(expect));
			idg_conf_error_at(errs, name, lineno, "unknown section [%.64s]: expected one of %s", s, expect);
			strcpy(section, "\x01");	/* keys below it are skipped, not reported again */
			return IDG_ERR_CONFIG;
		}
		strcpy(section, s);
		return 0;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		idg_conf_error_at(errs, name, lineno, "expected 'key = value', a [section] or a # comment");
		return IDG_ERR_CONFIG;
	}
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (section[0] == '\x01')
		return IDG_ERR_CONFIG;
	if (section[0] == '\0') {
		idg_conf_error_at(errs, name, lineno, "key '%.64s' outside any section: put it under a [section]", key);
		return IDG_ERR_CONFIG;
	}
	for (i = 0; i < n; i++)
		if (strcmp(schema[i].section, section) == 0 && strcmp(schema[i].key, key) == 0)
			break;
	if (i == n) {
		list_keys(schema, n, section, expect, sizeof(expect));
		idg_conf_error_at(errs, name, lineno, "unknown key '%.64s' in [%s]: expected one of %s", key,
		    section, expect);
		return IDG_ERR_CONFIG;
	}
	if (seen_line[i]) {
		idg_conf_error_at(errs, name, lineno, "'%s' in [%s] is set twice (first at line %u)", key,
		    section, seen_line[i]);
		return IDG_ERR_CONFIG;
	}
	seen_line[i] = lineno;
	if (value[0] == '"') {
		size_t vl = strlen(value);

		if (vl < 2 || value[vl - 1] != '"') {
			idg_conf_error_at(errs, name, lineno, "unterminated quoted value for '%s'", key);
			return IDG_ERR_CONFIG;
		}
		value[vl - 1] = '\0';
		value++;
	}
	if (conf_set(&schema[i], value, dst) < 0) {
		idg_conf_error_at(errs, name, lineno, "bad value for '%s' in [%s]: expected %s", key, section,
		    type_expect(&schema[i], expect, sizeof(expect)));
		return IDG_ERR_CONFIG;
	}
	return 0;
}

int
idg_conf_parse(const char *name, const char *text, size_t len,
    const struct idg_conf_key *schema, size_t n, void *dst, struct idg_buf *errs)
{
	return idg_conf_parse_lines(name, text, len, schema, n, dst, NULL, errs);
}

int
idg_conf_parse_lines(const char *name, const char *text, size_t len,
    const struct idg_conf_key *schema, size_t n, void *dst, unsigned *lines_out,
    struct idg_buf *errs)
{
	char section[SECTION_MAX] = "";
	char line[IDG_CONF_MAX_LINE + 2];
	unsigned *seen_line, lineno = 0;
	size_t pos = 0;
	int rc = 0;

	if (idg_conf_defaults(schema, n, dst, errs) < 0)
		return IDG_ERR_INTERNAL;
	if (len > IDG_CONF_MAX_FILE) {
		idg_conf_error_at(errs, name, 0, "file is larger than %d bytes", IDG_CONF_MAX_FILE);
		return IDG_ERR_CONFIG;
	}
	{
		const char *nul = memchr(text, '\0', len);

		if (nul != NULL) {
			unsigned nul_line = 1;

			for (const char *p = text; p < nul; p++)
				nul_line += *p == '\n';
			idg_conf_error_at(errs, name, nul_line, "a NUL byte: this is not a text file");
			return IDG_ERR_CONFIG;
		}
	}
	if ((seen_line = calloc(n ? n : 1, sizeof(*seen_line))) == NULL)
		return IDG_ERR_NOMEM;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (ll > IDG_CONF_MAX_LINE) {
			idg_conf_error_at(errs, name, lineno, "line longer than %d bytes", IDG_CONF_MAX_LINE);
			rc = IDG_ERR_CONFIG;
		} else {
			memcpy(line, text + pos, ll);
			line[ll] = '\0';
			if (parse_line(name, lineno, line, section, seen_line, schema, n, dst, errs) < 0)
				rc = IDG_ERR_CONFIG;
		}
		pos += ll + (nl ? 1 : 0);
	}
	for (size_t i = 0; i < n; i++) {
		if (schema[i].required && !seen_line[i]) {
			char expect[512];

			idg_conf_error_at(errs, name, lineno, "missing required key '%s' in [%s]: expected %s",
			    schema[i].key, schema[i].section,
			    type_expect(&schema[i], expect, sizeof(expect)));
			rc = IDG_ERR_CONFIG;
		}
	}
	if (lines_out)
		memcpy(lines_out, seen_line, n * sizeof(*seen_line));
	free(seen_line);
	return rc;
}

int
idg_conf_load(const char *path, const struct idg_conf_key *schema, size_t n, void *dst,
    struct idg_buf *errs)
{
	return idg_conf_load_lines(path, schema, n, dst, NULL, errs);
}

int
idg_conf_load_lines(const char *path, const struct idg_conf_key *schema, size_t n, void *dst,
    unsigned *lines_out, struct idg_buf *errs)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = idg_read_file(path, IDG_CONF_MAX_FILE, &text, &len);
	if (rc < 0) {
		idg_conf_defaults(schema, n, dst, errs);
		idg_conf_error_at(errs, path, 0, "cannot read config: %s",
		    rc == IDG_ERR_NOTFOUND ? "no such file" :
		    rc == IDG_ERR_TOOBIG ? "file too large" :
		    rc == IDG_ERR_INVAL ? "not a regular file" : idg_strerror(rc));
		return IDG_ERR_CONFIG;
	}
	rc = idg_conf_parse_lines(path, text, len, schema, n, dst, lines_out, errs);
	free(text);
	return rc;
}

void
idg_conf_free(const struct idg_conf_key *schema, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		if (schema[i].type == IDG_CONF_STR || schema[i].type == IDG_CONF_PATH) {
			char **at = (char **)((char *)dst + schema[i].offset);

			free(*at);
			*at = NULL;
		}
	}
}
