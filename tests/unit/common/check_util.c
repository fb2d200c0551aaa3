/* util.c, buf.c and err.c: number/duration/size/bool parsing at their edges, UTF-8
 * validation, hex, redaction of secrets, bounded buffers, error texts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

/* ---------- numbers ---------- */

static void
parse_int_accepts_whole_decimal_numbers_in_range(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(idg_parse_int("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(idg_parse_int("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(idg_parse_int("-1", -10, 10, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(idg_parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(idg_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MIN);
	assert_int_equal(idg_parse_int("100", 1, 100, &v), 0);	/* bounds are inclusive */
	assert_int_equal(idg_parse_int("1", 1, 100, &v), 0);
}

static void
parse_int_refuses_junk_overflow_and_out_of_range(void **state)
{
	static const char *const bad[] = { "", "abc", "1x", "x1", " 1", "1 ", "+1", "-", "1.0",
		"0x10", "1e3", "9223372036854775808", "-9223372036854775809",
		"99999999999999999999", "123456789012345678901234" };
	long long v = 777;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++)
		if (idg_parse_int(bad[i], LLONG_MIN, LLONG_MAX, &v) != IDG_ERR_INVAL)
			fail_msg("idg_parse_int accepted \"%s\"", bad[i]);
	assert_int_equal(idg_parse_int("0", 1, 100, &v), IDG_ERR_INVAL);
	assert_int_equal(idg_parse_int("101", 1, 100, &v), IDG_ERR_INVAL);
	assert_int_equal(idg_parse_int("-1", 0, 100, &v), IDG_ERR_INVAL);
	assert_int_equal(idg_parse_int(NULL, 0, 100, &v), IDG_ERR_INVAL);
	assert_int_equal(v, 777);	/* untouched on failure */
}

static void
parse_duration_units_and_combinations(void **state)
{
	static const struct { const char *s; int64_t secs; } ok[] = {
		{ "0", 0 }, { "90", 90 }, { "90s", 90 }, { "15m", 900 }, { "12h", 43200 },
		{ "30d", 2592000 }, { "2w", 1209600 }, { "1h30m", 5400 }, { "1d12h", 129600 },
		{ "1w1d1h1m1s", 604800 + 86400 + 3600 + 60 + 1 }, { "0s", 0 },
		{ "10000000000000w", INT64_C(6048000000000000000) },
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(ok); i++) {
		v = -1;
		if (idg_parse_duration(ok[i].s, &v) != 0)
			fail_msg("idg_parse_duration refused \"%s\"", ok[i].s);
		if (v != ok[i].secs)
			fail_msg("\"%s\" gave %lld, want %lld", ok[i].s, (long long)v,
			    (long long)ok[i].secs);
	}
}

static void
parse_duration_refuses_bare_numbers_after_units(void **state)
{
	/* "A bare number is only allowed alone": "1h30" could mean 1h30m or 1h30s. */
	static const char *const bad[] = { "1h30", "1m30", "2d5", "90s30" };
	int accepted = 0;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++) {
		int64_t v = 777;
		int rc = idg_parse_duration(bad[i], &v);

		if (rc != IDG_ERR_INVAL) {
			print_message("# idg_parse_duration accepted \"%s\" as %lld seconds\n", bad[i],
			    (long long)v);
			accepted++;
		} else {
			assert_int_equal(v, 777);	/* untouched on failure */
		}
	}
	assert_int_equal(accepted, 0);
}

static void
parse_duration_refuses_junk_and_overflow(void **state)
{
	static const char *const bad[] = { "", "-1", "h", "1x", "1.5h", " 1h", "1h ", "1H",
		"1 h", "m5", "99999999999999999999", "100000000000000w",
		"10000000000000w10000000000000w",	/* each fits, the sum does not */
		"123456789012345678901234567890123s" };
	int64_t v = 777;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++)
		if (idg_parse_duration(bad[i], &v) != IDG_ERR_INVAL)
			fail_msg("idg_parse_duration accepted \"%s\"", bad[i]);
	assert_int_equal(idg_parse_duration(NULL, &v), IDG_ERR_INVAL);
	assert_int_equal(v, 777);
}

static void
duration_format_round_trips_through_parse(void **state)
{
	char buf[64];
	int64_t v;
	uint64_t x = 88172645463325252ULL;

	(void)state;
	idg_duration_format(3 * 86400 + 4 * 3600, buf, sizeof(buf));
	assert_string_equal(buf, "3d4h");
	idg_duration_format(45, buf, sizeof(buf));
	assert_string_equal(buf, "45s");
	idg_duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	idg_duration_format(-5, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	for (int i = 0; i < 10000; i++) {
		int64_t secs;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		secs = (int64_t)(x % (UINT64_C(400) * 86400 * 365));
		idg_duration_format(secs, buf, sizeof(buf));
		assert_int_equal(idg_parse_duration(buf, &v), 0);
		if (v != secs)
			fail_msg("%lld formatted as %s parses as %lld", (long long)secs, buf,
			    (long long)v);
	}
	/* A short buffer is cut, never overrun. */
	memset(buf, 'X', sizeof(buf));
	idg_duration_format(3 * 86400 + 4 * 3600 + 5 * 60 + 6, buf, 4);
	assert_non_null(memchr(buf, '\0', 4));
	assert_int_equal(buf[4], 'X');
}

static void
time_iso_is_utc(void **state)
{
	char buf[32];

	(void)state;
	idg_time_iso(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	idg_time_iso(1795341600, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-22T10:00:00Z");
}

static void
parse_size_binary_units(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "512", 512 }, { "64k", 65536 }, { "64K", 65536 },
		{ "10M", 10485760 }, { "10m", 10485760 }, { "1G", 1073741824 },
		{ "18446744073709551615", UINT64_MAX },
		{ "17179869183G", UINT64_C(17179869183) << 30 },
	};
	static const char *const bad[] = { "", "-1", "k", "1T", "1kb", "1 k", " 1", "1 ", "+1",
		"1.5M", "0x10", "18446744073709551616", "17179869184G", "99999999999999999999999" };
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(ok); i++) {
		v = 1;
		if (idg_parse_size(ok[i].s, &v) != 0 || v != ok[i].v)
			fail_msg("idg_parse_size(\"%s\") wrong", ok[i].s);
	}
	v = 777;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++)
		if (idg_parse_size(bad[i], &v) != IDG_ERR_INVAL)
			fail_msg("idg_parse_size accepted \"%s\"", bad[i]);
	assert_int_equal(idg_parse_size(NULL, &v), IDG_ERR_INVAL);
	assert_int_equal(v, 777);
}

static void
parse_bool_words(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	static const char *const bad[] = { "", "YES", "True", "y", "n", "2", "yes ", " no",
		"enable", "-1" };
	bool b;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(idg_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < IDG_ARRAY_SIZE(no); i++) {
		b = true;
		assert_int_equal(idg_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++) {
		b = true;
		if (idg_parse_bool(bad[i], &b) != IDG_ERR_INVAL)
			fail_msg("idg_parse_bool accepted \"%s\"", bad[i]);
		assert_true(b);
	}
}

/* ---------- strings ---------- */

static void
str_printable_accepts_valid_utf8(void **state)
{
	static const char *const ok[] = {
		"", "plain ascii ~!@#", "caf\xc3\xa9", "\xc2\xa0nbsp",
		"\xe6\x97\xa5\xe6\x9c\xac",		/* CJK */
		"\xef\xbf\xbd",				/* U+FFFD */
		"\xed\x9f\xbf",				/* U+D7FF, just below the surrogates */
		"\xee\x80\x80",				/* U+E000, just above */
		"\xf0\x9f\x98\x80",			/* emoji */
		"\xf4\x8f\xbf\xbf",			/* U+10FFFF */
		"\xe0\xa0\x80",				/* U+0800, smallest 3-byte */
		"\xf0\x90\x80\x80",			/* U+10000, smallest 4-byte */
	};

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(ok); i++)
		if (!idg_str_printable(ok[i]))
			fail_msg("valid string #%zu refused", i);
}

static void
str_printable_refuses_controls_and_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"tab\there", "new\nline", "cr\r", "\x1b[31m", "del\x7f", "\x01",
		"\x80", "\xbf", "a\x80z",		/* lone continuation bytes */
		"\xc3", "\xc3z", "\xe6\x97", "\xf0\x9f\x98",	/* truncated sequences */
		"\xc0\x80", "\xc1\xbf",			/* overlong 2-byte (NUL, '?') */
		"\xe0\x80\xaf", "\xe0\x9f\xbf",		/* overlong 3-byte */
		"\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",	/* overlong 4-byte */
		"\xed\xa0\x80", "\xed\xbf\xbf",		/* UTF-16 surrogates */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf",	/* > U+10FFFF */
		"\xf8\x88\x80\x80\x80", "\xfe", "\xff",
		"\xc2\x80", "\xc2\x9f",			/* C1 controls */
	};

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++)
		if (idg_str_printable(bad[i]))
			fail_msg("invalid string #%zu accepted", i);
}

static void
hex_encodes_lower_case(void **state)
{
	static const uint8_t in[] = { 0x00, 0xff, 0x1a, 0xa1, 0x09, 0x90 };
	char out[2 * sizeof(in) + 2];

	(void)state;
	memset(out, 'X', sizeof(out));
	idg_hex(in, sizeof(in), out);
	assert_string_equal(out, "00ff1aa10990");
	assert_int_equal(out[2 * sizeof(in) + 1], 'X');
	idg_hex(in, 0, out);
	assert_string_equal(out, "");
}

/* The visible part of a redaction: what comes before the fixed "...(redacted)". */
static size_t
visible_chars(const char *out)
{
	const char *end = strstr(out, "...(redacted)");
	size_t n = 0;

	if (strcmp(out, "(redacted)") == 0)
		return 0;	/* nothing of the secret shows */
	if (end == NULL)
		end = out + strlen(out);
	for (const unsigned char *p = (const unsigned char *)out; p < (const unsigned char *)end; p++)
		n += (*p & 0xc0) != 0x80;	/* count characters, not continuation bytes */
	return n;
}

static void
redact_never_shows_more_than_4_characters(void **state)
{
	char out[64], secret[80];

	(void)state;
	idg_redact("supersecretpassword", out, sizeof(out));
	assert_string_equal(out, "supe...(redacted)");
	idg_redact("", out, sizeof(out));
	assert_string_equal(out, "(none)");
	idg_redact(NULL, out, sizeof(out));
	assert_string_equal(out, "(none)");
	/* Every length, ASCII and multi-byte. */
	for (size_t n = 1; n < 40; n++) {
		for (size_t i = 0; i < n; i++)
			secret[i] = (char)('a' + (i * 7 + n) % 26);
		secret[n] = '\0';
		idg_redact(secret, out, sizeof(out));
		assert_true(visible_chars(out) <= 4);
		assert_non_null(strstr(out, "(redacted)"));
		/* A secret shorter than 16 shows nothing of itself; a longer one its first 4. */
		if (n < 16)
			assert_string_equal(out, "(redacted)");
		else
			assert_memory_equal(out, secret, 4);
		if (n > 4)
			assert_null(strstr(out, secret + 4));
	}
	/* Non-ASCII or control bytes never reach the output. */
	idg_redact("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "(redacted)");
	idg_redact("ab\ncdefghijklmnopqrstu", out, sizeof(out));
	assert_string_equal(out, "(redacted)");
	/* A small buffer truncates; it never overruns. */
	memset(out, 'X', sizeof(out));
	idg_redact("supersecretpassword", out, 6);
	assert_string_equal(out, "supe.");
	assert_int_equal(out[6], 'X');
}

static void
strdup_max_limits_length(void **state)
{
	char *s;

	(void)state;
	s = idg_strdup_max("abc", 3);
	assert_non_null(s);
	assert_string_equal(s, "abc");
	free(s);
	assert_null(idg_strdup_max("abcd", 3));
	assert_null(idg_strdup_max(NULL, 3));
	s = idg_strdup_max("", 0);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	idg_free_secret(NULL);
	idg_free_secret(idg_strdup_max("hunter2", 64));
}

static void
read_file_limits_and_errors(void **state)
{
	char dir[] = "/tmp/idg-util-XXXXXX", path[64];
	char *data = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0123456789", f);
	fclose(f);
	assert_int_equal(idg_read_file(path, 10, &data, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(data, "0123456789");
	free(data);
	data = NULL;
	assert_int_equal(idg_read_file(path, 9, &data, &len), IDG_ERR_TOOBIG);
	assert_null(data);
	assert_int_equal(idg_read_file(dir, 100, &data, &len), IDG_ERR_INVAL);
	assert_null(data);
	unlink(path);
	assert_int_equal(idg_read_file(path, 100, &data, &len), IDG_ERR_NOTFOUND);
	assert_null(data);
	rmdir(dir);
}

/* ---------- bounded buffers ---------- */

static void
buf_refuses_to_grow_past_max(void **state)
{
	struct idg_buf b;

	(void)state;
	idg_buf_init(&b, 10);
	assert_int_equal(idg_buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(idg_buf_append(&b, "x", 1), IDG_ERR_TOOBIG);
	assert_int_equal(idg_buf_puts(&b, "x"), IDG_ERR_TOOBIG);
	assert_int_equal(idg_buf_printf(&b, "%d", 1), IDG_ERR_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");	/* unchanged by the refusals */
	assert_true(b.cap <= b.max + 1);
	assert_int_equal(idg_buf_append(&b, "", 0), 0);	/* nothing more is still fine */
	assert_int_equal(idg_buf_reserve(&b, SIZE_MAX), IDG_ERR_TOOBIG);
	idg_buf_free(&b);
	assert_null(b.data);
	idg_buf_free(&b);	/* twice */
	idg_buf_free(NULL);

	idg_buf_init(&b, 0);
	assert_int_equal(idg_buf_append(&b, "", 0), 0);
	assert_string_equal(b.data, "");
	assert_int_equal(idg_buf_append(&b, "x", 1), IDG_ERR_TOOBIG);
	idg_buf_free(&b);
}

static void
buf_printf_fills_to_exactly_max(void **state)
{
	struct idg_buf b;
	char big[101];

	(void)state;
	idg_buf_init(&b, 100);
	assert_int_equal(idg_buf_printf(&b, "%s-%d", "ab", 42), 0);
	assert_string_equal(b.data, "ab-42");
	memset(big, 'z', 95);
	big[95] = '\0';
	assert_int_equal(idg_buf_printf(&b, "%s", big), 0);	/* 5 + 95 = 100 */
	assert_int_equal(b.len, 100);
	assert_int_equal(strlen(b.data), 100);
	assert_int_equal(idg_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(idg_buf_printf(&b, "%c", 'q'), IDG_ERR_TOOBIG);
	assert_int_equal(b.len, 100);
	assert_int_equal(b.data[100], '\0');
	idg_buf_free(&b);
}

static void
buf_grows_one_byte_at_a_time_within_max(void **state)
{
	struct idg_buf b;

	(void)state;
	idg_buf_init(&b, 100000);
	for (size_t i = 0; i < 100000; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(idg_buf_append(&b, &c, 1), 0);
	}
	assert_int_equal(b.len, 100000);
	assert_true(b.cap <= b.max + 1);
	for (size_t i = 0; i < 100000; i++)
		if (b.data[i] != (char)('a' + i % 26))
			fail_msg("byte %zu corrupted", i);
	assert_int_equal(b.data[100000], '\0');
	assert_int_equal(idg_buf_append(&b, "x", 1), IDG_ERR_TOOBIG);
	idg_buf_free(&b);
}

static void
buf_consume_reset_and_steal(void **state)
{
	struct idg_buf b;
	char *s;

	(void)state;
	idg_buf_init(&b, 64);
	idg_buf_consume(&b, 5);	/* on an empty buffer: nothing */
	assert_int_equal(b.len, 0);
	assert_int_equal(idg_buf_puts(&b, "hello world"), 0);
	idg_buf_consume(&b, 0);
	assert_string_equal(b.data, "hello world");
	idg_buf_consume(&b, 6);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "world");
	/* Room freed by consume can be used again up to max. */
	for (int i = 0; i < 59; i++)
		assert_int_equal(idg_buf_append(&b, "!", 1), 0);
	assert_int_equal(b.len, 64);
	assert_int_equal(idg_buf_append(&b, "!", 1), IDG_ERR_TOOBIG);
	idg_buf_consume(&b, 1000);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(idg_buf_puts(&b, "abc"), 0);
	idg_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(idg_buf_puts(&b, "kept"), 0);
	s = idg_buf_steal(&b);
	assert_string_equal(s, "kept");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	s = idg_buf_steal(&b);	/* an empty buffer gives "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(idg_buf_puts(&b, "again"), 0);	/* usable after steal */
	assert_string_equal(b.data, "again");
	idg_buf_free(&b);
}

/* ---------- errors ---------- */

static void
strerror_names_every_code_distinctly(void **state)
{
	(void)state;
	for (int e = IDG_OK; e >= IDG_ERR_BUSY; e--) {
		const char *t = idg_strerror(e);

		assert_non_null(t);
		assert_string_not_equal(t, "unknown error");
		for (int k = IDG_OK; k > e; k--)
			assert_string_not_equal(idg_strerror(k), t);
	}
	assert_string_equal(idg_strerror(IDG_ERR_BUSY - 1), "unknown error");
	assert_string_equal(idg_strerror(1), "unknown error");
	assert_string_equal(idg_strerror(INT_MIN), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_int_accepts_whole_decimal_numbers_in_range),
		cmocka_unit_test(parse_int_refuses_junk_overflow_and_out_of_range),
		cmocka_unit_test(parse_duration_units_and_combinations),
		cmocka_unit_test(parse_duration_refuses_bare_numbers_after_units),
		cmocka_unit_test(parse_duration_refuses_junk_and_overflow),
		cmocka_unit_test(duration_format_round_trips_through_parse),
		cmocka_unit_test(time_iso_is_utc),
		cmocka_unit_test(parse_size_binary_units),
		cmocka_unit_test(parse_bool_words),
		cmocka_unit_test(str_printable_accepts_valid_utf8),
		cmocka_unit_test(str_printable_refuses_controls_and_bad_utf8),
		cmocka_unit_test(hex_encodes_lower_case),
		cmocka_unit_test(redact_never_shows_more_than_4_characters),
		cmocka_unit_test(strdup_max_limits_length),
		cmocka_unit_test(read_file_limits_and_errors),
		cmocka_unit_test(buf_refuses_to_grow_past_max),
		cmocka_unit_test(buf_printf_fills_to_exactly_max),
		cmocka_unit_test(buf_grows_one_byte_at_a_time_within_max),
		cmocka_unit_test(buf_consume_reset_and_steal),
		cmocka_unit_test(strerror_names_every_code_distinctly),
	};

	return cmocka_run_group_tests_name("common/util", tests, NULL, NULL);
}
