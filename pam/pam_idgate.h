/* pam_idgate.so's internal interface: the module's arguments and its one way of asking
 * idgated (one connection per request over pam.sock, bounded by a deadline). Nothing here
 * is exported (module.map); the files share it only inside the module. */
#ifndef IDG_PAM_IDGATE_H
#define IDG_PAM_IDGATE_H

#include <stddef.h>
#include <stdint.h>

#include <security/pam_modules.h>

#include "proto/wire.h"

#ifndef IDG_PAM_SOCKET
#define IDG_PAM_SOCKET "/run/idgate/pam.sock"
#endif
#ifndef IDG_PAM_PASSWD
#define IDG_PAM_PASSWD "/etc/passwd"	/* local accounts: never sent to idgated */
#endif

#define IDG_PAM_NAME_MAX 255		/* bytes of PAM_USER (idgated's subject name limit) */
#define IDG_PAM_PASSWORD_MAX 4096	/* bytes of a password (idgated's own limit) */
/* A token must fit in one request (IDG_WIRE_REQUEST_MAX) with the other fields; idgated
 * applies its configured [idp] max_token_size (default 16k) below that. */
#define IDG_PAM_TOKEN_MAX (IDG_WIRE_REQUEST_MAX - 2048u)
#define IDG_PAM_REPLY_MAX (64u * 1024u)	/* bytes of a reply body */
#define IDG_PAM_REASON_MAX 200		/* bytes of a reason shown to the user */
#define IDG_PAM_SOCK_MAX 108		/* sizeof(sun_path) */

enum idg_pam_method {
	IDG_PAM_M_PASSWORD = 1,		/* "Password: ", a token-shaped answer goes as a token */
	IDG_PAM_M_TOKEN,		/* "Token: ", always sent as a token */
	IDG_PAM_M_DEVICE,		/* the device-code flow (RFC 8628) through idgated */
	IDG_PAM_M_SAML,			/* a SAML login: a one-time link on this node, the browser
					 * signs in at the IdP, idgated's ACS gets the response */
};
#define IDG_PAM_METHODS_MAX 4

#define IDG_PAM_TIMEOUT_DEFAULT 30	/* seconds: above idgated's own IdP timeout (15 s) */
#define IDG_PAM_DEVICE_WAIT_DEFAULT 100	/* seconds: ends before sshd's LoginGraceTime (120 s) */

struct idg_pam_args {
	char socket[IDG_PAM_SOCK_MAX];
	enum idg_pam_method methods[IDG_PAM_METHODS_MAX];
	size_t nmethods;
	int use_first_pass;
	int try_first_pass;
	int debug;
	int silent;			/* PAM_SILENT: no messages (prompts still appear) */
	unsigned timeout_s;		/* each exchange with idgated */
	unsigned device_wait_s;		/* a whole device login, from its start */
};

/* Defaults, then the module arguments (args.c). 0, or IDG_ERR_CONFIG after logging each bad
 * argument; an unknown argument is logged and ignored, as Linux-PAM modules do. */
int idg_pam_args_parse(pam_handle_t *pamh, int flags, int argc, const char **argv,
    struct idg_pam_args *out);

/* A parsed reply (client.c): status is always set; error is NULL or a string inside body. */
/* What sshd passes as the password when it could not resolve the user (OpenSSH auth-pam.c
 * "badpw"). */
#define IDG_PAM_SSHD_DECOY "\b\n\r\177INCORRECT"

struct idg_pam_reply {
	uint8_t *body;
	struct idg_msgview v;
	uint32_t status;
	const char *error;
};

/* Send req to the socket and read the reply, all within timeout_ms: 0 and *out filled, or
 * IDG_ERR_UNAVAIL (no daemon: no socket, refused, closed), IDG_ERR_TIMEOUT, IDG_ERR_PROTO
 * (a malformed, oversized or status-less reply), IDG_ERR_NOMEM, IDG_ERR_IO. */
int idg_pam_call(const char *sock, struct idg_msg *req, unsigned timeout_ms,
    struct idg_pam_reply *out);
/* The same, keeping the connection open on success (*keep_fd_out, the caller's to close):
 * idgated ties a device or SAML login to the connection that started it and forgets the
 * login when that connection closes — when sshd kills an abandoned login, its slot is free
 * at once. */
int idg_pam_call_keep(const char *sock, struct idg_msg *req, unsigned timeout_ms,
    struct idg_pam_reply *out, int *keep_fd_out);
void idg_pam_reply_free(struct idg_pam_reply *r);

/* Monotonic milliseconds. */
int64_t idg_pam_now_ms(void);

/* Copy text for the user's terminal into out (size > 0): printable ASCII only, anything
 * else replaced by '?', cut at size - 1 bytes. */
void idg_pam_printable(const char *text, char *out, size_t size);

/* Whether s is 1..max bytes of printable ASCII without spaces (a code or a URL). */
int idg_pam_word(const char *s, size_t max);

/* Whether a typed secret has the shape of a token: a JWS (three base64url parts, the header
 * starting "eyJ", i.e. '{"') or an idgate robot token ("idgr_" and 43 base64url characters). */
int idg_pam_token_shaped(const char *s);

#endif
