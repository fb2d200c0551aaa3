/* The connector child's entry point (conn_child.c): idgated re-executes itself with
 * --connector-child; see connector.c for the parent's side. */
#ifndef IDG_DAEMON_CONN_CHILD_H
#define IDG_DAEMON_CONN_CHILD_H

#include <sys/types.h>

/* Drop to uid:gid, then serve the parent on fd until it closes. Returns the exit status. */
int idg_conn_child_main(int fd, uid_t uid, gid_t gid);

#endif
