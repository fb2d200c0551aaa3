/* Load a module with dlopen(RTLD_NOW) — every symbol must resolve — and call its entry
 * points once, as a PAM stack or glibc would; run under valgrind by t_modules.sh. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*pam_fn)(void *, int, int, const char **);
typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);

int
main(int argc, char **argv)
{
	void *h;
	int rc = 0;

	if (argc != 3 || (strcmp(argv[1], "pam") != 0 && strcmp(argv[1], "nss") != 0)) {
		fprintf(stderr, "usage: dlopen_check pam|nss MODULE.so\n");
		return 2;
	}
	if ((h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	if (strcmp(argv[1], "pam") == 0) {
		static const char *const names[] = { "pam_sm_authenticate", "pam_sm_setcred",
			"pam_sm_acct_mgmt", "pam_sm_open_session", "pam_sm_close_session",
			"pam_sm_chauthtok" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			pam_fn fn = (pam_fn)dlsym(h, names[i]);

			if (fn == NULL) {
				fprintf(stderr, "missing %s\n", names[i]);
				rc = 1;
				continue;
			}
			printf("%s=%d\n", names[i], fn(NULL, 0, 0, NULL));
		}
	} else {
		pwnam_fn fn = (pwnam_fn)dlsym(h, "_nss_idgate_getpwnam_r");
		struct passwd pw;
		char buf[256];
		int err = 0;

		if (fn == NULL || dlsym(h, "_nss_idgate_initgroups_dyn") == NULL) {
			fprintf(stderr, "missing NSS entry points\n");
			rc = 1;
		} else {
			enum nss_status st = fn("nobody-here", &pw, buf, sizeof(buf), &err);

			printf("getpwnam_r=%d errno=%d\n", (int)st, err);
		}
	}
	dlclose(h);
	return rc;
}
