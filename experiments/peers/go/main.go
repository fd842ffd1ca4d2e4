// Command rt_bench runs Volt-C's scheduler micro-benchmarks
// (experiments/rt_bench.c) on the Go runtime, in the shapes of Tokio's
// benches/rt_multi_threaded.rs, with the same constants, flags and CSV as
// the C program and the Tokio peer.
//
//	rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]
//
// One iteration = one whole round of a benchmark, timed on the main
// goroutine from before the first spawn until the latch opens; WARMUP
// untimed iterations come first. --workers sets GOMAXPROCS. Go has no
// thread outside its scheduler: "remote" spawns come from the main
// goroutine, "local" ones from a goroutine it started.
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
	defaultReps   = 10
	defaultWarmup = 3
	defaultWorker = 2
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

func latchWait() { <-done }

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

var benches = []struct {
	name  string
	start func()
}{
	{"spawn_many_local", spawnManyLocal},
	{"spawn_many_remote", spawnManyRemote},
	{"yield_many", yieldMany},
	{"ping_pong", pingPong},
	{"chained_spawn", chainedSpawn},
}

// median of sorted values (the mean of the middle two if their count is even).
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func main() {
	bench := flag.String("bench", "all", "benchmark name or all")
	reps := flag.Int("reps", defaultReps, "timed iterations")
	warmup := flag.Int("warmup", defaultWarmup, "untimed iterations first")
	workers := flag.Int("workers", defaultWorker, "GOMAXPROCS")
	flag.Parse()
	known := *bench == "all"
	for _, b := range benches {
		known = known || b.name == *bench
	}
	if !known || *reps < 1 || *warmup < 0 || *workers < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: rt_bench [--bench NAME|all] [--reps N] [--warmup N] [--workers N]")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*workers)

	fmt.Println("impl,bench,policy,workers,rep,ns")
	var summary []string
	for _, b := range benches {
		if *bench != "all" && *bench != b.name {
			continue
		}
		ns := make([]float64, 0, *reps)
		for r := 0; r < *warmup+*reps; r++ {
			t0 := time.Now()
			b.start()
			latchWait()
			t := float64(time.Since(t0).Nanoseconds())
			if r >= *warmup {
				ns = append(ns, t)
				fmt.Printf("go,%s,go,%d,%d,%.0f\n", b.name, *workers, r-*warmup+1, t)
			}
		}
		sort.Float64s(ns)
		summary = append(summary, fmt.Sprintf(
			"# go %-17s policy=go workers=%d reps=%d median_us=%.1f min_us=%.1f max_us=%.1f",
			b.name, *workers, *reps, median(ns)/1e3, ns[0]/1e3, ns[*reps-1]/1e3))
	}
	for _, s := range summary {
		fmt.Println(s)
	}
}
