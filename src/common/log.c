/* Logging for idgated and idgatectl. Messages never carry secrets: callers use idg_redact(). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static const char *log_ident = "idgate";
static enum idg_log_target log_target = IDG_LOG_STDERR;
static int log_level = LOG_INFO;

void
idg_log_open(const char *ident, enum idg_log_target target, int level)
{
	log_ident = ident;
	log_target = target;
	log_level = level;
	if (target == IDG_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
idg_log_set_level(int level)
{
	log_level = level;
}

int
idg_log_get_level(void)
{
	return log_level;
}

void
idg_log_close(void)
{
	if (log_target == IDG_LOG_SYSLOG)
		closelog();
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void
idg_log(int prio, const char *fmt, ...)
{
	int saved = errno;
	char msg[2048];
	va_list ap;

	if (prio > log_level) {
		errno = saved;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line per message: a control character never reaches the log. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_target == IDG_LOG_SYSLOG) {
		syslog(prio, "%s", msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s %s[%s]: %s\n", stamp, log_ident, prio_name(prio), msg);
	}
	errno = saved;
}

int
idg_log_level_from_name(const char *name)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}
