# Volt-C build. `make help` lists the targets.
#
# One rule set (the `tree` template below) builds the library and the test
# runner in each of several trees: build/ (release), build/tsan/,
# build/asan/ and build/clang/. Each tree has its own objects, static
# library and flags; a tree rebuilds when its compiler or flags change.

SELF := $(lastword $(MAKEFILE_LIST))
.DEFAULT_GOAL := all
MAKEFLAGS += -r
.DELETE_ON_ERROR:
.SUFFIXES:

# ---------------------------------------------------------------- settings

ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang
AR ?= ar

# The version has one home: include/volt/common.h.
version_part = $(shell sed -n 's/^\#define VOLT_VERSION_$(1)[[:space:]]*\([0-9]*\).*/\1/p' include/volt/common.h)
MAJOR := $(call version_part,MAJOR)
MINOR := $(call version_part,MINOR)
PATCH := $(call version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)

# CFLAGS and WARNFLAGS may be overridden; EXTRA_CFLAGS adds to every tree.
# VOLT_CFLAGS is what the code needs and is always used.
CFLAGS ?= -O2 -g
WARNFLAGS ?= -Wall -Wextra -Werror
VOLT_CFLAGS := -std=c11 -fvisibility=hidden -fPIC -D_GNU_SOURCE -pthread -I. -Iinclude
SAN_CFLAGS := -O1 -g -DVOLT_SANITIZE=1
TSAN_CFLAGS := $(SAN_CFLAGS) -fsanitize=thread
ASAN_CFLAGS := $(SAN_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# hwloc: topology discovery and pinning (core/topology.c); liburing: drivers/uring.c.
LDLIBS += -lhwloc -luring -pthread

TSAN_ENV := TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1'
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Arguments for the test runner (name filters), and a hard limit per run
# so that a deadlock fails instead of hanging.
TESTARGS ?=
TEST_TIMEOUT ?= 600

# Installation (liburing style: both PREFIX and prefix are accepted).
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
libdir ?= $(prefix)/lib
includedir ?= $(prefix)/include
DESTDIR ?=

# Debian packages each group of targets needs (checked by scripts/deps.sh).
DEPS := gcc make pkg-config libc6-dev coreutils libhwloc-dev liburing-dev python3 curl
# gcc's sanitizer runtimes (gcc-12 pulls them in through libgcc-12-dev).
SAN_DEPS := $(DEPS) libasan8 liblsan0 libtsan2 libubsan1
CLANG_DEPS := $(DEPS) clang
CROSS_DEPS := $(DEPS) gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
# `make compare`: the Tokio peer (Debian's vendored crates, built offline; cargo
# is the fallback when no cargo is on PATH), the Go peer and the libuv peer.
COMPARE_DEPS := $(DEPS) librust-tokio-dev cargo golang-go libuv1-dev
# `make plots` (gnuplot) and `make paper` (pandoc; a PDF only where pdflatex is).
PLOTS_DEPS := python3 gnuplot-nox
PAPER_DEPS := $(PLOTS_DEPS) pandoc
SUITE ?= quick
RESUME ?= 0
# `make reproduce`: the peers, the figures, lstopo for the fingerprint, and wrk
# (E11's HTTP load).
REPRO_DEPS := $(COMPARE_DEPS) gnuplot-nox hwloc wrk
# `make bench-micro` and build/experiments/sync_bench (E19): the one C++ program,
# on Google Benchmark. Not needed by `make all` or `make test`.
BENCH_DEPS := $(DEPS) g++ libbenchmark-dev
# The results the figures and the paper are drawn from.
RESULTS ?= $(if $(wildcard results/quick/summary.csv),results/quick,results/reference)

# ------------------------------------------------------------------ sources

LIB_SRC := $(wildcard core/*.c schedulers/*.c drivers/*.c primitives/*.c net/*.c io/*.c fs/*.c process/*.c core/*.S)
TEST_SRC := $(wildcard tests/*.c)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXPERIMENT_SRC := $(wildcard experiments/*.c)
PUBLIC_HDRS := include/volt.h $(wildcard include/volt/*.h)

B := build
LIB_A := $(B)/libvolt.a
LIB_SO := $(B)/libvolt.so.$(VERSION)
LIB_LINKS := $(B)/libvolt.so.$(MAJOR) $(B)/libvolt.so
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLE_SRC))
EXPERIMENTS := $(patsubst experiments/%.c,$(B)/experiments/%,$(EXPERIMENT_SRC))
# E15's memory-order ablation: deque_bench against the build/fences/ library tree.
EXPERIMENTS += $(B)/experiments/deque_bench_fences
STAGE := $(CURDIR)/$(B)/stage

# ------------------------------------------------------------- the template

# $(call tree,NAME,DIR,CC,FLAGS[,TEST_SRCS,TEST_BIN]) defines, for one build tree:
#   NAME_LIB (DIR/libvolt.a), NAME_TEST (DIR/TEST_BIN, by default
#   DIR/tests/volt-test, linked from TEST_SRCS, by default tests/*.c), NAME_OBJ,
#   and the rules that build them from DIR/obj/.
define tree
$(1)_FLAGS := $(4)
$(1)_OBJ := $$(patsubst %,$(2)/obj/%.o,$$(basename $$(LIB_SRC)))
$(1)_TEST_OBJ := $$(patsubst %,$(2)/obj/%.o,$$(basename $(if $(5),$(5),$$(TEST_SRC))))
$(1)_LIB := $(2)/libvolt.a
$(1)_TEST := $(2)/$(if $(6),$(6),tests/volt-test)

# Rewritten only when the compiler or flags differ from the last build.
$(2)/flags: FORCE
	@mkdir -p $$(@D)
	@echo '$(3) $$($(1)_FLAGS)' | cmp -s - $$@ || echo '$(3) $$($(1)_FLAGS)' > $$@

$(2)/obj/%.o: %.c $(2)/flags
	@mkdir -p $$(@D)
	$(3) $$($(1)_FLAGS) $$(CPPFLAGS) -MMD -MP -c -o $$@ $$<

$(2)/obj/%.o: %.S $(2)/flags
	@mkdir -p $$(@D)
	$(3) $$($(1)_FLAGS) $$(CPPFLAGS) -MMD -MP -c -o $$@ $$<

$$($(1)_LIB): $$($(1)_OBJ)
	@rm -f $$@
	$$(AR) rcs $$@ $$^

$$($(1)_TEST): $$($(1)_TEST_OBJ) $$($(1)_LIB)
	@mkdir -p $$(@D)
	$(3) $$($(1)_FLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)

-include $$($(1)_OBJ:.o=.d) $$($(1)_TEST_OBJ:.o=.d)
endef

# $(call run_tests,NAME,ENV): runs a tree's test runner; fails with it.
run_tests = $(2) timeout -k 10 $(TEST_TIMEOUT) ./$($(1)_TEST) $(TESTARGS)

$(eval $(call tree,rel,$(B),$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)))
$(eval $(call tree,tsan,$(B)/tsan,$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(TSAN_CFLAGS) $(EXTRA_CFLAGS)))
$(eval $(call tree,asan,$(B)/asan,$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(ASAN_CFLAGS) $(EXTRA_CFLAGS)))
$(eval $(call tree,clang,$(B)/clang,$(CLANG),$(VOLT_CFLAGS) $(filter-out -Werror,$(WARNFLAGS)) -Werror $(CFLAGS) $(EXTRA_CFLAGS)))

# Allocation-failure injection (tests/alloc_fault.c): the test runners route
# the allocators, mmap and pthread_create through counting wrappers that can
# fail the n-th call. Only the runners: libvolt.so and the examples link as
# they are. (A runner linked without these flags still links; its
# allocation-failure tests skip.)
ALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free \
	-Wl,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=strdup,--wrap=strndup \
	-Wl,--wrap=mmap,--wrap=munmap,--wrap=pthread_create
$(rel_TEST) $(tsan_TEST) $(asan_TEST) $(clang_TEST): LDLIBS += $(ALLOC_WRAP)

# The queue model checker (tests/model, docs/model-checking.md): build/model/
# is the library with a scheduling point before every atomic op (VOLT_CHAOS)
# and build/model/volt-model; each planted bug gets its own tree,
# build/mutant-NAME/, built with -DVOLT_MUTANT_<NAME in capitals>.
MODEL_SRC := $(wildcard tests/model/*.c)
MODEL_CFLAGS := -O1 -g -DVOLT_CHAOS
MUTANTS := ring_pop_no_cas ring_slot_stolen_twice ring_steal_no_guard chaselev_last_no_cas \
	chaselev_grow_old_array sem_release_ignores_waiters sem_cancel_keeps_handed \
	sem_cancel_granted_leaks notify_wait_no_cas notify_cancel_drops_permit \
	barrier_cancel_keeps_count once_queue_no_recheck once_cancel_drops_turn \
	vyukov_pop_no_seq_check vyukov_push_publish_before_copy vyukov_close_ignored_by_push \
	chan_wait_no_recheck chan_cancel_drops_wake chan_close_wakes_receivers_only
MUTANT_MACROS := $(shell echo $(MUTANTS) | tr a-z A-Z)
model_tree = $(call tree,$(1),$(2),$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(MODEL_CFLAGS) $(3) \
	$(EXTRA_CFLAGS),$(MODEL_SRC),volt-model)
mutant_tree = $(call model_tree,mutant_$(1),$(B)/mutant-$(subst _,-,$(1)),-DVOLT_MUTANT_$(2))
$(eval $(call model_tree,model,$(B)/model))
$(foreach p,$(join $(addsuffix :,$(MUTANTS)),$(MUTANT_MACROS)),\
	$(eval $(call mutant_tree,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))
MODEL_TREES := model $(addprefix mutant_,$(MUTANTS))
MODEL_BINS := $(foreach t,$(MODEL_TREES),$($(t)_TEST))
# Model threads must not sleep on a lock: the scheduler wraps lock and unlock.
$(MODEL_BINS): LDLIBS += -Wl,--wrap=pthread_mutex_lock,--wrap=pthread_mutex_unlock

# The chaos build (core/chaos.c, tests/chaos/): the library and the test
# runner with a seeded yield, spin or sleep at some atomic ops, on real
# threads: build/chaos/, and build/chaos-tsan/ for CHAOS_TSAN=1 (the same
# under ThreadSanitizer). `make test-chaos` runs the concurrency tests that
# CHAOS_TESTS names over CHAOS_SEEDS random seeds (3: about 3 minutes here).
CHAOS_CFLAGS := -O1 -g -DVOLT_CHAOS -DVOLT_CHAOS_RANDOM
$(eval $(call tree,chaos,$(B)/chaos,$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(CHAOS_CFLAGS) $(EXTRA_CFLAGS)))
$(eval $(call tree,chaos_tsan,$(B)/chaos-tsan,$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(CHAOS_CFLAGS) \
	-fsanitize=thread -DVOLT_SANITIZE=1 $(EXTRA_CFLAGS)))
CHAOS_SEEDS ?= 3
CHAOS_TESTS ?= sched_queue policy_ spawn_join_many remote_spawn knob_ cancel wake chan_ mpsc_ \
	oneshot_ sync_ shutdown_ broadcast_ watch_ select_ group_ blocking_ time_ join_ detach net_stream \
	comb_
CHAOS_BIN = $(if $(filter 1,$(CHAOS_TSAN)),$(chaos_tsan_TEST),$(chaos_TEST))
# The teeth check (tests/chaos/teeth.sh): planted bugs built twice, with the
# chaos points (build/chaos-mutant-NAME/) and without (build/plain-mutant-NAME/).
CHAOS_TEETH := notify_wait_no_cas vyukov_push_publish_before_copy
define chaos_teeth_trees
$(call tree,chaos_mutant_$(1),$(B)/chaos-mutant-$(subst _,-,$(1)),$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) \
	$(CHAOS_CFLAGS) -DVOLT_MUTANT_$(2) $(EXTRA_CFLAGS))
$(call tree,plain_mutant_$(1),$(B)/plain-mutant-$(subst _,-,$(1)),$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) \
	-O1 -g -DVOLT_MUTANT_$(2) $(EXTRA_CFLAGS))
endef
$(foreach m,$(CHAOS_TEETH),$(eval $(call chaos_teeth_trees,$(m),$(shell echo $(m) | tr a-z A-Z))))
CHAOS_TEETH_BINS := $(foreach m,$(CHAOS_TEETH),$(chaos_mutant_$(m)_TEST) $(plain_mutant_$(m)_TEST))
$(chaos_OBJ) $(chaos_TEST_OBJ) $(foreach m,$(CHAOS_TEETH),$(chaos_mutant_$(m)_OBJ) \
	$(chaos_mutant_$(m)_TEST_OBJ) $(plain_mutant_$(m)_OBJ) $(plain_mutant_$(m)_TEST_OBJ)): | deps
$(chaos_tsan_OBJ) $(chaos_tsan_TEST_OBJ): | deps-san
# The teaching labs (docs/teaching/): build/lab/ is the library plus one
# student's policy file, LAB_SRC, which defines `volt__sched_lab` named "lab";
# -DVOLT_LAB_POLICY makes schedulers/registry.c list it. `make lab` runs every
# runtime test under "lab" alone; `make lab-quick` the LAB_QUICK ones, 10 s each.
LAB_SRC ?= docs/teaching/skeletons/lab1_global.c
LAB_QUICK ?= sched_queue_exactly_once spawn_join_many remote_spawn_threads yield_many \
	wake_ cancel_many_racing chan_mpmc_exactly_once_in_order sync_notify_ping_pong_exact \
	shutdown_ knob_lifo_on_off
$(eval $(call tree,lab,$(B)/lab,$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(CFLAGS) -DVOLT_LAB_POLICY \
	$(EXTRA_CFLAGS)))
$(B)/lab/lab-src: FORCE
	@mkdir -p $(@D)
	@echo '$(abspath $(LAB_SRC))' | cmp -s - $@ || echo '$(abspath $(LAB_SRC))' > $@
$(B)/lab/obj/lab_policy.o: $(LAB_SRC) $(B)/lab/lab-src $(B)/lab/flags
	@mkdir -p $(@D)
	$(CC) $(lab_FLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<
$(lab_LIB): $(B)/lab/obj/lab_policy.o
$(lab_TEST): LDLIBS += $(ALLOC_WRAP)
$(lab_OBJ) $(lab_TEST_OBJ) $(B)/lab/obj/lab_policy.o: | deps
-include $(B)/lab/obj/lab_policy.d
# Lab 4: the ping-pong example and two experiments linked with that library,
# so VOLT_SCHED=lab (beside every built-in policy) runs under the trace and the harness.
LAB_BINS := $(B)/lab/bin/ping_pong $(B)/lab/bin/rt_bench $(B)/lab/bin/lifo_chain
$(B)/lab/bin/ping_pong: examples/ping_pong.c
$(B)/lab/bin/rt_bench: experiments/rt_bench.c
$(B)/lab/bin/lifo_chain: experiments/lifo_chain.c
$(LAB_BINS): $(lab_LIB) $(PUBLIC_HDRS) $(wildcard examples/*.h experiments/*.h) | deps
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARNFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -Iinclude $(LDFLAGS) \
		-o $@ $(filter %.c,$^) $(lab_LIB) $(LDLIBS)

# ------------------------------------------------------------------ targets

.PHONY: all test-os-examples deps deps-san deps-clang deps-cross test test-tsan test-asan test-model test-harness \
	test-chaos test-chaos-teeth test-reliability \
	test-context test-context-cross test-valgrind deps-valgrind warn-clang examples test-net-examples \
	experiments compare deps-compare reproduce deps-repro plots paper test-paper deps-plots deps-paper \
	install uninstall test-install help clean FORCE

all: $(LIB_A) $(LIB_SO) $(LIB_LINKS) ## build build/libvolt.a and build/libvolt.so (the default)

# Ordered before any compile, even under -j; cheap when nothing is missing.
$(rel_OBJ) $(rel_TEST_OBJ) $(EXAMPLES) $(EXPERIMENTS): | deps
$(tsan_OBJ) $(tsan_TEST_OBJ) $(asan_OBJ) $(asan_TEST_OBJ): | deps-san
$(clang_OBJ) $(clang_TEST_OBJ): | deps-clang
$(foreach t,$(MODEL_TREES),$($(t)_OBJ) $($(t)_TEST_OBJ)): | deps

deps: ## install missing Debian packages (apt-get as root, else print the command)
	@sh scripts/deps.sh $(DEPS)

deps-san:
	@sh scripts/deps.sh $(SAN_DEPS)

deps-clang:
	@sh scripts/deps.sh $(CLANG_DEPS)

deps-compare:
	@sh scripts/deps.sh $(COMPARE_DEPS)

deps-plots:
	@sh scripts/deps.sh $(PLOTS_DEPS)

deps-paper:
	@sh scripts/deps.sh $(PAPER_DEPS)

$(LIB_SO): $(rel_OBJ)
	$(CC) -shared -Wl,-soname,libvolt.so.$(MAJOR) -Wl,-z,defs $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB_LINKS): $(LIB_SO)
	ln -sf $(notdir $<) $@

TEST_SUITES := test-install test-model test-context test-harness test-paper test-net-examples \
	test-sim test-migration test-docs test-lab test-os-examples
test: $(rel_TEST) $(TEST_SUITES) ## build and run the test suite and its suites (TESTARGS=filters)
	$(call run_tests,rel)

# The network examples end to end on loopback, each driver, ring and sim.
test-net-examples: $(EXAMPLES) | deps ## run the echo, HTTP and chat examples against python3 and curl clients
	@sh tests/net_examples.sh $(B)

# The file, process and signal examples end to end: file_copy and pipeline
# on each driver, graceful_shutdown stopped by SIGTERM and by SIGINT.
test-os-examples: $(EXAMPLES) | deps ## run file_copy, pipeline and graceful_shutdown (SIGTERM, SIGINT) on each driver
	@sh tests/os_examples.sh $(B)
	@sh tests/graceful_shutdown.sh $(B)

# The echo and chat examples, unchanged, in the deterministic simulation (the
# sim driver's network with scripted peers and seeded faults, the sim policy,
# the virtual clock; docs/simulation.md). SEEDS=200 for the long run.
.PHONY: test-sim
test-sim: $(EXAMPLES) | deps ## run the echo and chat examples on the simulated network, SEEDS seeds (default 10)
	@SEEDS='$(SEEDS)' FIRST_SEED='$(FIRST_SEED)' sh tests/sim_examples.sh $(B)

# The harness's unit tests, then a tiny suite end to end into build/smoke/.
test-harness: $(EXPERIMENTS) | deps deps-plots ## unit-test the harness; run the smoke suite end to end
	@python3 -m unittest -q experiments.harness.test_harness
	@python3 -m experiments.harness run --fresh --suite experiments/suites/smoke.json \
		--out $(B)/smoke 2>$(B)/smoke.log || { cat $(B)/smoke.log; exit 1; }
	@sh plots/render.sh $(B)/smoke $(B)/smoke/plots/out >$(B)/smoke/figures.txt
	@test -s $(B)/smoke/plots/out/e1_spawn_many.png && test -s $(B)/smoke/plots/out/e4_chained_spawn.png
	@echo "test-harness: smoke suite ran, figures rendered; see $(B)/smoke/"

# The stack switch alone (tests/context/selftest.c), natively, and for AArch64
# under qemu-user with a cross compiler (test-context-cross, run by CI).
CONTEXT_SRC := tests/context/selftest.c core/context.c
test-context: | deps ## check the fiber stack switch (registers, FP control) natively
	@mkdir -p $(B)/context
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -I. -Iinclude -o $(B)/context/selftest \
		$(CONTEXT_SRC) core/context_x86_64.S core/context_aarch64.S -lm
	@$(B)/context/selftest
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -DVOLT_CTX_UCONTEXT -I. -Iinclude -o $(B)/context/selftest-ucontext \
		$(CONTEXT_SRC) -lm
	@$(B)/context/selftest-ucontext

test-context-cross: | deps-cross ## the same for AArch64, under qemu-user
	@mkdir -p $(B)/context
	aarch64-linux-gnu-gcc -std=c11 -O2 -D_GNU_SOURCE -I. -Iinclude -o $(B)/context/selftest-aarch64 \
		$(CONTEXT_SRC) core/context_aarch64.S -lm
	@qemu-aarch64 -L /usr/aarch64-linux-gnu $(B)/context/selftest-aarch64

deps-cross:
	@sh scripts/deps.sh $(CROSS_DEPS)

# The examples under Valgrind's memcheck: no error, no leak (fibers included).
# On epoll: valgrind 3.19 holds its global lock while a thread blocks in
# io_uring_enter, so a worker parked in the uring driver would stop the rest
# (tests/net_examples.sh runs one uring case with workers that never park).
VALGRIND := VOLT_DRIVER=epoll valgrind --quiet --error-exitcode=9 --leak-check=full \
	--errors-for-leak-kinds=definite
test-valgrind: $(EXAMPLES) | deps-valgrind ## run the examples under valgrind memcheck (errors or leaks fail)
	$(VALGRIND) $(B)/examples/hello >/dev/null
	$(VALGRIND) $(B)/examples/spawn_many --tasks 20000 >/dev/null
	$(VALGRIND) $(B)/examples/ping_pong --pairs 2 --rounds 2000 >/dev/null
	$(VALGRIND) $(B)/examples/fibers 300 >/dev/null
	$(VALGRIND) $(B)/examples/timers --ticks 3 >/dev/null
	head -c 200000 /dev/urandom > $(B)/valgrind-copy-src
	$(VALGRIND) $(B)/examples/file_copy $(B)/valgrind-copy-src $(B)/valgrind-copy-dst
	cmp $(B)/valgrind-copy-src $(B)/valgrind-copy-dst && rm -f $(B)/valgrind-copy-*
	@# valgrind 3.19 does not know pidfd_open: this also runs the SIGCHLD path
	$(VALGRIND) $(B)/examples/pipeline "seq 1 1000" "wc -l" >/dev/null
	@sh tests/net_examples.sh $(B) --valgrind
	@echo "test-valgrind: the examples run clean under memcheck"

deps-valgrind:
	@sh scripts/deps.sh $(DEPS) valgrind

# The clean models must pass and every mutant must be caught (tests/model/run.sh).
test-model: $(MODEL_BINS) ## model-check the queues over many seeds; each planted bug must be caught
	@sh tests/model/run.sh $(model_TEST) $(foreach m,$(MUTANTS),$(mutant_$(m)_TEST))

# Each seed's run prints its seed; a failure prints the command that replays it.
test-chaos: $(CHAOS_BIN) ## run the concurrency tests in the chaos build over CHAOS_SEEDS seeds (3)
	@$(if $(filter 1,$(CHAOS_TSAN)),$(TSAN_ENV)) CHAOS_SEEDS=$(CHAOS_SEEDS) CHAOS_RUN_LIMIT=$(TEST_TIMEOUT) \
		VOLT_TEST_TIMEOUT_SCALE=$${VOLT_TEST_TIMEOUT_SCALE:-0.5} \
		sh tests/chaos/run.sh $(CHAOS_BIN) $(CHAOS_TESTS)

# A student's policy under the whole runtime suite (docs/teaching/README.md).
.PHONY: lab lab-quick lab-bins
lab: $(lab_TEST) ## test a scheduling policy, LAB_SRC=file.c (docs/teaching/), with every runtime test
	./$(lab_TEST) --runtime-only --policy lab $(TESTARGS)

lab-quick: $(lab_TEST) ## the same on LAB_QUICK's few telling tests, 10 s a case
	VOLT_TEST_TIMEOUT_SCALE=0.17 ./$(lab_TEST) --runtime-only --policy lab $(LAB_QUICK)

lab-bins: $(LAB_BINS) ## lab 4: build/lab/bin/{ping_pong,rt_bench,lifo_chain} with LAB_SRC's policy as "lab"

# Each skeleton builds with -Werror and fails a case at once, naming the part to write.
.PHONY: test-lab
test-lab: ## the teaching skeletons build and fail fast ("not written yet"), not hang
	@for s in docs/teaching/skeletons/lab*.c; do \
		$(MAKE) --no-print-directory LAB_SRC=$$s $(lab_TEST) > /dev/null || exit 1; \
		out=$$(./$(lab_TEST) --runtime-only --policy lab spawn_join_many 2>&1); \
		echo "$$out" | grep -q 'is not written yet' && echo "$$out" | grep -qx '0 passed, 1 failed' \
			|| { echo "test-lab: $$s:"; echo "$$out"; exit 1; }; \
		echo "ok   $$s fails fast"; \
	done

# Planted bugs with and without the chaos points: the chaos build must catch them.
test-chaos-teeth: $(CHAOS_TEETH_BINS) ## the chaos build catches planted bugs the plain build misses
	@sh tests/chaos/teeth.sh $(B)

test-tsan: $(tsan_TEST) ## run the tests under ThreadSanitizer (build/tsan/)
	$(call run_tests,tsan,$(TSAN_ENV))

test-asan: $(asan_TEST) ## run the tests under AddressSanitizer+UBSan+LSan (build/asan/)
	$(call run_tests,asan,$(ASAN_ENV))

warn-clang: $(clang_LIB) $(clang_TEST) ## build library and tests with clang -Werror (build/clang/)
	@echo "warn-clang: library and tests build warning-free with $(CLANG)"

# libFuzzer targets (tests/fuzz/README.md). build/fuzz/ is the library built
# with clang, ASan+UBSan and the fuzzer's coverage (fuzzer-no-link); each
# tests/fuzz/fuzz_NAME.c is linked with libFuzzer's main into
# build/fuzz/fuzz_NAME. Each planted bug of FUZZ_MUTANTS (NAME:TARGET) gets
# its own tree, build/fuzz-mutant-NAME/, with -DVOLT_MUTANT_<NAME in capitals>
# and that target linked against it (fuzz-teeth). libFuzzer's runtime is in
# libclang-rt-14-dev (libfuzzer-14-dev is the standalone libFuzzer.a, not needed).
FUZZ_DEPS := $(DEPS) clang libclang-rt-14-dev
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
FUZZ_CFLAGS := -O1 -g -DVOLT_SANITIZE=1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECS ?= 60
FUZZ_TEETH_SECS ?= 60
FUZZ_MUTANTS := wheel_level_by_distance:fuzz_timer wheel_slot_rounded_up:fuzz_timer \
	vyukov_close_ignored_by_push:fuzz_chan chan_cancel_drops_wake:fuzz_chan \
	chan_close_wakes_receivers_only:fuzz_chan
# $(call fuzz_tree,NAME,DIR,FLAGS): the library in DIR and DIR/fuzz_% from tests/fuzz/.
define fuzz_tree
$(call tree,$(1),$(2),$(CLANG),$(VOLT_CFLAGS) $(WARNFLAGS) $(FUZZ_CFLAGS) $(3) $(EXTRA_CFLAGS),$(FUZZ_SRC))
$(2)/fuzz_%: $(2)/obj/tests/fuzz/fuzz_%.o $$($(1)_LIB)
	$(CLANG) $$($(1)_FLAGS) -fsanitize=fuzzer $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
$$($(1)_OBJ) $$($(1)_TEST_OBJ): | deps-fuzz
endef
fuzz_mname = $(word 1,$(subst :, ,$(1)))
fuzz_mdir = $(B)/fuzz-mutant-$(subst _,-,$(call fuzz_mname,$(1)))
$(eval $(call fuzz_tree,fuzz,$(B)/fuzz))
$(foreach p,$(FUZZ_MUTANTS),$(eval $(call fuzz_tree,fuzz_mutant_$(call fuzz_mname,$(p)),\
	$(call fuzz_mdir,$(p)),-DVOLT_MUTANT_$(shell echo $(call fuzz_mname,$(p)) | tr a-z A-Z))))
FUZZ_BINS := $(patsubst %,$(B)/fuzz/%,$(FUZZ_NAMES))
FUZZ_MUTANT_BINS := $(foreach p,$(FUZZ_MUTANTS),$(call fuzz_mdir,$(p))/$(word 2,$(subst :, ,$(p))))
.PHONY: fuzz test-fuzz fuzz-merge fuzz-teeth deps-fuzz

deps-fuzz:
	@sh scripts/deps.sh $(FUZZ_DEPS)

fuzz: $(FUZZ_BINS) ## build the libFuzzer targets of tests/fuzz/ with clang into build/fuzz/
	@echo "fuzz: $(FUZZ_BINS)"

test-fuzz: $(FUZZ_BINS) ## run each fuzz target FUZZ_SECS s (default 60), 2 at a time; a crash fails
	@sh tests/fuzz/run.sh $(FUZZ_SECS) $(B)/fuzz/work $(FUZZ_BINS)

fuzz-merge: $(FUZZ_BINS) ## add what the last test-fuzz found (new coverage only) to tests/fuzz/corpus/
	@for t in $(FUZZ_NAMES); do \
		[ -d $(B)/fuzz/work/$$t/corpus ] || continue; \
		mkdir -p tests/fuzz/corpus/$$t; \
		$(B)/fuzz/$$t -merge=1 tests/fuzz/corpus/$$t $(B)/fuzz/work/$$t/corpus 2>&1 | \
			sed -n "s|^MERGE-OUTER: \([0-9]*\) new files.*|$$t: \1 new files|p"; \
	done

fuzz-teeth: $(FUZZ_MUTANT_BINS) ## each fuzz oracle catches its planted bug within FUZZ_TEETH_SECS s
	@sh tests/fuzz/teeth.sh $(FUZZ_TEETH_SECS) $(B)/fuzz/teeth $(FUZZ_MUTANT_BINS)

# Everything of docs/reliability.md in one run (CI runs it; ~10 minutes here):
# the models over MODEL_SEEDS seeds with every planted bug caught, the chaos
# build and its teeth, the simulation over SIM_SEEDS seeds, the fault and
# allocation-failure scenarios and the bad-input table (release and ASan),
# each fuzz target FUZZ_SECS s and its planted bugs, the short soak. Figures
# go to RELIABILITY_OUT/summary.{json,md} (tests/reliability/run.sh).
RELIABILITY_OUT ?= results/reliability/latest
RELIABILITY_BINS := $(rel_TEST) $(asan_TEST) $(EXAMPLES) $(EXPERIMENTS) $(MODEL_BINS) $(chaos_TEST) \
	$(CHAOS_TEETH_BINS) $(FUZZ_BINS) $(FUZZ_MUTANT_BINS)
test-reliability: $(RELIABILITY_BINS) | deps-san deps-fuzz ## models, chaos, sim, faults, fuzz, soak; figures in RELIABILITY_OUT
	@MAKE='$(MAKE)' sh tests/reliability/run.sh $(RELIABILITY_OUT)

# The pthreads -> Volt-C migration guide's programs (docs/MIGRATION.md): the
# "before" ones are plain pthreads and link nothing else; the others link
# libvolt through the rule below. test-migration runs them all, checks each
# before/after pair prints the same result line, that every C block of the
# guide is in one of them, and the guide's echo-server session.
MIGRATION := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/migration/*.c))
$(MIGRATION): | deps

$(B)/examples/migration/%_before: examples/migration/%_before.c
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARNFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $< -pthread

.PHONY: test-migration
test-migration: $(EXAMPLES) $(MIGRATION) | deps ## run the migration guide's programs and its echo-server session
	@sh tests/migration_examples.sh $(B)

examples: $(EXAMPLES) $(MIGRATION) ## build examples/*.c and examples/migration/*.c into build/examples/


$(B)/examples/%: examples/%.c $(wildcard examples/*.h) $(LIB_A) $(PUBLIC_HDRS)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARNFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -Iinclude $(LDFLAGS) \
		-o $@ $< $(LIB_A) $(LDLIBS)

experiments: $(EXPERIMENTS) ## build experiments/*.c into build/experiments/

$(B)/experiments/%: experiments/%.c $(wildcard experiments/*.h) $(LIB_A) $(PUBLIC_HDRS)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARNFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(XP_CPPFLAGS) -Iinclude $(LDFLAGS) \
		-o $@ $< $(LIB_A) $(LDLIBS)

# Experiments that drive the policies' queues or the topology directly use the
# internal headers (schedulers/sched.h, core/topology.h); a static link sees the
# hidden volt__ symbols.
XP_INTERNAL := $(B)/experiments/deque_bench $(B)/experiments/deque_bench_fences \
	$(B)/experiments/numa_steal $(B)/experiments/task_cost $(B)/experiments/timer_bench
$(XP_INTERNAL): XP_CPPFLAGS := -I.
$(XP_INTERNAL): $(wildcard core/*.h schedulers/*.h)

# deque_bench_fences: the same source against build/fences/, a library tree whose
# Chase-Lev deque uses the paper's relaxed operations and seq_cst fences.
$(eval $(call tree,fences,$(B)/fences,$(CC),$(VOLT_CFLAGS) $(WARNFLAGS) $(CFLAGS) \
	-DVOLT_CHASELEV_FENCES $(EXTRA_CFLAGS)))
$(fences_OBJ): | deps
$(B)/experiments/deque_bench_fences: experiments/deque_bench.c $(wildcard experiments/*.h) \
		$(fences_LIB) $(PUBLIC_HDRS)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARNFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(XP_CPPFLAGS) -DVOLT_CHASELEV_FENCES \
		-Iinclude $(LDFLAGS) -o $@ $< $(fences_LIB) $(LDLIBS)

# experiments/sync_bench.cc (C++17, Google Benchmark): outside $(EXPERIMENTS), so
# `make test` never needs libbenchmark-dev; `make experiments` builds it after
# deps-bench installed the package (E19 in the suites runs it).
SYNC_BENCH := $(B)/experiments/sync_bench
.PHONY: bench-micro deps-bench
experiments: $(SYNC_BENCH)

$(SYNC_BENCH): experiments/sync_bench.cc $(LIB_A) $(PUBLIC_HDRS) | deps deps-bench
	@mkdir -p $(@D)
	$(CXX) -std=c++17 $(WARNFLAGS) $(CFLAGS) $(CXXFLAGS) -Iinclude $(LDFLAGS) \
		-o $@ $< $(LIB_A) -lbenchmark $(LDLIBS)

deps-bench:
	@sh scripts/deps.sh $(BENCH_DEPS)

bench-micro: $(SYNC_BENCH) ## sync primitives and channel tier 2 on Google Benchmark: table, JSON in results/micro/
	@mkdir -p results/micro
	./$(SYNC_BENCH) --benchmark_out=results/micro/sync_bench.json --benchmark_out_format=json

reproduce: | deps-repro ## the main job: build, run the quick suite (SUITE=full), figures, paper tables
	SUITE=$(SUITE) RESUME=$(RESUME) sh experiments/reproduce.sh

deps-repro:
	@sh scripts/deps.sh $(REPRO_DEPS)

compare: $(LIB_A) $(EXPERIMENTS) | deps-compare ## scheduler micro-benchmarks vs Tokio and Go (experiments/compare.sh)
	sh experiments/compare.sh

plots: | deps-plots ## draw the figures of RESULTS (default results/quick) into plots/out/
	sh plots/render.sh $(RESULTS)

# The tables between the markers in paper/paper.md, then HTML (and a PDF
# where pdflatex is installed; texlive is not in PAPER_DEPS: it is large).
paper: plots | deps-paper ## regenerate the paper's tables from RESULTS; paper/paper.html (+ .pdf)
	python3 paper/tables.py $(RESULTS)
	cd paper && pandoc paper.md --standalone --self-contained --toc --resource-path=. \
		--metadata pagetitle=Volt-C -o paper.html
	@if command -v pdflatex >/dev/null 2>&1; then \
		(cd paper && pandoc paper.md --pdf-engine=pdflatex -o paper.pdf) && echo "paper: paper/paper.pdf"; \
	else echo "paper: pdflatex not installed; skipped paper/paper.pdf"; fi
	@echo "paper: paper/paper.html (from $(RESULTS))"

test-paper: ## unit-test the figure extraction and the claims evaluation
	@python3 -m unittest discover -q -s plots -p 'test_*.py'
	@python3 -m unittest discover -q -s paper -p 'test_*.py'

# The API reference: doxygen reads the public headers through
# docs/doxy-filter.sh (their plain comments become its documentation), with
# README.md as the main page and docs/*.md as pages (docs/Doxyfile). A
# warning about a header fails; the others (links between the Markdown
# pages that doxygen cannot resolve) are counted.
.PHONY: docs deps-docs test-docs
DOCS_OUT := $(B)/docs
deps-docs:
	@sh scripts/deps.sh doxygen

docs: | deps-docs ## the API reference from the headers, with Doxygen: build/docs/html/index.html
	@rm -rf $(DOCS_OUT)/html && mkdir -p $(DOCS_OUT)
	VOLT_DOCS_OUT=$(DOCS_OUT) VOLT_VERSION=$(VERSION) doxygen docs/Doxyfile
	@test -s $(DOCS_OUT)/html/index.html
	@log=$(DOCS_OUT)/warnings.log; \
	if grep 'include/.*warning:' $$log; then echo "docs: warnings in the headers (above)"; exit 1; fi; \
	echo "docs: $(DOCS_OUT)/html/index.html; $$(grep -c 'warning:' $$log) warnings, 0 in the headers ($$log)"

# Every ```c block of README.md and docs/*.md compiles (tests/doc_snippets.sh).
test-docs: $(LIB_A) | deps ## compile every C block of README.md and docs/*.md (programs link)
	@B=$(B) CC=$(CC) sh tests/doc_snippets.sh

# $(call install_to,DESTDIR,prefix,libdir,includedir[,@ to be quiet])
define install_to
	$(5)install -D -m 644 -t $(1)$(4) include/volt.h
	$(5)install -D -m 644 -t $(1)$(4)/volt $(wildcard include/volt/*.h)
	$(5)install -D -m 644 -t $(1)$(3) $(LIB_A)
	$(5)install -D -m 755 -t $(1)$(3) $(LIB_SO)
	$(5)ln -sf libvolt.so.$(VERSION) $(1)$(3)/libvolt.so.$(MAJOR)
	$(5)ln -sf libvolt.so.$(MAJOR) $(1)$(3)/libvolt.so
	$(5)mkdir -p $(1)$(3)/pkgconfig
	$(5)sed -e 's|@prefix@|$(2)|' -e 's|@libdir@|$(3)|' -e 's|@includedir@|$(4)|' \
		-e 's|@VERSION@|$(VERSION)|' volt.pc.in > $(1)$(3)/pkgconfig/volt.pc
	$(5)chmod 644 $(1)$(3)/pkgconfig/volt.pc
endef

install: $(LIB_A) $(LIB_SO) ## install headers, libraries and volt.pc (PREFIX=/usr/local DESTDIR=)
	$(call install_to,$(DESTDIR),$(prefix),$(libdir),$(includedir))

uninstall: ## remove what `make install` put there (same PREFIX/DESTDIR)
	rm -f $(DESTDIR)$(includedir)/volt.h
	rm -f $(addprefix $(DESTDIR)$(includedir)/volt/,$(notdir $(wildcard include/volt/*.h)))
	rmdir $(DESTDIR)$(includedir)/volt 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(libdir)/,libvolt.a libvolt.so libvolt.so.$(MAJOR) \
		libvolt.so.$(VERSION) pkgconfig/volt.pc)

# Installs into build/stage as /usr, then builds examples/hello.c with
# nothing but what pkg-config says, links it against the staged shared
# library and runs it; then links it again against the staged static
# library with `pkg-config --static` (volt.pc's Libs.private: -lhwloc -luring)
# and runs that.
STAGE_PC := PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_LIBDIR=$(STAGE)/usr/lib/pkgconfig
test-install: $(LIB_A) $(LIB_SO) | deps ## install into build/stage, build and run hello via pkg-config
	@rm -rf $(STAGE)
	$(call install_to,$(STAGE),/usr,/usr/lib,/usr/include,@)
	@mkdir -p $(B)/tests
	flags=$$($(STAGE_PC) pkg-config --cflags --libs volt) && \
	$(CC) -std=c11 $(WARNFLAGS) -o $(B)/tests/hello-installed examples/hello.c $$flags
	@LD_LIBRARY_PATH=$(STAGE)/usr/lib ./$(B)/tests/hello-installed >/dev/null \
		|| { echo "test-install: hello failed against the installed library"; exit 1; }
	flags=$$($(STAGE_PC) pkg-config --static --cflags --libs volt) && \
	$(CC) -std=c11 $(WARNFLAGS) -o $(B)/tests/hello-static examples/hello.c \
		$$(echo " $$flags " | sed 's/ -lvolt / -l:libvolt.a /')
	@./$(B)/tests/hello-static >/dev/null \
		|| { echo "test-install: hello failed linked statically against libvolt.a"; exit 1; }
	@echo "test-install: passed (installed to build/stage, hello built with pkg-config, shared and static, and ran)"

help: ## list the targets
	@echo "Volt-C $(VERSION). Targets:"
	@sed -n 's/^\([a-z-]*\):.*## \(.*\)/  \1|\2/p' $(SELF) | \
		awk -F'|' '{ printf "%-14s %s\n", $$1, $$2 }'
	@echo "Variables: CC CFLAGS WARNFLAGS EXTRA_CFLAGS TESTARGS TEST_TIMEOUT PREFIX DESTDIR"

clean: ## remove build/
	rm -rf $(B)

FORCE:
