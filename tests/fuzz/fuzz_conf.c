/* Fuzz target for the config file: the INI parser (src/common/conf.c) with idgated's own
 * schema, then the daemon's loading (src/daemon/config.c: the parse from a file and the
 * checks across keys: [idp], [saml], [idmap], the login rule, data modes), with no daemon.
 * libFuzzer by run.sh; fuzz_conf_det for make check. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/err.h"
#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct idg_config cfg;
	struct idg_buf errs;

	if (size > IDG_CONF_MAX_FILE + 1)
		return 0;
	/* the text alone */
	idg_buf_init(&errs, 64 * 1024);
	memset(&cfg, 0, sizeof(cfg));
	(void)idg_conf_parse("fuzz.conf", (const char *)data, size, idg_config_schema,
	    idg_config_schema_len, &cfg, &errs);
	sink += errs.len;
	idg_config_free(&cfg);
	idg_buf_free(&errs);
	/* the daemon's loading, from a file as idgated reads it */
	if (fd < 0) {
		if ((fd = memfd_create("fuzz.conf", MFD_CLOEXEC)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	idg_buf_init(&errs, 64 * 1024);
	(void)idg_config_load(path, &cfg, false, &errs);
	sink += errs.len;
	idg_config_free(&cfg);
	idg_buf_free(&errs);
	return 0;
}
