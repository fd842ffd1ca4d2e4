// Command rt_bench runs Volt-C's scheduler micro-benchmarks
// (experiments/rt_bench.c) on the Go runtime, in the shapes of Tokio's
// benches/rt_multi_threaded.rs, with the same constants, flags and CSV as
// the C program and the Tokio peer.
//
//	rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]
//	         [--rounds N] [--result]
//
// One iteration = one whole round of a benchmark, timed on the main
// goroutine from before the first spawn until the latch opens
// (ping_pong_hog: timed inside the pinging goroutine); WARMUP untimed
// iterations come first. --workers sets GOMAXPROCS (ping_pong_hog: always
// 1). Go has no thread outside its scheduler: "remote" spawns come from the
// main goroutine, "local" ones from a goroutine it started. --result (one
// benchmark) prints the harness protocol (`result,<rep>,time_per_iter,<us>,us`)
// instead of the CSV rows.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

// The constants, the same in all three implementations.
const (
	spawnMany     = 10000 // goroutines per spawn_many iteration
	yieldTasks    = 200   // goroutines per yield_many iteration
	yieldCount    = 1000  // yields per yield_many goroutine
	pingPongPairs = 1000  // pairs per ping_pong iteration
	chainLength   = 1000  // goroutines per chained_spawn iteration
	hogRounds     = 5000  // round trips per ping_pong_hog iteration (--rounds)
	busyStallUs   = 10    // the busy goroutines' stall
	defaultReps   = 10
	defaultWarmup = 3
	hogReps       = 5 // ping_pong_hog's defaults
	hogWarmup     = 1
	defaultWorker = 2
	iterTimeoutS  = 20 // an iteration taking longer fails the program
)

// The completion signal: a count; the goroutine taking it to zero wakes
// the main goroutine.
var (
	left int64
	done = make(chan struct{}, 1)
)

func latchArm(n int64) { atomic.StoreInt64(&left, n) }

func latchCountDown() {
	if atomic.AddInt64(&left, -1) == 0 {
		done <- struct{}{}
	}
}

// latchWait reports false if the latch is still closed after iterTimeoutS.
func latchWait() bool {
	select {
	case <-done:
		return true
	case <-time.After(iterTimeoutS * time.Second):
		return false
	}
}

// spinUs busy-waits us microseconds.
func spinUs(us int64) {
	end := time.Now().Add(time.Duration(us) * time.Microsecond)
	for time.Now().Before(end) {
	}
}

// nap: the main goroutine's untimed waits for goroutines poll with this.
func nap() { time.Sleep(20 * time.Microsecond) }

// Each benchmark arms the latch and starts one iteration; the driver waits.

func child() { latchCountDown() }

func spawnManyLocal() {
	latchArm(spawnMany)
	go func() {
		for i := 0; i < spawnMany; i++ {
			go child()
		}
	}()
}

func spawnManyRemote() {
	latchArm(spawnMany)
	for i := 0; i < spawnMany; i++ {
		go child()
	}
}

func yielder() {
	for i := 0; i < yieldCount; i++ {
		runtime.Gosched()
	}
	latchCountDown()
}

func yieldMany() {
	latchArm(yieldTasks)
	for i := 0; i < yieldTasks; i++ {
		go yielder()
	}
}

// One pair: a partner goroutine, a ping on one channel, a pong on another
// (capacity 1, so a send never waits, as with a oneshot).
func ping() {
	ch1 := make(chan struct{}, 1)
	ch2 := make(chan struct{}, 1)
	go func() {
		<-ch1
		ch2 <- struct{}{}
	}()
	ch1 <- struct{}{}
	<-ch2
	latchCountDown()
}

func pingPong() {
	latchArm(pingPongPairs)
	go func() {
		for i := 0; i < pingPongPairs; i++ {
			go ping()
		}
	}()
}

func iter(n int) {
	if n == 0 {
		latchCountDown()
	} else {
		go iter(n - 1)
	}
}

func chainedSpawn() {
	latchArm(1)
	go iter(chainLength)
}

// ping_pong_hog: GOMAXPROCS 1. The hog just loops until told to stop (Go
// preempts it after 10 ms); beside it a pair makes `rounds` round trips.
// Each message is a fresh channel of capacity 1 carrying the channel for
// the answer (a oneshot, as in the C and Rust programs); nil = the end.
// The pinging goroutine times itself, from its first send to its last answer.
type link chan link

var (
	hogStop, hogRunning int32
	hogDone             = make(chan struct{})
	rounds              = hogRounds
	pairNs              int64
)

func hogSetup() {
	atomic.StoreInt32(&hogStop, 0)
	atomic.StoreInt32(&hogRunning, 0)
	go func() {
		atomic.StoreInt32(&hogRunning, 1)
		for atomic.LoadInt32(&hogStop) == 0 {
		}
		hogDone <- struct{}{}
	}()
	for atomic.LoadInt32(&hogRunning) == 0 {
		nap()
	}
}

func pingPongHog() {
	latchArm(1)
	go func() {
		in := make(link, 1)
		go func(in link) {
			for {
				reply := <-in
				if reply == nil {
					return
				}
				in = make(link, 1)
				reply <- in
			}
		}(in)
		out := in
		t0 := time.Now()
		for i := 0; i < rounds; i++ {
			answer := make(link, 1)
			out <- answer
			out = <-answer
		}
		atomic.StoreInt64(&pairNs, time.Since(t0).Nanoseconds())
		out <- nil
		latchCountDown()
	}()
}

func hogTeardown() {
	atomic.StoreInt32(&hogStop, 1)
	<-hogDone
}

// spawn_many_remote_busy1/2: 2 x workers goroutines keep the Ps busy while
// the main goroutine starts spawnMany empty ones: busy1 goroutines loop
// Gosched + stall, busy2 chains start a successor that stalls. Setup waits
// until each has run once; teardown stops them and waits until they are gone.
var (
	busyStop              int32
	busyStarted, busyLive int64
	workers               = defaultWorker
)

func busySetup(one func()) {
	n := int64(2 * workers)
	atomic.StoreInt32(&busyStop, 0)
	atomic.StoreInt64(&busyStarted, 0)
	atomic.StoreInt64(&busyLive, n)
	for i := int64(0); i < n; i++ {
		go one()
	}
	deadline := time.Now().Add(iterTimeoutS * time.Second)
	for atomic.LoadInt64(&busyStarted) < n {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "rt_bench: the busy goroutines did not all start within %d s\n", iterTimeoutS)
			os.Exit(3)
		}
		nap()
	}
}

func busy1() {
	atomic.AddInt64(&busyStarted, 1)
	for atomic.LoadInt32(&busyStop) == 0 {
		runtime.Gosched()
		spinUs(busyStallUs)
	}
	atomic.AddInt64(&busyLive, -1)
}

func busy2Next() {
	if atomic.LoadInt32(&busyStop) != 0 {
		atomic.AddInt64(&busyLive, -1)
		return
	}
	spinUs(busyStallUs)
	go busy2Next()
}

func busy2() {
	atomic.AddInt64(&busyStarted, 1)
	go busy2Next()
}

func busy1Setup() { busySetup(busy1) }
func busy2Setup() { busySetup(busy2) }

func busyTeardown() {
	atomic.StoreInt32(&busyStop, 1)
	for atomic.LoadInt64(&busyLive) > 0 {
		nap()
	}
}

type bench struct {
	name         string
	setup        func() // untimed, before each iteration; may be nil
	start        func() // arms the latch and starts one iteration
	teardown     func() // untimed, after each iteration; may be nil
	reps, warmup int
	oneWorker    bool // always runs with GOMAXPROCS 1
}

var benches = []bench{
	{"spawn_many_local", nil, spawnManyLocal, nil, defaultReps, defaultWarmup, false},
	{"spawn_many_remote", nil, spawnManyRemote, nil, defaultReps, defaultWarmup, false},
	{"yield_many", nil, yieldMany, nil, defaultReps, defaultWarmup, false},
	{"ping_pong", nil, pingPong, nil, defaultReps, defaultWarmup, false},
	{"chained_spawn", nil, chainedSpawn, nil, defaultReps, defaultWarmup, false},
	{"ping_pong_hog", hogSetup, pingPongHog, hogTeardown, hogReps, hogWarmup, true},
	{"spawn_many_remote_busy1", busy1Setup, spawnManyRemote, busyTeardown, defaultReps, defaultWarmup, false},
	{"spawn_many_remote_busy2", busy2Setup, spawnManyRemote, busyTeardown, defaultReps, defaultWarmup, false},
}

// median of sorted values (the mean of the middle two if their count is even).
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N] [--rounds N] [--result]")
	fmt.Fprintln(os.Stderr, "  NAME: spawn_many_local spawn_many_remote yield_many ping_pong chained_spawn")
	fmt.Fprintln(os.Stderr, "        ping_pong_hog spawn_many_remote_busy1 spawn_many_remote_busy2")
	fmt.Fprintln(os.Stderr, "  --result: the harness protocol (result,<rep>,<metric>,<value>,<unit>), one NAME")
	fmt.Fprintf(os.Stderr, "  --rounds: round trips per ping_pong_hog iteration (default %d)\n", hogRounds)
	os.Exit(2)
}

func main() {
	flag.Usage = usage
	name := flag.String("bench", "all", "benchmark name or all")
	reps := flag.Int("reps", 0, "timed iterations (0 = the benchmark's default)")
	warmup := flag.Int("warmup", -1, "untimed iterations first (-1 = the benchmark's default)")
	flag.IntVar(&workers, "workers", defaultWorker, "GOMAXPROCS")
	flag.IntVar(&rounds, "rounds", hogRounds, "round trips per ping_pong_hog iteration")
	result := flag.Bool("result", false, "print the harness protocol")
	flag.Parse()
	known := *name == "all" && !*result
	for _, b := range benches {
		known = known || b.name == *name
	}
	repsSet, warmupSet := false, false
	flag.Visit(func(f *flag.Flag) {
		repsSet = repsSet || f.Name == "reps"
		warmupSet = warmupSet || f.Name == "warmup"
	})
	if !known || (repsSet && *reps < 1) || (warmupSet && *warmup < 0) || workers < 1 ||
		rounds < 1 || flag.NArg() > 0 {
		usage()
	}

	if !*result {
		fmt.Println("impl,bench,policy,workers,rep,ns")
	}
	var summary []string
	for _, b := range benches {
		if *name != "all" && *name != b.name {
			continue
		}
		w := workers
		if b.oneWorker {
			w = 1
		}
		runtime.GOMAXPROCS(w)
		nreps, nwarm := b.reps, b.warmup
		if repsSet {
			nreps = *reps
		}
		if warmupSet {
			nwarm = *warmup
		}
		ns := make([]float64, 0, nreps)
		for r := 0; r < nwarm+nreps; r++ {
			if b.setup != nil {
				b.setup()
			}
			t0 := time.Now()
			b.start()
			if !latchWait() {
				fmt.Fprintf(os.Stderr, "rt_bench: %s: an iteration took over %d s\n", b.name, iterTimeoutS)
				os.Exit(3)
			}
			t := float64(time.Since(t0).Nanoseconds())
			if b.teardown != nil {
				b.teardown()
			}
			if b.oneWorker {
				t = float64(atomic.LoadInt64(&pairNs))
			}
			if r < nwarm {
				continue
			}
			rep := r - nwarm + 1
			ns = append(ns, t)
			if !*result {
				fmt.Printf("go,%s,go,%d,%d,%.0f\n", b.name, w, rep, t)
				continue
			}
			fmt.Printf("result,%d,time_per_iter,%.3f,us\n", rep, t/1e3)
			if b.oneWorker {
				fmt.Printf("result,%d,time_per_round_trip,%.1f,ns\n", rep, t/float64(rounds))
			}
		}
		sort.Float64s(ns)
		summary = append(summary, fmt.Sprintf(
			"# go %-17s policy=go workers=%d reps=%d median_us=%.1f min_us=%.1f max_us=%.1f",
			b.name, w, nreps, median(ns)/1e3, ns[0]/1e3, ns[nreps-1]/1e3))
	}
	for _, s := range summary {
		fmt.Println(s)
	}
}
