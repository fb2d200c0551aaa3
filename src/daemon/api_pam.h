/* PAM's requests on pam.sock (api_pam.c). */
#ifndef IDG_DAEMON_API_PAM_H
#define IDG_DAEMON_API_PAM_H

#include "daemon/daemon.h"

void api_pam_auth(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_device_start(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_device_wait(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_device_cancel(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_account(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_session_open(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_session_close(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_saml_start(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_saml_wait(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_pam_saml_cancel(struct idg_daemon *, struct idg_req *, struct idg_reply *);

#endif
