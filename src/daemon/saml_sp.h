/* idgated as a SAML service provider (saml_sp.c): the HTTPS endpoint browsers reach
 * (BASE/saml/login/CODE, BASE/saml/acs, BASE/saml/metadata) and the SAML logins PAM waits
 * for. The root parent keeps the logins and starts the unprivileged web process
 * (web_child.c), which alone speaks TLS and HTTP and asks the parent small checked
 * questions; the posted response goes on to the connector child unparsed, and only the
 * identity it verified comes back. */
#ifndef IDG_DAEMON_SAML_SP_H
#define IDG_DAEMON_SAML_SP_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/daemon.h"

/* Start the HTTPS endpoint when [saml] idp_metadata is set (else nothing to do): bind its
 * socket, start the web process and wait until it serves. */
int idg_saml_sp_start(struct idg_daemon *d, char *err, size_t errlen);
void idg_saml_sp_stop(struct idg_daemon *d);
/* Once a second: expired logins, restarting the web process with back-off. */
void idg_saml_sp_tick(struct idg_daemon *d, int64_t now_ms);

/* The PAM connection serial closed: the SAML logins it started are forgotten. */
void idg_saml_sp_conn_closed(struct idg_daemon *d, uint64_t serial);

/* PAM's side (api_pam.c has checked NAME is idgate's to decide). detail: the audit's; rhost:
 * PAM_RHOST or NULL. A PAM login lives while the connection that started it stays open, and
 * at most IDG_DEVICE_PER_NAME per name and IDG_DEVICE_PER_SOURCE per rhost are in progress. */
void idg_saml_sp_login_start(struct idg_daemon *d, const struct idg_req *rq,
    struct idg_reply *rp, const char *name, const char *rhost, const char *detail);
void idg_saml_sp_login_wait(struct idg_daemon *d, const struct idg_req *rq,
    struct idg_reply *rp, uint64_t handle, const char *name);
void idg_saml_sp_login_cancel(struct idg_daemon *d, uint64_t handle, const char *name);

/* idgatectl login test --saml (api_login.c has checked the caller is root): the same login
 * with a link, but its identity is answered as JSON (as other login tests) and nothing is
 * stored unless record; no PAM request can reach it, nor it a PAM login. WAIT answers at
 * once: the identity, a refusal, or pending (ask again after "interval" seconds). */
void idg_saml_sp_test_start(struct idg_daemon *d, struct idg_reply *rp, const char *name,
    bool record);
void idg_saml_sp_test_wait(struct idg_daemon *d, struct idg_reply *rp, uint64_t handle);
void idg_saml_sp_test_cancel(struct idg_daemon *d, uint64_t handle);

#endif
