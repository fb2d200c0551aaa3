/* The root parent's side of the IdP connector: starts the unprivileged child (a fresh exec of
 * idgated), sends it requests, matches its answers to them, restarts it when it dies or hangs,
 * and persists the keys it learns. Nothing the IdP sent is parsed here: the child's answers
 * are wire frames, and the identity in them is re-checked by idmap before use. */
#ifndef IDG_DAEMON_CONNECTOR_H
#define IDG_DAEMON_CONNECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/conn_proto.h"
#include "proto/wire.h"

struct idg_daemon;

/* A request's outcome: status 0 (v holds the answer), IDG_CONN_PENDING (device login not yet
 * approved; v holds the interval), or a negative IDG_ERR_* with a short reason in err
 * (v may be NULL: the child died or timed out). */
typedef void (*idg_conn_cb)(struct idg_daemon *d, void *ctx, int status,
    const struct idg_msgview *v, const char *err);

/* Start the child when an IdP is configured (no issuer: nothing to do). Resolves the
 * configured unprivileged user from /etc/passwd (never through NSS). */
int idg_connector_start(struct idg_daemon *d, char *err, size_t errlen);
void idg_connector_stop(struct idg_daemon *d);
bool idg_connector_configured(const struct idg_daemon *d);

/* Send req (its IDG_CT_OP and fields; the request id is added here). On 0, cb runs exactly
 * once, later, from the event loop; on failure (no connector, it is down or restarting) cb
 * never runs and err says why. timeout_ms bounds the wait for the answer; past it the child
 * is restarted (it is stuck) and cb gets IDG_ERR_TIMEOUT. */
int idg_connector_call(struct idg_daemon *d, struct idg_msg *req, int64_t timeout_ms,
    idg_conn_cb cb, void *ctx, char *err, size_t errlen);

/* Once a second: deadlines, restarts with back-off, scheduled key refresh. */
void idg_connector_tick(struct idg_daemon *d, int64_t now_ms);

#endif
