/* Log lines a peer can cause at will (a refused connection, a malformed request), held to one
 * per key per interval; the lines held back are counted and said in one summary line. */
#ifndef IDG_COMMON_LOGRATE_H
#define IDG_COMMON_LOGRATE_H

#include <stdarg.h>
#include <stdint.h>

#define IDG_LOGRATE_SLOTS 64	/* keys followed at once; more share one overflow count */
#define IDG_LOGRATE_TEXT 256	/* the first line of a window, repeated by its summary */

struct idg_lograte_slot {
	uint64_t key;
	int64_t since;		/* ms when the window opened; 0: the slot is free */
	unsigned long held;	/* lines held back in this window */
	int prio;
	char text[IDG_LOGRATE_TEXT];
};

/* Owned by its user (no allocation, no global state): one per part of the program. */
struct idg_lograte {
	int64_t interval_ms;
	int64_t overflow_since;	/* ms; 0: nothing held back for want of a slot */
	unsigned long overflow;
	struct idg_lograte_slot slot[IDG_LOGRATE_SLOTS];
};

/* interval_ms > 0: at most one line per key in that time. */
void idg_lograte_init(struct idg_lograte *r, int64_t interval_ms);

/* Log the line unless a line with this key was logged in the current window (opened at most
 * interval_ms before now_ms, a monotonic clock); then only count it. Keys are the caller's:
 * a kind of event and the peer's uid, say. Preserves errno. */
void idg_lograte_log(struct idg_lograte *r, uint64_t key, int64_t now_ms, int prio,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void idg_lograte_vlog(struct idg_lograte *r, uint64_t key, int64_t now_ms, int prio,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Close every window that is over: a window that held lines back logs "TEXT (and N more
 * like it in the last S s)" and goes on counting; one that held none frees its key, so the
 * next line is logged in full. Call it on a timer (once a second) so counts are said even
 * when the flood stops. */
void idg_lograte_flush(struct idg_lograte *r, int64_t now_ms);

/* Lines held back so far and not yet said, for tests. */
unsigned long idg_lograte_pending(const struct idg_lograte *r);

#endif
