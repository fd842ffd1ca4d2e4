/* SPDX-License-Identifier: MIT */
/*
 * primitives/mutex.c: volt_mutex, a semaphore of one permit
 * (primitives/semaphore.c): FIFO, and unlock hands the lock to the first
 * waiter, so nobody barges in after a hand-off.
 */
#include "primitives/sync_internal.h"

int volt_mutex_init(struct volt_mutex *m)
{
	return volt_semaphore_init(&m->sem, 1);
}

void volt_mutex_destroy(struct volt_mutex *m)
{
	volt_semaphore_destroy(&m->sem);
}

bool volt_mutex_try_lock(struct volt_mutex *m)
{
	return volt_semaphore_try_acquire(&m->sem, 1) == 0;
}

void volt_mutex_unlock(struct volt_mutex *m)
{
	volt_semaphore_release(&m->sem, 1);
}

struct volt_future *volt_mutex_lock(struct volt_acquire *a, struct volt_mutex *m)
{
	return volt_semaphore_acquire(a, &m->sem, 1);
}

int volt_mutex_lock_with(struct volt_mutex *m, struct volt_sem_waiter *w,
			 const struct volt_waker *waker)
{
	return volt_semaphore_acquire_with(&m->sem, w, 1, waker);
}

void volt_mutex_lock_cancel(struct volt_mutex *m, struct volt_sem_waiter *w)
{
	volt_semaphore_acquire_cancel(&m->sem, w);
}

int volt_mutex_lock_blocking(struct volt_mutex *m)
{
	return volt_semaphore_acquire_blocking(&m->sem, 1);
}
