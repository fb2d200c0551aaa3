/* Small helpers: parsing, formatting, random bytes, secrets. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"

int
idg_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return IDG_ERR_INVAL;
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return IDG_ERR_INVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return IDG_ERR_INVAL;
	*out = v;
	return 0;
}

int
idg_parse_duration(const char *s, int64_t *secs_out)
{
	int64_t total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0' || strlen(s) > 32)
		return IDG_ERR_INVAL;
	while (*p) {
		int64_t v = 0, mult;
		int digits = 0;

		while (*p >= '0' && *p <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return IDG_ERR_INVAL;
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return IDG_ERR_INVAL;
		switch (*p) {
		case '\0': mult = 1; break;
		case 's': mult = 1; p++; break;
		case 'm': mult = 60; p++; break;
		case 'h': mult = 3600; p++; break;
		case 'd': mult = 86400; p++; break;
		case 'w': mult = 7 * 86400; p++; break;
		default: return IDG_ERR_INVAL;
		}
		if (v > (INT64_MAX - total) / mult)
			return IDG_ERR_INVAL;
		/* A number without a unit is seconds only alone ("90"): "1h30" is ambiguous. */
		if (mult == 1 && p[-1] != 's' && p - digits != s)
			return IDG_ERR_INVAL;
		total += v * mult;
	}
	*secs_out = total;
	return 0;
}

int
idg_parse_duration_ms(const char *s, int64_t *ms_out)
{
	size_t n = s ? strlen(s) : 0;
	int64_t v;

	/* "250ms" alone; anything else is a duration in seconds as above. */
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		char digits[32];
		long long ll;

		if (n - 2 >= sizeof(digits) || !(s[0] >= '0' && s[0] <= '9'))
			return IDG_ERR_INVAL;
		memcpy(digits, s, n - 2);
		digits[n - 2] = '\0';
		if (idg_parse_int(digits, 0, INT64_MAX / 1000, &ll) < 0)
			return IDG_ERR_INVAL;
		*ms_out = ll;
		return 0;
	}
	if (idg_parse_duration(s, &v) < 0 || v > INT64_MAX / 1000)
		return IDG_ERR_INVAL;
	*ms_out = v * 1000;
	return 0;
}

int
idg_parse_size(const char *s, uint64_t *bytes_out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (s == NULL || !(*s >= '0' && *s <= '9') || strlen(s) > 24)
		return IDG_ERR_INVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return IDG_ERR_INVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1024ULL; end++; break;
	case 'm': case 'M': mult = 1024ULL * 1024; end++; break;
	case 'g': case 'G': mult = 1024ULL * 1024 * 1024; end++; break;
	default: return IDG_ERR_INVAL;
	}
	if (*end != '\0' || v > UINT64_MAX / mult)
		return IDG_ERR_INVAL;
	*bytes_out = v * mult;
	return 0;
}

int
idg_parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < IDG_ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return IDG_ERR_INVAL;
}

void
idg_time_iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
}

void
idg_duration_format(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t n; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t off = 0;

	if (secs <= 0) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < IDG_ARRAY_SIZE(units) && off < len; i++) {
		if (secs >= units[i].n) {
			int n = snprintf(buf + off, len - off, "%lld%c",
			    (long long)(secs / units[i].n), units[i].unit);
			if (n < 0)
				break;
			off += (size_t)n;
			secs %= units[i].n;
		}
	}
}

int
idg_make_dirs(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return IDG_ERR_INVAL;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == 0)
			chmod(tmp, 0755);
		else if (errno != EEXIST)
			return IDG_ERR_IO;
		*p = '/';
	}
	/* A daemon's umask may be 077: a new directory gets its mode explicitly. */
	if (mkdir(tmp, mode) == 0)
		return chmod(tmp, mode) == 0 ? 0 : IDG_ERR_IO;
	return errno == EEXIST ? 0 : IDG_ERR_IO;
}

int
idg_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return IDG_ERR_IO;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void
idg_hex(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

size_t
idg_utf8_char(const unsigned char *p, size_t n, uint32_t *cp_out)
{
	uint32_t cp;
	size_t extra;

	if (n == 0 || *p == 0)
		return 0;
	if (*p < 0x80) {
		*cp_out = *p;
		return 1;
	}
	if ((*p & 0xe0) == 0xc0) { extra = 1; cp = *p & 0x1f; }
	else if ((*p & 0xf0) == 0xe0) { extra = 2; cp = *p & 0x0f; }
	else if ((*p & 0xf8) == 0xf0) { extra = 3; cp = *p & 0x07; }
	else return 0;
	if (n <= extra)
		return 0;
	for (size_t i = 1; i <= extra; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points. */
	if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
	    (extra == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*cp_out = cp;
	return extra + 1;
}

bool
idg_str_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		uint32_t cp;
		size_t len = idg_utf8_char(p, n, &cp);

		/* No C0 or C1 controls, no DEL. */
		if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return false;
		p += len;
		n -= len;
	}
	return true;
}

void
idg_redact(const char *secret, char *out, size_t len)
{
	bool plain = true;

	if (secret == NULL || *secret == '\0') {
		snprintf(out, len, "(none)");
		return;
	}
	/* The first 4 characters only of a long secret, and only if they are plain ASCII: a
	 * short secret (a password) shows nothing, and nothing odd ever reaches a log line. */
	for (int i = 0; i < 4 && plain; i++) {
		char c = secret[i];

		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-';
	}
	if (strnlen(secret, 16) < 16 || !plain)
		snprintf(out, len, "(redacted)");
	else
		snprintf(out, len, "%.4s...(redacted)", secret);
}

void
idg_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

char *
idg_strdup_max(const char *s, size_t max)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strnlen(s, max + 1);
	if (n > max)
		return NULL;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int
idg_fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return IDG_ERR_IO;
	return 0;
}

int
idg_fd_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return IDG_ERR_IO;
	return 0;
}

int
idg_read_file(const char *path, size_t max, char **out, size_t *len_out)
{
	int fd, rc = IDG_ERR_IO;
	struct stat st;
	char *data = NULL;
	size_t len = 0, bufsz;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? IDG_ERR_NOTFOUND : errno == EACCES ? IDG_ERR_DENIED : IDG_ERR_IO;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		rc = IDG_ERR_INVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = IDG_ERR_TOOBIG;
		goto out;
	}
	/* One byte more than we accept, so a file that grew while we read it is noticed. */
	bufsz = max + 1;
	if ((size_t)st.st_size + 4096 < bufsz)
		bufsz = (size_t)st.st_size + 4096;
	if ((data = malloc(bufsz)) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == bufsz) {
			rc = IDG_ERR_TOOBIG;
			goto out;
		}
		n = read(fd, data + len, bufsz - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max || len == bufsz) {
		rc = IDG_ERR_TOOBIG;
		goto out;
	}
	data[len] = '\0';
	*out = data;
	if (len_out)
		*len_out = len;
	data = NULL;
	rc = 0;
out:
	free(data);
	close(fd);
	return rc;
}

int64_t
idg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
idg_system_user(const char *name, const char *what, uid_t *uid_out, gid_t *gid_out, char *err,
    size_t errlen)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = IDG_ERR_NOTFOUND;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read /etc/passwd: %s", strerror(errno));
		return IDG_ERR_IO;
	}
	while ((pw = fgetpwent(f)) != NULL) {
		if (strcmp(pw->pw_name, name) == 0) {
			uid = pw->pw_uid;
			gid = pw->pw_gid;
			rc = 0;
			break;
		}
	}
	fclose(f);
	if (rc < 0) {
		snprintf(err, errlen, "the user '%s' (%s) does not exist: create it (useradd "
		    "--system --no-create-home --shell /usr/sbin/nologin %s)", name, what, name);
		return rc;
	}
	if (uid == 0 || gid == 0) {
		snprintf(err, errlen, "the user '%s' (%s) has uid or gid 0: it must be an "
		    "unprivileged user", name, what);
		return IDG_ERR_CONFIG;
	}
	*uid_out = uid;
	*gid_out = gid;
	return 0;
}
