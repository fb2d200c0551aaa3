/* The enforcer: keeps every repo directory's POSIX ACL (access and default, on the directory
 * and everything below it) equal to what the bindings say (src/enforce/). A committed change
 * marks the ACLs stale; within IDG_ENFORCE_DELAY_MS the event loop recomputes every repo's
 * entries and walks the trees of the repos whose entries changed, once each however many
 * changes came. At start-up and every [data] repair_interval every tree is walked and drift
 * is repaired and logged. Walks run in slices of about 50 ms (whole repo trees), so requests
 * are served between them; changed repos go before a repair's. With [data] enforce = no,
 * nothing is touched. */
#ifndef IDG_DAEMON_ENFORCE_H
#define IDG_DAEMON_ENFORCE_H

#include <stdbool.h>

#include "daemon/daemon.h"
#include "store/store.h"

/* How long changes are gathered before they are applied (well inside the 1 s promised). */
#define IDG_ENFORCE_DELAY_MS 50

/* After the directory is open and the server exists: schedules the start-up repair. */
int idg_enforce_open(struct idg_daemon *d, char *err, size_t errlen);
void idg_enforce_free(struct idg_daemon *d);
/* After SIGHUP: [data] enforce, owner, group, mode or repair_interval may have changed: a
 * repair runs at the next tick. */
void idg_enforce_reconfigure(struct idg_daemon *d);
/* After every committed change. */
void idg_enforce_on_commit(struct idg_daemon *d, const struct idg_change *c);
/* Once a second: the repair schedule. */
void idg_enforce_tick(struct idg_daemon *d, int64_t now_ms);
/* A repo directory just created (full "PROJECT/REPO"): its ACL now, not in 50 ms. */
void idg_enforce_repo_now(struct idg_daemon *d, const char *full);
/* A directory or file idgated has just made in repo full (put file), still unseen or
 * unnamed: its owner and ACL as a walk would give them, so it appears right. */
void idg_enforce_fd(struct idg_daemon *d, const char *full, int fd, bool dir);
/* A repo about to be deleted: its whole tree is closed to everyone but [data] owner at once
 * (a process holding a directory inside must not keep access to the retired data, which is
 * never walked again). */
void idg_enforce_repo_close(struct idg_daemon *d, const char *project, const char *repo);

#endif
