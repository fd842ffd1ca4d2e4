// Command fanout runs E7 fan-out / fan-in (experiments/fanout.c) on the Go
// runtime with the same constants and output (the harness protocol, minus
// Volt-C's counters).
//
//	fanout [--bench skynet|fib] [--n N] [--cutoff N] [--reps N] [--warmup N] [--workers N]
//
// skynet: a 10-ary tree of goroutines over 1,000,000 leaves; a node starts
// its 10 children, each sending its result on a channel of capacity 10, and
// sends the sum; leaf i sends i; the root's result must be 499999500000.
// fib: fib(N) with a goroutine per call above the cutoff (two children,
// results on a channel of capacity 2), plain recursion at or below it; the
// result is checked, and the plain recursion of fib(N) is timed on the main
// goroutine each repetition (serial_time, speedup). --workers sets GOMAXPROCS.
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

const (
	skynetLeaves  = 1000000
	skynetFanout  = 10
	skynetTasks   = 1111111
	skynetSum     = 499999500000
	fibN          = 30
	fibCutoff     = 20
	defaultReps   = 5
	defaultWarmup = 2
	defaultWorker = 2
)

var (
	cutoff uint64 = fibCutoff
	tasks  int64
)

func skynet(out chan<- uint64, num, size uint64) {
	if size == 1 {
		out <- num
		return
	}
	step := size / skynetFanout
	kids := make(chan uint64, skynetFanout)
	for i := uint64(0); i < skynetFanout; i++ {
		go skynet(kids, num+i*step, step)
	}
	var sum uint64
	for i := 0; i < skynetFanout; i++ {
		sum += <-kids
	}
	out <- sum
}

func fibSerial(n uint64) uint64 {
	if n < 2 {
		return n
	}
	return fibSerial(n-1) + fibSerial(n-2)
}

func fibExpected(n uint64) uint64 {
	a, b := uint64(0), uint64(1)
	for ; n > 0; n-- {
		a, b = b, a+b
	}
	return a
}

func fib(out chan<- uint64, n uint64) {
	if n <= cutoff {
		out <- fibSerial(n)
		return
	}
	kids := make(chan uint64, 2)
	atomic.AddInt64(&tasks, 2)
	go fib(kids, n-1)
	go fib(kids, n-2)
	out <- <-kids + <-kids
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: fanout [--bench skynet|fib] [--n N] [--cutoff N] [--reps N] [--warmup N] [--workers N]")
	fmt.Fprintf(os.Stderr, "  defaults: --bench skynet --n %d --cutoff %d --reps %d --warmup %d --workers %d; n <= 90,\n",
		fibN, fibCutoff, defaultReps, defaultWarmup, defaultWorker)
	fmt.Fprintln(os.Stderr, "  1 <= cutoff, n - cutoff <= 25")
	os.Exit(2)
}

func main() {
	flag.Usage = usage
	bench := flag.String("bench", "skynet", "skynet or fib")
	n := flag.Uint64("n", fibN, "fib(N)")
	flag.Uint64Var(&cutoff, "cutoff", fibCutoff, "serial at or below")
	reps := flag.Int("reps", defaultReps, "timed iterations")
	warmup := flag.Int("warmup", defaultWarmup, "untimed iterations first")
	workers := flag.Int("workers", defaultWorker, "GOMAXPROCS")
	flag.Parse()
	if (*bench != "skynet" && *bench != "fib") || *n > 90 || cutoff < 1 || *n > cutoff+25 ||
		*reps < 1 || *warmup < 0 || *workers < 1 || flag.NArg() > 0 {
		usage()
	}
	runtime.GOMAXPROCS(*workers)
	sky := *bench == "skynet"
	want := uint64(skynetSum)
	if !sky {
		want = fibExpected(*n)
	}
	fmt.Printf("# fanout %s impl=go workers=%d n=%d cutoff=%d\n", *bench, *workers, *n, cutoff)
	times := make([]float64, 0, *reps)
	for r := 0; r < *warmup+*reps; r++ {
		var serial float64
		if !sky {
			t := time.Now()
			if got := fibSerial(*n); got != want {
				fmt.Fprintf(os.Stderr, "fanout: serial fib(%d) = %d\n", *n, got)
				os.Exit(1)
			}
			serial = float64(time.Since(t).Nanoseconds())
		}
		atomic.StoreInt64(&tasks, 1)
		out := make(chan uint64, 1)
		t0 := time.Now()
		if sky {
			go skynet(out, 0, skynetLeaves)
		} else {
			go fib(out, *n)
		}
		got := <-out
		t := float64(time.Since(t0).Nanoseconds())
		if got != want {
			fmt.Fprintf(os.Stderr, "fanout: %s: result %d, expected %d\n", *bench, got, want)
			os.Exit(1)
		}
		if r < *warmup {
			continue
		}
		rep := r - *warmup + 1
		times = append(times, t)
		fmt.Printf("result,%d,time_per_iter,%.3f,us\n", rep, t/1e3)
		if sky {
			fmt.Printf("result,%d,time_per_leaf,%.1f,ns\n", rep, t/skynetLeaves)
			fmt.Printf("result,%d,tasks_per_sec,%.0f,count\n", rep, skynetTasks/(t/1e9))
		} else {
			fmt.Printf("result,%d,tasks,%d,count\n", rep, atomic.LoadInt64(&tasks))
			fmt.Printf("result,%d,serial_time,%.3f,us\n", rep, serial/1e3)
			fmt.Printf("result,%d,speedup,%.3f,ratio\n", rep, serial/t)
		}
	}
	sort.Float64s(times)
	m := len(times)
	med := times[m/2]
	if m%2 == 0 {
		med = (times[m/2-1] + times[m/2]) / 2
	}
	fmt.Printf("# fanout %s median_us=%.1f min_us=%.1f max_us=%.1f\n", *bench, med/1e3, times[0]/1e3, times[m-1]/1e3)
}
