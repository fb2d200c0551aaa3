/* Appending JSON lines to the audit log: each record whole or not at all (a short write on a
 * full disk is cut back off), records that could not be written counted and reported. */
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
#include "common/util.h"

#define LOST_LOG_EVERY_MS 60000	/* "records are being lost" at most once a minute */

struct idg_audit {
	char *path;
	int fd;
	bool need_nl;		/* a cut-off record could not be removed: start on a new line */
	uint64_t lost;		/* records not written since the last one that was */
	uint64_t lost_logged;	/* of those, how many the log has been told of */
	int lost_errno;		/* why the last one was not */
	int64_t lost_since;	/* wall-clock ms of the first lost record */
	int64_t next_log_ms;	/* monotonic: when the log may be told again */
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
	a->need_nl = false;	/* that was the old file's */
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

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms since the epoch as 2026-01-02T03:04:05.678Z into out (at least 32 bytes). */
static void
stamp(char *out, size_t len, int64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	char s[24];

	gmtime_r(&sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", s, (int)(ms % 1000));
}

/* One record as a line, its newline included (and one before it when asked): 0, or
 * IDG_ERR_TOOBIG. */
static int
format(struct idg_buf *b, const struct idg_audit_rec *r, bool lead_nl)
{
	char now[32];

	stamp(now, sizeof(now), wall_ms());
	idg_buf_printf(b, "%s{\"time\":\"%s\",\"caller\":", lead_nl ? "\n" : "", now);
	json_str(b, r->caller);
	if (r->uid >= 0)
		idg_buf_printf(b, ",\"uid\":%ld", r->uid);
	if (r->pid >= 0)
		idg_buf_printf(b, ",\"pid\":%ld", r->pid);
	idg_buf_puts(b, ",\"action\":");
	json_str(b, r->action);
	idg_buf_puts(b, ",\"target\":");
	json_str(b, r->target);
	idg_buf_puts(b, ",\"result\":");
	json_str(b, r->result);
	idg_buf_puts(b, ",\"reason\":");
	json_str(b, r->reason);
	if (r->detail) {
		idg_buf_puts(b, ",\"detail\":");
		json_str(b, r->detail);
	}
	return idg_buf_puts(b, "}\n") < 0 ? IDG_ERR_TOOBIG : 0;
}

/* Append len bytes whole, or leave the file as it was: when the disk fills mid-record (a
 * short write, then an error for the rest) the part written is cut back off, or, when that
 * fails too, the next record starts on a line of its own, so every record in the file is
 * one parseable line. 0 or an errno. */
static int
append(struct idg_audit *a, const char *data, size_t len)
{
	off_t end = lseek(a->fd, 0, SEEK_END);	/* O_APPEND: where this record lands */
	size_t done = 0;
	int err = 0;

	while (done < len) {
		ssize_t n = write(a->fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	if (done == len) {
		a->need_nl = false;
		return 0;
	}
	if (done > 0 && (end < 0 || ftruncate(a->fd, end) < 0))
		a->need_nl = true;
	return err;
}

/* A record was not written: count it, and tell the log at once the first time, then at
 * most once a minute, how many are lost so far. */
static void
lost(struct idg_audit *a, int err)
{
	int64_t now = idg_now_ms();

	if (a->lost++ == 0)
		a->lost_since = wall_ms();
	a->lost_errno = err;
	if (a->lost_logged == 0 || now >= a->next_log_ms) {
		log_err("audit log %s: %llu record%s not written so far (%s); records are dropped "
		    "until it can be written again", a->path, (unsigned long long)a->lost,
		    a->lost == 1 ? "" : "s", strerror(err));
		a->lost_logged = a->lost;
		a->next_log_ms = now + LOST_LOG_EVERY_MS;
	}
}

/* Writable again after losing records: the log and the audit log itself say how many. */
static void
report_lost(struct idg_audit *a)
{
	struct idg_buf b;
	char reason[512], now[32], since[32];
	int rc;

	stamp(now, sizeof(now), wall_ms());
	stamp(since, sizeof(since), a->lost_since);
	snprintf(reason, sizeof(reason), "%llu audit record%s could not be written (%s)",
	    (unsigned long long)a->lost, a->lost == 1 ? "" : "s", strerror(a->lost_errno));
	idg_buf_init(&b, 4096);
	idg_buf_printf(&b, "%s{\"time\":\"%s\",\"caller\":\"idgated\",\"action\":"
	    "\"audit.lost\",\"target\":", a->need_nl ? "\n" : "", now);
	json_str(&b, a->path);
	idg_buf_puts(&b, ",\"result\":\"error\",\"reason\":");
	json_str(&b, reason);
	idg_buf_printf(&b, ",\"detail\":\"since %s\"", since);
	rc = idg_buf_puts(&b, "}\n") < 0 ? ENOMEM : append(a, b.data, b.len);
	idg_buf_free(&b);
	if (rc != 0)
		return;	/* still failing: the next record tries again */
	log_notice("audit log %s is written again; %s", a->path, reason);
	a->lost = a->lost_logged = 0;
}

int
idg_audit_write(struct idg_audit *a, const struct idg_audit_rec *r)
{
	struct idg_buf b;
	int rc, err;

	if (a == NULL)
		return 0;
	if (a->lost > 0)
		report_lost(a);
	idg_buf_init(&b, 64 * 1024);
	if (format(&b, r, a->need_nl) < 0) {
		/* Too long: keep the record, cut the detail. */
		struct idg_audit_rec cut = *r;

		idg_buf_free(&b);
		if (r->detail == NULL || strcmp(r->detail, "(truncated)") == 0)
			return IDG_ERR_TOOBIG;
		cut.detail = "(truncated)";
		return idg_audit_write(a, &cut);
	}
	rc = 0;
	if ((err = append(a, b.data, b.len)) != 0) {
		lost(a, err);
		rc = IDG_ERR_IO;
	}
	idg_buf_free(&b);
	return rc;
}
