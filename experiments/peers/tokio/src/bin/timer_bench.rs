//! E18 what timers cost, on Tokio: experiments/timer_bench.c with the same
//! constants, command line and output (the harness protocol).
//!
//!     timer_bench --bench insert_cancel|sleepers [--count N] [--reps N]
//!                 [--warmup N] [--workers N] [--result]
//!
//! insert_cancel: one metric, sleep_ns: ns per `tokio::time::sleep` of one
//! hour created, polled once and dropped, in a task, N times (default
//! 1,000,000). The whole loop runs inside one poll of the task, with the
//! task's own Context (through `std::future::poll_fn`), as the C program
//! does: the first poll of a Sleep registers it with the time driver (lock,
//! insert into the wheel, waker clone) and the drop cancels it (lock,
//! remove, waker drop). A Sleep returning Pending gives its coop budget
//! unit back, so all N polls reach the driver; a sleep already elapsed,
//! polled once afterwards in the same poll, must be Ready (the check).
//! The wheel-only metrics of the C program (wheel_ns, sharded_ns,
//! shared_ns) have no Tokio counterpart.
//! sleepers: N tasks (default 1,000,000) asleep at once on the real clock,
//! each in `tokio::time::sleep_until` until a seeded uniform deadline in
//! [3 s, 4 s) after the first spawn (the same xorshift and seed as the C
//! program); the main thread spawns them (tokio::spawn inside the runtime's
//! context, not on a worker), waits until all are asleep, then until all
//! have woken:
//! - bytes_per_task: resident memory growth once all are asleep, over N
//!   (against the resident size measured once before the first repetition);
//! - lateness_p50_us, lateness_p99_us, lateness_max_us: how long after its
//!   deadline each task ran again (CLOCK_MONOTONIC);
//! - spawn_ms: from the first spawn until all are asleep;
//! - total_ms: from the first spawn to the last wake (>= 3,000).
//! If spawn_ms exceeds 3,000 the first deadlines pass before all are spawned
//! (and some tasks have woken and ended before "all asleep"): the lateness
//! then includes the spawn backlog and bytes_per_task undercounts.
//! --workers sets worker_threads. Without --result a table is printed.

use std::future::poll_fn;
use std::future::Future;
use std::pin::pin;
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

const DEFAULT_COUNT: u64 = 1_000_000;
const MAX_COUNT: u64 = 10_000_000;
const DEFAULT_REPS: u64 = 5;
const DEFAULT_WARMUP: u64 = 1;
const DEFAULT_WORKERS: u64 = 2;
const MAX_WORKERS: u64 = 64; // VOLT_MAX_WORKERS
const SLEEP_SECS: u64 = 3600; // insert_cancel: a one-hour sleep
const SLEEPERS_SEED: u64 = 0x9e37_79b9_7f4a_7c15; // + the repetition
const SLEEPERS_BASE_NS: u64 = 3_000_000_000; // deadlines are t0 + 3 s + delay
const SLEEPERS_SPREAD_US: u64 = 1_000_000; // delay in [0, 1 s)
/// The first timed repetition's number, as experiments/timer_bench.c prints it.
const FIRST_REP: u64 = 1;

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
    fn sysconf(name: i32) -> i64;
}
const M_TRIM_THRESHOLD: i32 = -1;
const M_TOP_PAD: i32 = -2;
const M_MMAP_THRESHOLD: i32 = -3;
const SC_PAGESIZE: i32 = 30; // _SC_PAGESIZE on Linux

/// Resident bytes (/proc/self/statm), 0 if unreadable.
fn rss_bytes() -> i64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let resident: i64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    resident * unsafe { sysconf(SC_PAGESIZE) }
}

/// One protocol line, the value as proto_result prints it ("%.6f", trailing
/// zeros and a trailing point removed).
fn result(rep: u64, metric: &str, value: f64, unit: &str) {
    let mut s = format!("{:.6}", value);
    if s.contains('.') {
        while s.len() > 1 && s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    println!("result,{},{},{},{}", rep, metric, s, unit);
}

/// The value at quantile q of the n > 0 sorted values (index round(q (n - 1))).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let i = (q * (n - 1) as f64 + 0.5) as usize;
    sorted[i.min(n - 1)]
}

// ------------------------------------------------------------ insert_cancel

fn insert_cancel(rt: &Runtime, count: u64, reps: u64, warmup: u64, result_mode: bool) {
    for rep in 0..warmup + reps {
        let task = rt.spawn(async move {
            poll_fn(|cx| {
                let t0 = Instant::now();
                for _ in 0..count {
                    let mut s = pin!(tokio::time::sleep(Duration::from_secs(SLEEP_SECS)));
                    if s.as_mut().poll(cx).is_ready() {
                        panic!("timer_bench: a one-hour sleep was ready");
                    }
                } // dropped: cancelled
                let ns = t0.elapsed().as_nanos() as f64 / count as f64;
                // The check: a sleep already elapsed, polled now, is Ready,
                // so the coop budget was not spent and every poll above
                // reached the time driver.
                let past = Instant::now()
                    .checked_sub(Duration::from_secs(1))
                    .unwrap_or_else(Instant::now);
                let mut s = pin!(tokio::time::sleep_until(tokio::time::Instant::from_std(
                    past
                )));
                if s.as_mut().poll(cx).is_pending() {
                    panic!("timer_bench: an elapsed sleep was pending (coop budget spent?)");
                }
                Poll::Ready(ns)
            })
            .await
        });
        let sleep_ns = rt.block_on(task).unwrap();
        if rep < warmup {
            continue;
        }
        let r = rep - warmup + FIRST_REP;
        if result_mode {
            result(r, "sleep_ns", sleep_ns, "ns");
        } else {
            println!(
                "rep {}: tokio::time::sleep created + polled once + dropped in a task: {:.1} ns",
                r, sleep_ns
            );
        }
    }
}

// ----------------------------------------------------------------- sleepers

/// The completion latch: the task taking the count to zero wakes the main thread.
struct Latch {
    left: AtomicU64,
    open: Mutex<bool>,
    cond: Condvar,
}

impl Latch {
    fn arm(&self, n: u64) {
        self.left.store(n, Ordering::SeqCst);
        *self.open.lock().unwrap() = false;
    }
    fn count_down(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self.open.lock().unwrap() = true;
            self.cond.notify_one();
        }
    }
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cond.wait(open).unwrap();
        }
    }
}

struct Sleepers {
    origin: Instant,             // the clock's zero: times are ns since it
    lateness_us: Vec<AtomicU64>, // one f64 (its bits) per task
    asleep: AtomicU64,           // tasks that armed their sleep
    last_wake_ns: AtomicU64,
    base_ns: AtomicU64, // deadlines are base + delay
    done: Latch,
}

impl Sleepers {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
}

async fn sleeper(st: &'static Sleepers, idx: u32, delay_us: u32) {
    let deadline_ns = st.base_ns.load(Ordering::Relaxed) + delay_us as u64 * 1000;
    let deadline = st.origin + Duration::from_nanos(deadline_ns);

    st.asleep.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
    let now = st.now_ns();
    let late = (now as i64 - deadline_ns as i64) as f64 / 1e3;
    st.lateness_us[idx as usize].store(late.to_bits(), Ordering::Relaxed);
    let mut seen = st.last_wake_ns.load(Ordering::Relaxed);
    while now > seen {
        match st
            .last_wake_ns
            .compare_exchange_weak(seen, now, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => break,
            Err(v) => seen = v,
        }
    }
    st.done.count_down();
}

fn sleepers(rt: &Runtime, n: u64, reps: u64, warmup: u64, result_mode: bool) {
    // Written here, so resident before the baseline.
    let st: &'static Sleepers = Box::leak(Box::new(Sleepers {
        origin: Instant::now(),
        lateness_us: (0..n).map(|_| AtomicU64::new(0)).collect(),
        asleep: AtomicU64::new(0),
        last_wake_ns: AtomicU64::new(0),
        base_ns: AtomicU64::new(0),
        done: Latch {
            left: AtomicU64::new(0),
            open: Mutex::new(false),
            cond: Condvar::new(),
        },
    }));
    let mut sorted = vec![0f64; n as usize];
    sorted.iter_mut().for_each(|v| *v = -1.0);

    // growth over the process before any sleeper: later rounds reuse the memory
    let rss0 = rss_bytes();

    for rep in 0..warmup + reps {
        let mut x = SLEEPERS_SEED.wrapping_add(rep);
        let t0 = st.now_ns();

        st.base_ns.store(t0 + SLEEPERS_BASE_NS, Ordering::Relaxed);
        st.asleep.store(0, Ordering::Relaxed);
        st.last_wake_ns.store(0, Ordering::Relaxed);
        st.done.arm(n);
        {
            let _in_rt = rt.enter();
            for i in 0..n {
                let delay_us = (xorshift(&mut x) % SLEEPERS_SPREAD_US) as u32;
                tokio::spawn(sleeper(st, i as u32, delay_us));
            }
        }
        while st.asleep.load(Ordering::Relaxed) < n {
            std::thread::sleep(Duration::from_micros(20));
        }
        let rss1 = rss_bytes();
        let t_asleep = st.now_ns();

        st.done.wait();
        if rep < warmup {
            continue;
        }

        let total_ms = (st.last_wake_ns.load(Ordering::Relaxed) - t0) as f64 / 1e6;
        let spawn_ms = (t_asleep - t0) as f64 / 1e6;
        let per_task = (rss1 - rss0) as f64 / n as f64;
        let r = rep - warmup + FIRST_REP;

        for (d, s) in sorted.iter_mut().zip(st.lateness_us.iter()) {
            *d = f64::from_bits(s.load(Ordering::Relaxed));
        }
        sorted.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap());
        let (p50, p99, max) = (
            quantile(&sorted, 0.5),
            quantile(&sorted, 0.99),
            sorted[n as usize - 1],
        );
        if result_mode {
            result(r, "bytes_per_task", per_task, "bytes");
            result(r, "lateness_p50_us", p50, "us");
            result(r, "lateness_p99_us", p99, "us");
            result(r, "lateness_max_us", max, "us");
            result(r, "total_ms", total_ms, "ms");
            result(r, "spawn_ms", spawn_ms, "ms");
        } else {
            println!(
                "rep {}: {} sleepers, {:.0} bytes/task (RSS), lateness p50 {:.0} us p99 {:.0} us \
                 max {:.0} us; all asleep after {:.0} ms, all done after {:.0} ms",
                r, n, per_task, p50, p99, max, spawn_ms, total_ms
            );
        }
    }
}

// --------------------------------------------------------------------- main

fn usage() -> ! {
    eprintln!(
        "usage: timer_bench --bench insert_cancel|sleepers [--count N] [--reps N]\n\
         \x20                  [--warmup N] [--workers N] [--result]"
    );
    exit(2);
}

/// A decimal count in [min, max], digits only (as proto_count), else usage.
fn count_arg(v: Option<&String>, min: u64, max: u64) -> u64 {
    match v {
        Some(s) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => match s.parse() {
            Ok(x) if x >= min && x <= max => x,
            _ => usage(),
        },
        _ => usage(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mut reps, mut warmup, mut workers) = (DEFAULT_REPS, DEFAULT_WARMUP, DEFAULT_WORKERS);
    let mut count = DEFAULT_COUNT;
    let mut bench: Option<String> = None;
    let mut result_mode = false;
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1);
        match args[i].as_str() {
            "--result" => {
                result_mode = true;
                i += 1;
                continue;
            }
            "--bench" if v.is_some() => bench = v.cloned(),
            "--reps" => reps = count_arg(v, 1, 1000),
            "--warmup" => warmup = count_arg(v, 0, 100),
            "--workers" => workers = count_arg(v, 1, MAX_WORKERS),
            "--count" => count = count_arg(v, 1, MAX_COUNT),
            _ => usage(),
        }
        i += 2;
    }
    let bench = bench.unwrap_or_else(|| usage());
    if bench != "insert_cancel" && bench != "sleepers" {
        usage();
    }
    // Freed memory stays mapped, as in the C program (proto_malloc_setup),
    // but with a higher trim threshold than its 512 MiB: a Tokio sleeper task
    // is ~1.4 KB (a Sleep alone is 640 bytes, aligned to 128), so a million
    // of them free ~1.4 GB after each repetition, which 512 MiB would hand
    // back to the kernel, making every timed repetition fault it in again.
    unsafe {
        mallopt(M_TRIM_THRESHOLD, i32::MAX);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
    }
    let rt = Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .enable_time()
        .build()
        .unwrap();
    if bench == "insert_cancel" {
        insert_cancel(&rt, count, reps, warmup, result_mode);
    } else {
        sleepers(&rt, count, reps, warmup, result_mode);
    }
}
