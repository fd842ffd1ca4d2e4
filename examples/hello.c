/* hello.c: start a runtime, spawn one task, wait for what it returns. */
#include <stdint.h>
#include <stdio.h>
#include <volt.h>

static void *greet(void *who)
{
	printf("hello, %s, from worker %d\n", (const char *)who, volt_worker_index());
	return (void *)(uintptr_t)42;
}

static int app(struct volt_rt *rt, void *arg)
{
	struct volt_join *task;
	void *out;

	if (volt_spawn_fn(rt, greet, arg, &task) != 0 || volt_join_wait(task, &out) != 0)
		return 1;
	printf("the task returned %d (policy %s, %u workers)\n", (int)(uintptr_t)out,
	       volt_rt_scheduler(rt), volt_rt_workers(rt));
	return 0;
}

int main(void)
{
	return volt_run(app, "world") == 0 ? 0 : 1;
}
