/* SPDX-License-Identifier: MIT */
/*
 * drivers/sim.h: the simulated network behind the `sim` I/O driver, shared
 * by its three files (docs/simulation.md is the user's guide):
 *
 *	drivers/sim.c		the driver (struct volt__driver_ops) and the
 *				system-call table (struct volt__sys) on the world
 *	drivers/sim_world.c	the world: sockets, connections as two byte
 *				queues, listeners and backlogs, the event queue
 *				on the runtime's clock, seeded faults, the trace
 *				hash
 *	drivers/sim_peers.c	scripted clients inside the world (echo, chat)
 *				that check every byte the program sends back
 *
 * The world is one structure under one mutex. Every entry point below is
 * called with that mutex held ("w locked"), except set-up and tear-down,
 * which say so; none blocks and none calls out of the world except to move
 * wakers into w->wakes, which the driver wakes after unlocking (a waker may
 * run arbitrary code).
 *
 * A run is a pure function of the seed when the runtime runs the `sim`
 * policy on the virtual clock: then one thread makes every call, in an
 * order the seed fixes, and every random choice of the world comes from
 * streams derived from the same seed. The trace hash folds in every call
 * that changes the world's state, with the virtual time it happened at.
 */
#ifndef VOLT_DRIVERS_SIM_H
#define VOLT_DRIVERS_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <volt.h>

#include "drivers/driver.h"

/* Simulated descriptors: BASE + index, far above anything the kernel hands
 * out (RLIMIT_NOFILE is at most 2^20), so they never meet a real one. */
#define VOLT__SIM_FD_BASE (1 << 29)

extern const struct volt__driver_ops volt__driver_sim;

/* The fault plan (VOLT_SIM_FAULTS). Probabilities are in [0, 1]. */
struct volt__sim_faults {
	double delay;          /* a segment, FIN or connect travels for a while */
	uint64_t delay_max_ns; /* ... between 1 ns and this */
	double shortio;        /* a read or write moves 1..n of its n bytes */
	double reset;          /* a connection is reset at a seeded transfer */
	uint32_t reset_ops;    /* ... the k-th, k in 1..reset_ops */
	double refuse;         /* a connect finds a listener and is refused anyway */
	double drop;           /* accept takes a connection and it is aborted */
	size_t cap;            /* bytes one direction holds: seeded in [cap/4, cap] */
};

/* What a run did (the summary line; volt__sim_stats). */
struct volt__sim_stats {
	uint64_t connections;   /* connections established (entered a backlog) */
	uint64_t bytes_checked; /* bytes the scripted peers verified */
	uint64_t resets;        /* connections reset, for any reason */
	uint64_t faults;        /* faults injected (each delay, short transfer...) */
	uint64_t errors;        /* checks that failed */
	uint64_t hash;          /* the trace hash */
	uint64_t steps;         /* state changes folded into the hash */
	uint64_t peers_left;    /* scripted peers that have not finished */
};

/*
 * The statistics of rt's world so far: 0, or -EINVAL if rt does not run
 * the sim driver. For tests; safe from any thread.
 */
int volt__sim_stats(struct volt_rt *rt, struct volt__sim_stats *out);

/*
 * The final statistics of the last sim world freed in this process (after
 * the drain, unfinished peers counted as errors): 0, or -ENOENT if none
 * was. For tests that compare whole runs.
 */
int volt__sim_last_stats(struct volt__sim_stats *out);

/* ------------------------------------------------------------ the world */

struct volt__sim_sock;
struct volt__sim_conn;
struct volt__sim_peers;

struct volt__sim_event {
	uint64_t at, seq; /* ordered by (at, seq): ties in the order they were made */
	uint32_t kind, a, b;
};

struct volt__sim_world {
	pthread_mutex_t lock;
	struct volt_rt *rt;
	uint64_t seed;
	uint64_t rng;  /* the fault stream */
	uint64_t now;  /* the clock, read at the entry point's start */
	uint64_t tick; /* state changes so far: an order finer than the clock */
	struct volt__sim_faults f;
	struct volt__sim_stats st;
	struct volt__sim_sock **socks; /* by fd - VOLT__SIM_FD_BASE; NULL once closed */
	size_t nsocks, capsocks;
	struct volt__sim_conn **conns; /* by id; NULL once both ends are gone */
	size_t nconns, capconns;
	struct volt__sim_event *heap;  /* a binary min-heap */
	size_t nev, capev;
	uint64_t evseq;
	bool earlier;                  /* an event now comes first that did not */
	uint32_t next_port;            /* the next ephemeral port */
	struct volt_waker *wakes;      /* to wake once the lock is dropped */
	size_t nwakes, capwakes;
	int first_listener;            /* the peers' target (fd), or -1 */
	struct volt__sim_peers *peers; /* NULL: no scripted peers */
	unsigned reported;             /* error lines printed so far */
};

/* Parses VOLT_SIM_FAULTS ("delay=0.2,short=0.3,..."); NULL or "" is no
 * fault. 0 or -EINVAL (not locked: no world yet). */
int volt__sim_faults_parse(const char *spec, struct volt__sim_faults *out);

/* Sets up the world of rt (not locked: alone). 0 or -ENOMEM. */
int volt__sim_world_init(struct volt__sim_world *w, struct volt_rt *rt, uint64_t seed,
			 const struct volt__sim_faults *f);
/*
 * After the program: runs every event left, moving the world's own clock
 * from one to the next, so that what is in flight reaches the peers and
 * they finish (a server closes as soon as it has written its last bytes).
 * Not locked: alone, once the runtime's workers are gone.
 */
void volt__sim_world_drain(struct volt__sim_world *w);

/* Closes every socket left and frees the world (not locked: alone). */
void volt__sim_world_fini(struct volt__sim_world *w);

/* Reads the clock into w->now; the entry points call it first. */
void volt__sim_clock(struct volt__sim_world *w);

/* The system calls, on simulated descriptors (w locked): libc's results,
 * errors as -errno. `peer` of socket(): 0 for the program, else 1 + the
 * scripted peer that owns it (its wake-ups become that peer's steps). */
int volt__sim_socket(struct volt__sim_world *w, int domain, int type, unsigned peer);
int volt__sim_bind(struct volt__sim_world *w, int fd, const struct sockaddr *a, socklen_t len);
int volt__sim_listen(struct volt__sim_world *w, int fd, int backlog);
int volt__sim_accept(struct volt__sim_world *w, int fd, struct sockaddr *a, socklen_t *len);
int volt__sim_connect(struct volt__sim_world *w, int fd, const struct sockaddr *a,
		      socklen_t len);
ssize_t volt__sim_recv(struct volt__sim_world *w, int fd, void *buf, size_t len, int flags);
ssize_t volt__sim_send(struct volt__sim_world *w, int fd, const void *buf, size_t len);
int volt__sim_shutdown(struct volt__sim_world *w, int fd, int how);
int volt__sim_close(struct volt__sim_world *w, int fd);
int volt__sim_name(struct volt__sim_world *w, int fd, bool peer, struct sockaddr *a,
		   socklen_t *len);
int volt__sim_getsockopt(struct volt__sim_world *w, int fd, int level, int name, void *v,
			 socklen_t *len);
int volt__sim_setsockopt(struct volt__sim_world *w, int fd, int level, int name,
			 const void *v, socklen_t len);

/* The socket behind fd, or NULL. */
struct volt__sim_sock *volt__sim_sock(struct volt__sim_world *w, int fd);

/* Readiness waits of the program's operations (the driver's op_poll). */
uint64_t volt__sim_changes(struct volt__sim_sock *s);
void volt__sim_wait(struct volt__sim_world *w, struct volt__sim_sock *s, unsigned dir,
		    struct volt_waiter *waiter, const struct volt_waker *waker);
/* Unlinks waiter if linked; its waker is moved into *stale. */
void volt__sim_unwait(struct volt__sim_sock *s, unsigned dir, struct volt_waiter *waiter,
		      struct volt_waker *stale);
/* Wakes every operation waiting on s (its close is coming). */
void volt__sim_wake_all(struct volt__sim_world *w, struct volt__sim_sock *s);

/* Runs every event due by w->now; returns how many wakers it queued. */
size_t volt__sim_run_due(struct volt__sim_world *w);
/* The time of the next event (UINT64_MAX: none). */
uint64_t volt__sim_next_event(const struct volt__sim_world *w);

/* Folds one state change into the trace hash. */
void volt__sim_trace(struct volt__sim_world *w, uint32_t what, uint64_t a, uint64_t b);

/* Schedules peer `idx` to step at `at` (0 or -ENOMEM); `poke`: a poke's step. */
int volt__sim_peer_at(struct volt__sim_world *w, unsigned idx, uint64_t at, bool poke);

/* Counts an error and prints it (the first few) as "sim: seed S: ...". */
void volt__sim_error(struct volt__sim_world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What peers may ask of their own sockets (w locked). */
bool volt__sim_connecting(struct volt__sim_world *w, int fd, int *err);
/* The connection of a stream socket: accepted by the program? reset? */
bool volt__sim_conn_state(struct volt__sim_world *w, int fd, bool *accepted, bool *reset);
uint64_t volt__sim_rand(uint64_t *stream);

/* -------------------------------------------------------- the peers */

/* Parses VOLT_SIM_PEERS ("echo:50", "chat:8", "echo:50:65536") and makes
 * the peers' scripts; NULL or "": none. 0, -EINVAL or -ENOMEM (set-up). */
int volt__sim_peers_new(struct volt__sim_world *w, const char *spec);
/* The program listened and accepts on `target`: the peers' clocks start. */
void volt__sim_peers_start(struct volt__sim_world *w, const struct volt_addr *target);
/* One step of peer idx: what its script and its sockets allow now. */
void volt__sim_peer_step(struct volt__sim_world *w, unsigned idx, bool poke);
/* A socket of peer idx changed: step it soon (at w->now). */
void volt__sim_peer_poke(struct volt__sim_world *w, unsigned idx);
/* Peers that have not finished yet (w locked). */
unsigned volt__sim_peers_left(const struct volt__sim_world *w);
/* Counts peers that did not finish as errors; frees them (alone). */
void volt__sim_peers_fini(struct volt__sim_world *w);

#endif /* VOLT_DRIVERS_SIM_H */
