/* The daemon's and the CLI's log API: printf-checked, errno-preserving, to stderr or syslog. */
#ifndef IDG_COMMON_LOG_H
#define IDG_COMMON_LOG_H

#include <syslog.h>

enum idg_log_target { IDG_LOG_STDERR, IDG_LOG_SYSLOG };

/* ident is kept by reference; level is a syslog priority (LOG_ERR..LOG_DEBUG). */
void idg_log_open(const char *ident, enum idg_log_target target, int level);
void idg_log_set_level(int level);
int idg_log_get_level(void);
void idg_log_close(void);

void idg_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) idg_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...) idg_log(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) idg_log(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) idg_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) idg_log(LOG_DEBUG, __VA_ARGS__)

/* "debug", "info", "notice", "warning", "err" -> priority; -1 when unknown. */
int idg_log_level_from_name(const char *name);

#endif
