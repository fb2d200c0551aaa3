/* lograte.c: one line per key per interval, the lines held back said with their count on the
 * next line or flush, keys kept apart, more keys than slots counted together, nothing counted
 * below the log level. The log goes to stderr, which the tests redirect to a file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/lograte.h"

static FILE *cap;	/* stderr goes here while a test runs */
static int saved_stderr = -1;
static long cap_at;	/* what taken() has read of it */

static int
capture(void **state)
{
	(void)state;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	cap = tmpfile();
	cap_at = 0;
	dup2(fileno(cap), STDERR_FILENO);
	idg_log_open("t", IDG_LOG_STDERR, LOG_INFO);
	return cap && saved_stderr >= 0 ? 0 : -1;
}

static int
release(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(cap);
	return 0;
}

/* The lines logged since the last call, each without its time stamp and ident. */
static char *
taken(int *nlines)
{
	static char out[65536];
	char line[1024];
	size_t len = 0;

	fflush(stderr);
	fseek(cap, cap_at, SEEK_SET);
	*nlines = 0;
	out[0] = '\0';
	while (fgets(line, sizeof(line), cap)) {
		const char *m = strstr(line, "]: ");

		m = m ? m + 3 : line;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", m);
		(*nlines)++;
	}
	cap_at = ftell(cap);
	return out;
}

static void
one_line_then_a_count(void **state)
{
	struct idg_lograte r;
	int n;

	(void)state;
	idg_lograte_init(&r, 5000);
	idg_lograte_log(&r, 7, 1000, LOG_WARNING, "refused uid %d", 7);
	assert_string_equal(taken(&n), "refused uid 7\n");
	for (int i = 0; i < 1000; i++)
		idg_lograte_log(&r, 7, 1000 + i, LOG_WARNING, "refused uid %d", 7);
	taken(&n);
	assert_int_equal(n, 0);
	assert_int_equal(idg_lograte_pending(&r), 1000);
	idg_lograte_flush(&r, 5999);	/* the window is not over */
	taken(&n);
	assert_int_equal(n, 0);
	idg_lograte_flush(&r, 6000);
	assert_string_equal(taken(&n), "refused uid 7 (and 1000 more like it in the last 5 s)\n");
	assert_int_equal(idg_lograte_pending(&r), 0);
	/* the key still counts for a window after a summary ... */
	idg_lograte_log(&r, 7, 6500, LOG_WARNING, "refused uid %d", 7);
	taken(&n);
	assert_int_equal(n, 0);
	/* ... and a summary comes from the next line too, without a flush */
	idg_lograte_log(&r, 7, 11000, LOG_WARNING, "refused uid %d", 7);
	assert_string_equal(taken(&n), "refused uid 7 (and 1 more like it in the last 5 s)\n");
	/* a window that held nothing frees its key: the next line is logged in full */
	idg_lograte_flush(&r, 16000);
	idg_lograte_flush(&r, 21000);
	assert_string_equal(taken(&n), "refused uid 7 (and 1 more like it in the last 5 s)\n");
	idg_lograte_flush(&r, 26000);
	taken(&n);
	assert_int_equal(n, 0);
	idg_lograte_log(&r, 7, 26001, LOG_WARNING, "refused uid %d again", 7);
	assert_string_equal(taken(&n), "refused uid 7 again\n");
}

static void
keys_are_apart_and_overflow_is_counted(void **state)
{
	struct idg_lograte r;
	char *out;
	int n;

	(void)state;
	idg_lograte_init(&r, 1000);
	for (uint64_t k = 0; k < IDG_LOGRATE_SLOTS + 10; k++)
		for (int i = 0; i < 3; i++)
			idg_lograte_log(&r, k, 100, LOG_NOTICE, "key %llu", (unsigned long long)k);
	taken(&n);
	assert_int_equal(n, IDG_LOGRATE_SLOTS);	/* a line for each key followed */
	assert_int_equal(idg_lograte_pending(&r), IDG_LOGRATE_SLOTS * 2 + 30);
	idg_lograte_flush(&r, 1100);
	out = taken(&n);
	assert_int_equal(n, IDG_LOGRATE_SLOTS + 1);
	assert_non_null(strstr(out, "key 0 (and 2 more like it in the last 1 s)\n"));
	assert_non_null(strstr(out, "\n30 more log lines like the ones above"));
	assert_int_equal(idg_lograte_pending(&r), 0);
}

static void
below_the_level_nothing_is_kept_and_errno_survives(void **state)
{
	struct idg_lograte r;
	int n;

	(void)state;
	idg_lograte_init(&r, 1000);
	errno = EMFILE;
	for (int i = 0; i < 10; i++)
		idg_lograte_log(&r, 1, 100, LOG_DEBUG, "debug %d", i);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(idg_lograte_pending(&r), 0);
	idg_lograte_log(&r, 1, 100, LOG_INFO, "%s", "a very long line: "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_int_equal(errno, EMFILE);
	taken(&n);
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_line_then_a_count, capture, release),
		cmocka_unit_test_setup_teardown(keys_are_apart_and_overflow_is_counted, capture,
		    release),
		cmocka_unit_test_setup_teardown(below_the_level_nothing_is_kept_and_errno_survives,
		    capture, release),
	};

	return cmocka_run_group_tests_name("common/lograte", tests, NULL, NULL);
}
