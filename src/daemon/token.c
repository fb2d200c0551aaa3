/* Issuing and hashing robot tokens. */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/token.h"

int
idg_token_new(char *out)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[33];
	size_t o = strlen(IDG_TOKEN_PREFIX);
	int rc;

	/* 33 bytes give 44 characters; 43 of them carry the 32 bytes' worth of entropy we keep. */
	if ((rc = idg_random(raw, 32)) < 0)
		return rc;
	raw[32] = 0;
	memcpy(out, IDG_TOKEN_PREFIX, o);
	for (size_t i = 0; i < 33 && o < IDG_TOKEN_LEN; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];

		for (int k = 3; k >= 0 && o < IDG_TOKEN_LEN; k--)
			out[o++] = b64url[(v >> (6 * k)) & 63];
	}
	out[o] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int
idg_token_hash(const char *token, char *hash)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = strlen(token);

	if (len != IDG_TOKEN_LEN || strncmp(token, IDG_TOKEN_PREFIX, strlen(IDG_TOKEN_PREFIX)) != 0)
		return IDG_ERR_INVAL;
	for (size_t i = strlen(IDG_TOKEN_PREFIX); i < len; i++) {
		char c = token[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return IDG_ERR_INVAL;
	}
	if (EVP_Digest(token, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return IDG_ERR_INTERNAL;
	idg_hex(md, 32, hash);
	return 0;
}
