"""Writes the suites (quick.json, full.json, smoke.json) from one description,
so the two sizes cannot drift apart. Run it after editing:

    python3 experiments/suites/generate.py

`quick` is every figure at reduced size (the README's main job, about ten
minutes on the 2-vCPU development machine); `full` adds repetitions, worker
counts and sizes.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
POLICIES = ["global", "chaselev", "ring", "runnext", "numa"]
X = "build/experiments/"
PEER = {"tokio": "build/peers/tokio/release/", "go": "build/peers/go/",
        "libuv": "build/peers/libuv/"}
NET = "experiments/net_bench.sh"
SYNTHETIC = "pack:2 numa:2 core:2 pu:1"  # E12/E13 on this machine: simulated


def entry(eid, title, program, args, matrix, impl="volt", **extra):
    e = {"id": eid, "title": title, "impl": impl, "program": program, "args": args,
         "matrix": matrix}
    e.update(extra)
    return e


def with_peers(eid, title, program, args, matrix, peers=("tokio", "go"), **extra):
    """A Volt-C entry over the policies, and the same program of each peer."""
    out = [entry(eid, title, X + program, args, dict({"policy": POLICIES}, **matrix),
                 baseline={"impl": "tokio"} if "tokio" in peers else None, **extra)]
    for impl in peers:
        out.append(entry(eid, title, PEER[impl] + program, args + ["--workers", "{workers}"],
                         {"workers": matrix["workers"]}, impl=impl, **extra))
    for e in out:
        if e.get("baseline") is None:
            e.pop("baseline", None)
    return out


def experiments(full):
    w = [1, 2, 4] if full else [1, 2]
    two = [2, 4] if full else [2]
    rt = ["--result", "--bench"]
    ex = []
    ex += with_peers("E1_spawn_many_local", "spawn_many, spawned from a task", "rt_bench",
                     rt + ["spawn_many_local"], {"workers": w})
    ex += with_peers("E1_spawn_many_remote", "spawn_many, injected from outside", "rt_bench",
                     rt + ["spawn_many_remote"], {"workers": w})
    ex += with_peers("E2_yield_many", "yield_many: 200 tasks x 1,000 yields", "rt_bench",
                     rt + ["yield_many"], {"workers": two})
    ex.append(entry("E2_yield_interval", "yield_many against the global-queue interval",
                    X + "rt_bench", rt + ["yield_many"],
                    {"policy": ["ring"], "workers": [2], "global_interval": [0, 31, 61, 127]}))
    ex += with_peers("E3_ping_pong", "ping_pong: 1,000 pairs", "rt_bench",
                     rt + ["ping_pong"], {"workers": two})
    ex.append(entry("E3_ping_pong_lifo", "ping_pong with and without the LIFO slot",
                    X + "rt_bench", rt + ["ping_pong"],
                    {"policy": ["ring", "runnext"], "workers": [2], "lifo": [0, 1]}))
    ex.append(entry("E3_ping_pong_hog", "ping_pong beside a CPU hog, one worker",
                    X + "rt_bench", rt + ["ping_pong_hog"],
                    {"policy": ["global", "ring", "runnext"], "workers": [1],
                     "lifo": [0, 1], "lifo_max": [3, 255]}, baseline={"impl": "tokio"}))
    for impl in ("tokio", "go"):
        ex.append(entry("E3_ping_pong_hog", "ping_pong beside a CPU hog, one worker",
                        PEER[impl] + "rt_bench", rt + ["ping_pong_hog", "--workers", "1"],
                        {"workers": [1]}, impl=impl))
    ex += with_peers("E4_chained_spawn", "chained_spawn: a chain of 1,000 spawns", "rt_bench",
                     rt + ["chained_spawn"], {"workers": two})
    ex += with_peers("E5_injection_busy1", "10,000 injected spawns while tasks yield and stall",
                     "rt_bench", rt + ["spawn_many_remote_busy1"], {"workers": [2]})
    ex.append(entry("E5_injection_lifo", "injection under re-spawning load against the LIFO cap",
                    X + "rt_bench", rt + ["spawn_many_remote_busy2"],
                    {"policy": ["ring"], "workers": [2], "lifo_max": [3, 255]}))
    ex.append(entry("E5_injection_interval", "injection under load against the global interval",
                    X + "rt_bench", rt + ["spawn_many_remote_busy1"],
                    {"policy": ["ring"], "workers": [2], "global_interval": [0, 31, 61, 127]}))
    # Tokio 1.24 never finishes busy2 (the bug #5712 fixed): Volt-C and Go only.
    ex += with_peers("E5_injection_busy2", "10,000 injected spawns while tasks re-spawn",
                     "rt_bench", rt + ["spawn_many_remote_busy2"], {"workers": [2]},
                     peers=("go",))
    ex.append(entry("E6_lifo_chain", "message chains with 10 us polls: the LIFO slot both ways",
                    X + "lifo_chain", ["--hops", "1000" if full else "400"],
                    {"policy": ["ring", "runnext"], "workers": [2], "lifo": [0, 1],
                     "lifo_max": [1, 3, 255]}))
    for bench, args in (("skynet", []), ("fib", ["--n", "32" if full else "30"])):
        ex += with_peers(f"E7_{bench}", f"fan-out/fan-in: {bench}", "fanout",
                         ["--bench", bench] + args, {"workers": w}, reps=3 if full else 2,
                         warmup=1)
    ex.append(entry("E8_skew", "bursts of Pareto-cost tasks on one worker", X + "skew", [],
                    {"policy": POLICIES, "workers": [2], "max_searching": [0, 1, 2]}))
    ex.append(entry("E12_numa_steal", "steal cost by topology distance (synthetic topology)",
                    X + "numa_steal", ["--part", "steal"],
                    {"policy": ["ring"], "workers": [8], "pin": ["compact"],
                     "topology": [SYNTHETIC]}))
    ex.append(entry("E13_numa_stencil", "a stencil on a two-node topology (synthetic)",
                    X + "numa_steal", ["--part", "stencil"],
                    {"policy": ["ring", "numa"], "workers": [8], "pin": ["compact"],
                     "topology": [SYNTHETIC]}, baseline={"policy": "ring"}))
    ex.append(entry("E14_oversub", "oversubscription and idle policy", X + "oversub", [],
                    {"policy": ["ring"], "workers": [1, 2, 4], "idle": ["park", "spin", "yield"]}))
    ex.append(entry("E14_oversub_hog", "idle policy beside a CPU hog", X + "oversub", ["--hog"],
                    {"policy": ["ring"], "workers": [2], "idle": ["park", "spin", "yield"]}))
    ops = ["--ops", "4000000" if full else "1000000"]
    ex.append(entry("E15_deque", "the queues alone: owner push/pop with thieves",
                    X + "deque_bench", ops + ["--thieves", "{thieves}"],
                    {"policy": ["chaselev", "ring", "global"], "thieves": [0, 1, 2, 3],
                     "orders": ["seq_cst"]}))
    ex.append(entry("E15_deque", "the queues alone: owner push/pop with thieves",
                    X + "deque_bench_fences", ops + ["--thieves", "{thieves}"],
                    {"policy": ["chaselev"], "thieves": [0, 1, 2, 3], "orders": ["fences"]}))
    ex += with_peers("E17_spawn_blocking", "1,000 jobs through the blocking pool, one at a time",
                     "rt_bench", rt + ["spawn_blocking"], {"workers": [2]}, peers=("tokio",))
    ex += with_peers("E18_timer_insert_cancel", "a sleep armed and dropped in a task",
                     "timer_bench", ["--result", "--bench", "insert_cancel"],
                     {"policy": ["ring"], "workers": [2]}, reps=5 if full else 3, warmup=1)
    ex += with_peers("E18_sleepers", "a million tasks asleep at once",
                     "timer_bench", ["--result", "--bench", "sleepers"],
                     {"policy": ["ring"], "workers": [2]}, reps=5 if full else 3, warmup=1)
    # sync_bench: one process per id, each printing one tier (--tier); the
    # contended tier runs 10 rounds per repetition (one round is ~1 ms here).
    for eid, title, args in (
            ("E19_sync_uncontended", "uncontended, one thread",
             ["--tier", "1"]),
            ("E19_sync_contended", "contended, tasks on the runtime",
             ["--tier", "3", "--rounds", "10"])):
        ex += with_peers(eid, title, "sync_bench", ["--result"] + args,
                         {"policy": ["ring"], "workers": [2]}, peers=("tokio",),
                         reps=5 if full else 3, warmup=1)
    # chan_bench (E20): Volt-C on each channel buffer (`buffer`, passed as
    # --buffer; the harness also sets VOLT_CHAN_BUFFER from it), the peers on
    # their own channels (they have no buffer to choose).
    for eid, title, bench in (
            ("E20_chan_tier2", "try_send / try_recv on one thread", "tier2"),
            ("E20_chan_mpmc", "MPMC: 4 x 4 tasks, capacity 1,024", "mpmc")):
        chan = with_peers(eid, title, "chan_bench", ["--result", "--bench", bench],
                          {"policy": ["ring"], "workers": [2], "buffer": ["vyukov", "locked"]},
                          reps=5 if full else 3, warmup=1)
        chan[0]["args"] = chan[0]["args"] + ["--buffer", "{buffer}"]
        ex += chan
    ex += chan_crossbeam(full)
    ex += net_servers(full)
    ex += tail_latency(full)
    ex.append(entry("E16_task_cost", "what one task costs: stackless, fiber, thread",
                    X + "task_cost", ["--result", "--kind", "{kind}"],
                    {"kind": ["stackless", "fiber", "thread"]}, reps=3, warmup=1))
    return ex


def chan_crossbeam(full):
    """E10: crossbeam-channel's benchmark shapes (chan_bench --bench crossbeam).

    One id per shape; cells over the capacity (`cap`) and, for Volt-C, the
    channel buffer. Capacity 0 (a rendezvous channel) is left out: Volt-C's
    and Tokio's bounded channels refuse it (Go's runs it by hand). Unbounded
    only for mpsc: Volt-C's volt/mpsc.h has one consumer, Go has none.
    A cell takes well under a second: the suite's repetitions (10 / 20)."""
    caps = [1, 16, 1024] if full else [1, 1024]
    out = []
    for shape, title in (("seq", "one task: a capacity of sends, then as many receives"),
                         ("spsc", "1 producer, 1 consumer"),
                         ("mpsc", "4 producers, 1 consumer"),
                         ("mpmc", "4 producers, 4 consumers"),
                         ("select", "2 producers on 2 channels, 1 consumer selecting")):
        eid = "E10_chan_" + shape
        args = ["--result", "--bench", "crossbeam", "--shape", shape, "--cap", "{cap}"]
        out.append(entry(eid, title, X + "chan_bench", args + ["--buffer", "{buffer}"],
                         {"policy": ["ring"], "workers": [2], "buffer": ["vyukov", "locked"],
                          "cap": caps}, baseline={"impl": "tokio"}))
        if shape == "mpsc":
            out.append(entry(eid, title, X + "chan_bench", args,
                             {"policy": ["ring"], "workers": [2], "cap": ["unbounded"]},
                             baseline={"impl": "tokio"}))
        for impl in ("tokio", "go"):
            c = caps + (["unbounded"] if shape == "mpsc" and impl == "tokio" else [])
            out.append(entry(eid, title, PEER[impl] + "chan_bench",
                             args + ["--workers", "{workers}"], {"workers": [2], "cap": c},
                             impl=impl))
    return out


def net_servers(full):
    """E11: the TCP echo and HTTP hello servers under load (experiments/net_bench.sh).

    One cell runs one server (Volt-C's examples on each driver, the Tokio and
    libuv peers) and the client (echo_load, or wrk for HTTP) side by side on
    this machine; `warmup` is the client's untimed seconds before each cell's
    timed repetitions."""
    secs = "3" if full else "1"
    out = []
    cases = [("E11_echo_128", "TCP echo, 128-byte messages", "echo", "echo_server", "128"),
             ("E11_echo_1024", "TCP echo, 1,024-byte messages", "echo", "echo_server", "1024"),
             ("E11_http", "HTTP/1.1 hello under wrk (keep-alive)", "http", "http_hello", "0")]
    for eid, title, kind, server, size in cases:
        conns = [50, 256] if kind == "http" else [1, 50, 256, 1000]
        args = ["--kind", kind, "--conns", "{conns}", "--secs", secs]
        if kind == "echo":
            args += ["--size", size]
        out.append(entry(eid, title, NET,
                         args + ["--server", "build/examples/" + server + " --workers {workers}"],
                         {"policy": ["ring"], "driver": ["uring", "epoll"], "workers": [2],
                          "conns": conns},
                         baseline={"impl": "tokio"}, reps=3, warmup=1))
        for impl in ("tokio", "libuv"):
            out.append(entry(eid, title, NET,
                             args + ["--server", PEER[impl] + server + " --workers {workers}"],
                             {"workers": [2], "conns": conns}, impl=impl, reps=3, warmup=1))
    return out


BUDGET_OFF = 65535  # the largest budget: a 1 ms burn (1,000 slices) never yields


def tail_latency(full):
    """E9: tail latency of cheap requests beside CPU-heavy ones.

    experiments/rpc_server.c (2 workers) under echo_load's closed loop, 50
    connections of 128-byte requests, one request in 100 of each connection
    burning 1 ms of CPU in 1 us slices that each take a unit of budget
    (budget 65535 = off: the burn never yields); the cheap requests'
    p50/p99/p99.9 round trips (experiments/net_bench.sh, like E11), swept
    over the cooperative budget and the event interval."""
    budgets = [32, 128, 512, BUDGET_OFF] if full else [32, 128, BUDGET_OFF]
    intervals = [1, 31, 61, 127] if full else [1, 61]
    args = ["--kind", "echo", "--conns", "{conns}", "--size", "128",
            "--secs", "3" if full else "2",
            "--load-args", "--heavy-every 100 --heavy-us 1000",
            "--server", X + "rpc_server --workers {workers}"]
    return [entry("E9_tail", "cheap-request latency beside 1 ms CPU requests (1 in 100)", NET,
                  args, {"policy": ["ring"], "driver": ["uring"], "workers": [2],
                         "conns": [50], "budget": budgets, "event_interval": intervals},
                  reps=5, warmup=1)]


def suite(name, description, reps, warmup, full):
    return {"name": name, "description": description, "reps": reps, "warmup": warmup,
            "seed": 1, "timeout": 600, "experiments": experiments(full)}


def smoke():
    return {"name": "smoke", "description": "a tiny end-to-end check of the harness (make test)",
            "reps": 2, "warmup": 0, "seed": 1, "timeout": 60, "experiments": [
                entry("E1_spawn_many_local", "spawn_many, spawned from a task", X + "rt_bench",
                      ["--result", "--bench", "spawn_many_local"],
                      {"policy": ["global", "ring"], "workers": [2]}),
                entry("E4_chained_spawn", "chained_spawn", X + "rt_bench",
                      ["--result", "--bench", "chained_spawn"],
                      {"policy": ["ring"], "workers": [1, 2]},
                      baseline={"policy": "ring", "workers": 1})]}


def main():
    for name, s in (("quick", suite("quick", "every figure at reduced size: the README's main "
                                    "job (a few minutes here)", 10, 2, False)),
                    ("full", suite("full", "the full sweep: more repetitions, worker counts "
                                   "and sizes", 20, 3, True)),
                    ("smoke", smoke())):
        with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(s, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
