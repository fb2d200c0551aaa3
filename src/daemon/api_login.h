/* IdP logins (api_login.c): the request handlers and their once-a-second work. */
#ifndef IDG_DAEMON_API_LOGIN_H
#define IDG_DAEMON_API_LOGIN_H

#include <stdint.h>

#include "daemon/daemon.h"

void api_login(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_device_start(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_device_wait(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_device_cancel(struct idg_daemon *, struct idg_req *, struct idg_reply *);

/* Device polls that are due, waiters whose time slice ran out, expired device logins. */
void idg_logins_tick(struct idg_daemon *d, int64_t now_ms);
void idg_logins_free(struct idg_daemon *d);

#endif
