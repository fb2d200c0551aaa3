/* Offline credentials in idgated: scrypt runs in two worker threads, so the event loop never
 * waits the ~140 ms a hash takes; verifiers are kept in the state store and expire with
 * [pam] offline_ttl.
 *
 * Two kinds of work, two queues. A check is a PAM login waiting for its answer (the IdP is
 * unreachable); a hash is bookkeeping after an online login (the new credential). Checks
 * never wait behind hashes: one worker takes checks only, the other takes a waiting check
 * first and a hash otherwise, at a lower CPU priority (nice 10) for its hashes. On the
 * 2-core machine that is at most two scrypt runs (2 x 32 MiB) at once, and a burst of first
 * logins leaves a core to the event loop and the connectors. A hash for a user who already
 * has one waiting replaces it (only the newest password matters), so the hash queue holds
 * at most one per user; past HASHES_MAX users the newest is dropped, counted, and logged at
 * most once a minute.
 *
 * The workers are idgated's only other threads. They touch nothing but their job (a copy of
 * the password, a copy of the verifier, the result): jobs go in through mutex-protected
 * queues, and finished ones come back as pointers over a pipe that the event loop watches,
 * so every callback runs on the event loop's thread like any other. They are started on
 * first use, after any fork (daemonizing, the connector child's fork-and-exec runs only
 * async-signal-safe calls), with every signal blocked (signalfd needs them blocked in all
 * threads). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/offline.h"

#define CHECKS_MAX 64		/* checks waiting or running: each is a PAM login waiting */
#define HASHES_MAX 1024		/* hashes waiting or running: one per user at most */
#define HASH_NICE 10		/* the bookkeeping worker's CPU priority */
#define DROP_LOG_EVERY_MS 60000	/* "credentials not kept" at most once a minute */
#define PURGE_EVERY_MS 5000	/* a walk over the users: cheap */

struct job {
	struct job *next;
	char *password;		/* a copy; wiped */
	char verifier[IDG_OFFLINE_VERIFIER_MAX + 1];	/* in: to check ("": hash); out: new */
	bool check;
	int rc;
	int64_t ms;		/* how long scrypt took */
	idg_offline_cb cb;
	void *ctx;
};

struct queue {
	struct job *head, *tail;
};

struct idg_offline {
	struct idg_daemon *d;
	pthread_t threads[2];	/* [0] checks only; [1] checks first, then hashes */
	size_t nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queue checks, hashes;	/* waiting, under mu */
	bool stop;			/* under mu */
	size_t nchecks, nhashes;	/* submitted and not yet called back (event loop only) */
	int pipe[2];		/* workers -> event loop: finished jobs */
	struct idg_watch *watch;
	uint64_t dropped;	/* hashes not kept because HASHES_MAX waited (event loop only) */
	uint64_t dropped_told;	/* of those, how many the log has been told of */
	int64_t next_drop_log;	/* monotonic ms */
};

struct remember {
	char name[64];
	char *key;		/* the user's pin (iss, sub) at the login: the same user later */
	int64_t at;
};

struct worker_arg {
	struct idg_offline *o;
	bool hashes;		/* this worker also takes hashes */
};

static void
remember_free(struct remember *r)
{
	if (r) {
		free(r->key);
		free(r);
	}
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	idg_free_secret(j->password);
	explicit_bzero(j->verifier, sizeof(j->verifier));
	free(j);
}

static void
push(struct queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *
pop(struct queue *q)
{
	struct job *j = q->head;

	if (j) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return j;
}

static void *
worker(void *arg)
{
	struct worker_arg wa = *(struct worker_arg *)arg;
	struct idg_offline *o = wa.o;

	free(arg);
	/* Bookkeeping yields the CPU to logins (this thread only: Linux nice is per thread). */
	if (wa.hashes)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HASH_NICE);
	for (;;) {
		struct job *j;
		int64_t t0;

		pthread_mutex_lock(&o->mu);
		while (!o->stop && o->checks.head == NULL && (!wa.hashes || o->hashes.head == NULL))
			pthread_cond_wait(&o->cv, &o->mu);
		if (o->stop) {
			pthread_mutex_unlock(&o->mu);
			return NULL;
		}
		if ((j = pop(&o->checks)) == NULL)
			j = pop(&o->hashes);
		pthread_mutex_unlock(&o->mu);
		t0 = idg_now_ms();
		if (j->check)
			j->rc = idg_offline_verify(j->verifier, j->password);
		else
			j->rc = idg_offline_hash(&idg_offline_default, j->password, j->verifier,
			    sizeof(j->verifier));
		j->ms = idg_now_ms() - t0;
		idg_free_secret(j->password);
		j->password = NULL;
		/* CHECKS_MAX + HASHES_MAX pointers always fit in a pipe: this never blocks long. */
		while (write(o->pipe[1], &j, sizeof(j)) < 0 && errno == EINTR)
			;
	}
}

static void
complete(struct idg_offline *o, struct job *j)
{
	if (j->check)
		o->nchecks--;
	else
		o->nhashes--;
	log_debug("offline credential %s: scrypt took %lld ms", j->check ? "check" : "hash",
	    (long long)j->ms);
	if (j->cb)
		j->cb(o->d, j->ctx, j->rc, j->rc == 0 && !j->check ? j->verifier : NULL);
	job_free(j);
}

static void
on_done(void *ctx, uint32_t events)
{
	struct idg_offline *o = ctx;
	struct job *j;

	(void)events;
	while (read(o->pipe[0], &j, sizeof(j)) == (ssize_t)sizeof(j))
		complete(o, j);
}

static int
start_thread(struct idg_offline *o, bool hashes)
{
	struct worker_arg *wa = malloc(sizeof(*wa));
	sigset_t all, old;
	int rc;

	if (wa == NULL)
		return ENOMEM;
	wa->o = o;
	wa->hashes = hashes;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&o->threads[o->nthreads], NULL, worker, wa);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		free(wa);
	else
		o->nthreads++;
	return rc;
}

static void
stop_threads(struct idg_offline *o)
{
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	for (size_t i = 0; i < o->nthreads; i++)
		pthread_join(o->threads[i], NULL);
	o->nthreads = 0;
}

static int
start(struct idg_daemon *d)
{
	struct idg_offline *o;
	int rc;

	if (d->offline)
		return 0;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return IDG_ERR_NOMEM;
	o->d = d;
	o->pipe[0] = o->pipe[1] = -1;
	if (pipe2(o->pipe, O_CLOEXEC) < 0 || idg_fd_nonblock(o->pipe[0]) < 0 ||
	    idg_server_watch(d->srv, o->pipe[0], on_done, o, &o->watch) < 0) {
		log_err("offline credentials: cannot set up the workers' pipe: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	if ((rc = start_thread(o, false)) != 0 || (rc = start_thread(o, true)) != 0) {
		log_err("offline credentials: cannot start the worker threads: %s", strerror(rc));
		stop_threads(o);
		pthread_mutex_destroy(&o->mu);
		pthread_cond_destroy(&o->cv);
		goto fail;
	}
	d->offline = o;
	return 0;
fail:
	if (o->watch)
		idg_server_unwatch(d->srv, o->watch);
	if (o->pipe[0] >= 0)
		close(o->pipe[0]);
	if (o->pipe[1] >= 0)
		close(o->pipe[1]);
	free(o);
	return IDG_ERR_IO;
}

static struct job *
job_new(const char *password, int *rc_out)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->password = idg_strdup_max(password, IDG_OFFLINE_PASSWORD_MAX)) == NULL) {
		job_free(j);
		*rc_out = password && strlen(password) > IDG_OFFLINE_PASSWORD_MAX ? IDG_ERR_INVAL :
		    IDG_ERR_NOMEM;
		return NULL;
	}
	return j;
}

static void
enqueue(struct idg_offline *o, struct queue *q, struct job *j)
{
	pthread_mutex_lock(&o->mu);
	push(q, j);
	pthread_cond_broadcast(&o->cv);	/* either worker may take a check */
	pthread_mutex_unlock(&o->mu);
}

int
idg_offline_submit(struct idg_daemon *d, const char *password, const char *verifier,
    idg_offline_cb cb, void *ctx)
{
	struct idg_offline *o;
	struct job *j;
	int rc;

	if ((rc = start(d)) < 0)
		return rc;
	o = d->offline;
	if (verifier ? o->nchecks >= CHECKS_MAX : o->nhashes >= HASHES_MAX)
		return IDG_ERR_TOOBIG;
	if (verifier && strlen(verifier) > IDG_OFFLINE_VERIFIER_MAX)
		return IDG_ERR_CORRUPT;
	if ((j = job_new(password, &rc)) == NULL)
		return rc;
	if (verifier) {
		j->check = true;
		snprintf(j->verifier, sizeof(j->verifier), "%s", verifier);
	}
	j->cb = cb;
	j->ctx = ctx;
	enqueue(o, verifier ? &o->checks : &o->hashes, j);
	if (verifier)
		o->nchecks++;
	else
		o->nhashes++;
	return 0;
}

void
idg_offline_stop(struct idg_daemon *d)
{
	struct idg_offline *o = d->offline;
	struct job *j;

	if (o == NULL)
		return;
	stop_threads(o);
	on_done(o, 0);	/* finished ones: their results */
	/* Never started: told so. */
	while ((j = pop(&o->checks)) != NULL || (j = pop(&o->hashes)) != NULL) {
		j->rc = IDG_ERR_UNAVAIL;
		if (!j->check)
			explicit_bzero(j->verifier, sizeof(j->verifier));
		complete(o, j);
	}
	idg_server_unwatch(d->srv, o->watch);
	close(o->pipe[0]);
	close(o->pipe[1]);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
	d->offline = NULL;
}

/* ---------- verifiers in the store ---------- */

/* A new verifier is ready: keep it, if the user is still there. */
static void
on_hashed(struct idg_daemon *d, void *ctx, int rc, const char *verifier)
{
	struct remember *r = ctx;
	const struct idg_user *u;
	struct idg_change c;
	char err[512];

	if (rc < 0 || verifier == NULL) {
		if (rc != IDG_ERR_UNAVAIL)
			log_err("offline credential of %s not kept: %s", r->name, idg_strerror(rc));
		remember_free(r);
		return;
	}
	u = idg_state_user(d->st, r->name);
	if (d->cfg.pam_offline_ttl == 0 || u == NULL || !u->live || u->key == NULL ||
	    strcmp(u->key, r->key) != 0) {
		remember_free(r);
		return;	/* turned off, or the user was deleted (or replaced) meanwhile */
	}
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_OFFLINE_SET, .a = r->name,
	    .b = verifier, .t1 = r->at });
	if (idg_state_commit(d->st, &c, err, sizeof(err)) < 0)
		log_err("offline credential of %s not kept: %s", r->name, err);
	else
		log_debug("offline credential of %s kept", r->name);
	idg_change_free(&c);
	remember_free(r);
}

/* A hash for name already waiting takes the newer password (and its time and pin): true. */
static bool
replace_waiting(struct idg_offline *o, struct remember *nr, char **password)
{
	bool done = false;

	pthread_mutex_lock(&o->mu);
	for (struct job *j = o->hashes.head; j; j = j->next) {
		struct remember *r = j->ctx;
		char *pw, *key;

		if (j->cb != on_hashed || strcmp(r->name, nr->name) != 0)
			continue;
		pw = j->password;
		j->password = *password;
		*password = pw;
		key = r->key;
		r->key = nr->key;
		nr->key = key;
		r->at = nr->at;
		done = true;
		break;
	}
	pthread_mutex_unlock(&o->mu);
	return done;
}

/* Dropped hashes: at once the first time, then at most once a minute (and from the tick). */
static void
tell_dropped(struct idg_offline *o, int64_t now_ms)
{
	uint64_t n = o->dropped - o->dropped_told;

	if (n == 0 || (o->dropped_told > 0 && now_ms < o->next_drop_log))
		return;
	log_warn("offline credentials: %llu not kept (%llu since idgated started): %d users' "
	    "hashes were waiting already, the most idgated queues; those users keep their "
	    "previous offline credential until their next online login",
	    (unsigned long long)n, (unsigned long long)o->dropped, HASHES_MAX);
	o->dropped_told = o->dropped;
	o->next_drop_log = now_ms + DROP_LOG_EVERY_MS;
}

void
idg_offline_remember(struct idg_daemon *d, const char *name, const char *password)
{
	const struct idg_user *u = idg_state_user(d->st, name);
	struct remember *r;
	struct job *j;
	int rc;

	if (d->cfg.pam_offline_ttl == 0 || u == NULL || u->key == NULL)
		return;
	if ((rc = start(d)) < 0) {
		log_err("offline credential of %s not kept: %s", name, idg_strerror(rc));
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->key = strdup(u->key)) == NULL ||
	    (j = job_new(password, &rc)) == NULL) {
		log_err("offline credential of %s not kept: %s", name, r && r->key ?
		    idg_strerror(rc) : "out of memory");
		remember_free(r);
		return;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->at = (int64_t)time(NULL);
	if (replace_waiting(d->offline, r, &j->password)) {
		job_free(j);	/* now holds the older password: wiped */
		remember_free(r);
		return;
	}
	if (d->offline->nhashes >= HASHES_MAX) {
		job_free(j);
		remember_free(r);
		d->offline->dropped++;
		tell_dropped(d->offline, idg_now_ms());
		return;
	}
	j->cb = on_hashed;
	j->ctx = r;
	enqueue(d->offline, &d->offline->hashes, j);
	d->offline->nhashes++;
}

/* Past [pam] offline_ttl: the credential is older than that by the clock. One dated in the
 * future (the clock was stepped back since it was made) has not expired: its age is
 * unknown, not large. */
static bool
expired(const struct idg_daemon *d, const struct idg_user *u, int64_t now)
{
	return d->cfg.pam_offline_ttl == 0 || now - u->offline_at >= d->cfg.pam_offline_ttl;
}

const char *
idg_offline_fresh(const struct idg_daemon *d, const struct idg_user *u, int64_t now)
{
	if (u == NULL || !u->live || u->offline == NULL || expired(d, u, now))
		return NULL;
	/* Dated in the future by less than offline_ttl: the clock went back since (an NTP step,
	 * a VM restored, a host that booted with a wrong clock) and it was made at most the
	 * step ago; it counts as fresh. Further ahead, its time means nothing: it is kept but
	 * not used until the clock is within offline_ttl of it. */
	if (u->offline_at - now >= d->cfg.pam_offline_ttl)
		return NULL;
	return u->offline;
}

bool
idg_offline_future(const struct idg_daemon *d, const struct idg_user *u, int64_t now)
{
	return u && u->live && u->offline && !expired(d, u, now) && u->offline_at > now;
}

void
idg_offline_tick(struct idg_daemon *d, int64_t now_ms)
{
	static int64_t next_purge;	/* one daemon per process */
	static size_t future_told;	/* how many were dated in the future when last said */
	int64_t now = (int64_t)time(NULL);
	struct idg_change c;
	size_t future = 0;
	char err[512];

	if (d->offline)
		tell_dropped(d->offline, now_ms);
	if (now_ms < next_purge)
		return;
	next_purge = now_ms + PURGE_EVERY_MS;
	idg_change_init(&c);
	for (size_t i = 0; i < d->st->nusers; i++) {
		const struct idg_user *u = &d->st->users[i];

		if (!u->live || u->offline == NULL)
			continue;
		if (expired(d, u, now))
			idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_OFFLINE_DEL,
			    .a = u->name });
		else if (u->offline_at > now)
			future++;
	}
	if (future > future_told)
		log_warn("offline credentials dated in the future: %zu (the clock was set back "
		    "since they were made); they are kept, and used while less than [pam] "
		    "offline_ttl ahead", future);
	future_told = future;
	if (c.n > 0) {
		if (idg_state_commit(d->st, &c, err, sizeof(err)) < 0)
			log_err("expired offline credentials not deleted: %s", err);
		else
			log_info("%zu expired offline credential%s deleted ([pam] offline_ttl)", c.n,
			    c.n == 1 ? "" : "s");
	}
	idg_change_free(&c);
}
