/* bench/token: token-as-password validations per second on cached keys, beside OpenSSL's raw
 * RSA-2048 verify rate measured in the same run ('openssl speed -seconds 3 rsa2048'), and the
 * ratio of the two. Target: at least 0.75 of OpenSSL's rate, which holds only when keys are
 * parsed once per kid, never per token. Not a test: it prints figures, it never fails on them.
 * No network: the keys are loaded into the connector's cache directly. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "connectors/oidc.h"

#define ISSUER "https://idp.bench.invalid/realms/bench"
#define CLIENT "idgate"
#define KID "bench-key-1"
#define NTOKENS 2000		/* distinct tokens: nothing can be answered from a cache */
#define MAX_ROUNDS 200000	/* validations at most */
#define MAX_SECONDS 3.0
#define ROUNDS 2

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tab[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
}

static char *
bn_b64(const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);
	unsigned char *buf = malloc((size_t)n);
	char *out = malloc((size_t)n * 2 + 4);

	if (buf == NULL || out == NULL) {
		free(buf);
		free(out);
		return NULL;
	}
	BN_bn2bin(bn, buf);
	b64url(buf, (size_t)n, out);
	free(buf);
	return out;
}

/* A JWT signed RS256 by key, with a distinct jti per token. */
static char *
mint(EVP_PKEY *key, int i, int64_t now)
{
	char header[256], payload[1024], hb[512], pb[2048], *tok;
	unsigned char sig[512];
	size_t siglen = sizeof(sig), need;
	char sb[1024];
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", KID);
	snprintf(payload, sizeof(payload), "{\"iss\":\"%s\",\"aud\":\"%s\",\"azp\":\"%s\","
	    "\"sub\":\"user-%d\",\"preferred_username\":\"user%d\",\"groups\":[\"/bench/g%d\"],"
	    "\"iat\":%" PRId64 ",\"exp\":%" PRId64 ",\"jti\":\"bench-%d\"}", ISSUER, CLIENT, CLIENT,
	    i % 100, i % 100, i % 10, now - 10, now + 3600, i);
	b64url((const unsigned char *)header, strlen(header), hb);
	b64url((const unsigned char *)payload, strlen(payload), pb);
	need = strlen(hb) + strlen(pb) + 2;
	if ((tok = malloc(need + sizeof(sb))) == NULL || md == NULL)
		goto fail;
	snprintf(tok, need, "%s.%s", hb, pb);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tok, strlen(tok)) != 1)
		goto fail;
	b64url(sig, siglen, sb);
	strcat(tok, ".");
	strcat(tok, sb);
	EVP_MD_CTX_free(md);
	return tok;
fail:
	EVP_MD_CTX_free(md);
	free(tok);
	return NULL;
}

/* OpenSSL's own RSA-2048 verify rate on this machine, now. */
static double
openssl_verify_rate(void)
{
	FILE *p = popen("openssl speed -seconds 3 rsa2048 2>/dev/null", "r");
	char line[512];
	double rate = 0;

	if (p == NULL)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		double sign_t, ver_t, sign_s, ver_s;

		if (sscanf(line, "rsa 2048 bits %lfs %lfs %lf %lf", &sign_t, &ver_t, &sign_s,
		    &ver_s) == 4)
			rate = ver_s;
	}
	pclose(p);
	return rate;
}

int
main(int argc, char **argv)
{
	struct idg_oidc_cfg cfg = { 0 };
	struct idg_oidc *o = NULL;
	EVP_PKEY *key = NULL;
	BIGNUM *n = NULL, *e = NULL;
	char *jwks = NULL, *nb = NULL, *eb = NULL, **toks = NULL, err[512];
	int64_t now = time(NULL);
	double t0, el, ours, theirs;
	long done = 0, failed = 0;
	int rc = 1;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: bench/token\n\nToken-as-password validations per second on "
		    "cached keys, beside 'openssl speed\n-seconds 3 rsa2048' verify/s, and their "
		    "ratio (target >= 0.75).\n");
		return 2;
	}
	if ((key = EVP_RSA_gen(2048)) == NULL ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    (nb = bn_b64(n)) == NULL || (eb = bn_b64(e)) == NULL) {
		fprintf(stderr, "bench/token: cannot make an RSA key\n");
		goto out;
	}
	if ((jwks = malloc(strlen(nb) + 256)) == NULL)
		goto out;
	sprintf(jwks, "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"%s\","
	    "\"n\":\"%s\",\"e\":\"%s\"}]}", KID, nb, eb);
	cfg.profile = IDG_OIDC_KEYCLOAK;
	cfg.issuer = ISSUER;
	cfg.client_id = CLIENT;
	if (idg_oidc_new(&cfg, &o) < 0 || idg_oidc_jwks_load(o, jwks, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench/token: the connector would not take the keys: %s\n", err);
		goto out;
	}
	if ((toks = calloc(NTOKENS, sizeof(*toks))) == NULL)
		goto out;
	for (int i = 0; i < NTOKENS; i++)
		if ((toks[i] = mint(key, i, now)) == NULL) {
			fprintf(stderr, "bench/token: cannot sign a token\n");
			goto out;
		}
	printf("bench/token (idgate %s): %d distinct RS256 tokens, 2048-bit key, keys cached\n",
	    PACKAGE_VERSION, NTOKENS);
	/* Warm up, and make sure every token is accepted: a failing validation is no figure. */
	for (int i = 0; i < NTOKENS; i++) {
		struct idg_oidc_identity id = { 0 };

		if (idg_oidc_token(o, toks[i], &id, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench/token: token %d refused: %s\n", i, err);
			goto out;
		}
		idg_oidc_identity_clear(&id);
	}
	/* Ours and OpenSSL's in turn, twice, the best of each kept: the two figures then share
	 * whatever else the machine is doing, and a ratio of them means something. */
	ours = theirs = 0;
	for (int round = 1; round <= ROUNDS; round++) {
		double r;
		long cnt = 0;

		t0 = now_s();
		while (cnt < MAX_ROUNDS && (cnt % 256 != 0 || now_s() - t0 < MAX_SECONDS)) {
			struct idg_oidc_identity id = { 0 };

			if (idg_oidc_token(o, toks[(done + cnt) % NTOKENS], &id, err, sizeof(err)) < 0)
				failed++;
			idg_oidc_identity_clear(&id);
			cnt++;
		}
		el = now_s() - t0;
		done += cnt;
		printf("round %d: idg_oidc_token (signature, iss, aud, exp, claims, groups): "
		    "%.0f validations/s (%ld in %.2f s, %ld refused so far)\n", round,
		    (double)cnt / el, cnt, el, failed);
		fflush(stdout);
		if ((double)cnt / el > ours)
			ours = (double)cnt / el;
		if ((r = openssl_verify_rate()) <= 0) {
			printf("openssl speed -seconds 3 rsa2048: no figure (is the openssl command "
			    "installed?)\n");
			goto out;
		}
		printf("round %d: openssl speed -seconds 3 rsa2048: %.0f verify/s\n", round, r);
		fflush(stdout);
		if (r > theirs)
			theirs = r;
	}
	printf("best of %d rounds: %.0f validations/s; OpenSSL %.0f verify/s\n", ROUNDS, ours,
	    theirs);
	printf("ratio: %.2f of OpenSSL's raw verify rate (target >= 0.75)\n", ours / theirs);
	rc = failed ? 1 : 0;
out:
	for (int i = 0; toks && i < NTOKENS; i++)
		free(toks[i]);
	free(toks);
	free(jwks);
	free(nb);
	free(eb);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(key);
	idg_oidc_free(o);
	return rc;
}
