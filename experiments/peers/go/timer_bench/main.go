// Command timer_bench runs E18, what timers cost (experiments/timer_bench.c),
// on the Go runtime with the same constants, command line and output (the
// harness protocol).
//
//	timer_bench --bench insert_cancel|sleepers [--count N] [--reps N]
//	            [--warmup N] [--workers N] [--result]
//
// insert_cancel: one metric, sleep_ns: ns per `time.NewTimer(time.Hour)`
// created and stopped again in a goroutine, N times (default 1,000,000): the
// closest Go has to a sleep future polled once and dropped (the runtime
// timer is added to the P's heap and deleted again; the Timer and its
// channel are allocated each time). The wheel-only metrics of the C program
// (wheel_ns, sharded_ns, shared_ns) have no Go counterpart.
// sleepers: N goroutines (default 1,000,000) asleep at once on the real
// clock, each in time.Sleep until a seeded uniform deadline in [3 s, 4 s)
// after the first spawn (the same xorshift and seed as the C program); the
// main goroutine starts them, waits until all are asleep, then until all
// have woken:
//   - bytes_per_task: resident memory growth once all are asleep, over N
//     (against the resident size measured once before the first repetition);
//   - lateness_p50_us, lateness_p99_us, lateness_max_us: how long after its
//     deadline each goroutine ran again (the monotonic clock);
//   - spawn_ms: from the first spawn until all are asleep;
//   - total_ms: from the first spawn to the last wake (>= 3,000).
//
// If spawn_ms exceeds 3,000 the first deadlines pass before all are started
// (and some goroutines have woken and ended before "all asleep"): the
// lateness then includes the spawn backlog and bytes_per_task undercounts.
// --workers sets GOMAXPROCS. Without --result a table is printed.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The constants, the same as experiments/timer_bench.c's.
const (
	defaultCount   = 1000000
	maxCount       = 10000000
	defaultReps    = 5
	defaultWarmup  = 1
	defaultWorkers = 2
	maxWorkers     = 64                 // VOLT_MAX_WORKERS
	sleepersSeed   = 0x9e3779b97f4a7c15 // + the repetition
	sleepersBaseNs = 3000000000         // deadlines are t0 + 3 s + delay
	sleepersSpread = 1000000            // delay in [0, 1 s), in us
	firstRep       = 1                  // the first timed repetition's number, as the C program prints it
)

func xorshift(x *uint64) uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return *x
}

// rssBytes is the resident size (/proc/self/statm), 0 if unreadable.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// result prints one protocol line, the value as proto_result prints it
// ("%.6f", trailing zeros and a trailing point removed).
func result(rep int, metric string, value float64, unit string) {
	s := fmt.Sprintf("%.6f", value)
	if strings.Contains(s, ".") {
		for len(s) > 1 && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		s = strings.TrimSuffix(s, ".")
	}
	fmt.Printf("result,%d,%s,%s,%s\n", rep, metric, s, unit)
}

// quantile is the value at q of the n > 0 sorted values (index round(q (n - 1))).
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	i := int(q*float64(n-1) + 0.5)
	if i > n-1 {
		i = n - 1
	}
	return sorted[i]
}

// ---------------------------------------------------------- insert_cancel

func insertCancel(count, reps, warmup int, resultMode bool) {
	for rep := 0; rep < warmup+reps; rep++ {
		done := make(chan float64)
		go func() {
			t0 := time.Now()
			for i := 0; i < count; i++ {
				t := time.NewTimer(time.Hour)
				t.Stop()
			}
			done <- float64(time.Since(t0).Nanoseconds()) / float64(count)
		}()
		sleepNs := <-done
		if rep < warmup {
			continue
		}
		r := rep - warmup + firstRep
		if resultMode {
			result(r, "sleep_ns", sleepNs, "ns")
		} else {
			fmt.Printf("rep %d: time.NewTimer(time.Hour) + Stop in a goroutine: %.1f ns\n", r, sleepNs)
		}
	}
}

// --------------------------------------------------------------- sleepers

type sleepersState struct {
	origin     time.Time // the clock's zero: times are ns since it
	lateness   []float64 // us, one per goroutine
	asleep     int64     // goroutines that armed their sleep
	lastWakeNs int64
	baseNs     int64 // deadlines are base + delay
	done       sync.WaitGroup
}

func (st *sleepersState) nowNs() int64 { return int64(time.Since(st.origin)) }

func sleeper(st *sleepersState, idx uint32, delayUs uint32) {
	deadlineNs := st.baseNs + int64(delayUs)*1000
	deadline := st.origin.Add(time.Duration(deadlineNs))

	atomic.AddInt64(&st.asleep, 1)
	time.Sleep(time.Until(deadline))
	now := st.nowNs()
	st.lateness[idx] = float64(now-deadlineNs) / 1e3
	for seen := atomic.LoadInt64(&st.lastWakeNs); now > seen; seen = atomic.LoadInt64(&st.lastWakeNs) {
		if atomic.CompareAndSwapInt64(&st.lastWakeNs, seen, now) {
			break
		}
	}
	st.done.Done()
}

func sleepers(n, reps, warmup int, resultMode bool) {
	st := &sleepersState{origin: time.Now(), lateness: make([]float64, n)}
	sorted := make([]float64, n)
	for i := range st.lateness { // resident before the baseline
		st.lateness[i] = -1
		sorted[i] = -1
	}

	// growth over the process before any sleeper: later rounds reuse the memory
	rss0 := rssBytes()

	for rep := 0; rep < warmup+reps; rep++ {
		x := uint64(sleepersSeed) + uint64(rep)
		t0 := st.nowNs()

		st.baseNs = t0 + sleepersBaseNs
		atomic.StoreInt64(&st.asleep, 0)
		atomic.StoreInt64(&st.lastWakeNs, 0)
		st.done.Add(n)
		for i := 0; i < n; i++ {
			go sleeper(st, uint32(i), uint32(xorshift(&x)%sleepersSpread))
		}
		for atomic.LoadInt64(&st.asleep) < int64(n) {
			time.Sleep(20 * time.Microsecond)
		}
		rss1 := rssBytes()
		tAsleep := st.nowNs()

		st.done.Wait()
		if rep < warmup {
			continue
		}

		totalMs := float64(atomic.LoadInt64(&st.lastWakeNs)-t0) / 1e6
		spawnMs := float64(tAsleep-t0) / 1e6
		perTask := float64(rss1-rss0) / float64(n)
		r := rep - warmup + firstRep

		copy(sorted, st.lateness)
		sort.Float64s(sorted)
		p50, p99, max := quantile(sorted, 0.5), quantile(sorted, 0.99), sorted[n-1]
		if resultMode {
			result(r, "bytes_per_task", perTask, "bytes")
			result(r, "lateness_p50_us", p50, "us")
			result(r, "lateness_p99_us", p99, "us")
			result(r, "lateness_max_us", max, "us")
			result(r, "total_ms", totalMs, "ms")
			result(r, "spawn_ms", spawnMs, "ms")
		} else {
			fmt.Printf("rep %d: %d sleepers, %.0f bytes/task (RSS), lateness p50 %.0f us "+
				"p99 %.0f us max %.0f us; all asleep after %.0f ms, all done after %.0f ms\n",
				r, n, perTask, p50, p99, max, spawnMs, totalMs)
		}
	}
}

// ------------------------------------------------------------------- main

func usage() {
	fmt.Fprint(os.Stderr, "usage: timer_bench --bench insert_cancel|sleepers [--count N] [--reps N]\n"+
		"                   [--warmup N] [--workers N] [--result]\n")
	os.Exit(2)
}

// countArg parses a decimal count in [min, max], digits only (as proto_count), else usage.
func countArg(args []string, i int, min, max uint64) int {
	if i+1 >= len(args) {
		usage()
	}
	s := args[i+1]
	if s == "" || s[0] < '0' || s[0] > '9' {
		usage()
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v < min || v > max {
		usage()
	}
	return int(v)
}

func main() {
	reps, warmup, workers, count := defaultReps, defaultWarmup, defaultWorkers, defaultCount
	bench := ""
	resultMode := false
	args := os.Args
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "--result":
			resultMode = true
			continue
		case args[i] == "--bench" && i+1 < len(args):
			bench = args[i+1]
		case args[i] == "--reps":
			reps = countArg(args, i, 1, 1000)
		case args[i] == "--warmup":
			warmup = countArg(args, i, 0, 100)
		case args[i] == "--workers":
			workers = countArg(args, i, 1, maxWorkers)
		case args[i] == "--count":
			count = countArg(args, i, 1, maxCount)
		default:
			usage()
		}
		i++
	}
	runtime.GOMAXPROCS(workers)
	switch bench {
	case "insert_cancel":
		insertCancel(count, reps, warmup, resultMode)
	case "sleepers":
		sleepers(count, reps, warmup, resultMode)
	default:
		usage()
	}
}
