/* pam_idgate.so's arguments: defaults, then what the stack line says, parsed in one place.
 * A bad value of a known argument fails the module closed (PAM_SERVICE_ERR, logged) rather
 * than quietly using a default the administrator did not ask for. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "common/err.h"
#include "pam/pam_idgate.h"

#define TIMEOUT_MAX 300u
#define DEVICE_WAIT_MAX 3600u

static const struct {
	const char *name;
	enum idg_pam_method m;
} method_names[] = {
	{ "password", IDG_PAM_M_PASSWORD },
	{ "token", IDG_PAM_M_TOKEN },
	{ "device", IDG_PAM_M_DEVICE },
	{ "saml", IDG_PAM_M_SAML },
};

static int
parse_seconds(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return IDG_ERR_CONFIG;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v < 1 || v > max)
		return IDG_ERR_CONFIG;
	*out = (unsigned)v;
	return 0;
}

/* "password,device": each known method once, in the order given. */
static int
parse_methods(const char *s, struct idg_pam_args *a)
{
	size_t n = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, ",");
		size_t i;

		for (i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
			if (strlen(method_names[i].name) == len &&
			    strncmp(method_names[i].name, s, len) == 0)
				break;
		if (i == sizeof(method_names) / sizeof(method_names[0]) || n == IDG_PAM_METHODS_MAX)
			return IDG_ERR_CONFIG;
		for (size_t j = 0; j < n; j++)
			if (a->methods[j] == method_names[i].m)
				return IDG_ERR_CONFIG;
		a->methods[n++] = method_names[i].m;
		s += len;
		if (*s == ',' && *++s == '\0')
			return IDG_ERR_CONFIG;
	}
	if (n == 0)
		return IDG_ERR_CONFIG;
	a->nmethods = n;
	return 0;
}

static int
parse_socket(const char *s, struct idg_pam_args *a)
{
	size_t len = strlen(s);

	if (s[0] != '/' || len >= sizeof(a->socket))
		return IDG_ERR_CONFIG;
	memcpy(a->socket, s, len + 1);
	return 0;
}

static int
parse_one(struct idg_pam_args *a, const char *arg)
{
	if (strcmp(arg, "debug") == 0)
		a->debug = 1;
	else if (strcmp(arg, "use_first_pass") == 0)
		a->use_first_pass = 1;
	else if (strcmp(arg, "try_first_pass") == 0)
		a->try_first_pass = 1;
	else if (strncmp(arg, "methods=", 8) == 0)
		return parse_methods(arg + 8, a);
	else if (strncmp(arg, "timeout=", 8) == 0)
		return parse_seconds(arg + 8, TIMEOUT_MAX, &a->timeout_s);
	else if (strncmp(arg, "device_wait=", 12) == 0)
		return parse_seconds(arg + 12, DEVICE_WAIT_MAX, &a->device_wait_s);
	else if (strncmp(arg, "socket=", 7) == 0)
		return parse_socket(arg + 7, a);
	else
		return IDG_ERR_NOTFOUND;
	return 0;
}

int
idg_pam_args_parse(pam_handle_t *pamh, int flags, int argc, const char **argv,
    struct idg_pam_args *out)
{
	struct idg_pam_args a;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	memcpy(a.socket, IDG_PAM_SOCKET, sizeof(IDG_PAM_SOCKET));
	a.methods[0] = IDG_PAM_M_PASSWORD;
	a.methods[1] = IDG_PAM_M_DEVICE;
	a.nmethods = 2;
	a.timeout_s = IDG_PAM_TIMEOUT_DEFAULT;
	a.device_wait_s = IDG_PAM_DEVICE_WAIT_DEFAULT;
	a.silent = (flags & PAM_SILENT) != 0;
	for (int i = 0; i < argc && argv != NULL; i++) {
		int r = parse_one(&a, argv[i]);

		if (r == IDG_ERR_NOTFOUND) {
			pam_syslog(pamh, LOG_ERR, "unknown option ignored: %s", argv[i]);
		} else if (r < 0) {
			pam_syslog(pamh, LOG_ERR, "bad option (refusing IdP logins): %s", argv[i]);
			rc = IDG_ERR_CONFIG;
		}
	}
	if (rc == 0 && a.use_first_pass && a.try_first_pass)
		a.try_first_pass = 0;	/* use_first_pass is the stricter; pam_unix agrees */
	if (rc == 0)
		*out = a;
	return rc;
}
