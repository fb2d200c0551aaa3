/* Rate-limited log lines with counts (lograte.h): a local user who can open a socket must not
 * be able to make the daemon write thousands of lines a second, yet nothing is lost silently. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/lograte.h"

void
idg_lograte_init(struct idg_lograte *r, int64_t interval_ms)
{
	memset(r, 0, sizeof(*r));
	r->interval_ms = interval_ms > 0 ? interval_ms : 1000;
}

static long long
secs(int64_t ms)
{
	return (long long)((ms + 999) / 1000);
}

/* The window of sl is over: say what it held back and keep counting, or free the key. */
static void
close_window(struct idg_lograte_slot *sl, int64_t now_ms)
{
	if (sl->held == 0) {
		sl->since = 0;
		return;
	}
	idg_log(sl->prio, "%s (and %lu more like it in the last %lld s)", sl->text, sl->held,
	    secs(now_ms - sl->since));
	sl->held = 0;
	sl->since = now_ms;
}

static bool
over(const struct idg_lograte *r, int64_t since, int64_t now_ms)
{
	return now_ms - since >= r->interval_ms;
}

void
idg_lograte_log(struct idg_lograte *r, uint64_t key, int64_t now_ms, int prio,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idg_lograte_vlog(r, key, now_ms, prio, fmt, ap);
	va_end(ap);
}

void
idg_lograte_vlog(struct idg_lograte *r, uint64_t key, int64_t now_ms, int prio,
    const char *fmt, va_list ap)
{
	struct idg_lograte_slot *sl = NULL, *free_sl = NULL;
	int saved = errno;

	if (prio > idg_log_get_level())
		goto out;	/* not logged anyway: nothing to count */
	if (now_ms <= 0)
		now_ms = 1;	/* 0 marks a free slot */
	for (size_t i = 0; i < IDG_LOGRATE_SLOTS; i++) {
		struct idg_lograte_slot *s = &r->slot[i];

		if (s->since != 0 && over(r, s->since, now_ms))
			close_window(s, now_ms);
		if (s->since != 0 && s->key == key)
			sl = s;
		else if (s->since == 0 && free_sl == NULL)
			free_sl = s;
	}
	if (sl != NULL) {
		sl->held++;
		goto out;
	}
	if (free_sl == NULL) {
		/* More keys at once than slots: count them together rather than grow. */
		if (r->overflow++ == 0)
			r->overflow_since = now_ms;
		goto out;
	}
	sl = free_sl;
	sl->key = key;
	sl->since = now_ms;
	sl->held = 0;
	sl->prio = prio;
	vsnprintf(sl->text, sizeof(sl->text), fmt, ap);
	idg_log(prio, "%s", sl->text);
out:
	errno = saved;
}

void
idg_lograte_flush(struct idg_lograte *r, int64_t now_ms)
{
	int saved = errno;

	for (size_t i = 0; i < IDG_LOGRATE_SLOTS; i++)
		if (r->slot[i].since != 0 && over(r, r->slot[i].since, now_ms))
			close_window(&r->slot[i], now_ms);
	if (r->overflow > 0 && over(r, r->overflow_since, now_ms)) {
		idg_log(LOG_WARNING, "%lu more log lines like the ones above, from more peers than "
		    "are followed one by one, held back in the last %lld s", r->overflow,
		    secs(now_ms - r->overflow_since));
		r->overflow = 0;
		r->overflow_since = 0;
	}
	errno = saved;
}

unsigned long
idg_lograte_pending(const struct idg_lograte *r)
{
	unsigned long n = r->overflow;

	for (size_t i = 0; i < IDG_LOGRATE_SLOTS; i++)
		if (r->slot[i].since != 0)
			n += r->slot[i].held;
	return n;
}
