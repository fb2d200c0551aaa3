/* Strict base64url (RFC 4648 §5, no padding, RFC 7515 §2) for JWS parts and JWK members:
 * one encoding per value, so a token cannot be altered without changing its text. */
#ifndef IDG_CONNECTORS_B64_H
#define IDG_CONNECTORS_B64_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is canonical unpadded base64url (n may be 0). */
bool idg_b64url_valid(const char *s, size_t n);
/* The decoded length of a valid s of n characters. */
size_t idg_b64url_declen(size_t n);
/* Decode into a new buffer (NUL-terminated, *len_out bytes before the NUL); IDG_ERR_INVAL
 * for anything not canonical, IDG_ERR_NOMEM. */
int idg_b64url_decode(const char *s, size_t n, unsigned char **out, size_t *len_out);

#endif
