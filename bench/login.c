/* bench/login: logins per second through a PAM stack, in-process (libpam, no sshd), for several
 * stacks in one run, with ratios against a baseline stack measured in the same run. A login is
 * pam_start, pam_authenticate, pam_acct_mgmt (with --acct) and pam_end, the conversation
 * answering every prompt with the case's secret — what sshd does, without sshd. Run it under
 * pam_wrapper so the stacks come from a private directory (bench/run-login.sh does). Not a test:
 * it prints figures; it exits 1 only when a login fails (then nothing was measured).
 *
 * login [--count N] [--seconds S] [--acct] [--baseline NAME] [--floor NAME]
 *       --case NAME SERVICE USER SECRET-FILE [--case ...]
 * The baseline (default the case named pam_unix) gives the ratios; the floor (default
 * pam_permit: the harness and libpam alone) is subtracted to show what a stack adds. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

#define MAX_CASES 8
#define MAX_COUNT 100000	/* logins per case at most */
#define MAX_SECRET 16384	/* bytes of a secret (a token) */
#define WARMUP 3

struct bcase {
	const char *name, *service, *user, *secret_file;
	char secret[MAX_SECRET + 1];
	double *lat;		/* seconds per login */
	size_t n;
	double total;
	int failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Answer every prompt with the secret; info and error lines need no answer. */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *secret = data;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if ((r[i].resp = strdup(secret)) == NULL) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* One login; 0 or the failing PAM status. */
static int
login_once(const struct bcase *c, int acct)
{
	struct pam_conv pc = { conv, (void *)c->secret };
	pam_handle_t *h = NULL;
	int rc;

	if ((rc = pam_start(c->service, c->user, &pc, &h)) != PAM_SUCCESS)
		return rc;
	rc = pam_authenticate(h, PAM_SILENT);
	if (rc == PAM_SUCCESS && acct)
		rc = pam_acct_mgmt(h, PAM_SILENT);
	pam_end(h, rc);
	return rc;
}

static int
read_secret(struct bcase *c)
{
	FILE *f = fopen(c->secret_file, "re");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "login: %s: %s\n", c->secret_file, strerror(errno));
		return -1;
	}
	n = fread(c->secret, 1, MAX_SECRET, f);
	fclose(f);
	c->secret[n] = '\0';
	c->secret[strcspn(c->secret, "\r\n")] = '\0';
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const struct bcase *c, double p)
{
	size_t i = (size_t)(p * (double)(c->n - 1) + 0.5);

	return c->lat[i < c->n ? i : c->n - 1];
}

/* Run one case: a few logins to warm up, then COUNT logins or SECONDS, whichever is first. */
static int
run_case(struct bcase *c, size_t count, double seconds, int acct)
{
	double t0, end;
	int rc;

	for (int i = 0; i < WARMUP; i++)
		if ((rc = login_once(c, acct)) != PAM_SUCCESS) {
			fprintf(stderr, "login: %s: %s's login failed: %s (%d)\n", c->name,
			    c->user, pam_strerror(NULL, rc), rc);
			c->failed = 1;
			return -1;
		}
	if ((c->lat = calloc(count, sizeof(double))) == NULL)
		return -1;
	t0 = now_s();
	end = t0 + seconds;
	while (c->n < count) {
		double s = now_s();

		if ((rc = login_once(c, acct)) != PAM_SUCCESS) {
			fprintf(stderr, "login: %s: login %zu failed: %s (%d)\n", c->name, c->n,
			    pam_strerror(NULL, rc), rc);
			c->failed = 1;
			break;
		}
		c->lat[c->n++] = now_s() - s;
		if (now_s() >= end)
			break;
	}
	c->total = now_s() - t0;
	if (c->n > 0)
		qsort(c->lat, c->n, sizeof(double), cmp_double);
	return c->failed ? -1 : 0;
}

static struct bcase *
find(struct bcase *cs, int nc, const char *name)
{
	for (int i = 0; i < nc; i++)
		if (strcmp(cs[i].name, name) == 0 && cs[i].n > 0)
			return &cs[i];
	return NULL;
}

static void
report(struct bcase *cs, int nc, const char *base_name, const char *floor_name)
{
	const struct bcase *base = find(cs, nc, base_name), *fl = find(cs, nc, floor_name);

	printf("%-16s %8s %10s %10s %10s %10s %12s %10s\n", "stack", "logins", "logins/s",
	    "mean us", "p50 us", "p99 us", "over floor", "vs base");
	for (int i = 0; i < nc; i++) {
		const struct bcase *c = &cs[i];
		double mean, rate;

		if (c->n == 0) {
			printf("%-16s %8s   (failed: no figures)\n", c->name, "-");
			continue;
		}
		mean = c->total / (double)c->n;
		rate = (double)c->n / c->total;
		printf("%-16s %8zu %10.1f %10.1f %10.1f %10.1f", c->name, c->n, rate, mean * 1e6,
		    pct(c, 0.50) * 1e6, pct(c, 0.99) * 1e6);
		if (fl != NULL)
			printf(" %+10.1fus", (mean - fl->total / (double)fl->n) * 1e6);
		else
			printf(" %12s", "-");
		if (base != NULL)
			printf(" %9.3fx\n", rate / ((double)base->n / base->total));
		else
			printf(" %10s\n", "-");
	}
	printf("(over floor: mean time per login minus %s's; vs base: logins/s over %s's)\n",
	    fl ? floor_name : "(no floor)", base ? base_name : "(no baseline)");
}

static void
usage(void)
{
	fprintf(stderr, "usage: login [--count N] [--seconds S] [--acct] [--baseline NAME] "
	    "[--floor NAME] --case NAME SERVICE USER SECRET-FILE [--case ...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct bcase cs[MAX_CASES];
	const char *base = "pam_unix", *floor_name = "pam_permit";
	size_t count = 2000;
	double seconds = 5;
	int nc = 0, acct = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			long v = strtol(argv[++i], NULL, 10);

			if (v < 1 || v > MAX_COUNT)
				usage();
			count = (size_t)v;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			seconds = strtod(argv[++i], NULL);
			if (!(seconds > 0 && seconds <= 600))
				usage();
		} else if (strcmp(argv[i], "--acct") == 0) {
			acct = 1;
		} else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--floor") == 0 && i + 1 < argc) {
			floor_name = argv[++i];
		} else if (strcmp(argv[i], "--case") == 0 && i + 4 < argc && nc < MAX_CASES) {
			cs[nc].name = argv[i + 1];
			cs[nc].service = argv[i + 2];
			cs[nc].user = argv[i + 3];
			cs[nc].secret_file = argv[i + 4];
			if (read_secret(&cs[nc]) < 0)
				return 2;
			nc++;
			i += 4;
		} else {
			usage();
		}
	}
	if (nc == 0)
		usage();
	printf("bench/login: up to %zu logins or %.1f s per stack, %s, one process\n", count,
	    seconds, acct ? "auth + account" : "auth only");
	fflush(stdout);
	for (int i = 0; i < nc; i++)
		if (run_case(&cs[i], count, seconds, acct) < 0)
			bad = 1;
	report(cs, nc, base, floor_name);
	for (int i = 0; i < nc; i++) {
		explicit_bzero(cs[i].secret, sizeof(cs[i].secret));
		free(cs[i].lat);
	}
	return bad;
}
