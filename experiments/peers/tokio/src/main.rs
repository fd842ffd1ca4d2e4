//! Volt-C's scheduler micro-benchmarks (experiments/rt_bench.c) on Tokio, in
//! the shapes of Tokio's benches/rt_multi_threaded.rs, with the same
//! constants, flags and CSV as the C program and the Go peer.
//!
//!     rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]
//!              [--rounds N] [--result]
//!
//! One iteration = one whole round of a benchmark, timed on the main thread
//! (not a worker) from before the first spawn until the latch opens
//! (ping_pong_hog: timed inside the pinging task). Each benchmark gets its
//! own runtime, which serves all its iterations; WARMUP untimed iterations
//! come first. --result (one benchmark) prints the harness protocol
//! (`result,<rep>,time_per_iter,<us>,us`) instead of the CSV rows.

use std::process::exit;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// The constants, the same in all three implementations.
const SPAWN_MANY: usize = 10_000; // tasks per spawn_many iteration
const YIELD_TASKS: usize = 200; // tasks per yield_many iteration
const YIELD_COUNT: usize = 1_000; // yields per yield_many task
const PING_PONG_PAIRS: usize = 1_000; // pairs per ping_pong iteration
const CHAIN_LENGTH: usize = 1_000; // tasks per chained_spawn iteration
const BLOCKING_JOBS: usize = 1_000; // jobs per spawn_blocking iteration
const HOG_ROUNDS: usize = 5_000; // round trips per ping_pong_hog iteration (--rounds)
const HOG_SLICE_US: u64 = 50; // the hog spins this long between yields
const BUSY_STALL_US: u64 = 10; // the busy tasks' stall
const DEFAULT_REPS: usize = 10;
const DEFAULT_WARMUP: usize = 3;
const HOG_REPS: usize = 5; // ping_pong_hog's defaults
const HOG_WARMUP: usize = 1;
const DEFAULT_WORKERS: usize = 2;
const ITER_TIMEOUT_S: u64 = 20; // an iteration taking longer fails the program

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

/// false if the latch is still closed after ITER_TIMEOUT_S seconds.
fn latch_wait() -> bool {
    let deadline = Instant::now() + Duration::from_secs(ITER_TIMEOUT_S);
    let mut open = OPEN.lock().unwrap();
    while !*open {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        open = COND.wait_timeout(open, deadline - now).unwrap().0;
    }
    true
}

/// Busy-waits `us` microseconds (a long poll holding its worker).
fn spin_us(us: u64) {
    let end = Instant::now() + Duration::from_micros(us);
    while Instant::now() < end {}
}

/// The main thread's untimed waits for tasks poll with this.
fn nap() {
    std::thread::sleep(Duration::from_micros(20));
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

/// A task hands BLOCKING_JOBS no-op jobs to spawn_blocking, awaiting each.
fn spawn_blocking(rt: &Runtime) {
    latch_arm(1);
    rt.spawn(async {
        for _ in 0..BLOCKING_JOBS {
            tokio::task::spawn_blocking(|| ()).await.unwrap();
        }
        latch_count_down();
    });
}

/// One worker. A hog spins HOG_SLICE_US, yields, and again, until told to
/// stop; beside it a pair makes ROUNDS round trips. Each message is a fresh
/// oneshot carrying the sender for the answer (as in the C program). The
/// pinging task times itself, from its first send to its last answer.
static HOG_STOP: AtomicBool = AtomicBool::new(false);
static HOG_RUNNING: AtomicBool = AtomicBool::new(false);
static ROUNDS: AtomicUsize = AtomicUsize::new(HOG_ROUNDS);
static PAIR_NS: AtomicU64 = AtomicU64::new(0);
static HOG_SLICES: AtomicUsize = AtomicUsize::new(0); // slices the hog has spun
static PAIR_SLICES: AtomicUsize = AtomicUsize::new(0); // of them while the pair ran
static HOG: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

/// A message: the sender to answer on, None = the end.
struct Msg(Option<oneshot::Sender<Msg>>);

fn hog_setup(rt: &Runtime) {
    HOG_STOP.store(false, Ordering::SeqCst);
    HOG_RUNNING.store(false, Ordering::SeqCst);
    let h = rt.spawn(async {
        HOG_RUNNING.store(true, Ordering::SeqCst);
        while !HOG_STOP.load(Ordering::Relaxed) {
            spin_us(HOG_SLICE_US);
            HOG_SLICES.fetch_add(1, Ordering::Relaxed);
            tokio::task::yield_now().await;
        }
    });
    *HOG.lock().unwrap() = Some(h);
    while !HOG_RUNNING.load(Ordering::SeqCst) {
        nap();
    }
}

fn ping_pong_hog(rt: &Runtime) {
    latch_arm(1);
    rt.spawn(async {
        let (first_tx, mut rx_in) = oneshot::channel::<Msg>();
        tokio::spawn(async move {
            while let Ok(Msg(Some(reply))) = rx_in.await {
                let (tx, rx) = oneshot::channel::<Msg>();
                rx_in = rx;
                if reply.send(Msg(Some(tx))).is_err() {
                    break;
                }
            }
        });
        let mut out = first_tx;
        let rounds = ROUNDS.load(Ordering::Relaxed);
        let t0 = Instant::now();
        let slices0 = HOG_SLICES.load(Ordering::SeqCst);
        for _ in 0..rounds {
            let (tx, rx) = oneshot::channel::<Msg>();
            if out.send(Msg(Some(tx))).is_err() {
                panic!("ping_pong_hog: the partner left");
            }
            match rx.await {
                Ok(Msg(Some(next))) => out = next,
                _ => panic!("ping_pong_hog: the partner left"),
            }
        }
        PAIR_NS.store(t0.elapsed().as_nanos() as u64, Ordering::SeqCst);
        PAIR_SLICES.store(
            HOG_SLICES.load(Ordering::SeqCst) - slices0,
            Ordering::SeqCst,
        );
        let _ = out.send(Msg(None));
        latch_count_down();
    });
}

fn hog_teardown(rt: &Runtime) {
    HOG_STOP.store(true, Ordering::SeqCst);
    if let Some(h) = HOG.lock().unwrap().take() {
        rt.block_on(h).unwrap();
    }
}

/// 2 x workers tasks keep the workers busy while the main thread spawns
/// SPAWN_MANY empty tasks: busy1 tasks loop yield + stall, busy2 chains
/// spawn a successor that stalls. Setup waits until each has run once;
/// teardown stops them and waits until they are gone.
static BUSY_STOP: AtomicBool = AtomicBool::new(false);
static BUSY_STARTED: AtomicUsize = AtomicUsize::new(0);
static BUSY_LIVE: AtomicUsize = AtomicUsize::new(0);
static WORKERS: AtomicUsize = AtomicUsize::new(DEFAULT_WORKERS);

fn busy_setup(rt: &Runtime, spawn_one: fn(&Runtime)) {
    let n = 2 * WORKERS.load(Ordering::Relaxed);
    BUSY_STOP.store(false, Ordering::SeqCst);
    BUSY_STARTED.store(0, Ordering::SeqCst);
    BUSY_LIVE.store(n, Ordering::SeqCst);
    for _ in 0..n {
        spawn_one(rt);
    }
    let deadline = Instant::now() + Duration::from_secs(ITER_TIMEOUT_S);
    while BUSY_STARTED.load(Ordering::SeqCst) < n {
        if Instant::now() >= deadline {
            eprintln!(
                "rt_bench: the busy tasks did not all start within {} s",
                ITER_TIMEOUT_S
            );
            exit(3);
        }
        nap();
    }
}

fn busy1_setup(rt: &Runtime) {
    busy_setup(rt, |rt| {
        rt.spawn(async {
            BUSY_STARTED.fetch_add(1, Ordering::SeqCst);
            while !BUSY_STOP.load(Ordering::Relaxed) {
                tokio::task::yield_now().await;
                spin_us(BUSY_STALL_US);
            }
            BUSY_LIVE.fetch_sub(1, Ordering::SeqCst);
        });
    });
}

fn busy2_next() {
    tokio::spawn(async {
        if BUSY_STOP.load(Ordering::Relaxed) {
            BUSY_LIVE.fetch_sub(1, Ordering::SeqCst);
        } else {
            spin_us(BUSY_STALL_US);
            busy2_next();
        }
    });
}

fn busy2_setup(rt: &Runtime) {
    busy_setup(rt, |rt| {
        rt.spawn(async {
            BUSY_STARTED.fetch_add(1, Ordering::SeqCst);
            busy2_next();
        });
    });
}

fn busy_teardown(_rt: &Runtime) {
    BUSY_STOP.store(true, Ordering::SeqCst);
    while BUSY_LIVE.load(Ordering::SeqCst) > 0 {
        nap();
    }
}

struct Bench {
    name: &'static str,
    setup: Option<fn(&Runtime)>,    // untimed, before each iteration
    start: fn(&Runtime),            // arms the latch and starts one iteration
    teardown: Option<fn(&Runtime)>, // untimed, after each iteration
    reps: usize,
    warmup: usize,
    one_worker: bool, // always runs on one worker
}

const fn plain(name: &'static str, start: fn(&Runtime)) -> Bench {
    Bench {
        name,
        setup: None,
        start,
        teardown: None,
        reps: DEFAULT_REPS,
        warmup: DEFAULT_WARMUP,
        one_worker: false,
    }
}

const BENCHES: [Bench; 9] = [
    plain("spawn_many_local", spawn_many_local),
    plain("spawn_many_remote", spawn_many_remote),
    plain("yield_many", yield_many),
    plain("ping_pong", ping_pong),
    plain("chained_spawn", chained_spawn),
    plain("spawn_blocking", spawn_blocking),
    Bench {
        name: "ping_pong_hog",
        setup: Some(hog_setup),
        start: ping_pong_hog,
        teardown: Some(hog_teardown),
        reps: HOG_REPS,
        warmup: HOG_WARMUP,
        one_worker: true,
    },
    Bench {
        name: "spawn_many_remote_busy1",
        setup: Some(busy1_setup),
        start: spawn_many_remote,
        teardown: Some(busy_teardown),
        reps: DEFAULT_REPS,
        warmup: DEFAULT_WARMUP,
        one_worker: false,
    },
    Bench {
        name: "spawn_many_remote_busy2",
        setup: Some(busy2_setup),
        start: spawn_many_remote,
        teardown: Some(busy_teardown),
        reps: DEFAULT_REPS,
        warmup: DEFAULT_WARMUP,
        one_worker: false,
    },
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
    eprintln!(
        "usage: {} [--bench NAME|all] [--reps N] [--warmup N] [--workers N] [--rounds N] [--result]",
        prog
    );
    eprintln!("  NAME: spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn");
    eprintln!("        ping_pong_hog spawn_many_remote_busy1 spawn_many_remote_busy2");
    eprintln!("  --result: the harness protocol (result,<rep>,<metric>,<value>,<unit>), one NAME");
    eprintln!(
        "  --rounds: round trips per ping_pong_hog iteration (default {})",
        HOG_ROUNDS
    );
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut bench = "all".to_string();
    let (mut reps, mut warmup, mut workers) = (None, None, DEFAULT_WORKERS);
    let mut result = false;
    let mut i = 1;
    while i < args.len() {
        if args[i] == "--result" {
            result = true;
            i += 1;
            continue;
        }
        let v = args.get(i + 1).unwrap_or_else(|| usage(&args[0]));
        let num = |min: usize| match v.parse::<usize>() {
            Ok(n) if n >= min => n,
            _ => usage(&args[0]),
        };
        match args[i].as_str() {
            "--bench" => bench = v.clone(),
            "--reps" => reps = Some(num(1)),
            "--warmup" => warmup = Some(num(0)),
            "--workers" => workers = num(1),
            "--rounds" => ROUNDS.store(num(1), Ordering::Relaxed),
            _ => usage(&args[0]),
        }
        i += 2;
    }
    if (bench == "all" && result) || (bench != "all" && !BENCHES.iter().any(|b| b.name == bench)) {
        usage(&args[0]);
    }

    // Keep freed memory in the process, as the C program does.
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
    }

    if !result {
        println!("impl,bench,policy,workers,rep,ns");
    }
    let mut summary = Vec::new();
    for b in BENCHES.iter() {
        if bench != "all" && bench != b.name {
            continue;
        }
        let w = if b.one_worker { 1 } else { workers };
        WORKERS.store(w, Ordering::Relaxed);
        let (reps, warmup) = (reps.unwrap_or(b.reps), warmup.unwrap_or(b.warmup));
        // A fresh runtime per benchmark, as in the C program.
        let rt = Builder::new_multi_thread()
            .worker_threads(w)
            .build()
            .unwrap();
        let mut ns = Vec::with_capacity(reps);
        for r in 0..warmup + reps {
            if let Some(setup) = b.setup {
                setup(&rt);
            }
            let t0 = Instant::now();
            (b.start)(&rt);
            let finished = latch_wait();
            let mut t = t0.elapsed().as_nanos() as f64;
            if !finished {
                eprintln!(
                    "rt_bench: {}: an iteration took over {} s",
                    b.name, ITER_TIMEOUT_S
                );
                exit(3);
            }
            if let Some(teardown) = b.teardown {
                teardown(&rt);
            }
            if b.name == "ping_pong_hog" {
                t = PAIR_NS.load(Ordering::SeqCst) as f64;
            }
            if r < warmup {
                continue;
            }
            let rep = r - warmup + 1;
            ns.push(t);
            if !result {
                println!("tokio,{},tokio,{},{},{:.0}", b.name, w, rep, t);
                continue;
            }
            println!("result,{},time_per_iter,{:.3},us", rep, t / 1e3);
            if b.name == "ping_pong_hog" {
                let rounds = ROUNDS.load(Ordering::Relaxed) as f64;
                println!("result,{},time_per_round_trip,{:.1},ns", rep, t / rounds);
                println!(
                    "result,{},hog_slices,{},count",
                    rep,
                    PAIR_SLICES.load(Ordering::SeqCst)
                );
            }
        }
        ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
        summary.push(format!(
            "# tokio {:<17} policy=tokio workers={} reps={} median_us={:.1} min_us={:.1} max_us={:.1}",
            b.name,
            w,
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
