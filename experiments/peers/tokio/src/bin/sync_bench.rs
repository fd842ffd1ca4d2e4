//! E19 what the synchronisation primitives cost, on Tokio (tokio::sync):
//! experiments/sync_bench.cc's `--result` mode with the same cases,
//! constants, command line and output (the harness protocol).
//!
//!     sync_bench --result [--tier 1|3|all] [--reps N] [--warmup N]
//!                [--rounds N] [--workers N]
//!
//! Without --result a table is printed instead of the protocol lines.
//!
//! Tier 1: one thread, outside the runtime (tokio::sync needs none),
//! 1,000,000 operations per case; ns per operation; every result checked:
//! - mutex_ns: `Mutex::try_lock`, the guard dropped (unlock);
//! - rwlock_read_ns, rwlock_write_ns: `RwLock::try_read` / `try_write`, the
//!   guard dropped;
//! - semaphore_ns: a `Semaphore` of 10 permits, `try_acquire()`, the permit
//!   dropped (release 1);
//! - once_get_ns: `OnceCell::get` on `OnceCell::new_with(Some(42))`, the
//!   value checked;
//! - once_set_ns: per operation `OnceCell::new()`, `set(i)`, drop;
//! - notify_ns: per operation `Notify::new()`, `notify_one()` (nobody
//!   waits: the permit is stored), then `notified()` pinned and polled once
//!   with a no-op waker: Ready, the permit consumed; dropped;
//! - barrier_ns: per operation `Barrier::new(1)`, `wait()` pinned and polled
//!   once with a no-op waker: Ready, the leader; dropped. (Tokio's Barrier
//!   allocates a watch channel in `new`: Volt-C's init allocates nothing.)
//!
//! Tier 3: contended, on a multi-thread runtime of --workers threads
//! (default 2). One round spawns the tasks from the main thread
//! (`Runtime::spawn`: injected, as Volt-C's main thread is no worker), then
//! `block_on`s each JoinHandle in order; timed from just before the first
//! spawn to the last join; ns per operation over all the tasks' operations.
//! Each round starts from a fresh primitive:
//! - mutex_contended_ns: `Mutex<u64>`, 4 tasks x 2,500 times
//!   `*m.lock().await += 1`; check: 10,000;
//! - rwlock_contended_ns: `RwLock<u64>`, 4 readers and 2 writers (spawned
//!   R R W R R W) x 1,666 each: a reader reads the value under `read()`, a
//!   writer increments it under `write()`; check: 3,332, every task did its
//!   1,666;
//! - semaphore_contended_ns: `Semaphore::new(2)`, 8 tasks x 1,250 times:
//!   `try_acquire()`, else `acquire().await`; hold nothing; the permit
//!   dropped; check: 10,000 acquisitions and 2 permits free at the end.
//! A failed check prints what differed and exits 1. --rounds rounds per
//! repetition (default 1). After the last repetition, '#' lines tell per
//! case how often its tasks suspended (polls beyond each task's first:
//! waits and coop-budget yields; each task is wrapped in a poll counter),
//! in how many rounds more than one thread polled its tasks, and how often
//! the semaphore's try failed: the same diagnostics as the C++ program.

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::process::exit;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{Barrier, Mutex, Notify, OnceCell, RwLock, Semaphore};

const TIER1_OPS: u64 = 1_000_000;
const SEM_T1_PERMITS: usize = 10;
const ONCE_VALUE: u64 = 42;
const MUTEX_TASKS: u64 = 4;
const MUTEX_ITERS: u64 = 2500;
const RW_READERS: u64 = 4;
const RW_WRITERS: u64 = 2;
const RW_ITERS: u64 = 1666;
const SEM_TASKS: u64 = 8;
const SEM_ITERS: u64 = 1250;
const SEM_T3_PERMITS: usize = 2;
const DEFAULT_REPS: u64 = 5;
const DEFAULT_WARMUP: u64 = 1;
const DEFAULT_WORKERS: u64 = 2;
const MAX_WORKERS: u64 = 64; // VOLT_MAX_WORKERS
/// The first timed repetition's number, as experiments/sync_bench.cc prints it.
const FIRST_REP: u64 = 1;

extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
}
const M_TRIM_THRESHOLD: i32 = -1;
const M_TOP_PAD: i32 = -2;
const M_MMAP_THRESHOLD: i32 = -3;

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

fn fail(metric: &str, what: String) -> ! {
    eprintln!("sync_bench: {}: {}", metric, what);
    exit(1);
}

// ------------------------------------------------------------------ tier 1

/// A waker that does nothing: the tier-1 polls must be Ready at once.
fn noop_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// TIER1_OPS calls of op(i) (false: a wrong result); ns per operation.
fn tier1<F: FnMut(u64) -> bool>(metric: &str, mut op: F) -> f64 {
    let t0 = Instant::now();
    for i in 0..TIER1_OPS {
        if !op(i) {
            fail(metric, format!("operation {} gave a wrong result", i));
        }
    }
    t0.elapsed().as_nanos() as f64 / TIER1_OPS as f64
}

fn t1_mutex() -> f64 {
    let m = Mutex::new(0u64);
    tier1("mutex_ns", |_| m.try_lock().is_ok())
}

fn t1_rwlock_read() -> f64 {
    let l = RwLock::new(0u64);
    tier1("rwlock_read_ns", |_| l.try_read().is_ok())
}

fn t1_rwlock_write() -> f64 {
    let l = RwLock::new(0u64);
    tier1("rwlock_write_ns", |_| l.try_write().is_ok())
}

fn t1_semaphore() -> f64 {
    let s = Semaphore::new(SEM_T1_PERMITS);
    tier1("semaphore_ns", |_| s.try_acquire().is_ok())
}

fn t1_once_get() -> f64 {
    let c = OnceCell::new_with(Some(ONCE_VALUE));
    tier1("once_get_ns", |_| black_box(&c).get() == Some(&ONCE_VALUE))
}

fn t1_once_set() -> f64 {
    tier1("once_set_ns", |i| {
        let c = OnceCell::new();
        let ok = c.set(i).is_ok();
        black_box(&c);
        ok
    })
}

fn t1_notify() -> f64 {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    tier1("notify_ns", |_| {
        let n = Notify::new();
        n.notify_one();
        let f = pin!(n.notified());
        f.poll(&mut cx).is_ready()
    })
}

fn t1_barrier() -> f64 {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    tier1("barrier_ns", |_| {
        let b = Barrier::new(1);
        let f = pin!(b.wait());
        match f.poll(&mut cx) {
            Poll::Ready(r) => r.is_leader(),
            Poll::Pending => false,
        }
    })
}

// ------------------------------------------------------------------ tier 3

/// What a task reports: operations done, acquisitions that awaited, the sum
/// read, and the diagnostics: how often it was polled (1 = it never
/// suspended), by which threads (one bit each).
#[derive(Default, Clone, Copy)]
struct TaskOut {
    ops: u64,
    slow: u64,
    seen: u64,
    polls: u64,
    workers: u64,
}

static NEXT_THREAD: AtomicU32 = AtomicU32::new(0);
thread_local! {
    /// A small number per thread, for TaskOut::workers.
    static THREAD_BIT: u64 = 1u64 << (NEXT_THREAD.fetch_add(1, Ordering::Relaxed) % 64);
}

/// A task's future, counting its polls and the threads that poll it (the
/// counterpart of note_poll in the C++ program).
struct Counted<F> {
    f: F,
    polls: u64,
    workers: u64,
}

impl<F: Future<Output = TaskOut>> Future for Counted<F> {
    type Output = TaskOut;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<TaskOut> {
        // Safety: f is never moved out of the pinned Counted.
        let this = unsafe { self.get_unchecked_mut() };
        this.polls += 1;
        this.workers |= THREAD_BIT.with(|b| *b);
        match unsafe { Pin::new_unchecked(&mut this.f) }.poll(cx) {
            Poll::Ready(mut o) => {
                o.polls = this.polls;
                o.workers = this.workers;
                Poll::Ready(o)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The diagnostics of a tier-3 case over a whole run (warm-up included).
#[derive(Default)]
struct Diag {
    rounds: u64,
    polls: u64,
    tasks: u64,
    spread: u64, // rounds run by 2+ worker threads
}

impl Diag {
    fn note(&mut self, out: &[TaskOut]) {
        self.rounds += 1;
        self.tasks += out.len() as u64;
        self.polls += out.iter().map(|o| o.polls).sum::<u64>();
        let mask = out.iter().fold(0u64, |m, o| m | o.workers);
        self.spread += (mask.count_ones() > 1) as u64;
    }
}

/// Spawns every task from the main thread, then joins them in order; the
/// elapsed ns from just before the first spawn to the last join, and the outputs.
fn spawn_join<F>(rt: &Runtime, tasks: Vec<F>, diag: &mut Diag) -> (u64, Vec<TaskOut>)
where
    F: Future<Output = TaskOut> + Send + 'static,
{
    let tasks: Vec<_> = tasks
        .into_iter()
        .map(|f| Counted {
            f,
            polls: 0,
            workers: 0,
        })
        .collect();
    let mut handles = Vec::with_capacity(tasks.len());
    let t0 = Instant::now();
    for t in tasks {
        handles.push(rt.spawn(t));
    }
    let out: Vec<TaskOut> = handles
        .into_iter()
        .map(|h| rt.block_on(h).expect("a task panicked"))
        .collect();
    let ns = t0.elapsed().as_nanos() as u64;
    diag.note(&out);
    (ns, out)
}

fn mutex_round(rt: &Runtime, diag: &mut Diag) -> (u64, u64) {
    let m = Arc::new(Mutex::new(0u64));
    let tasks: Vec<_> = (0..MUTEX_TASKS)
        .map(|_| {
            let m = m.clone();
            async move {
                for _ in 0..MUTEX_ITERS {
                    *m.lock().await += 1;
                }
                TaskOut {
                    ops: MUTEX_ITERS,
                    ..Default::default()
                }
            }
        })
        .collect();
    let (ns, _) = spawn_join(rt, tasks, diag);
    let ops = MUTEX_TASKS * MUTEX_ITERS;
    let counter = *m.try_lock().expect("the mutex is free");
    if counter != ops {
        fail(
            "mutex_contended",
            format!("counter {}, expected {}", counter, ops),
        );
    }
    (ns, ops)
}

fn rwlock_round(rt: &Runtime, diag: &mut Diag) -> (u64, u64) {
    let n = RW_READERS + RW_WRITERS;
    let l = Arc::new(RwLock::new(0u64));
    let tasks: Vec<_> = (0..n)
        .map(|k| {
            let l = l.clone();
            let writer = k % 3 == 2; // R R W R R W
            async move {
                let mut seen = 0u64;
                for _ in 0..RW_ITERS {
                    if writer {
                        *l.write().await += 1;
                    } else {
                        seen += *l.read().await;
                    }
                }
                TaskOut {
                    ops: RW_ITERS,
                    seen,
                    ..Default::default()
                }
            }
        })
        .collect();
    let (ns, out) = spawn_join(rt, tasks, diag);
    black_box(out.iter().map(|o| o.seen).sum::<u64>());
    let value = *l.try_read().expect("the rwlock is free");
    if value != RW_WRITERS * RW_ITERS {
        fail(
            "rwlock_contended",
            format!("value {}, expected {}", value, RW_WRITERS * RW_ITERS),
        );
    }
    if let Some((k, o)) = out.iter().enumerate().find(|(_, o)| o.ops != RW_ITERS) {
        fail(
            "rwlock_contended",
            format!("task {} did {} of {}", k, o.ops, RW_ITERS),
        );
    }
    (ns, n * RW_ITERS)
}

fn semaphore_round(
    rt: &Runtime,
    diag: &mut Diag,
    slow: &mut u64,
    acquired: &mut u64,
) -> (u64, u64) {
    let s = Arc::new(Semaphore::new(SEM_T3_PERMITS));
    let tasks: Vec<_> = (0..SEM_TASKS)
        .map(|_| {
            let s = s.clone();
            async move {
                let mut o = TaskOut::default();
                for _ in 0..SEM_ITERS {
                    match s.try_acquire() {
                        Ok(p) => drop(p), // hold: nothing
                        Err(_) => {
                            o.slow += 1;
                            drop(s.acquire().await.expect("the semaphore is open"));
                        }
                    }
                    o.ops += 1;
                }
                o
            }
        })
        .collect();
    let (ns, out) = spawn_join(rt, tasks, diag);
    let ops = SEM_TASKS * SEM_ITERS;
    let done: u64 = out.iter().map(|o| o.ops).sum();
    *slow += out.iter().map(|o| o.slow).sum::<u64>();
    *acquired += done;
    let left = s.available_permits();
    if done != ops || left != SEM_T3_PERMITS {
        fail(
            "semaphore_contended",
            format!(
                "{} acquisitions (expected {}), {} permits free at the end (expected {})",
                done, ops, left, SEM_T3_PERMITS
            ),
        );
    }
    (ns, ops)
}

/// `rounds` rounds; ns per operation over all of them.
fn tier3<F: FnMut() -> (u64, u64)>(rounds: u64, mut round: F) -> f64 {
    let (mut ns, mut ops) = (0u64, 0u64);
    for _ in 0..rounds {
        let (n, o) = round();
        ns += n;
        ops += o;
    }
    ns as f64 / ops as f64
}

// --------------------------------------------------------------------- main

fn usage() -> ! {
    eprintln!(
        "usage: sync_bench [--result] [--tier 1|3|all] [--reps N] [--warmup N]\n\
         \x20                 [--rounds N] [--workers N]"
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
    let mut rounds = 1;
    let mut tier = 0; // both
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
            "--reps" => reps = count_arg(v, 1, 1000),
            "--warmup" => warmup = count_arg(v, 0, 100),
            "--rounds" => rounds = count_arg(v, 1, 100_000),
            "--workers" => workers = count_arg(v, 1, MAX_WORKERS),
            "--tier" => {
                tier = match v.map(|s| s.as_str()) {
                    Some("1") => 1,
                    Some("3") => 3,
                    Some("all") => 0,
                    _ => usage(),
                }
            }
            _ => usage(),
        }
        i += 2;
    }
    // Freed memory stays mapped, as in the C++ program (proto_malloc_setup).
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
    }
    let rt = Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .build()
        .unwrap();
    let (mut sem_slow, mut sem_acquired) = (0u64, 0u64);
    let mut diag: [Diag; 3] = Default::default();

    for rep in 0..warmup + reps {
        let mut values: Vec<(&str, f64)> = Vec::new();
        if tier != 3 {
            values.push(("mutex_ns", t1_mutex()));
            values.push(("rwlock_read_ns", t1_rwlock_read()));
            values.push(("rwlock_write_ns", t1_rwlock_write()));
            values.push(("semaphore_ns", t1_semaphore()));
            values.push(("once_get_ns", t1_once_get()));
            values.push(("once_set_ns", t1_once_set()));
            values.push(("notify_ns", t1_notify()));
            values.push(("barrier_ns", t1_barrier()));
        }
        if tier != 1 {
            let [d0, d1, d2] = &mut diag;
            values.push(("mutex_contended_ns", tier3(rounds, || mutex_round(&rt, d0))));
            values.push((
                "rwlock_contended_ns",
                tier3(rounds, || rwlock_round(&rt, d1)),
            ));
            values.push((
                "semaphore_contended_ns",
                tier3(rounds, || {
                    semaphore_round(&rt, d2, &mut sem_slow, &mut sem_acquired)
                }),
            ));
        }
        if rep < warmup {
            continue;
        }
        let r = rep - warmup + FIRST_REP;
        for (metric, ns) in values {
            if result_mode {
                result(r, metric, ns, "ns");
            } else {
                println!("rep {}: {:<24} {:10.1} ns/op", r, metric, ns);
            }
        }
    }
    let names = ["mutex_contended", "rwlock_contended", "semaphore_contended"];
    for (name, d) in names.iter().zip(diag.iter()) {
        if d.rounds > 0 {
            println!(
                "# {}: {} rounds (warm-up included), {:.1} suspensions per round (task polls \
                 beyond the first), {} of them run by 2+ workers",
                name,
                d.rounds,
                (d.polls - d.tasks) as f64 / d.rounds as f64,
                d.spread
            );
        }
    }
    if sem_acquired > 0 {
        println!(
            "# semaphore_contended: the try failed (the future was awaited) {} times in {} \
             acquisitions",
            sem_slow, sem_acquired
        );
    }
}
