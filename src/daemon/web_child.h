/* The web process's entry point (web_child.c): idgated re-executes itself with --web-child;
 * saml_sp.c is the parent's side, web_proto.h what they say. */
#ifndef IDG_DAEMON_WEB_CHILD_H
#define IDG_DAEMON_WEB_CHILD_H

#include <sys/types.h>

/* Drop to uid:gid (dying with parent), read the start message on fd, serve HTTPS on
 * listen_fd until the parent closes fd. Returns the exit status (or never returns). */
int idg_web_child_main(int fd, int listen_fd, uid_t uid, gid_t gid, pid_t parent);

#endif
