/* Offline credential verifiers (src/daemon/offline_hash.c): the format, hashes checked
 * against scrypt values worked out with another implementation (Python's hashlib), a right
 * and a wrong password, salts that differ, every malformed verifier and out-of-bounds
 * parameter refused, the password bounds, and the default cost as measured here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "daemon/offline.h"

static const struct idg_offline_params cheap = { .log2_n = 10, .r = 1, .p = 1 };

/* hashlib.scrypt(b"correct horse battery staple", salt=bytes(range(16)), n=1024, r=1, p=1,
 * dklen=32) */
#define V1 "scrypt$10$1$1$000102030405060708090a0b0c0d0e0f$" \
	"23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265"
/* hashlib.scrypt("pässwörd ✓".encode(), salt=bytes(range(16, 32)), n=2048, r=2, p=2,
 * dklen=32) */
#define V2 "scrypt$11$2$2$101112131415161718191a1b1c1d1e1f$" \
	"b0d090e96d84e8bf186183f7123435e4f7275594be1571c8978572cacb598f3c"

static void
known_verifiers_match_their_password_only(void **state)
{
	(void)state;
	assert_int_equal(idg_offline_verify(V1, "correct horse battery staple"), 0);
	assert_int_equal(idg_offline_verify(V2, "pässwörd ✓"), 0);
	assert_int_equal(idg_offline_verify(V1, "correct horse battery stapl"), IDG_ERR_DENIED);
	assert_int_equal(idg_offline_verify(V1, "correct horse battery staple "), IDG_ERR_DENIED);
	assert_int_equal(idg_offline_verify(V1, "Correct horse battery staple"), IDG_ERR_DENIED);
	assert_int_equal(idg_offline_verify(V2, "passwörd ✓"), IDG_ERR_DENIED);
}

/* A hash that differs from the stored one in its first byte or only in its last: both no. */
static void
a_hash_differing_anywhere_is_denied(void **state)
{
	char v[sizeof(V1)];
	size_t last = strlen(V1) - 1, first = strlen(V1) - 64;

	(void)state;
	memcpy(v, V1, sizeof(V1));
	v[last] = v[last] == '5' ? '6' : '5';
	assert_int_equal(idg_offline_verify(v, "correct horse battery staple"), IDG_ERR_DENIED);
	memcpy(v, V1, sizeof(V1));
	v[first] = v[first] == '2' ? '3' : '2';
	assert_int_equal(idg_offline_verify(v, "correct horse battery staple"), IDG_ERR_DENIED);
	/* The salt counts too. */
	memcpy(v, V1, sizeof(V1));
	v[strlen("scrypt$10$1$1$") + 1] = '1';
	assert_int_equal(idg_offline_verify(v, "correct horse battery staple"), IDG_ERR_DENIED);
}

static bool
all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void
new_verifiers_have_the_format_a_fresh_salt_and_check(void **state)
{
	char a[IDG_OFFLINE_VERIFIER_MAX + 1], b[IDG_OFFLINE_VERIFIER_MAX + 1];
	const char *pfx = "scrypt$10$1$1$";

	(void)state;
	assert_int_equal(idg_offline_hash(&cheap, "s3cret", a, sizeof(a)), 0);
	assert_int_equal(idg_offline_hash(&cheap, "s3cret", b, sizeof(b)), 0);
	print_message("# %s\n", a);
	assert_int_equal(strlen(a), strlen(pfx) + 32 + 1 + 64);
	assert_memory_equal(a, pfx, strlen(pfx));
	assert_true(all_hex(a + strlen(pfx), 32));
	assert_int_equal(a[strlen(pfx) + 32], '$');
	assert_true(all_hex(a + strlen(pfx) + 33, 64));
	assert_string_not_equal(a, b);	/* a new salt each time */
	assert_int_equal(idg_offline_verify(a, "s3cret"), 0);
	assert_int_equal(idg_offline_verify(b, "s3cret"), 0);
	assert_int_equal(idg_offline_verify(a, "s3cret!"), IDG_ERR_DENIED);
}

static void
default_parameters_are_scrypt_2_15_8_1_and_their_cost_is_shown(void **state)
{
	char v[IDG_OFFLINE_VERIFIER_MAX + 1];
	struct timespec t0, t1;
	double ms;

	(void)state;
	assert_int_equal(idg_offline_default.log2_n, 15);
	assert_int_equal(idg_offline_default.r, 8);
	assert_int_equal(idg_offline_default.p, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(idg_offline_hash(&idg_offline_default, "a password", v, sizeof(v)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("# scrypt N=2^15 r=8 p=1: %.1f ms for one hash here\n", ms);
	assert_memory_equal(v, "scrypt$15$8$1$", 14);
	assert_int_equal(idg_offline_verify(v, "a password"), 0);
	assert_int_equal(idg_offline_verify(v, "a passwore"), IDG_ERR_DENIED);
}

static void
malformed_verifiers_are_corrupt(void **state)
{
	static const char *const bad[] = {
		"",
		"scrypt",
		"scrypt$",
		"bcrypt$10$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		/* upper-case hex, a short salt, a long hash, a short hash */
		"scrypt$10$1$1$000102030405060708090A0B0C0D0E0F$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$10$1$1$000102030405060708090a0b0c0d0e$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$10$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd26500",
		"scrypt$10$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd2",
		/* trailing garbage, a missing field, a leading zero, a sign, spaces */
		V1 "$",
		V1 "\n",
		"scrypt$10$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$010$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$+10$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$ 10$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		/* parameters out of bounds: N, r, p, memory (2^20 * 128 * 4 = 512 MiB) */
		"scrypt$9$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$21$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$10$0$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$10$33$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$10$1$17$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$20$4$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
		"scrypt$4294967311$1$1$000102030405060708090a0b0c0d0e0f$"
		    "23e1d4bbeb9645e4ae2693fb562095457b613c8311e549fbe6f9daf9d59dd265",
	};
	struct idg_offline_params pp;
	uint8_t salt[IDG_OFFLINE_SALT_LEN], hash[IDG_OFFLINE_HASH_LEN];
	char huge[IDG_OFFLINE_VERIFIER_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (idg_offline_verify(bad[i], "correct horse battery staple") != IDG_ERR_CORRUPT)
			fail_msg("verifier %zu (%s) was not refused", i, bad[i]);
		assert_int_equal(idg_offline_parse(bad[i], &pp, salt, hash), IDG_ERR_CORRUPT);
	}
	assert_int_equal(idg_offline_verify(NULL, "x"), IDG_ERR_CORRUPT);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "scrypt$", 7);
	assert_int_equal(idg_offline_verify(huge, "x"), IDG_ERR_CORRUPT);
	/* and the edges that are fine */
	assert_int_equal(idg_offline_parse(V2, &pp, salt, hash), 0);
	assert_int_equal(pp.log2_n * 10000 + pp.r * 100 + pp.p, 110202);
	assert_int_equal(salt[0], 0x10);
	assert_int_equal(salt[15], 0x1f);
	assert_int_equal(hash[0], 0xb0);
	assert_int_equal(hash[31], 0x3c);
}

static void
passwords_and_parameters_are_bounded(void **state)
{
	char v[IDG_OFFLINE_VERIFIER_MAX + 1], small[100];
	char *pw = malloc(IDG_OFFLINE_PASSWORD_MAX + 2);
	static const struct idg_offline_params bad[] = {
		{ 9, 1, 1 }, { 21, 1, 1 }, { 10, 0, 1 }, { 10, 33, 1 }, { 10, 1, 0 }, { 10, 1, 17 },
		{ 20, 4, 1 },
	};

	(void)state;
	assert_non_null(pw);
	memset(pw, 'p', IDG_OFFLINE_PASSWORD_MAX + 1);
	pw[IDG_OFFLINE_PASSWORD_MAX + 1] = '\0';
	strcpy(v, "untouched");
	assert_int_equal(idg_offline_hash(&cheap, pw, v, sizeof(v)), IDG_ERR_INVAL);
	assert_int_equal(idg_offline_verify(V1, pw), IDG_ERR_INVAL);
	assert_int_equal(idg_offline_hash(&cheap, "", v, sizeof(v)), IDG_ERR_INVAL);
	assert_int_equal(idg_offline_verify(V1, ""), IDG_ERR_INVAL);
	assert_int_equal(idg_offline_verify(V1, NULL), IDG_ERR_INVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(idg_offline_hash(&bad[i], "x", v, sizeof(v)), IDG_ERR_INVAL);
	/* An output buffer too small: refused, untouched. */
	strcpy(small, "untouched");
	assert_int_equal(idg_offline_hash(&cheap, "x", small, sizeof(small)), IDG_ERR_TOOBIG);
	assert_string_equal(small, "untouched");
	assert_string_equal(v, "untouched");
	/* The longest password allowed works. */
	pw[IDG_OFFLINE_PASSWORD_MAX] = '\0';
	assert_int_equal(idg_offline_hash(&cheap, pw, v, sizeof(v)), 0);
	assert_int_equal(idg_offline_verify(v, pw), 0);
	pw[0] = 'q';
	assert_int_equal(idg_offline_verify(v, pw), IDG_ERR_DENIED);
	free(pw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_verifiers_match_their_password_only),
		cmocka_unit_test(a_hash_differing_anywhere_is_denied),
		cmocka_unit_test(new_verifiers_have_the_format_a_fresh_salt_and_check),
		cmocka_unit_test(default_parameters_are_scrypt_2_15_8_1_and_their_cost_is_shown),
		cmocka_unit_test(malformed_verifiers_are_corrupt),
		cmocka_unit_test(passwords_and_parameters_are_bounded),
	};

	return cmocka_run_group_tests_name("daemon/offline", tests, NULL, NULL);
}
