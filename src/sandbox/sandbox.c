/* The sandbox of idgated's unprivileged children (see sandbox.h): a seccomp allow-list fitted
 * to what they do (HTTPS with libcurl and OpenSSL, XML with libxml2/xmlsec, the socketpair to
 * the parent), landlock layers on files, TCP ports and scopes, and the parent-death signal. */
#include "config.h"

#include <errno.h>
#include <sys/resource.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/err.h"
#include "common/log.h"
#include "sandbox/sandbox.h"

/* ---------- landlock (the kernel's ABI; Debian 12's headers stop at ABI 2) ---------- */

#define LL_FS_EXECUTE		(1ULL << 0)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_ABI1		((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER		(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)		/* ABI 5 */
#define LL_FS_FILE_ONLY		((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | LL_FS_TRUNCATE | \
				 LL_FS_IOCTL_DEV)	/* the rights a rule on a file may carry */
#define LL_NET_BIND_TCP		(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)
#define LL_RULE_PATH_BENEATH	1
#define LL_RULE_NET_PORT	2
#define LL_CREATE_VERSION	(1U << 0)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
};

#ifdef SYS_landlock_create_ruleset
static long
ll_create(const struct ll_ruleset_attr *a, size_t size, uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, a, size, flags);
}

static long
ll_add(int fd, int type, const void *rule)
{
	return syscall(SYS_landlock_add_rule, fd, type, rule, 0);
}

static long
ll_restrict(int fd)
{
	return syscall(SYS_landlock_restrict_self, fd, 0);
}
#else
static long
ll_create(const struct ll_ruleset_attr *a, size_t size, uint32_t flags)
{
	(void)a; (void)size; (void)flags;
	errno = ENOSYS;
	return -1;
}

static long
ll_add(int fd, int type, const void *rule)
{
	(void)fd; (void)type; (void)rule;
	errno = ENOSYS;
	return -1;
}

static long
ll_restrict(int fd)
{
	(void)fd;
	errno = ENOSYS;
	return -1;
}
#endif

int
idg_sandbox_landlock_abi(void)
{
	long v = ll_create(NULL, 0, LL_CREATE_VERSION);

	return v > 0 && v < 1000 ? (int)v : 0;
}

/* Allow reading beneath one path (a file gets the file rights only); a missing path is no
 * error: not every system has /lib64 or /usr/local/share/ca-certificates. */
static int
add_read_path(int rfd, const char *path, char *err, size_t errlen)
{
	struct ll_path_beneath pb = { .allowed_access = LL_FS_READ_FILE | LL_FS_READ_DIR };
	struct stat st;
	int fd, rc = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0;
		snprintf(err, errlen, "landlock: %s: %s", path, strerror(errno));
		return IDG_ERR_IO;
	}
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FS_FILE_ONLY;
	pb.parent_fd = fd;
	if (ll_add(rfd, LL_RULE_PATH_BENEATH, &pb) < 0) {
		snprintf(err, errlen, "landlock: a rule for %s: %s", path, strerror(errno));
		rc = IDG_ERR_IO;
	}
	close(fd);
	return rc;
}

static int
add_ports(int rfd, uint64_t access, const uint16_t *ports, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct ll_net_port np = { .allowed_access = access, .port = ports[i] };

		if (ll_add(rfd, LL_RULE_NET_PORT, &np) < 0) {
			snprintf(err, errlen, "landlock: a rule for TCP port %u: %s",
			    (unsigned)ports[i], strerror(errno));
			return IDG_ERR_IO;
		}
	}
	return 0;
}

static int
landlock_layer(const struct idg_sandbox_policy *p, char *err, size_t errlen)
{
	struct ll_ruleset_attr a = { 0 };
	bool required = (p->flags & IDG_SANDBOX_REQUIRED) != 0;
	bool want_net = (p->flags & IDG_SANDBOX_TCP_CONNECT) || p->nbind_ports > 0;
	int abi = idg_sandbox_landlock_abi(), rfd = -1, rc = 0;
	size_t asize;

	if (abi == 0) {
		if (required) {
			snprintf(err, errlen, "the kernel has no landlock (or it is disabled)");
			return IDG_ERR_UNAVAIL;
		}
		log_notice("sandbox: the kernel has no landlock: files and TCP ports are not "
		    "confined (seccomp still is)");
		return 0;
	}
	if (required && want_net && abi < 4) {
		snprintf(err, errlen, "landlock ABI %d cannot restrict TCP ports (needs 4)", abi);
		return IDG_ERR_UNAVAIL;
	}
	a.handled_access_fs = LL_FS_ABI1 | (abi >= 2 ? LL_FS_REFER : 0) |
	    (abi >= 3 ? LL_FS_TRUNCATE : 0) | (abi >= 5 ? LL_FS_IOCTL_DEV : 0);
	if (!(p->flags & IDG_SANDBOX_READ_PATHS))
		a.handled_access_fs &= ~(LL_FS_READ_FILE | LL_FS_READ_DIR);
	if (abi >= 4)
		a.handled_access_net = LL_NET_BIND_TCP |
		    (p->flags & IDG_SANDBOX_TCP_CONNECT ? LL_NET_CONNECT_TCP : 0);
	if (abi >= 6)
		a.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	asize = abi >= 6 ? sizeof(a) : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
	if ((rfd = (int)ll_create(&a, asize, 0)) < 0) {
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		return IDG_ERR_IO;
	}
	for (size_t i = 0; rc == 0 && (p->flags & IDG_SANDBOX_READ_PATHS) && p->read_paths &&
	    i < IDG_SANDBOX_PATHS_MAX && p->read_paths[i]; i++)
		rc = add_read_path(rfd, p->read_paths[i], err, errlen);
	if (rc == 0 && abi >= 4 && (p->flags & IDG_SANDBOX_TCP_CONNECT))
		rc = add_ports(rfd, LL_NET_CONNECT_TCP, p->connect_ports, p->nconnect_ports, err,
		    errlen);
	if (rc == 0 && abi >= 4)
		rc = add_ports(rfd, LL_NET_BIND_TCP, p->bind_ports, p->nbind_ports, err, errlen);
	if (rc == 0 && ll_restrict(rfd) < 0) {
		snprintf(err, errlen, "landlock_restrict_self: %s", strerror(errno));
		rc = IDG_ERR_IO;
	}
	close(rfd);
	if (rc == 0 && (p->flags & IDG_SANDBOX_READ_PATHS))
		log_info("sandbox: landlock ABI %d: read-only files%s%s", abi,
		    abi >= 4 ? ", TCP ports" : " (TCP ports NOT restricted: needs ABI 4)",
		    abi >= 6 ? ", signal and abstract-socket scoping" : "");
	return rc;
}

/* ---------- seccomp ---------- */

/* Allowed whatever their arguments: they read, wait, or act on the process itself and on
 * descriptors it already holds (its socketpair, its own TCP sockets, stderr). */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(pread64), SCMP_SYS(preadv),
	SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(lseek), SCMP_SYS(dup),
	SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(fcntl),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(statx), SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(getcwd),
	SCMP_SYS(fstatfs), SCMP_SYS(statfs),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(eventfd2), SCMP_SYS(pipe2),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg), SCMP_SYS(shutdown), SCMP_SYS(connect),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(set_tid_address),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getresuid),
	SCMP_SYS(getresgid), SCMP_SYS(getgroups),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigpending), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(getrandom), SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrlimit),
	SCMP_SYS(setrlimit),	/* an unprivileged process can only lower its limits */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* Only ever take more away (a later layer of the same sandbox). */
	SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_add_rule),
	SCMP_SYS(landlock_restrict_self), SCMP_SYS(seccomp),
};

/* The endpoint that serves (IDG_SANDBOX_SERVER). */
static const int server_calls[] = {
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
};

#define RULE(f, act, nr, ...) \
	seccomp_rule_add((f), (act), (nr), \
	    sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) / sizeof(struct scmp_arg_cmp), \
	    __VA_ARGS__)

/* Opening for writing fails (EACCES: a library that tries falls back or reports it); open
 * for reading passes on to landlock, which decides which files. */
static int
open_rules(scmp_filter_ctx f)
{
	static const uint64_t wbits[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };
	const uint64_t mask = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC;
	int rc = 0;

	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, mask, 0));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(open), SCMP_A1(SCMP_CMP_MASKED_EQ, mask, 0));
	for (size_t i = 0; rc == 0 && i < sizeof(wbits) / sizeof(wbits[0]); i++) {
		rc = RULE(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat),
		    SCMP_A2(SCMP_CMP_MASKED_EQ, wbits[i], wbits[i]));
		rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, wbits[i], wbits[i]));
	}
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(creat), 0);
	/* openat2's flags sit in memory seccomp cannot read: say it does not exist, and glibc
	 * uses openat. */
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
	return rc;
}

/* Memory: never a new executable mapping (EPERM, so a late dlopen fails cleanly and
 * shellcode cannot be made runnable). */
static int
memory_rules(scmp_filter_ctx f)
{
	int rc = 0;

	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap),
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap),
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect),
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 0);
	return rc;
}

/* Sockets: TCP/UDP over IPv4 and IPv6, and unnamed pairs. AF_UNIX and AF_NETLINK fail with
 * EACCES: glibc probes them (nscd's socket, the interface list for getaddrinfo) and goes on
 * without; no other family is ever asked for, so it kills. Logging to syslog uses the socket
 * opened before the drop (LOG_NDELAY); should syslogd restart, the child's later lines are
 * lost until the child restarts. */
static int
socket_rules(scmp_filter_ctx f)
{
	int rc = 0;

	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), SCMP_A0(SCMP_CMP_EQ, AF_INET));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), SCMP_A0(SCMP_CMP_EQ, AF_INET6));
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket),
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket),
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(socketpair),
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	return rc;
}

#if defined(__SANITIZE_ADDRESS__)
#define LEAK_CHECK_ACT SCMP_ACT_ALLOW
#else
#define LEAK_CHECK_ACT SCMP_ACT_ERRNO(EPERM)
#endif

/* Processes and signals: threads when the policy says so, never a new process (EPERM: a
 * sanitizer's report forks a symbolizer and goes on without one); signals to itself only. */
static int
process_rules(scmp_filter_ctx f, unsigned flags)
{
	pid_t self = getpid();
	int rc = 0;

	/* A thread: allowed, or refused without threads. Copying the process (fork): refused.
	 * Sharing its memory without being a thread (vfork, posix_spawn): kills. */
	rc = RULE(f, flags & IDG_SANDBOX_THREADS ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone),
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_VM, 0));
	/* clone3's flags sit in memory: ENOSYS makes glibc fall back to clone. */
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fork), 0);
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(vfork), 0);
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, (uint64_t)self));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill),
	    SCMP_A0(SCMP_CMP_EQ, (uint64_t)self));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_EQ, 0));
	/* prctl: names and read-only queries; PR_SET_DUMPABLE and PR_SET_PTRACER (the leak
	 * check's) fail but in sanitizer builds. */
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl),
	    SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl),
	    SCMP_A0(SCMP_CMP_EQ, PR_GET_NO_NEW_PRIVS));
	rc = rc ? rc : RULE(f, LEAK_CHECK_ACT, SCMP_SYS(prctl),
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_DUMPABLE));
	rc = rc ? rc : RULE(f, LEAK_CHECK_ACT, SCMP_SYS(prctl),
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_PTRACER));
	/* ioctl: the terminal and non-blocking queries stdio and libraries make. */
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, TCGETS));
	rc = rc ? rc : RULE(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl),
	    SCMP_A1(SCMP_CMP_EQ, TIOCGWINSZ));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, FIONBIO));
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, FIOCLEX));
	return rc;
}

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds (the tests') only: LeakSanitizer's check at exit stops the threads from a
 * tracer it clones (CLONE_VM | CLONE_UNTRACED, not a thread) and that ptraces them, after
 * making the process dumpable again; refused, every sandboxed child would end with
 * "LeakSanitizer has encountered a fatal error" and its leaks would go unchecked. A plain
 * fork (no CLONE_VM) still fails. */
static int
leak_check_rules(scmp_filter_ctx f)
{
	const uint64_t m = CLONE_VM | CLONE_UNTRACED | CLONE_THREAD;
	int rc = 0;

	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(clone),
	    SCMP_A0(SCMP_CMP_MASKED_EQ, m, CLONE_VM | CLONE_UNTRACED));
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 0);
	rc = rc ? rc : seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 0);
	rc = rc ? rc : RULE(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl),
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG));
	return rc;
}
#endif

static int
seccomp_layer(unsigned flags, char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0;

	if (f == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return IDG_ERR_NOMEM;
	}
	/* Every thread, and never a log line from inside (SCMP_ACT_LOG is not used). */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	rc = rc ? rc : seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1);
	for (size_t i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; rc == 0 && (flags & IDG_SANDBOX_SERVER) &&
	    i < sizeof(server_calls) / sizeof(server_calls[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, server_calls[i], 0);
	rc = rc ? rc : open_rules(f);
	rc = rc ? rc : memory_rules(f);
	rc = rc ? rc : socket_rules(f);
	rc = rc ? rc : process_rules(f, flags);
#if defined(__SANITIZE_ADDRESS__)
	rc = rc ? rc : leak_check_rules(f);
#endif
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot build the filter: %s", strerror(-rc));
		seccomp_release(f);
		return IDG_ERR_INTERNAL;
	}
	if ((rc = seccomp_load(f)) < 0) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-rc));
		seccomp_release(f);
		return IDG_ERR_IO;
	}
	seccomp_release(f);
	return 0;
}

int
idg_sandbox_enter(const struct idg_sandbox_policy *p, char *err, size_t errlen)
{
	int rc = 0;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "no_new_privs is not set: drop privileges first");
		return IDG_ERR_INTERNAL;
	}
	if (p->nconnect_ports > IDG_SANDBOX_PORTS_MAX || p->nbind_ports > IDG_SANDBOX_PORTS_MAX) {
		snprintf(err, errlen, "too many ports in the sandbox policy");
		return IDG_ERR_TOOBIG;
	}
	if (p->flags & IDG_SANDBOX_LANDLOCK)
		rc = landlock_layer(p, err, errlen);
	if (rc == 0 && (p->flags & IDG_SANDBOX_SECCOMP))
		rc = seccomp_layer(p->flags, err, errlen);
	return rc;
}

int
idg_sandbox_parent_death(pid_t expected_parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return IDG_ERR_IO;
	/* The parent may have died between the uid change and now: then no signal comes. */
	if (getppid() != expected_parent)
		_exit(1);
	return 0;
}

int
idg_sandbox_url_port(const char *url, uint16_t *port_out)
{
	const char *h, *end, *colon = NULL;
	unsigned long port;
	char *e;

	if (url == NULL)
		return IDG_ERR_INVAL;
	if (strncasecmp(url, "https://", 8) == 0)
		port = 443, h = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		port = 80, h = url + 7;
	else
		return IDG_ERR_INVAL;
	end = h + strcspn(h, "/?#");
	for (const char *s = h; s < end; s++)
		if (*s == '@')
			h = s + 1;	/* user info */
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return IDG_ERR_INVAL;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
	}
	if (colon) {
		if (colon + 1 == end || colon + 6 < end)
			return IDG_ERR_INVAL;
		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (e != end || errno != 0 || port == 0 || port > 65535)
			return IDG_ERR_INVAL;
	}
	*port_out = (uint16_t)port;
	return 0;
}

/* ---------- the IdP connector child ---------- */

int
idg_sandbox_connector_start(char *err, size_t errlen)
{
	const struct idg_sandbox_policy p = {
		.flags = IDG_SANDBOX_SECCOMP | IDG_SANDBOX_THREADS | IDG_SANDBOX_LANDLOCK,
	};

	return idg_sandbox_enter(&p, err, errlen);
}

/* What TLS, name resolution, logging and late library loads read. /proc/self: glibc and
 * the sanitizers read the process's own maps and status. */
static const char *const connector_paths[] = {
	"/etc/ssl", "/usr/lib/ssl", "/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates",
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
	"/etc/host.conf", "/etc/localtime", "/usr/share/zoneinfo",
	"/etc/ld.so.cache", "/usr/lib", "/lib", "/lib64", "/usr/lib64",
	"/dev/urandom", "/dev/null", "/proc/self",
};

#define NCONN_PATHS (sizeof(connector_paths) / sizeof(connector_paths[0]))

static void
add_port(uint16_t *ports, size_t *n, uint16_t port)
{
	for (size_t i = 0; i < *n; i++)
		if (ports[i] == port)
			return;
	if (*n < IDG_SANDBOX_PORTS_MAX)
		ports[(*n)++] = port;
}

/* Ports: each URL's, 443 (discovery may name token or key endpoints on other hosts, which
 * are on the standard port in every IdP we know) and 53 (the resolver falls back to TCP for
 * a truncated answer). The ports are fixed when the child is configured: idgated restarts
 * the child to change [idp], so no later URL can need another. */
int
idg_sandbox_connector_idp(const char *const *urls, size_t nurls,
    const char *const *ca_files, size_t nca, char *err, size_t errlen)
{
	const char *paths[IDG_SANDBOX_PATHS_MAX + 1];
	uint16_t ports[IDG_SANDBOX_PORTS_MAX], port;
	struct idg_sandbox_policy p = { .flags = IDG_SANDBOX_LANDLOCK | IDG_SANDBOX_READ_PATHS |
		IDG_SANDBOX_TCP_CONNECT };
	size_t np = 0, nports = 0;

	if (NCONN_PATHS + nca > IDG_SANDBOX_PATHS_MAX || nurls + 2 > IDG_SANDBOX_PORTS_MAX) {
		snprintf(err, errlen, "too many paths or URLs for the sandbox");
		return IDG_ERR_TOOBIG;
	}
	for (size_t i = 0; i < NCONN_PATHS; i++)
		paths[np++] = connector_paths[i];
	for (size_t i = 0; i < nca; i++)
		if (ca_files[i] && *ca_files[i])
			paths[np++] = ca_files[i];
	paths[np] = NULL;
	for (size_t i = 0; i < nurls; i++) {
		if (urls[i] == NULL)
			continue;
		if (idg_sandbox_url_port(urls[i], &port) < 0) {
			snprintf(err, errlen, "the sandbox cannot tell the port of URL %s", urls[i]);
			return IDG_ERR_CONFIG;
		}
		add_port(ports, &nports, port);
	}
	add_port(ports, &nports, 443);
	add_port(ports, &nports, 53);
	p.read_paths = paths;
	p.connect_ports = ports;
	p.nconnect_ports = nports;
	return idg_sandbox_enter(&p, err, errlen);
}

int
idg_sandbox_drop(uid_t uid, gid_t gid)
{
	struct rlimit core = { 0, 0 };

	if (uid == 0 || gid == 0)
		return IDG_ERR_CONFIG;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return IDG_ERR_IO;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return IDG_ERR_INTERNAL;	/* must be impossible now */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return IDG_ERR_IO;
	(void)setrlimit(RLIMIT_CORE, &core);	/* no core file with a secret in it */
	return 0;
}

/* The web child reads nothing once it has its TLS key and certificate (they come over its
 * socket): only what late library loads and the TLS library's own set-up may want. */
static const char *const web_paths[] = {
	"/etc/gnutls", "/usr/share/gnutls", "/etc/ssl", "/etc/localtime", "/usr/share/zoneinfo",
	"/etc/ld.so.cache", "/usr/lib", "/lib", "/lib64", "/usr/lib64",
	"/dev/urandom", "/dev/null", "/proc/self", NULL,
};

int
idg_sandbox_web(char *err, size_t errlen)
{
	const struct idg_sandbox_policy p = {
		.flags = IDG_SANDBOX_SECCOMP | IDG_SANDBOX_THREADS | IDG_SANDBOX_SERVER |
		    IDG_SANDBOX_LANDLOCK | IDG_SANDBOX_READ_PATHS | IDG_SANDBOX_TCP_CONNECT,
		.read_paths = web_paths,
		.connect_ports = NULL,
		.nconnect_ports = 0,	/* it accepts; it never connects anywhere */
	};

	return idg_sandbox_enter(&p, err, errlen);
}
