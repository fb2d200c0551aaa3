/* Robot tokens: "idgr_" + 43 base64url characters (32 random bytes). Only the SHA-256 of
 * a token is stored; a token is shown once, when it is issued. */
#ifndef IDG_DAEMON_TOKEN_H
#define IDG_DAEMON_TOKEN_H

#define IDG_TOKEN_PREFIX "idgr_"
#define IDG_TOKEN_LEN (5 + 43)
#define IDG_TOKEN_MAX 128

/* A new token into out (IDG_TOKEN_LEN + 1 bytes). */
int idg_token_new(char *out);
/* Hex SHA-256 of a token into hash (65 bytes); IDG_ERR_INVAL for a malformed token. */
int idg_token_hash(const char *token, char *hash);

#endif
