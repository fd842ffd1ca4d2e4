//! E7 fan-out / fan-in on Tokio: experiments/fanout.c with the same
//! constants and output (the harness protocol, minus Volt-C's counters).
//!
//!     fanout [--bench skynet|fib] [--n N] [--cutoff N] [--reps N] [--warmup N] [--workers N]
//!
//! skynet: a 10-ary tree of tasks over 1,000,000 leaves; a node spawns its
//! 10 children, awaits their JoinHandles and returns the sum; leaf i returns
//! i; the root's result must be 499999500000. fib: fib(N) with a task per
//! call above the cutoff (two spawned children, awaited), plain recursion
//! at or below it; the result is checked, and the plain recursion of fib(N)
//! is timed on the main thread each repetition (serial_time, speedup).
//! One iteration: the main thread spawns the root and blocks on it.

use std::process::exit;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use tokio::runtime::Builder;
use tokio::task::JoinHandle;

const SKYNET_LEAVES: u64 = 1_000_000;
const SKYNET_FANOUT: u64 = 10;
const SKYNET_TASKS: f64 = 1_111_111.0;
const SKYNET_SUM: u64 = 499_999_500_000;
const FIB_N: u64 = 30;
const FIB_CUTOFF: u64 = 20;
const DEFAULT_REPS: usize = 5;
const DEFAULT_WARMUP: usize = 2;
const DEFAULT_WORKERS: usize = 2;

static CUTOFF: AtomicU64 = AtomicU64::new(FIB_CUTOFF);
static TASKS: AtomicUsize = AtomicUsize::new(0);

fn skynet(num: u64, size: u64) -> JoinHandle<u64> {
    tokio::spawn(async move {
        if size == 1 {
            return num;
        }
        let step = size / SKYNET_FANOUT;
        let kids: [JoinHandle<u64>; SKYNET_FANOUT as usize] =
            std::array::from_fn(|i| skynet(num + i as u64 * step, step));
        let mut sum = 0;
        for k in kids {
            sum += k.await.unwrap();
        }
        sum
    })
}

fn fib_serial(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib_serial(n - 1) + fib_serial(n - 2)
    }
}

fn fib_expected(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let t = a + b;
        a = b;
        b = t;
    }
    a
}

fn fib(n: u64) -> JoinHandle<u64> {
    TASKS.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move {
        if n <= CUTOFF.load(Ordering::Relaxed) {
            return fib_serial(n);
        }
        let a = fib(n - 1);
        let b = fib(n - 2);
        a.await.unwrap() + b.await.unwrap()
    })
}

extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
}
const M_TRIM_THRESHOLD: i32 = -1;
const M_TOP_PAD: i32 = -2;
const M_MMAP_THRESHOLD: i32 = -3;

fn usage(prog: &str) -> ! {
    eprintln!(
        "usage: {} [--bench skynet|fib] [--n N] [--cutoff N] [--reps N] [--warmup N] [--workers N]",
        prog
    );
    eprintln!(
        "  defaults: --bench skynet --n {} --cutoff {} --reps {} --warmup {} --workers {}; n <= 90,",
        FIB_N, FIB_CUTOFF, DEFAULT_REPS, DEFAULT_WARMUP, DEFAULT_WORKERS
    );
    eprintln!("  1 <= cutoff, n - cutoff <= 25");
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut bench = "skynet".to_string();
    let (mut n, mut cutoff) = (FIB_N, FIB_CUTOFF);
    let (mut reps, mut warmup, mut workers) = (DEFAULT_REPS, DEFAULT_WARMUP, DEFAULT_WORKERS);
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).unwrap_or_else(|| usage(&args[0]));
        let num = |min: u64, max: u64| match v.parse::<u64>() {
            Ok(x) if x >= min && x <= max => x,
            _ => usage(&args[0]),
        };
        match args[i].as_str() {
            "--bench" if v == "skynet" || v == "fib" => bench = v.clone(),
            "--n" => n = num(0, 90),
            "--cutoff" => cutoff = num(1, 90),
            "--reps" => reps = num(1, 1_000_000) as usize,
            "--warmup" => warmup = num(0, 1_000_000) as usize,
            "--workers" => workers = num(1, 1024) as usize,
            _ => usage(&args[0]),
        }
        i += 2;
    }
    if n > cutoff + 25 {
        usage(&args[0]);
    }
    CUTOFF.store(cutoff, Ordering::Relaxed);
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
    }
    let sky = bench == "skynet";
    let want = if sky { SKYNET_SUM } else { fib_expected(n) };
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap();
    println!(
        "# fanout {} impl=tokio workers={} n={} cutoff={}",
        bench, workers, n, cutoff
    );
    let mut times = Vec::with_capacity(reps);
    for r in 0..warmup + reps {
        let mut serial = 0.0;
        if !sky {
            let t = Instant::now();
            let got = fib_serial(n);
            serial = t.elapsed().as_nanos() as f64;
            assert_eq!(got, want);
        }
        TASKS.store(0, Ordering::Relaxed);
        let t0 = Instant::now();
        let got = if sky {
            rt.block_on(async { skynet(0, SKYNET_LEAVES).await.unwrap() })
        } else {
            rt.block_on(async move { fib(n).await.unwrap() })
        };
        let t = t0.elapsed().as_nanos() as f64;
        if got != want {
            eprintln!("fanout: {}: result {}, expected {}", bench, got, want);
            exit(1);
        }
        if r < warmup {
            continue;
        }
        let rep = r - warmup + 1;
        times.push(t);
        println!("result,{},time_per_iter,{:.3},us", rep, t / 1e3);
        if sky {
            println!(
                "result,{},time_per_leaf,{:.1},ns",
                rep,
                t / SKYNET_LEAVES as f64
            );
            println!(
                "result,{},tasks_per_sec,{:.0},count",
                rep,
                SKYNET_TASKS / (t / 1e9)
            );
        } else {
            println!(
                "result,{},tasks,{},count",
                rep,
                TASKS.load(Ordering::Relaxed)
            );
            println!("result,{},serial_time,{:.3},us", rep, serial / 1e3);
            println!("result,{},speedup,{:.3},ratio", rep, serial / t);
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = if reps % 2 == 1 {
        times[reps / 2]
    } else {
        (times[reps / 2 - 1] + times[reps / 2]) / 2.0
    };
    println!(
        "# fanout {} median_us={:.1} min_us={:.1} max_us={:.1}",
        bench,
        m / 1e3,
        times[0] / 1e3,
        times[reps - 1] / 1e3
    );
}
