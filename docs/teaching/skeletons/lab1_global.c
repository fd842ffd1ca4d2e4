/* SPDX-License-Identifier: MIT */
/*
 * docs/teaching/skeletons/lab1_global.c: lab 1, a global-queue policy.
 *
 * The simplest scheduler that works: every runnable task waits in one FIFO
 * shared by all workers, behind one mutex. Every spawn, wake and pop takes
 * that lock, which is why it does not scale, and why labs 2 and 3 exist.
 *
 * What to write (docs/teaching/lab1-global-queue.md walks through it):
 * - struct lab: the queue, a linked list through each task's `next` field
 *   (the policy owns `next` while the task is queued), its mutex, and a
 *   length that has_work() may read without the lock;
 * - init/fini, push (append at the tail), pop (take from the head), has_work.
 * The contract each function must keep is in schedulers/sched.h; read it.
 * Test it: make lab-quick LAB_SRC=<this file>, then make lab LAB_SRC=...
 * The answer key: schedulers/global.c with schedulers/injector.c.
 *
 * Every part still to write calls lab_todo(), which names it and aborts, so
 * an unfinished policy fails each test at once instead of hanging it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/task.h"
#include "schedulers/sched.h"

/* A part of the lab still to write: says which, and ends the test (unused
 * once every part is written). */
static _Noreturn __attribute__((unused)) void lab_todo(const char *what)
{
	fprintf(stderr, "lab: %s is not written yet (%s)\n", what, __FILE__);
	abort();
}

struct lab {
	pthread_mutex_t lock;
	struct volt__task *head, *tail; /* under lock; linked through next */
	_Atomic size_t len;             /* written under lock, read without it */
	struct volt__metrics *metrics;  /* metrics[w]: count global_pops here */
};

/* Allocates and fills *state; 0 or -ENOMEM. Must fail cleanly: the suite
 * makes allocations fail on purpose (tests/test_alloc_fail.c). */
static int lab_init(void **state, const struct volt__sched_env *env)
{
	(void)state;
	(void)env;
	lab_todo("init()");
}

/* Frees what init allocated. Tasks still queued are not yours to free. */
static void lab_fini(void *state)
{
	(void)state;
	lab_todo("fini()");
}

/* Any thread: appends t. True: another worker may have to be woken for it. */
static bool lab_push(void *state, int w, struct volt__task *t, enum volt__push how)
{
	(void)state;
	(void)w;
	(void)t;
	(void)how;
	lab_todo("push()");
}

/* Worker w: the oldest task, or NULL. There is no LIFO slot: *lifo = false. */
static struct volt__task *lab_pop(void *state, unsigned w, bool global_first, bool *lifo)
{
	(void)state;
	(void)w;
	(void)global_first;
	(void)lifo;
	lab_todo("pop()");
}

/* Any worker: is a task waiting? Must see every push that happened-before. */
static bool lab_has_work(void *state)
{
	(void)state;
	lab_todo("has_work()");
}

const struct volt__sched_ops volt__sched_lab = {
	.name = "lab",
	.workers = NULL,
	.init = lab_init,
	.fini = lab_fini,
	.push = lab_push,
	.pop = lab_pop,
	.steal = NULL, /* one queue: nothing to steal from */
	.has_work = lab_has_work,
};
