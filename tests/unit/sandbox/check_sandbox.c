/* src/sandbox/ in forked children that drop to a test uid and enter the IdP connector's policy:
 * what is forbidden fails or kills (exec, fork, writing, AF_UNIX, a TCP port not listed,
 * reading outside the listed paths, signalling another process, executable memory), what the
 * connector does still works (HTTPS with libcurl to a loopback server by address and by name,
 * the CA file), and the death signal survives the uid change. Runs as root (it drops). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/http.h"
#include "sandbox/sandbox.h"
#include "../connectors/fixture.h"

#define TEST_UID 65534		/* nobody */
#define TEST_GID 65534

static struct fx_server *srv;
static char tmpdir[64];
static char readable[96];	/* a world-readable file outside the connector's paths */
static uint16_t other_port;	/* a listening TCP port the policy does not list */
static int other_fd = -1;
static bool child_quiet;	/* the child's stderr goes to /dev/null */

enum how {
	CONNECTOR = 0,		/* drop, then the connector's two layers (seccomp + landlock) */
	LANDLOCK_ONLY,		/* drop, then only a landlock layer forbidding writes and binds */
	DROP_ONLY,		/* drop, no sandbox: the controls */
};

/* What runs in the child: returns the exit status (0: as expected). */
typedef int (*child_fn)(void);

static void
drop(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(TEST_GID, TEST_GID, TEST_GID) < 0 ||
	    setresuid(TEST_UID, TEST_UID, TEST_UID) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(90);
}

static void
enter(enum how how)
{
	char url[128], err[256];
	const char *urls[1] = { url };
	const char *cas[1] = { fx_ca_file(srv) };
	struct idg_sandbox_policy p = { .flags = IDG_SANDBOX_LANDLOCK };

	drop();
	snprintf(url, sizeof(url), "%s/", fx_base(srv));
	if (how == CONNECTOR && (idg_sandbox_connector_start(err, sizeof(err)) < 0 ||
	    idg_sandbox_connector_idp(urls, 1, cas, 1, err, sizeof(err)) < 0)) {
		fprintf(stderr, "# sandbox: %s\n", err);
		_exit(91);
	}
	if (how == LANDLOCK_ONLY && idg_sandbox_enter(&p, err, sizeof(err)) < 0) {
		fprintf(stderr, "# sandbox: %s\n", err);
		_exit(91);
	}
}

/* Fork, enter, run fn; the child's wait status. */
static int
in_child(enum how how, child_fn fn)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (child_quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			(void)dup2(null, 2);	/* an expected report is no finding */
		}
		enter(how);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
assert_exit0(int status)
{
	if (!WIFEXITED(status))
		fprintf(stderr, "# child killed by signal %d\n", WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "# child exited %d\n", WEXITSTATUS(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
assert_sigsys(int status)
{
	if (WIFEXITED(status))
		fprintf(stderr, "# child exited %d instead\n", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* -1 with errno e: 0; else a code naming what happened. */
static int
failed_with(long r, int e)
{
	if (r != -1)
		return 10;
	return errno == e ? 0 : 20 + (errno & 63);
}

/* ---------- what the connector does ---------- */

static int
https_get(const char *base)
{
	struct idg_http_cfg c = { .ca_file = fx_ca_file(srv), .connect_timeout_ms = 3000,
		.timeout_ms = 5000, .response_max = 65536 };
	struct idg_http_resp r = { 0 };
	struct idg_http *h = NULL;
	char url[160], err[256];
	int rc;

	snprintf(url, sizeof(url), "%s/ok", base);
	if (idg_http_new(&c, &h) < 0)
		return 30;
	rc = idg_http_request(h, url, NULL, &r, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "# %s: %s\n", url, err);
	rc = rc < 0 ? 31 : r.status != 200 ? 32 : strstr(r.body, "world") == NULL ? 33 : 0;
	idg_http_resp_clear(&r);
	idg_http_free(h);
	return rc;
}

static int
c_https_by_address(void)
{
	return https_get(fx_base(srv));
}

/* A name: libcurl's resolver thread, /etc/hosts, nsswitch, glibc's AF_NETLINK/AF_UNIX
 * probes refused without harm. */
static int
c_https_by_name(void)
{
	char base[64];

	snprintf(base, sizeof(base), "https://localhost:%u", (unsigned)fx_port(srv));
	return https_get(base);
}

static int
c_read_ca(void)
{
	char b[64];
	int fd = open(fx_ca_file(srv), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 40;
	if (read(fd, b, sizeof(b)) <= 0)
		return 41;
	close(fd);
	return 0;
}

static void *
thread_main(void *arg)
{
	return arg;
}

static int
c_thread(void)
{
	static int marker;
	pthread_t t;
	void *ret = NULL;

	if (pthread_create(&t, NULL, thread_main, &marker) != 0 || pthread_join(t, &ret) != 0)
		return 50;
	return ret == &marker ? 0 : 51;
}

static void
test_allowed(void **state)
{
	(void)state;
	assert_exit0(in_child(CONNECTOR, c_https_by_address));
	assert_exit0(in_child(CONNECTOR, c_https_by_name));
	assert_exit0(in_child(CONNECTOR, c_read_ca));
	assert_exit0(in_child(CONNECTOR, c_thread));
}

/* ---------- what it may not do ---------- */

static int
c_execve(void)
{
	char *argv[] = { (char *)"true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return 60;	/* neither ran nor was killed */
}

static int
c_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return failed_with(pid, EPERM);
}

static int
c_open_write(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/new", tmpdir);
	return failed_with(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), EACCES);
}

static int
c_open_rdwr(void)
{
	return failed_with(open(readable, O_RDWR | O_CLOEXEC), EACCES);
}

static int
c_unix_socket(void)
{
	return failed_with(socket(AF_UNIX, SOCK_STREAM, 0), EACCES);
}

static int
c_netlink_socket(void)
{
	return failed_with(socket(AF_NETLINK, SOCK_RAW, 0), EACCES);
}

static int
c_connect_other_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(other_port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 70;
	return failed_with(connect(fd, (struct sockaddr *)&a, sizeof(a)), EACCES);
}

static int
c_connect_other_port_allowed(void)
{
	return c_connect_other_port() == 10 ? 0 : 71;	/* connected: the control */
}

static int
c_read_outside(void)
{
	return failed_with(open(readable, O_RDONLY | O_CLOEXEC), EACCES) ||
	    failed_with(open("/etc/passwd", O_RDONLY | O_CLOEXEC), EACCES);
}

static int
c_read_outside_allowed(void)
{
	int fd = open(readable, O_RDONLY | O_CLOEXEC);

	return fd >= 0 ? 0 : 80;
}

static int
c_kill_parent(void)
{
	kill(getppid(), 0);
	return 61;
}

static int
c_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED || errno != EPERM || q == MAP_FAILED)
		return 62;
	return failed_with(mprotect(q, 4096, PROT_READ | PROT_EXEC), EPERM);
}

static int
c_tcp_bind(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 63;
	return failed_with(bind(fd, (struct sockaddr *)&a, sizeof(a)), EACCES);
}

static void
test_forbidden(void **state)
{
	(void)state;
	assert_sigsys(in_child(CONNECTOR, c_execve));
	assert_sigsys(in_child(CONNECTOR, c_kill_parent));
	assert_sigsys(in_child(CONNECTOR, c_tcp_bind));	/* no bind in the connector's filter */
	assert_exit0(in_child(CONNECTOR, c_fork));
	assert_exit0(in_child(CONNECTOR, c_open_write));
	assert_exit0(in_child(CONNECTOR, c_open_rdwr));
	assert_exit0(in_child(CONNECTOR, c_unix_socket));
	assert_exit0(in_child(CONNECTOR, c_netlink_socket));
	assert_exit0(in_child(CONNECTOR, c_exec_memory));
}

/* Landlock's part, each against a control without it. */
static void
test_landlock(void **state)
{
	int abi = idg_sandbox_landlock_abi();

	(void)state;
	if (abi == 0) {
		fprintf(stderr, "# the kernel has no landlock: nothing to check here\n");
		return;	/* (cmocka's skip() reads as a failure in TAP) */
	}
	assert_exit0(in_child(DROP_ONLY, c_read_outside_allowed));
	assert_exit0(in_child(CONNECTOR, c_read_outside));
	assert_exit0(in_child(LANDLOCK_ONLY, c_open_write));
	if (abi >= 4) {
		assert_exit0(in_child(DROP_ONLY, c_connect_other_port_allowed));
		assert_exit0(in_child(CONNECTOR, c_connect_other_port));
		assert_exit0(in_child(LANDLOCK_ONLY, c_tcp_bind));
	} else {
		fprintf(stderr, "# landlock ABI %d: TCP ports not checked\n", abi);
	}
}

/* Sanitizer builds: LeakSanitizer's check at exit still runs inside the sandbox (sandbox.c
 * lets its tracer through there) and finds a leak, instead of dying with "fatal error". */
#if defined(__SANITIZE_ADDRESS__)
void *volatile leak_sink;	/* global, so the compiler keeps the malloc */

static int
c_leak(void)
{
	leak_sink = malloc(64);
	leak_sink = NULL;	/* now unreachable: a leak */
	exit(0);	/* exit, not _exit: the check runs at exit */
}

static void
test_leak_check(void **state)
{
	const char *o = getenv("ASAN_OPTIONS");
	int st;

	(void)state;
	if (o == NULL || strstr(o, "detect_leaks=1") == NULL) {
		/* (cmocka's skip() reads as a failure in TAP) */
		fprintf(stderr, "# ASAN_OPTIONS lacks detect_leaks=1: the leak check is not tried\n");
		return;
	}
	child_quiet = true;
	st = in_child(CONNECTOR, c_leak);
	child_quiet = false;
	if (WIFSIGNALED(st))
		fprintf(stderr, "# killed by signal %d\n", WTERMSIG(st));
	assert_true(WIFEXITED(st));
	/* the leak's exit status, not the sandbox's (90, 91) nor a clean exit */
	if (strstr(o, "exitcode=86") != NULL)
		assert_int_equal(WEXITSTATUS(st), 86);
	assert_true(WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 90 && WEXITSTATUS(st) != 91);
}
#endif

/* ---------- the death signal ---------- */

/* A middle process forks a dropped child that arms the signal (expecting `expect`, or its
 * real parent when 0) and says so on a pipe; the middle then waits to be killed. */
static pid_t
death_pair(int pfd[2], pid_t expect)
{
	pid_t mid;

	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		pid_t c = fork();

		if (c == 0) {
			pid_t parent = getppid();

			close(pfd[0]);
			drop();
			(void)idg_sandbox_parent_death(expect ? expect : parent);
			if (write(pfd[1], "r", 1) != 1)
				_exit(92);
			for (;;)
				pause();
		}
		close(pfd[1]);
		for (;;)
			pause();
	}
	close(pfd[1]);
	return mid;
}

/* Wait up to ms for EOF on fd (every writer gone); the bytes read before it in *got. */
static bool
eof_within(int fd, int ms, char *got)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n == 0)
			return true;
		if (n == 1)
			*got = c;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return false;
		usleep(10000);
	}
}

static void
test_parent_death(void **state)
{
	int pfd[2], st;
	char got = 0, c;
	pid_t mid;

	(void)state;
	/* Armed after the drop: the middle's SIGKILL kills the child at once. */
	mid = death_pair(pfd, 0);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, 'r');
	kill(mid, SIGKILL);
	assert_int_equal(waitpid(mid, &st, 0), mid);
	assert_true(eof_within(pfd[0], 1000, &got));
	close(pfd[0]);
	/* The parent is not the one expected (it died before the signal was armed): exit. */
	mid = death_pair(pfd, 1);
	assert_true(eof_within(pfd[0], 1000, &got));
	assert_int_equal(got, 0);	/* it never said ready */
	close(pfd[0]);
	kill(mid, SIGKILL);
	assert_int_equal(waitpid(mid, &st, 0), mid);
	while (waitpid(-1, &st, WNOHANG) > 0)
		;	/* the grandchildren, ours as the subreaper */
}

/* Without the helper the uid change clears the signal set before it: the control. */
static void
test_parent_death_control(void **state)
{
	int pfd[2], st;
	char got = 0;
	pid_t mid, orphan = 0;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		if (fork() == 0) {
			pid_t self = getpid();

			close(pfd[0]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			drop();
			if (write(pfd[1], &self, sizeof(self)) != sizeof(self))
				_exit(92);
			for (;;)
				pause();
		}
		close(pfd[1]);
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &orphan, sizeof(orphan)), sizeof(orphan));
	kill(mid, SIGKILL);
	assert_int_equal(waitpid(mid, &st, 0), mid);
	assert_false(eof_within(pfd[0], 300, &got));	/* the orphan lives on */
	close(pfd[0]);
	kill(orphan, SIGKILL);
	assert_int_equal(waitpid(orphan, &st, 0), orphan);	/* ours: we are the subreaper */
}

/* ---------- URL ports ---------- */

static void
test_url_port(void **state)
{
	static const struct { const char *url; int rc; uint16_t port; } t[] = {
		{ "https://idp.example.com/realms/x", 0, 443 },
		{ "https://idp.example.com:8443/realms/x", 0, 8443 },
		{ "https://127.0.0.1:40385", 0, 40385 },
		{ "HTTPS://u:p@idp:9443/", 0, 9443 },
		{ "https://[::1]:7443/x", 0, 7443 },
		{ "https://[::1]/x", 0, 443 },
		{ "http://idp/", 0, 80 },
		{ "https://idp:0/", IDG_ERR_INVAL, 0 },
		{ "https://idp:65536/", IDG_ERR_INVAL, 0 },
		{ "https://idp:/", IDG_ERR_INVAL, 0 },
		{ "https://idp:12x/", IDG_ERR_INVAL, 0 },
		{ "https://idp:0000443/", IDG_ERR_INVAL, 0 },
		{ "ftp://idp/", IDG_ERR_INVAL, 0 },
		{ "https://[::1/", IDG_ERR_INVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint16_t port = 0;
		int rc = idg_sandbox_url_port(t[i].url, &port);

		if (rc != t[i].rc || port != t[i].port)
			fprintf(stderr, "# %s: %d %u\n", t[i].url, rc, (unsigned)port);
		assert_int_equal(rc, t[i].rc);
		assert_int_equal(port, t[i].port);
	}
	assert_int_equal(idg_sandbox_url_port(NULL, NULL), IDG_ERR_INVAL);
}

/* ---------- fixture ---------- */

static int
setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd;

	(void)state;
	srv = fx_start();
	fx_route_static(srv, "/ok", 200, "{\"hello\":\"world\"}");
	/* the dropped children read the CA; the fixture made it private */
	if (chmod(fx_ca_file(srv), 0644) < 0)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/idg-sandbox-XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 01777) < 0)
		return -1;
	snprintf(readable, sizeof(readable), "%s/readable", tmpdir);
	if ((fd = open(readable, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 ||
	    write(fd, "x\n", 2) != 2 || fchmod(fd, 0666) < 0)
		return -1;
	close(fd);
	other_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (other_fd < 0 || bind(other_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(other_fd, 8) < 0 || getsockname(other_fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	other_port = ntohs(a.sin_port);
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/new", tmpdir);
	unlink(path);
	unlink(readable);
	rmdir(tmpdir);
	if (other_fd >= 0)
		close(other_fd);
	fx_stop(srv);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_port),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_landlock),
#if defined(__SANITIZE_ADDRESS__)
		cmocka_unit_test(test_leak_check),
#endif
		cmocka_unit_test(test_parent_death),
		cmocka_unit_test(test_parent_death_control),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP the sandbox tests drop to uid %d: run them as root\n", TEST_UID);
		return 0;
	}
	/* Orphans of the death tests come back to us, so they can be reaped and none lingers. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	idg_log_set_level(LOG_WARNING);	/* the children's "landlock ABI n" lines, 15 times */
	return cmocka_run_group_tests(tests, setup, teardown);
}
