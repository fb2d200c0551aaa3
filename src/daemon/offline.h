/* Offline credentials: after an online password login, idgated keeps a salted slow hash of
 * the password (a "verifier"; never the password) with the time of that login, and checks a
 * password against it only when the identity provider cannot be reached ([pam] offline_ttl).
 *
 * offline_hash.c is the pure part (OpenSSL's scrypt; no daemon state, unit-tested alone);
 * offline.c runs it off the event loop, in two worker threads (checks first), and keeps the
 * verifiers in the state store (IDG_MUT_OFFLINE_SET / _DEL). */
#ifndef IDG_DAEMON_OFFLINE_H
#define IDG_DAEMON_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDG_OFFLINE_SALT_LEN 16		/* random bytes per verifier */
#define IDG_OFFLINE_HASH_LEN 32		/* bytes of scrypt output kept */
#define IDG_OFFLINE_VERIFIER_MAX 160	/* "scrypt$15$8$1$" + 32 + 1 + 64 hex is 112 */
#define IDG_OFFLINE_PASSWORD_MAX 4096

/* scrypt's cost: N = 2^log2_n, r (block size), p (parallelism); memory 128 * r * N bytes. */
struct idg_offline_params {
	unsigned log2_n, r, p;
};

/* N = 2^15, r = 8, p = 1: 32 MiB and about 140 ms on the 2-core test machine (measured;
 * docs/decisions.md). Verifiers record their own parameters, so these may grow later. */
extern const struct idg_offline_params idg_offline_default;

/* A new verifier for password into out (at least IDG_OFFLINE_VERIFIER_MAX + 1 bytes):
 * "scrypt$LOG2N$R$P$SALT$HASH", SALT and HASH in lower-case hex. 0; IDG_ERR_INVAL for an
 * empty or over-long password or parameters out of bounds; IDG_ERR_IO without randomness;
 * IDG_ERR_NOMEM when scrypt cannot get its memory. out is untouched on failure. */
int idg_offline_hash(const struct idg_offline_params *pp, const char *password, char *out,
    size_t outlen);

/* Does password match verifier? 0 when it does; IDG_ERR_DENIED when it does not;
 * IDG_ERR_CORRUPT for a verifier that is not one (malformed, or parameters out of bounds);
 * IDG_ERR_INVAL for an empty or over-long password. The comparison takes the same time
 * wherever the hashes differ. */
int idg_offline_verify(const char *verifier, const char *password);

/* Parse a verifier: 0, or IDG_ERR_CORRUPT. Parameters are bounded: log2_n 10..20, r 1..32,
 * p 1..16, 128 * r * N at most 256 MiB (a damaged store cannot make idgated spend more). */
int idg_offline_parse(const char *verifier, struct idg_offline_params *pp,
    uint8_t salt[IDG_OFFLINE_SALT_LEN], uint8_t hash[IDG_OFFLINE_HASH_LEN]);

/* ---------- offline.c: in idgated ---------- */

struct idg_daemon;
struct idg_user;

/* A hash or a check finished: rc 0 (verifier: the new one, for a hash), IDG_ERR_DENIED (a
 * check that did not match), or another IDG_ERR_*. Runs from the event loop. */
typedef void (*idg_offline_cb)(struct idg_daemon *d, void *ctx, int rc, const char *verifier);

/* Hash password (verifier NULL) or check it against verifier, in a worker thread; cb runs
 * exactly once, later, from the event loop (or from idg_offline_stop). Checks have a queue
 * of their own and never wait behind hashes. The password is copied and wiped. 0;
 * IDG_ERR_TOOBIG when too many of its kind wait (64 checks, 1024 hashes); IDG_ERR_NOMEM,
 * IDG_ERR_IO (no thread): then cb never runs. */
int idg_offline_submit(struct idg_daemon *d, const char *password, const char *verifier,
    idg_offline_cb cb, void *ctx);

/* After an online password login of name: hash the password and keep the verifier (with
 * the time now) once it is ready, if [pam] offline_ttl allows offline logins at all. A
 * hash of name still waiting takes this newer password instead; with 1024 users' hashes
 * waiting this one is dropped (counted, logged at most once a minute). */
void idg_offline_remember(struct idg_daemon *d, const char *name, const char *password);

/* The user's verifier if its time is less than [pam] offline_ttl away from now, else NULL.
 * One dated in the future (the clock was set back since it was made) counts as fresh while
 * it is less than offline_ttl ahead. */
const char *idg_offline_fresh(const struct idg_daemon *d, const struct idg_user *u, int64_t now);

/* Has the user an unexpired verifier dated after now (the clock went back)? */
bool idg_offline_future(const struct idg_daemon *d, const struct idg_user *u, int64_t now);

/* Once a second: verifiers more than offline_ttl in the past (all of them when it is 0)
 * are deleted; one dated in the future never is for that (a warning says so). */
void idg_offline_tick(struct idg_daemon *d, int64_t now_ms);

/* Stop the worker: waiting jobs get IDG_ERR_UNAVAIL, finished ones their result. */
void idg_offline_stop(struct idg_daemon *d);

#endif
