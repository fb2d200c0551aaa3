/* Confinement for idgated's unprivileged children, applied after they drop privileges: a
 * seccomp allow-list (libseccomp), landlock layers, and a death signal that survives the
 * uid change. Linked only into idgated. */
#ifndef IDG_SANDBOX_SANDBOX_H
#define IDG_SANDBOX_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IDG_SANDBOX_PATHS_MAX 64
#define IDG_SANDBOX_PORTS_MAX 16

enum {
	/* Install the system-call filter (an allow-list: what it does not name kills the
	 * process; a few harmless probes fail with an errno instead, see sandbox.c). */
	IDG_SANDBOX_SECCOMP = 1u << 0,
	/* ... letting the process start threads (clone with CLONE_THREAD only, never a
	 * process): libcurl's resolver, libmicrohttpd's workers. */
	IDG_SANDBOX_THREADS = 1u << 1,
	/* ... and letting it bind, listen and accept (an endpoint that serves). */
	IDG_SANDBOX_SERVER = 1u << 2,
	/* Add a landlock layer: no writing, creating, removing or executing any file, no
	 * device ioctl, no TCP bind but to bind_ports (ABI >= 4), no signal to and no abstract
	 * unix socket of a process outside the sandbox (ABI >= 6). */
	IDG_SANDBOX_LANDLOCK = 1u << 3,
	/* ... in which reading is allowed only beneath read_paths. */
	IDG_SANDBOX_READ_PATHS = 1u << 4,
	/* ... in which TCP connect is allowed only to connect_ports (ABI >= 4). */
	IDG_SANDBOX_TCP_CONNECT = 1u << 5,
	/* Fail when the kernel cannot apply every part of the landlock layer asked for; without
	 * it the best the kernel offers is applied and what is missing is logged. */
	IDG_SANDBOX_REQUIRED = 1u << 6,
};

/* What one call applies. Layers stack: a later call can only take more away. Landlock
 * applies to the calling thread and the threads it starts later, so call this before
 * starting threads; the seccomp filter is synchronised to every thread. */
struct idg_sandbox_policy {
	unsigned flags;
	const char *const *read_paths;	/* NULL-terminated; missing paths are skipped */
	const uint16_t *connect_ports;
	size_t nconnect_ports;
	const uint16_t *bind_ports;
	size_t nbind_ports;
};

/* Apply p to the calling process (landlock first, then seccomp). Privileges must already
 * be dropped and no_new_privs set. On failure err says why and the process must not go
 * on to handle untrusted input (some parts may already be in force). */
int idg_sandbox_enter(const struct idg_sandbox_policy *p, char *err, size_t errlen);

/* The landlock ABI the kernel offers: 0 when it has none (or it is disabled). */
int idg_sandbox_landlock_abi(void);

/* Set PR_SET_PDEATHSIG(SIGKILL) (a uid change clears it, so call this after the drop) and
 * exit at once, status 1, when the parent is no longer expected_parent (it died before the
 * signal was armed). Returns 0, or IDG_ERR_IO when prctl fails. */
int idg_sandbox_parent_death(pid_t expected_parent);

/* Drop to uid/gid for good: no supplementary groups, no way back (checked), no new
 * privileges, not dumpable, no core file. 0; IDG_ERR_CONFIG for uid or gid 0; IDG_ERR_IO. */
int idg_sandbox_drop(uid_t uid, gid_t gid);

/* The SAML web child's policy, before it starts libmicrohttpd's threads (with its listening
 * socket, TLS key and certificate in hand): seccomp with threads and accept, and a landlock
 * layer with no file reading but libraries' and the TLS library's configuration, no write,
 * no TCP connect at all. */
int idg_sandbox_web(char *err, size_t errlen);

/* The TCP port of an http(s) URL (an explicit port, or 443 / 80). */
int idg_sandbox_url_port(const char *url, uint16_t *port_out);

/* The IdP connector child's policies. At start, before it reads a byte: the seccomp filter
 * (with threads: libcurl resolves names in a thread) and a landlock layer forbidding every
 * write, exec and TCP bind. Once the configuration names its IdP (urls: the issuer, the SAML
 * metadata URL; NULL entries skipped) and CA files, before it fetches anything: a landlock
 * layer limiting reading to the CA files and the system files TLS, name resolution and late
 * library loads need, and TCP connect to the URLs' ports, 443 and 53 (sandbox.c says why). */
int idg_sandbox_connector_start(char *err, size_t errlen);
int idg_sandbox_connector_idp(const char *const *urls, size_t nurls,
    const char *const *ca_files, size_t nca, char *err, size_t errlen);

#endif
