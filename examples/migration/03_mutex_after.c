/* SPDX-License-Identifier: MIT */
/*
 * 03_mutex_after.c: the same counter bumped by stackless tasks. The fast
 * path is volt_mutex_try_lock (one CAS); when the lock is taken the task
 * awaits volt_mutex_lock, a future with its place in line embedded in the
 * task's struct, so waiting allocates nothing and the worker runs other
 * tasks. docs/MIGRATION.md, step 3.
 */
#include <stdio.h>
#include <volt.h>

#define THREADS 4
#define ROUNDS 10000

static struct volt_mutex lock;
static long counter;

struct bump {
	struct volt_future base;
	struct volt_acquire acq; /* the lock future, reused each round */
	int i;
};

static enum volt_poll bump_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct bump *b = (struct bump *)f;

	VOLT_BEGIN(f);
	for (b->i = 0; b->i < ROUNDS; b->i++) {
		if (!volt_mutex_try_lock(&lock)) {
			VOLT_AWAIT(f, cx, volt_mutex_lock(&b->acq, &lock));
			if (b->acq.result != 0)
				VOLT_RETURN(f, cx, 1);
		}
		counter++;
		volt_mutex_unlock(&lock);
	}
	VOLT_RETURN(f, cx, 0);
	VOLT_END(f);
}

static const struct volt_future_ops bump_ops = { .poll = bump_poll };

static int app(struct volt_rt *rt, void *arg)
{
	struct bump b = { .base = VOLT_FUTURE_INIT(&bump_ops) };
	struct volt_join *t[THREADS];
	int bad = 0;

	(void)arg;
	for (int i = 0; i < THREADS; i++)
		if (volt_spawn(rt, &b.base, sizeof b, &t[i]) != 0)
			return 1;
	for (int i = 0; i < THREADS; i++) {
		void *out;

		if (volt_join_wait(t[i], &out) != 0 || out != NULL)
			bad = 1;
	}
	return bad;
}

int main(void)
{
	int err;

	if (volt_mutex_init(&lock) != 0)
		return 1;
	err = volt_run(app, NULL);
	volt_mutex_destroy(&lock);
	printf("result: counter = %ld\n", counter);
	return err == 0 && counter == (long)THREADS * ROUNDS ? 0 : 1;
}
