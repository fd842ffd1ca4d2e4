/* SPDX-License-Identifier: MIT */
/*
 * net/resolve.c: name resolution: volt_resolve_first (getaddrinfo on the
 * calling thread) and the volt_resolve future (the same on the blocking
 * pool).
 *
 * Hints: AF_UNSPEC, SOCK_STREAM, AI_NUMERICSERV, and no AI_ADDRCONFIG: with
 * only a loopback interface configured, AI_ADDRCONFIG makes glibc drop every
 * address, "localhost" included.
 *
 * The future. volt_resolve allocates a job that owns everything the lookup
 * touches: the copy of the host, the port, the answer slot and the
 * blocking-pool future that waits for it. The task's future only points at
 * the job, so volt_spawn may copy it freely, and nothing on the pool thread
 * ever points back into it. The job is submitted at the first poll; the
 * pool's handle tells when it has finished (ran, or was cancelled by a
 * shutdown before it ran) and after that the pool no longer touches it.
 *
 * Who frees the job:
 * - never submitted (dropped before its first poll, or the submission
 *   failed): the future, at once;
 * - completed while the future waits: the future, in the poll that sees it;
 * - the future is dropped while the lookup is queued or running: the hand-
 *   off (volt__blocking_orphan, core/blocking.c). The drop polls the pool
 *   future once more with an "orphan" waker that names the job. If the job already finished, the drop frees it.
 *   Otherwise the pool now holds that waker, and wakes it exactly once when
 *   the job finishes or is cancelled (blocking.h: a queued job cancelled at
 *   shutdown reports to whoever waits); its wake releases the handle and
 *   frees the job. The pool's lock orders the drop's poll against the job's
 *   completion, so exactly one side frees.
 * volt__resolve_jobs counts live jobs, for the tests.
 */
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volt/blocking.h"
#include "volt/net.h"
#include "volt/runtime.h"
#include "core/blocking.h"

enum resolve_state {
	RS_INIT = 0,  /* job allocated (or f->result set), not submitted */
	RS_WAITING,   /* job on the pool; job->bf awaits it */
	RS_DONE,      /* result set, job released */
};

struct resolve_job {
	struct volt_blocking_future bf; /* waits for the pool; heap, so never moves */
	struct volt_addr addr;          /* the answer */
	int result;                     /* written by the lookup */
	uint16_t port;
	char host[];                    /* the caller's host, copied */
};

_Atomic long volt__resolve_jobs; /* live jobs; internal, read by tests */

/* ---- the lookup */

/*
 * getaddrinfo's error as the contract's: VOLT_EAI(x), or for EAI_SYSTEM the
 * -errno behind it (e, read right after the call; -EIO if it is not set).
 * Internal; tests/test_bad_input.c checks the mapping.
 */
int volt__eai_error(int eai, int e);

int volt__eai_error(int eai, int e)
{
	if (eai == EAI_SYSTEM)
		return e > 0 ? -e : -EIO;
	if (!VOLT_IS_EAI(VOLT_EAI(eai)))
		return VOLT_EAI(EAI_FAIL); /* a code outside the range (none on glibc) */
	return VOLT_EAI(eai);
}

int volt_resolve_first(const char *host, uint16_t port, struct volt_addr *out)
{
	struct addrinfo hints, *res, *ai;
	char service[8];
	int err;

	if (!host || !host[0] || !out)
		return -EINVAL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	err = getaddrinfo(host, service, &hints, &res);
	if (err)
		return volt__eai_error(err, errno);
	err = VOLT_EAI(EAI_NONAME);
	for (ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(out->u))
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(&out->u, ai->ai_addr, ai->ai_addrlen);
		out->len = ai->ai_addrlen;
		err = 0;
		break;
	}
	freeaddrinfo(res);
	return err;
}

/* ---- the job */

static struct resolve_job *job_new(const char *host, uint16_t port)
{
	size_t n = strlen(host) + 1;
	struct resolve_job *job = malloc(sizeof(*job) + n);

	if (!job)
		return NULL;
	memset(job, 0, sizeof(*job));
	job->port = port;
	memcpy(job->host, host, n);
	atomic_fetch_add(&volt__resolve_jobs, 1);
	return job;
}

static void job_free(struct resolve_job *job)
{
	free(job);
	atomic_fetch_sub(&volt__resolve_jobs, 1);
}

/* Runs on a pool thread. */
static void *job_run(void *arg)
{
	struct resolve_job *job = arg;

	job->result = volt_resolve_first(job->host, job->port, &job->addr);
	return NULL;
}

/* An orphan's release (volt__blocking_orphan): the pool is done with the job. */
static void job_release(struct volt_blocking_future *bf)
{
	struct resolve_job *job = (struct resolve_job *)bf; /* bf is its first member */

	volt_future_drop(&job->bf.base); /* releases the pool handle */
	job_free(job);
}

/* ---- the future */

/* Takes the pool's answer into f and frees the job. */
static void finish(struct volt_resolve *f, struct resolve_job *job)
{
	if (job->bf.result)
		f->result = job->bf.result; /* -ECANCELED: shut down before it ran */
	else
		f->result = job->result;
	if (f->result == 0)
		*f->out = job->addr;
	volt_future_drop(&job->bf.base); /* no-op if resolved inline */
	job_free(job);
	f->job = NULL;
	f->state = RS_DONE;
}

/* Submits the job; 0, or the error that ends the future. */
static int submit(struct volt_resolve *f, struct resolve_job *job, struct volt_cx *cx)
{
	struct volt_rt *rt = f->rt ? f->rt : cx->rt ? cx->rt : volt_rt_current();
	struct volt_blocking *h;
	int err;

	if (!rt) {
		/* volt_block_on(NULL, ...) on a plain thread: it may block */
		job_run(job); /* job->bf stays unset (no handle) */
		return 0;
	}
	err = volt_concurrent(rt, job_run, job, &h);
	if (err)
		return err == -ESHUTDOWN ? -ECANCELED : err;
	volt_blocking_await(&job->bf, h);
	return 0;
}

static enum volt_poll resolve_poll(struct volt_future *base, struct volt_cx *cx)
{
	struct volt_resolve *f = (struct volt_resolve *)base;
	struct resolve_job *job = f->job;
	int err;

	if (f->state == RS_DONE)
		return VOLT_READY;
	if (f->state == RS_INIT) {
		if (!job) {
			f->state = RS_DONE; /* f->result holds the error */
			return VOLT_READY;
		}
		err = submit(f, job, cx);
		if (err) {
			job_free(job);
			f->job = NULL;
			f->result = err;
			f->state = RS_DONE;
			return VOLT_READY;
		}
		if (!job->bf.h) { /* resolved inline */
			finish(f, job);
			return VOLT_READY;
		}
		f->state = RS_WAITING;
	}
	if (volt_future_poll(&job->bf.base, cx) == VOLT_PENDING)
		return VOLT_PENDING;
	finish(f, job);
	return VOLT_READY;
}

static void resolve_drop(struct volt_future *base)
{
	struct volt_resolve *f = (struct volt_resolve *)base;
	struct resolve_job *job = f->job;

	if (!job)
		return;
	f->job = NULL;
	if (f->state != RS_WAITING) {
		job_free(job);
		return;
	}
	volt__blocking_orphan(&job->bf, f->rt, job_release);
}

static const struct volt_future_ops resolve_ops = { .poll = resolve_poll, .drop = resolve_drop };

struct volt_future *volt_resolve(struct volt_resolve *f, struct volt_rt *rt, const char *host,
				 uint16_t port, struct volt_addr *out)
{
	volt_future_init(&f->base, &resolve_ops);
	f->rt = rt;
	f->job = NULL;
	f->out = out;
	f->result = 0;
	f->state = RS_INIT;
	if (!host || !host[0] || !out) {
		f->result = -EINVAL;
		return &f->base;
	}
	f->job = job_new(host, port);
	if (!f->job)
		f->result = -ENOMEM;
	return &f->base;
}
