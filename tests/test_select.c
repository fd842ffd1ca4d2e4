/* SPDX-License-Identifier: MIT */
/*
 * tests/test_select.c: select over channel receives: bad input and the
 * branch limit; fairness (two always-ready branches are each chosen about
 * half the time, neither starves); under every policy, a task selecting
 * over three channels gets the branch a message arrives on, a closed
 * branch reports closed, and messages on the other branches are not lost.
 */
#include <errno.h>

#include "helpers.h"

VOLT_TEST(select_bad_input_and_limit)
{
	struct volt_select s;
	struct volt_chan *ch;
	uint64_t out;

	CHECK_EQ(volt_select_init(NULL, 1), -EINVAL);
	CHECK_OK(volt_select_init(&s, 1));
	CHECK_EQ(volt_select_try(&s), -EINVAL); /* no branch */
	CHECK_EQ(volt_select_blocking(&s), -EINVAL);
	CHECK_OK(volt_chan_new(sizeof(uint64_t), 1, NULL, &ch));
	CHECK_EQ(volt_select_add_recv(&s, NULL, &out), -EINVAL);
	for (int i = 0; i < VOLT_SELECT_MAX; i++)
		CHECK_EQ(volt_select_add_recv(&s, ch, &out), i);
	CHECK_EQ(volt_select_add_recv(&s, ch, &out), -ENOSPC);
	CHECK_EQ(volt_select_try(&s), -EAGAIN);
	volt_chan_free(ch);
}

VOLT_TEST(select_fair_between_ready_branches)
{
	struct volt_chan *a, *b;
	struct volt_select s;
	uint64_t va, vb, one = 1;
	int count[2] = { 0, 0 };

	CHECK_OK(volt_chan_new(sizeof(uint64_t), 4, NULL, &a));
	CHECK_OK(volt_chan_new(sizeof(uint64_t), 4, NULL, &b));
	CHECK_OK(volt_select_init(&s, 12345));
	CHECK_EQ(volt_select_add_recv(&s, a, &va), 0);
	CHECK_EQ(volt_select_add_recv(&s, b, &vb), 1);
	for (int i = 0; i < 10000; i++) {
		/* both always ready */
		while (volt_chan_try_send(a, &one) == VOLT_CHAN_OK)
			;
		while (volt_chan_try_send(b, &one) == VOLT_CHAN_OK)
			;
		int r = i % 2 ? volt_select_try(&s) : volt_select_blocking(&s);

		CHECK(r == 0 || r == 1);
		CHECK_EQ(s.result, VOLT_CHAN_OK);
		count[r]++;
	}
	CHECK_GT(count[0], 3000);
	CHECK_GT(count[1], 3000);
	volt_chan_free(a);
	volt_chan_free(b);
}

struct selector {
	struct volt_future base;
	struct volt_select s;  /* its out[] point at memory outside the task */
	int *branch, *result;
};

static enum volt_poll selector_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct selector *sel = (struct selector *)f;

	VOLT_BEGIN(f);
	VOLT_AWAIT(f, cx, volt_select_wait(&sel->s));
	*sel->branch = sel->s.ready;
	*sel->result = sel->s.result;
	VOLT_END(f);
}

static const struct volt_future_ops selector_ops = { .poll = selector_poll };

VOLT_RT_TEST(select_waits_for_the_first_branch)
{
	struct volt_rt *rt = vt_rt_new(policy, 2);
	struct volt_chan *ch[3];
	uint64_t outs[3] = { 0, 0, 0 }, v;
	int branch = -1, result = -1;
	struct selector sel = { .base = VOLT_FUTURE_INIT(&selector_ops), .branch = &branch,
				.result = &result };
	struct volt_join *j;

	CHECK_OK(volt_select_init(&sel.s, 7));
	for (int i = 0; i < 3; i++) {
		CHECK_OK(volt_chan_new(sizeof(uint64_t), 2, NULL, &ch[i]));
		CHECK_EQ(volt_select_add_recv(&sel.s, ch[i], &outs[i]), i);
	}
	j = vt_spawn(rt, &sel, sizeof sel, false);
	vt_sleep_us(2000);
	v = 42;
	CHECK_EQ(volt_chan_try_send(ch[1], &v), VOLT_CHAN_OK);
	vt_join(j);
	CHECK_EQ(branch, 1);
	CHECK_EQ(result, VOLT_CHAN_OK);
	CHECK_UEQ(outs[1], 42);
	/* a message to a losing branch is still there for the next receive */
	v = 7;
	CHECK_EQ(volt_chan_try_send(ch[2], &v), VOLT_CHAN_OK);
	CHECK_EQ(volt_chan_try_recv(ch[2], &v), VOLT_CHAN_OK);
	CHECK_UEQ(v, 7);
	/* a closed branch completes the select with closed */
	j = vt_spawn(rt, &sel, sizeof sel, false);
	vt_sleep_us(2000);
	volt_chan_close(ch[0]);
	vt_join(j);
	CHECK_EQ(branch, 0);
	CHECK_EQ(result, VOLT_CHAN_CLOSED);
	/* a select cancelled while it waits leaves no waiter behind */
	CHECK_OK(volt_select_init(&sel.s, 9));
	CHECK_EQ(volt_select_add_recv(&sel.s, ch[1], &outs[1]), 0);
	CHECK_EQ(volt_select_add_recv(&sel.s, ch[2], &outs[2]), 1);
	j = vt_spawn(rt, &sel, sizeof sel, false);
	vt_sleep_us(2000);
	volt_join_cancel(j);
	(void)volt_join_wait(j, NULL);
	v = 9;
	CHECK_EQ(volt_chan_try_send(ch[2], &v), VOLT_CHAN_OK);
	CHECK_EQ(volt_chan_try_recv(ch[2], &v), VOLT_CHAN_OK);
	CHECK_UEQ(v, 9);
	for (int i = 0; i < 3; i++)
		volt_chan_free(ch[i]);
	volt_rt_free(rt);
}
