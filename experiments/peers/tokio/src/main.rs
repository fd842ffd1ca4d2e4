//! Volt-C's scheduler micro-benchmarks (experiments/rt_bench.c) on Tokio, in
//! the shapes of Tokio's benches/rt_multi_threaded.rs, with the same
//! constants, flags and CSV as the C program and the Go peer.
//!
//!     rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]
//!
//! One iteration = one whole round of a benchmark, timed on the main thread
//! (not a worker) from before the first spawn until the latch opens. One
//! runtime serves every iteration; WARMUP untimed iterations come first.

use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::oneshot;

// The constants, the same in all three implementations.
const SPAWN_MANY: usize = 10_000; // tasks per spawn_many iteration
const YIELD_TASKS: usize = 200; // tasks per yield_many iteration
const YIELD_COUNT: usize = 1_000; // yields per yield_many task
const PING_PONG_PAIRS: usize = 1_000; // pairs per ping_pong iteration
const CHAIN_LENGTH: usize = 1_000; // tasks per chained_spawn iteration
const DEFAULT_REPS: usize = 10;
const DEFAULT_WARMUP: usize = 3;
const DEFAULT_WORKERS: usize = 2;

// ---------------------------------------------------------------- the latch

// The completion signal, as in the C program: a count; the task taking it
// to zero wakes the main thread.
static LEFT: AtomicUsize = AtomicUsize::new(0);
static OPEN: Mutex<bool> = Mutex::new(false);
static COND: Condvar = Condvar::new();

fn latch_arm(n: usize) {
    LEFT.store(n, Ordering::SeqCst);
    *OPEN.lock().unwrap() = false;
}

fn latch_count_down() {
    if LEFT.fetch_sub(1, Ordering::AcqRel) == 1 {
        let mut open = OPEN.lock().unwrap();
        *open = true;
        COND.notify_one();
    }
}

fn latch_wait() {
    let mut open = OPEN.lock().unwrap();
    while !*open {
        open = COND.wait(open).unwrap();
    }
}

// ----------------------------------------------------------- the benchmarks
// Each arms the latch and starts one iteration; the driver waits.

/// A task spawns SPAWN_MANY tasks; each counts the latch down.
fn spawn_many_local(rt: &Runtime) {
    latch_arm(SPAWN_MANY);
    rt.spawn(async {
        for _ in 0..SPAWN_MANY {
            tokio::spawn(async {
                latch_count_down();
            });
        }
    });
}

/// The same, spawned by the main thread (not a worker).
fn spawn_many_remote(rt: &Runtime) {
    latch_arm(SPAWN_MANY);
    for _ in 0..SPAWN_MANY {
        rt.spawn(async {
            latch_count_down();
        });
    }
}

/// YIELD_TASKS tasks from the main thread, each yielding YIELD_COUNT times.
fn yield_many(rt: &Runtime) {
    latch_arm(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        rt.spawn(async {
            for _ in 0..YIELD_COUNT {
                tokio::task::yield_now().await;
            }
            latch_count_down();
        });
    }
}

/// A task spawns PING_PONG_PAIRS tasks; each pings a partner over one
/// oneshot and awaits its answer over another.
fn ping_pong(rt: &Runtime) {
    latch_arm(PING_PONG_PAIRS);
    rt.spawn(async {
        for _ in 0..PING_PONG_PAIRS {
            tokio::spawn(async {
                let (tx1, rx1) = oneshot::channel::<()>();
                let (tx2, rx2) = oneshot::channel::<()>();

                tokio::spawn(async move {
                    rx1.await.unwrap();
                    tx2.send(()).unwrap();
                });

                tx1.send(()).unwrap();
                rx2.await.unwrap();
                latch_count_down();
            });
        }
    });
}

/// A chain of CHAIN_LENGTH tasks, each spawning the next; the last signals.
fn chained_spawn(rt: &Runtime) {
    fn iter(n: usize) {
        if n == 0 {
            latch_count_down();
        } else {
            tokio::spawn(async move {
                iter(n - 1);
            });
        }
    }

    latch_arm(1);
    rt.spawn(async {
        iter(CHAIN_LENGTH);
    });
}

const BENCHES: [(&str, fn(&Runtime)); 5] = [
    ("spawn_many_local", spawn_many_local),
    ("spawn_many_remote", spawn_many_remote),
    ("yield_many", yield_many),
    ("ping_pong", ping_pong),
    ("chained_spawn", chained_spawn),
];

// ---------------------------------------------------------------- the driver

extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
}
const M_TRIM_THRESHOLD: i32 = -1;
const M_TOP_PAD: i32 = -2;
const M_MMAP_THRESHOLD: i32 = -3;

/// The median of sorted values (the mean of the middle two if their count is even).
fn median(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn usage(prog: &str) -> ! {
    eprintln!("usage: {} [--bench NAME|all] [--reps N] [--warmup N] [--workers N]", prog);
    eprintln!("  NAME: spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn");
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mut bench, mut reps, mut warmup, mut workers) =
        ("all".to_string(), DEFAULT_REPS, DEFAULT_WARMUP, DEFAULT_WORKERS);
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).unwrap_or_else(|| usage(&args[0]));
        let num = |min: usize| match v.parse::<usize>() {
            Ok(n) if n >= min => n,
            _ => usage(&args[0]),
        };
        match args[i].as_str() {
            "--bench" => bench = v.clone(),
            "--reps" => reps = num(1),
            "--warmup" => warmup = num(0),
            "--workers" => workers = num(1),
            _ => usage(&args[0]),
        }
        i += 2;
    }
    if bench != "all" && !BENCHES.iter().any(|(name, _)| *name == bench) {
        usage(&args[0]);
    }

    // Keep freed memory in the process, as the C program does.
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
    }

    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap();

    println!("impl,bench,policy,workers,rep,ns");
    let mut summary = Vec::new();
    for (name, start) in BENCHES.iter() {
        if bench != "all" && bench != *name {
            continue;
        }
        let mut ns = Vec::with_capacity(reps);
        for r in 0..warmup + reps {
            let t0 = Instant::now();
            start(&rt);
            latch_wait();
            let t = t0.elapsed().as_nanos() as f64;
            if r >= warmup {
                ns.push(t);
                println!("tokio,{},tokio,{},{},{:.0}", name, workers, r - warmup + 1, t);
            }
        }
        ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
        summary.push(format!(
            "# tokio {:<17} policy=tokio workers={} reps={} median_us={:.1} min_us={:.1} max_us={:.1}",
            name,
            workers,
            reps,
            median(&ns) / 1e3,
            ns[0] / 1e3,
            ns[reps - 1] / 1e3
        ));
    }
    for line in summary {
        println!("{}", line);
    }
}
