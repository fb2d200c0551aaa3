/* Appending JSON lines to the audit log. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"

struct idg_audit {
	char *path;
	int fd;
};

static int
open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

int
idg_audit_open(const char *path, struct idg_audit **out)
{
	struct idg_audit *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->path = strdup(path)) == NULL) {
		free(a);
		return IDG_ERR_NOMEM;
	}
	if ((a->fd = open_log(path)) < 0) {
		log_err("cannot open audit log %s: %s", path, strerror(errno));
		free(a->path);
		free(a);
		return IDG_ERR_IO;
	}
	*out = a;
	return 0;
}

int
idg_audit_reopen(struct idg_audit *a)
{
	int fd = open_log(a->path);

	if (fd < 0) {
		log_err("cannot reopen audit log %s: %s (still writing to the old file)", a->path,
		    strerror(errno));
		return IDG_ERR_IO;
	}
	close(a->fd);
	a->fd = fd;
	return 0;
}

void
idg_audit_close(struct idg_audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a->path);
	free(a);
}

/* Append s as a JSON string value. */
static void
json_str(struct idg_buf *b, const char *s)
{
	idg_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			idg_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			idg_buf_printf(b, "\\u%04x", *p);
		else
			idg_buf_append(b, p, 1);
	}
	idg_buf_puts(b, "\"");
}

int
idg_audit_write(struct idg_audit *a, const struct idg_audit_rec *r)
{
	struct idg_buf b;
	struct timespec ts;
	struct tm tm;
	char stamp[40];
	ssize_t n;
	int rc = 0;

	if (a == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	idg_buf_init(&b, 64 * 1024);
	idg_buf_printf(&b, "{\"time\":\"%s.%03ldZ\",\"caller\":", stamp, ts.tv_nsec / 1000000);
	json_str(&b, r->caller);
	if (r->uid >= 0)
		idg_buf_printf(&b, ",\"uid\":%ld", r->uid);
	if (r->pid >= 0)
		idg_buf_printf(&b, ",\"pid\":%ld", r->pid);
	idg_buf_puts(&b, ",\"action\":");
	json_str(&b, r->action);
	idg_buf_puts(&b, ",\"target\":");
	json_str(&b, r->target);
	idg_buf_puts(&b, ",\"result\":");
	json_str(&b, r->result);
	idg_buf_puts(&b, ",\"reason\":");
	json_str(&b, r->reason);
	if (r->detail) {
		idg_buf_puts(&b, ",\"detail\":");
		json_str(&b, r->detail);
	}
	if (idg_buf_puts(&b, "}\n") < 0) {
		/* Too long: keep the record, cut the detail. */
		struct idg_audit_rec cut = *r;

		idg_buf_free(&b);
		if (r->detail == NULL || strcmp(r->detail, "(truncated)") == 0)
			return IDG_ERR_TOOBIG;
		cut.detail = "(truncated)";
		return idg_audit_write(a, &cut);
	}
	n = write(a->fd, b.data, b.len);
	if (n < 0 || (size_t)n != b.len) {
		log_err("audit log write failed: %s", n < 0 ? strerror(errno) : "short write");
		rc = IDG_ERR_IO;
	}
	idg_buf_free(&b);
	return rc;
}
