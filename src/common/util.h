/* Small helpers shared by the daemon, the CLI and the modules: parsing numbers, durations
 * and sizes, time stamps, random bytes, hex, and secret-safe string handling. libc only. */
#ifndef IDG_COMMON_UTIL_H
#define IDG_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define IDG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Decimal integer in [min, max], the whole string: IDG_ERR_INVAL otherwise. */
int idg_parse_int(const char *s, long long min, long long max, long long *out);
/* "90", "90s", "15m", "12h", "30d", "2w", "1h30m" -> seconds (> 0 or 0 for "0"). */
int idg_parse_duration(const char *s, int64_t *secs_out);
/* "250ms" -> 250; otherwise a duration as above, in milliseconds ("1s" -> 1000). */
int idg_parse_duration_ms(const char *s, int64_t *ms_out);
/* "512", "64k", "10M", "1G" (binary units) -> bytes. */
int idg_parse_size(const char *s, uint64_t *bytes_out);
/* yes/no, true/false, on/off, 1/0. */
int idg_parse_bool(const char *s, bool *out);

/* "2026-11-22T10:00:00Z" into buf (at least 21 bytes). */
void idg_time_iso(time_t t, char *buf, size_t len);
/* Human duration "3d4h", "45s" into buf. */
void idg_duration_format(int64_t secs, char *buf, size_t len);

/* mkdir -p: parents 0755, the last one mode; existing directories keep theirs. 0, or
 * IDG_ERR_IO / IDG_ERR_INVAL with errno set. */
int idg_make_dirs(const char *path, mode_t mode);

/* An unprivileged system user's uid and gid, from /etc/passwd itself: idgated never asks NSS
 * (that could be its own module, and the answer must not depend on the state it serves).
 * what names the setting in messages ("[connector] user"). IDG_ERR_NOTFOUND, IDG_ERR_CONFIG
 * (uid or gid 0), IDG_ERR_IO, with why in err; the outputs are untouched then. */
int idg_system_user(const char *name, const char *what, uid_t *uid_out, gid_t *gid_out,
    char *err, size_t errlen);

/* Fill buf with n bytes from the kernel's CSPRNG; IDG_ERR_IO if it cannot. */
int idg_random(void *buf, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void idg_hex(const void *in, size_t n, char *out);

/* True when s is valid UTF-8 without control characters (bytes < 0x20, 0x7f). */
bool idg_str_printable(const char *s);
/* One UTF-8 character at p (n bytes left): its length with the code point in *cp_out, or 0
 * when it is not valid UTF-8 (truncated, overlong, a surrogate, past U+10FFFF) or is NUL. */
size_t idg_utf8_char(const unsigned char *p, size_t n, uint32_t *cp_out);

/* Safe to log: "(redacted)", or for a secret of 16 characters or more that starts with
 * 4 plain ASCII characters, those 4 then "...(redacted)". */
void idg_redact(const char *secret, char *out, size_t len);

/* Wipe and free a string that may hold a secret; accepts NULL. */
void idg_free_secret(char *s);

/* strdup that fails (NULL) when s is longer than max bytes. */
char *idg_strdup_max(const char *s, size_t max);

int idg_fd_nonblock(int fd);
int idg_fd_cloexec(int fd);

/* Read a whole file of at most max bytes (NUL-terminated) into *out. */
int idg_read_file(const char *path, size_t max, char **out, size_t *len_out);

/* Monotonic milliseconds. */
int64_t idg_now_ms(void);

#endif
