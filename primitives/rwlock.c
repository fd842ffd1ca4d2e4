/* SPDX-License-Identifier: MIT */
/*
 * primitives/rwlock.c: volt_rwlock, a semaphore of VOLT_SEMAPHORE_MAX
 * permits (primitives/semaphore.c): a reader takes one, a writer all of
 * them. The semaphore's single FIFO line gives the order: a writer waiting
 * for the readers ahead of it to leave holds the permits it has been handed
 * so far, and readers arriving after it queue behind it.
 */
#include "primitives/sync_internal.h"

#define WRITE VOLT_SEMAPHORE_MAX

int volt_rwlock_init(struct volt_rwlock *l)
{
	return volt_semaphore_init(&l->sem, WRITE);
}

void volt_rwlock_destroy(struct volt_rwlock *l)
{
	volt_semaphore_destroy(&l->sem);
}

bool volt_rwlock_try_read(struct volt_rwlock *l)
{
	return volt_semaphore_try_acquire(&l->sem, 1) == 0;
}

bool volt_rwlock_try_write(struct volt_rwlock *l)
{
	return volt_semaphore_try_acquire(&l->sem, WRITE) == 0;
}

void volt_rwlock_read_unlock(struct volt_rwlock *l)
{
	volt_semaphore_release(&l->sem, 1);
}

void volt_rwlock_write_unlock(struct volt_rwlock *l)
{
	volt_semaphore_release(&l->sem, WRITE);
}

struct volt_future *volt_rwlock_read(struct volt_acquire *a, struct volt_rwlock *l)
{
	return volt_semaphore_acquire(a, &l->sem, 1);
}

struct volt_future *volt_rwlock_write(struct volt_acquire *a, struct volt_rwlock *l)
{
	return volt_semaphore_acquire(a, &l->sem, WRITE);
}

int volt_rwlock_read_with(struct volt_rwlock *l, struct volt_sem_waiter *w,
			  const struct volt_waker *waker)
{
	return volt_semaphore_acquire_with(&l->sem, w, 1, waker);
}

int volt_rwlock_write_with(struct volt_rwlock *l, struct volt_sem_waiter *w,
			   const struct volt_waker *waker)
{
	return volt_semaphore_acquire_with(&l->sem, w, WRITE, waker);
}

void volt_rwlock_cancel(struct volt_rwlock *l, struct volt_sem_waiter *w)
{
	volt_semaphore_acquire_cancel(&l->sem, w);
}

int volt_rwlock_read_blocking(struct volt_rwlock *l)
{
	return volt_semaphore_acquire_blocking(&l->sem, 1);
}

int volt_rwlock_write_blocking(struct volt_rwlock *l)
{
	return volt_semaphore_acquire_blocking(&l->sem, WRITE);
}
