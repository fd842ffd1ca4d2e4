//! E20 what a bounded channel costs, on Tokio (1.24.2, Debian's):
//! experiments/chan_bench.c's cases, constants, command line and output
//! (the harness protocol), with `tokio::sync::mpsc`.
//!
//!     chan_bench --bench tier2|mpmc|crossbeam [--shape seq|spsc|mpsc|mpmc|select]
//!                [--cap N|unbounded] [--reps N] [--warmup N] [--workers N]
//!                [--ops N] [--messages N] [--result]
//!
//! tier2: the main thread, no runtime (tokio::sync needs none), --ops
//! (100,000) operations per case, a fresh `mpsc::channel::<u64>` per case
//! and repetition, made before the timed loop; as in Volt's Tier 2 (whose
//! Tokio side is this same code):
//! - send_ns: `try_send(i)` into a channel of capacity --ops; drained
//!   untimed, in order;
//! - recv_ns: `try_recv()` from a channel filled untimed, values checked;
//! - roundtrip_ns: capacity 1, `try_send(i)` then `try_recv()`, checked;
//! - oneshot_ns: `oneshot::channel()`, `send`, `try_recv`;
//! - broadcast_ns: `broadcast::channel(16)`, 4 receivers: a send and the 4
//!   `try_recv`s per message;
//! - watch_ns: `send` and `borrow_and_update`;
//! - allocs_per_op: allocation requests per operation, summed over the six;
//! - send_bytes_per_op, recv_bytes_per_op, roundtrip_bytes_per_op (and the
//!   same for oneshot, broadcast and watch): bytes
//!   requested from the allocator during the case's timed loop (a counting
//!   global allocator over the system one: alloc, alloc_zeroed and realloc
//!   count the bytes asked for; frees are not subtracted), over its
//!   operations; bytes_per_op: their sum. Tokio's bounded channel is a list
//!   of 32-slot blocks allocated as the sends reach them (recycled once
//!   received), so `send` into a fresh channel allocates.
//!   Volt's suite resets its counter before making the channel, so its
//!   Tokio figures (217 B/op in total over six channel cases) include the
//!   channel's own allocation; here, as in the C program, they do not.
//!
//! mpmc: a multi-thread runtime of --workers threads (default 2); a channel
//! of capacity 1,024, 4 producer tasks and 4 consumer tasks, --messages
//! (100,000) messages in all (producer p sends p * M/4 + 0 .. M/4 - 1 with
//! `send(v).await`); the main thread spawns them (`Runtime::spawn`:
//! injected, as Volt-C's main thread is no worker), drops its own Sender
//! (the channel closes when the producers' clones are dropped), and
//! `block_on`s each JoinHandle; mpmc_ns is the time from just before the
//! first spawn to the last join, over the messages.
//! Tokio 1.24 has no multi-consumer channel: the 4 consumers share the one
//! `mpsc::Receiver` in an `Arc<tokio::sync::Mutex<_>>`, each taking the
//! lock, awaiting `recv()` under it and releasing it after each message,
//! until `recv()` returns None. Volt's suite used the `async_channel` crate
//! (a true MPMC channel) for its Tokio figure (50.6 ns, 10,000 messages, 4
//! workers); async_channel is not among Debian's vendored crates (offline
//! build), so this peer measures the shared-receiver pattern instead, a
//! different and likely slower design: compare with that in mind.
//! Each consumer records the values it got (a Vec allocated once per
//! process and reused); after the round, untimed: every message received
//! exactly once, each producer's values in increasing order per consumer.
//! A '#' line gives the tasks' suspensions per message (each task wrapped
//! in a poll counter, as in sync_bench).
//!
//! crossbeam (E10): the C program's shapes (seq, spsc, mpsc, mpmc, select)
//! with the mpmc round above generalised to each shape's producers and
//! consumers, on `mpsc::channel(--cap)` (default 1,024) or, with --cap
//! unbounded, `mpsc::unbounded_channel` (one code path: the Tx/Rx enums).
//! Capacity 0 (crossbeam's rendezvous channel) does not exist in Tokio and
//! is refused. One consumer receives without a lock; mpmc's 4 share the
//! receiver under a Mutex as above; select polls both receivers of its two
//! channels (each fed by one producer) in alternating order, a closed one
//! dropped (a hand-written `select!`: the macros feature is not built).
//! seq: one task sends --cap messages and receives them, until all are
//! through. msg_ns: the time per message.
//!
//! Without --result a line per repetition is printed instead. A failed
//! check prints what differed and exits 1.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, Mutex};

const DEFAULT_OPS: u64 = 100_000;
const DEFAULT_MESSAGES: u64 = 100_000;
const MPMC_CAPACITY: usize = 1024;
const MPMC_PRODUCERS: u64 = 4;
const MPMC_CONSUMERS: u64 = 4;
const DEFAULT_REPS: u64 = 5;
const DEFAULT_WARMUP: u64 = 1;
const DEFAULT_WORKERS: u64 = 2;
const MAX_WORKERS: u64 = 64; // VOLT_MAX_WORKERS
/// The first timed repetition's number, as experiments/chan_bench.c prints it.
const FIRST_REP: u64 = 1;

extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
}
const M_TRIM_THRESHOLD: i32 = -1;
const M_TOP_PAD: i32 = -2;
const M_MMAP_THRESHOLD: i32 = -3;

// ------------------------------------------------- counting the allocations

/// The system allocator, counting the bytes asked of it.
struct Counting;

static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static ALLOC_CALLS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOC_CALLS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOC_CALLS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOC_CALLS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes and calls asked of the allocator so far.
#[derive(Clone, Copy)]
struct Snap {
    bytes: u64,
    calls: u64,
}

fn allocated() -> Snap {
    Snap {
        bytes: ALLOC_BYTES.load(Ordering::Relaxed),
        calls: ALLOC_CALLS.load(Ordering::Relaxed),
    }
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

fn fail(what: &str, detail: String) -> ! {
    eprintln!("chan_bench: {}: {}", what, detail);
    exit(1);
}

// ------------------------------------------------------------------ tier 2

/// ns and allocated bytes per operation of one case.
struct Case {
    ns: f64,
    bytes: f64,
    allocs: f64,
}

/// A case from its loop's time and the allocation count before and after it.
fn case_of(b0: Snap, ns: u128, b1: Snap, ops: u64) -> Case {
    Case {
        ns: ns as f64 / ops as f64,
        bytes: (b1.bytes - b0.bytes) as f64 / ops as f64,
        allocs: (b1.calls - b0.calls) as f64 / ops as f64,
    }
}

fn t2_send(ops: u64) -> Case {
    let (tx, mut rx) = mpsc::channel::<u64>(ops as usize);
    let b0 = allocated();
    let t0 = Instant::now();
    for i in 0..ops {
        if tx.try_send(i).is_err() {
            fail("send", format!("operation {}: try_send failed", i));
        }
    }
    let ns = t0.elapsed().as_nanos();
    let b1 = allocated();
    for i in 0..ops {
        match rx.try_recv() {
            Ok(v) if v == i => {}
            other => fail("send (drain)", format!("operation {}: {:?}", i, other)),
        }
    }
    case_of(b0, ns, b1, ops)
}

fn t2_recv(ops: u64) -> Case {
    let (tx, mut rx) = mpsc::channel::<u64>(ops as usize);
    for i in 0..ops {
        if tx.try_send(i).is_err() {
            fail("recv (fill)", format!("operation {}: try_send failed", i));
        }
    }
    let b0 = allocated();
    let t0 = Instant::now();
    for i in 0..ops {
        match rx.try_recv() {
            Ok(v) if v == i => {}
            other => fail("recv", format!("operation {}: {:?}", i, other)),
        }
    }
    let ns = t0.elapsed().as_nanos();
    let b1 = allocated();
    case_of(b0, ns, b1, ops)
}

fn t2_roundtrip(ops: u64) -> Case {
    let (tx, mut rx) = mpsc::channel::<u64>(1);
    let b0 = allocated();
    let t0 = Instant::now();
    for i in 0..ops {
        if tx.try_send(i).is_err() {
            fail(
                "roundtrip (send)",
                format!("operation {}: try_send failed", i),
            );
        }
        match rx.try_recv() {
            Ok(v) if v == i => {}
            other => fail("roundtrip (recv)", format!("operation {}: {:?}", i, other)),
        }
    }
    let ns = t0.elapsed().as_nanos();
    let b1 = allocated();
    case_of(b0, ns, b1, ops)
}

/// A oneshot per operation: channel(), send, try_recv.
fn t2_oneshot(ops: u64) -> Case {
    let b0 = allocated();
    let t0 = Instant::now();
    for i in 0..ops {
        let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
        if tx.send(i).is_err() {
            fail("oneshot (send)", format!("operation {}", i));
        }
        match rx.try_recv() {
            Ok(v) if v == i => {}
            other => fail("oneshot (recv)", format!("operation {}: {:?}", i, other)),
        }
    }
    let ns = t0.elapsed().as_nanos();
    let b1 = allocated();
    case_of(b0, ns, b1, ops)
}

/// One sender, 4 receivers, capacity 16: a send and 4 try_recv per message.
fn t2_broadcast(ops: u64) -> Case {
    let (tx, first) = tokio::sync::broadcast::channel::<u64>(16);
    let mut rx = [first, tx.subscribe(), tx.subscribe(), tx.subscribe()];
    let b0 = allocated();
    let t0 = Instant::now();
    for i in 0..ops {
        if tx.send(i).is_err() {
            fail("broadcast (send)", format!("operation {}", i));
        }
        for r in rx.iter_mut() {
            match r.try_recv() {
                Ok(v) if v == i => {}
                other => fail("broadcast (recv)", format!("operation {}: {:?}", i, other)),
            }
        }
    }
    let ns = t0.elapsed().as_nanos();
    let b1 = allocated();
    case_of(b0, ns, b1, ops)
}

/// A watch send and a borrow_and_update of the new value per operation.
fn t2_watch(ops: u64) -> Case {
    let (tx, mut rx) = tokio::sync::watch::channel::<u64>(u64::MAX);
    let b0 = allocated();
    let t0 = Instant::now();
    for i in 0..ops {
        if tx.send(i).is_err() {
            fail("watch (send)", format!("operation {}", i));
        }
        if *rx.borrow_and_update() != i {
            fail("watch (borrow)", format!("operation {}", i));
        }
    }
    let ns = t0.elapsed().as_nanos();
    let b1 = allocated();
    case_of(b0, ns, b1, ops)
}

fn tier2(ops: u64, reps: u64, warmup: u64, result_mode: bool) {
    for rep in 0..warmup + reps {
        let r = [
            t2_send(ops),
            t2_recv(ops),
            t2_roundtrip(ops),
            t2_oneshot(ops),
            t2_broadcast(ops),
            t2_watch(ops),
        ];
        if rep < warmup {
            continue;
        }
        let n = rep - warmup + FIRST_REP;
        let total: f64 = r.iter().map(|c| c.bytes).sum();
        let allocs: f64 = r.iter().map(|c| c.allocs).sum();
        if result_mode {
            result(n, "send_ns", r[0].ns, "ns");
            result(n, "recv_ns", r[1].ns, "ns");
            result(n, "roundtrip_ns", r[2].ns, "ns");
            result(n, "oneshot_ns", r[3].ns, "ns");
            result(n, "broadcast_ns", r[4].ns, "ns");
            result(n, "watch_ns", r[5].ns, "ns");
            result(n, "bytes_per_op", total, "bytes");
            result(n, "allocs_per_op", allocs, "count");
            result(n, "send_bytes_per_op", r[0].bytes, "bytes");
            result(n, "recv_bytes_per_op", r[1].bytes, "bytes");
            result(n, "roundtrip_bytes_per_op", r[2].bytes, "bytes");
            result(n, "oneshot_bytes_per_op", r[3].bytes, "bytes");
            result(n, "broadcast_bytes_per_op", r[4].bytes, "bytes");
            result(n, "watch_bytes_per_op", r[5].bytes, "bytes");
        } else {
            println!(
                "rep {}: send {:.2} ns, recv {:.2} ns, roundtrip {:.2} ns, oneshot {:.2} ns, \
                 broadcast 1x4 {:.2} ns, watch {:.2} ns; allocated {:.3} bytes/op in all",
                n, r[0].ns, r[1].ns, r[2].ns, r[3].ns, r[4].ns, r[5].ns, total
            );
        }
    }
    println!(
        "# tier2: tokio::sync::mpsc, {} ops per case; bytes_per_op counted by a counting \
         global allocator (gross; {} bytes requested since the start, setup included)",
        ops,
        allocated().bytes
    );
}

// -------------------------------------------------------------------- mpmc

/// A task's future, counting its polls (sync_bench's Counted, without the threads).
struct Counted<F> {
    f: F,
    polls: Arc<AtomicU64>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Safety: f is never moved out of the pinned Counted.
        let this = unsafe { self.get_unchecked_mut() };
        this.polls.fetch_add(1, Ordering::Relaxed);
        unsafe { Pin::new_unchecked(&mut this.f) }.poll(cx)
    }
}

/// The shapes (crossbeam's suite, E10): names, producers, consumers.
const SHAPES: [(&str, u64, u64); 5] = [
    ("seq", 1, 1),
    ("spsc", 1, 1),
    ("mpsc", MPMC_PRODUCERS, 1),
    ("mpmc", MPMC_PRODUCERS, MPMC_CONSUMERS),
    ("select", 2, 1),
];
const SHAPE_SEQ: usize = 0;
const SHAPE_SELECT: usize = 4;

/// A sender of either channel: bounded (`mpsc::channel`) or unbounded.
#[derive(Clone)]
enum Tx {
    Bounded(mpsc::Sender<u64>),
    Unbounded(mpsc::UnboundedSender<u64>),
}

impl Tx {
    async fn send(&self, v: u64) -> bool {
        match self {
            Tx::Bounded(t) => t.send(v).await.is_ok(),
            Tx::Unbounded(t) => t.send(v).is_ok(),
        }
    }
}

/// The matching receiver.
enum Rx {
    Bounded(mpsc::Receiver<u64>),
    Unbounded(mpsc::UnboundedReceiver<u64>),
}

impl Rx {
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        match self {
            Rx::Bounded(r) => r.poll_recv(cx),
            Rx::Unbounded(r) => r.poll_recv(cx),
        }
    }
    async fn recv(&mut self) -> Option<u64> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

/// A channel of capacity cap, 0 meaning unbounded.
fn channel(cap: u64) -> (Tx, Rx) {
    if cap == 0 {
        let (t, r) = mpsc::unbounded_channel();
        (Tx::Unbounded(t), Rx::Unbounded(r))
    } else {
        let (t, r) = mpsc::channel(cap as usize);
        (Tx::Bounded(t), Rx::Bounded(r))
    }
}

/// The next message of either receiver (both: a poll of each, the first
/// ready wins, alternating which goes first; a closed one is dropped), or
/// None once both are closed and drained.
async fn select_recv(a: &mut Option<Rx>, b: &mut Option<Rx>, turn: &mut bool) -> Option<u64> {
    std::future::poll_fn(|cx| loop {
        *turn = !*turn;
        let mut pending = false;
        for k in 0..2 {
            let slot = if (k == 0) == *turn { &mut *a } else { &mut *b };
            if let Some(r) = slot.as_mut() {
                match r.poll_recv(cx) {
                    Poll::Ready(Some(v)) => return Poll::Ready(Some(v)),
                    Poll::Ready(None) => *slot = None,
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        if a.is_none() && b.is_none() {
            return Poll::Ready(None);
        }
    })
    .await
}

/// One round of a shape; the elapsed ns, and the consumers' buffers handed back.
fn mpmc_round(
    rt: &Runtime,
    shape: usize,
    cap: u64,
    messages: u64,
    mut bufs: Vec<Vec<u64>>,
    polls: &Arc<AtomicU64>,
) -> (u64, Vec<Vec<u64>>) {
    let (_, nprod, ncons) = SHAPES[shape];
    let per = messages / nprod;
    let mut txs = Vec::new();
    let mut rxs = Vec::new();
    for _ in 0..if shape == SHAPE_SELECT { 2 } else { 1 } {
        let (t, r) = channel(cap);
        txs.push(t);
        rxs.push(r);
    }
    let mut producers = Vec::with_capacity(nprod as usize);
    let mut consumers = Vec::with_capacity(ncons as usize);

    let t0 = Instant::now();
    if shape == SHAPE_SEQ {
        // one task: a channel's capacity of sends, then as many receives
        let (tx, mut rx, mut got) = (txs.pop().unwrap(), rxs.pop().unwrap(), bufs.pop().unwrap());
        let chunk = cap.max(1);
        consumers.push(rt.spawn(Counted {
            f: async move {
                let mut next = 0;
                while next < messages {
                    let n = chunk.min(messages - next);
                    for k in 0..n {
                        if !tx.send(next + k).await {
                            fail("seq", "a send failed".to_string());
                        }
                    }
                    for _ in 0..n {
                        match rx.recv().await {
                            Some(v) => got.push(v),
                            None => fail("seq", "the channel closed".to_string()),
                        }
                    }
                    next += n;
                }
                got
            },
            polls: polls.clone(),
        }));
    } else {
        for p in 0..nprod {
            let tx = txs[(p as usize) % txs.len()].clone();
            producers.push(rt.spawn(Counted {
                f: async move {
                    for v in p * per..(p + 1) * per {
                        if !tx.send(v).await {
                            return false;
                        }
                    }
                    true
                },
                polls: polls.clone(),
            }));
        }
        txs.clear(); // the producers' clones are the senders now
        if shape == SHAPE_SELECT {
            let mut got = bufs.pop().unwrap();
            let mut b = rxs.pop();
            let mut a = rxs.pop();
            consumers.push(rt.spawn(Counted {
                f: async move {
                    let mut turn = false;
                    while let Some(v) = select_recv(&mut a, &mut b, &mut turn).await {
                        got.push(v);
                    }
                    got
                },
                polls: polls.clone(),
            }));
        } else if ncons == 1 {
            let mut got = bufs.pop().unwrap();
            let mut rx = rxs.pop().unwrap();
            consumers.push(rt.spawn(Counted {
                f: async move {
                    while let Some(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                },
                polls: polls.clone(),
            }));
        } else {
            let rx = Arc::new(Mutex::new(rxs.pop().unwrap()));
            for mut got in bufs {
                let rx = rx.clone();
                consumers.push(rt.spawn(Counted {
                    f: async move {
                        loop {
                            // the lock is held while recv() waits, released after each message
                            let v = rx.lock().await.recv().await;
                            match v {
                                Some(v) => got.push(v),
                                None => break,
                            }
                        }
                        got
                    },
                    polls: polls.clone(),
                }));
            }
        }
    }
    for h in producers {
        if !rt.block_on(h).expect("a producer panicked") {
            fail(
                SHAPES[shape].0,
                "a send failed: the channel closed early".to_string(),
            );
        }
    }
    let got: Vec<Vec<u64>> = consumers
        .into_iter()
        .map(|h| rt.block_on(h).expect("a consumer panicked"))
        .collect();
    (t0.elapsed().as_nanos() as u64, got)
}

/// Every message exactly once; each producer's values in increasing order per consumer.
fn mpmc_check(nprod: u64, messages: u64, got: &[Vec<u64>], seen: &mut [u8]) {
    let per = messages / nprod;
    seen.iter_mut().for_each(|s| *s = 0);
    let mut total = 0u64;
    for (c, g) in got.iter().enumerate() {
        let mut last = [u64::MAX; MPMC_PRODUCERS as usize];
        for &v in g {
            if v >= messages || seen[v as usize] != 0 {
                fail(
                    "mpmc",
                    format!(
                        "value {} received {}",
                        v,
                        if v >= messages {
                            "but never sent"
                        } else {
                            "twice"
                        }
                    ),
                );
            }
            seen[v as usize] = 1;
            let p = (v / per) as usize;
            if last[p] != u64::MAX && v < last[p] {
                fail(
                    "mpmc",
                    format!(
                        "consumer {} got {} after {} (producer {} out of order)",
                        c, v, last[p], p
                    ),
                );
            }
            last[p] = v;
        }
        total += g.len() as u64;
    }
    if total != messages {
        fail(
            "mpmc",
            format!("{} messages received, {} sent", total, messages),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn mpmc(
    shape: usize,
    cap: u64,
    metric: &str,
    workers: u64,
    messages: u64,
    reps: u64,
    warmup: u64,
    result_mode: bool,
) {
    let (name, nprod, ncons) = SHAPES[shape];
    let rt = Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .build()
        .unwrap();
    let mut bufs: Vec<Vec<u64>> = (0..ncons)
        .map(|_| {
            let mut v = vec![0u64; messages as usize]; // resident
            v.clear();
            v
        })
        .collect();
    let mut seen = vec![0u8; messages as usize];
    let polls = Arc::new(AtomicU64::new(0));
    let mut timed_polls = 0u64;

    for rep in 0..warmup + reps {
        polls.store(0, Ordering::Relaxed);
        let (ns, got) = mpmc_round(&rt, shape, cap, messages, bufs, &polls);
        mpmc_check(nprod, messages, &got, &mut seen);
        bufs = got
            .into_iter()
            .map(|mut v| {
                v.clear();
                v
            })
            .collect();
        if rep < warmup {
            continue;
        }
        timed_polls += polls.load(Ordering::Relaxed);
        let n = rep - warmup + FIRST_REP;
        let per_msg = ns as f64 / messages as f64;
        if result_mode {
            result(n, metric, per_msg, "ns");
        } else {
            println!(
                "rep {}: {} {} x {}, capacity {}, {} messages: {:.1} ns/message",
                n, name, nprod, ncons, cap, messages, per_msg
            );
        }
    }
    let tasks = if shape == SHAPE_SEQ { 1 } else { nprod + ncons };
    println!(
        "# {}: tokio::sync::mpsc{}{}, capacity {}, {} messages per round, \
         checked (each once, FIFO per producer); {:.3} suspensions per message (task polls \
         beyond each task's first)",
        name,
        if cap == 0 { " unbounded_channel" } else { "" },
        if ncons > 1 {
            " + Arc<tokio::sync::Mutex<Receiver>>"
        } else {
            ""
        },
        cap,
        messages,
        (timed_polls as f64 / reps as f64 - tasks as f64) / messages as f64
    );
}

// --------------------------------------------------------------------- main

fn usage() -> ! {
    eprintln!(
        "usage: chan_bench --bench tier2|mpmc|crossbeam [--shape seq|spsc|mpsc|mpmc|select]\n\
         \x20                 [--cap N|unbounded] [--reps N] [--warmup N] [--workers N]\n\
         \x20                 [--ops N] [--messages N] [--result]"
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
    let (mut ops, mut messages) = (DEFAULT_OPS, DEFAULT_MESSAGES);
    let mut bench = String::new();
    let (mut shape_arg, mut cap_arg) = ("mpmc".to_string(), String::new());
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
            "--bench" => bench = v.cloned().unwrap_or_else(|| usage()),
            "--shape" => shape_arg = v.cloned().unwrap_or_else(|| usage()),
            "--cap" => cap_arg = v.cloned().unwrap_or_else(|| usage()),
            "--reps" => reps = count_arg(v, 1, 1000),
            "--warmup" => warmup = count_arg(v, 0, 100),
            "--workers" => workers = count_arg(v, 1, MAX_WORKERS),
            "--ops" => ops = count_arg(v, 1, 100_000_000),
            "--messages" => messages = count_arg(v, MPMC_PRODUCERS, 100_000_000),
            _ => usage(),
        }
        i += 2;
    }
    // Freed memory stays mapped, as in the C program (proto_malloc_setup).
    unsafe {
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
    }
    match bench.as_str() {
        "tier2" => tier2(ops, reps, warmup, result_mode),
        "mpmc" if messages % MPMC_PRODUCERS == 0 && cap_arg.is_empty() && shape_arg == "mpmc" => {
            mpmc(
                3,
                MPMC_CAPACITY as u64,
                "mpmc_ns",
                workers,
                messages,
                reps,
                warmup,
                result_mode,
            )
        }
        "crossbeam" if messages % MPMC_PRODUCERS == 0 => {
            let shape = SHAPES
                .iter()
                .position(|s| s.0 == shape_arg)
                .unwrap_or_else(|| usage());
            let cap = match cap_arg.as_str() {
                "" => MPMC_CAPACITY as u64,
                "unbounded" => 0,
                "0" => {
                    eprintln!("chan_bench: tokio::sync::mpsc has no capacity 0 (rendezvous)");
                    exit(2);
                }
                c => count_arg(Some(&c.to_string()), 1, 100_000_000),
            };
            if cap == 0 && shape == SHAPE_SEQ {
                usage();
            }
            mpmc(
                shape,
                cap,
                "msg_ns",
                workers,
                messages,
                reps,
                warmup,
                result_mode,
            )
        }
        _ => usage(),
    }
}
