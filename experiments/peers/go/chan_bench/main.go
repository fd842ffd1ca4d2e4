// Command chan_bench runs E20, what a bounded channel costs
// (experiments/chan_bench.c), on Go's buffered channels, with the same
// cases, constants, command line and output (the harness protocol).
//
//	chan_bench --bench tier2|mpmc|crossbeam [--shape seq|spsc|mpsc|mpmc|select]
//	           [--cap N] [--reps N] [--warmup N] [--workers N]
//	           [--ops N] [--messages N] [--result]
//
// tier2: the main goroutine, --ops (100,000) operations per case, a fresh
// `chan uint64` per case and repetition, made before the timed loop:
//   - send_ns: `ch <- i` into a channel of capacity --ops (it never fills,
//     so the send never blocks: Go's counterpart of a try_send that
//     succeeds; a `select` with a `default` case would add its own cost);
//     drained untimed, in order;
//   - recv_ns: `<-ch` from a channel filled untimed, values checked;
//   - roundtrip_ns: capacity 1, `ch <- i` then `<-ch`, checked;
//   - send_bytes_per_op, recv_bytes_per_op, roundtrip_bytes_per_op: the
//     growth of runtime.MemStats.TotalAlloc (cumulative bytes allocated on
//     the heap, frees not subtracted) over the case's timed loop, over its
//     operations; bytes_per_op: their sum. ReadMemStats stops the world, so
//     it runs outside the timed loop.
//
// crossbeam (E10): the C program's shapes (seq, spsc, mpsc, mpmc, select)
// on `chan uint64` of capacity --cap (default 1,024; 0 is Go's unbuffered,
// rendezvous channel, refused for seq, whose one goroutine would block;
// Go has no unbounded channel, so "unbounded" is refused), with the mpmc
// round below generalised to the shape's producers and consumers; select is
// a `select` over two channels, each fed by its own producer. msg_ns: the
// time per message.
//
// mpmc: GOMAXPROCS = --workers (default 2); a channel of capacity 1,024, 4
// producer goroutines and 4 consumer goroutines, --messages (100,000)
// messages in all (producer p sends p * M/4 + 0 .. M/4 - 1); the last
// producer to finish closes the channel (the counterpart of the last
// sender handle dropped); consumers `range` over it until it is closed and
// drained. mpmc_ns is the time from just before the first `go` to the end of
// the WaitGroup's wait, over the messages. Each consumer records the values
// it got (a slice allocated once per process and reused); after the round,
// untimed: every message received exactly once, each producer's values in
// increasing order per consumer.
//
// Without --result a line per repetition is printed instead. A failed
// check prints what differed and exits 1.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The constants, the same as experiments/chan_bench.c's.
const (
	defaultOps      = 100000
	defaultMessages = 100000
	mpmcCapacity    = 1024
	mpmcProducers   = 4
	mpmcConsumers   = 4
	defaultReps     = 5
	defaultWarmup   = 1
	defaultWorkers  = 2
	maxWorkers      = 64 // VOLT_MAX_WORKERS
	firstRep        = 1  // the first timed repetition's number, as the C program prints it
)

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

func fail(what string, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "chan_bench: %s: %s\n", what, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// ------------------------------------------------------------------ tier 2

// totalAlloc is the heap's cumulative allocated bytes (stops the world).
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

type caseResult struct {
	ns, bytes float64
}

func caseOf(b0 uint64, d time.Duration, b1 uint64, ops int) caseResult {
	return caseResult{ns: float64(d.Nanoseconds()) / float64(ops),
		bytes: float64(b1-b0) / float64(ops)}
}

func t2Send(ops int) caseResult {
	ch := make(chan uint64, ops)
	b0 := totalAlloc()
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		ch <- uint64(i)
	}
	d := time.Since(t0)
	b1 := totalAlloc()
	for i := 0; i < ops; i++ {
		if v := <-ch; v != uint64(i) {
			fail("send (drain)", "operation %d: value %d", i, v)
		}
	}
	return caseOf(b0, d, b1, ops)
}

func t2Recv(ops int) caseResult {
	ch := make(chan uint64, ops)
	for i := 0; i < ops; i++ {
		ch <- uint64(i)
	}
	b0 := totalAlloc()
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		if v := <-ch; v != uint64(i) {
			fail("recv", "operation %d: value %d", i, v)
		}
	}
	d := time.Since(t0)
	b1 := totalAlloc()
	return caseOf(b0, d, b1, ops)
}

func t2Roundtrip(ops int) caseResult {
	ch := make(chan uint64, 1)
	b0 := totalAlloc()
	t0 := time.Now()
	for i := 0; i < ops; i++ {
		ch <- uint64(i)
		if v := <-ch; v != uint64(i) {
			fail("roundtrip", "operation %d: value %d", i, v)
		}
	}
	d := time.Since(t0)
	b1 := totalAlloc()
	return caseOf(b0, d, b1, ops)
}

func tier2(ops, reps, warmup int, resultMode bool) {
	for rep := 0; rep < warmup+reps; rep++ {
		r := [3]caseResult{t2Send(ops), t2Recv(ops), t2Roundtrip(ops)}
		if rep < warmup {
			continue
		}
		n := rep - warmup + firstRep
		total := r[0].bytes + r[1].bytes + r[2].bytes
		if resultMode {
			result(n, "send_ns", r[0].ns, "ns")
			result(n, "recv_ns", r[1].ns, "ns")
			result(n, "roundtrip_ns", r[2].ns, "ns")
			result(n, "bytes_per_op", total, "bytes")
			result(n, "send_bytes_per_op", r[0].bytes, "bytes")
			result(n, "recv_bytes_per_op", r[1].bytes, "bytes")
			result(n, "roundtrip_bytes_per_op", r[2].bytes, "bytes")
		} else {
			fmt.Printf("rep %d: send %.2f ns, recv %.2f ns, roundtrip %.2f ns; allocated "+
				"%.3f + %.3f + %.3f = %.3f bytes/op\n",
				n, r[0].ns, r[1].ns, r[2].ns, r[0].bytes, r[1].bytes, r[2].bytes, total)
		}
	}
	fmt.Printf("# tier2: Go buffered channels, %d ops per case; bytes_per_op from "+
		"runtime.MemStats.TotalAlloc (gross)\n", ops)
}

// -------------------------------------------------------------------- mpmc

// The shapes (crossbeam's suite, E10): producers and consumers of each.
var shapeNames = []string{"seq", "spsc", "mpsc", "mpmc", "select"}
var shapeProd = []int{1, 1, mpmcProducers, mpmcProducers, 2}
var shapeCons = []int{1, 1, 1, mpmcConsumers, 1}

const (
	shapeSeq = iota
	shapeSpsc
	shapeMpsc
	shapeMpmc
	shapeSelect
)

// mpmcRound runs one round of a shape on channels of capacity capacity; its
// elapsed time. got[c] is filled from empty. seq: one goroutine sends
// capacity messages (at least 1, or what is left) and receives them, until
// all are through. select: producer p sends into channel p % 2, the one
// consumer selects over both (a closed one set to nil).
func mpmcRound(shape, capacity, messages int, got [][]uint64) time.Duration {
	nprod, ncons := shapeProd[shape], shapeCons[shape]
	per := messages / nprod
	chs := []chan uint64{make(chan uint64, capacity)}
	if shape == shapeSelect {
		chs = append(chs, make(chan uint64, capacity))
	}
	var wg sync.WaitGroup
	left := make([]int32, len(chs)) // producers still sending per channel: the last closes
	for p := 0; p < nprod; p++ {
		left[p%len(chs)]++
	}

	t0 := time.Now()
	if shape == shapeSeq {
		wg.Add(1)
		go func() {
			ch, g := chs[0], got[0]
			chunk := capacity
			if chunk < 1 {
				chunk = 1 // capacity 0 would block the one goroutine: not run
			}
			for next := 0; next < messages; next += chunk {
				n := chunk
				if messages-next < n {
					n = messages - next
				}
				for k := 0; k < n; k++ {
					ch <- uint64(next + k)
				}
				for k := 0; k < n; k++ {
					g = append(g, <-ch)
				}
			}
			got[0] = g
			wg.Done()
		}()
		wg.Wait()
		return time.Since(t0)
	}
	wg.Add(nprod + ncons)
	for p := 0; p < nprod; p++ {
		go func(p int) {
			i := p % len(chs)
			ch := chs[i]
			for v := p * per; v < (p+1)*per; v++ {
				ch <- uint64(v)
			}
			if atomic.AddInt32(&left[i], -1) == 0 {
				close(ch)
			}
			wg.Done()
		}(p)
	}
	for c := 0; c < ncons; c++ {
		go func(c int) {
			g := got[c]
			if shape == shapeSelect {
				a, b := chs[0], chs[1]
				for a != nil || b != nil {
					select {
					case v, ok := <-a:
						if !ok {
							a = nil
							continue
						}
						g = append(g, v)
					case v, ok := <-b:
						if !ok {
							b = nil
							continue
						}
						g = append(g, v)
					}
				}
			} else {
				for v := range chs[0] {
					g = append(g, v)
				}
			}
			got[c] = g
			wg.Done()
		}(c)
	}
	wg.Wait()
	return time.Since(t0)
}

// mpmcCheck: every message exactly once; each producer's values in increasing order per consumer.
func mpmcCheck(nprod, messages int, got [][]uint64, seen []bool) {
	per := uint64(messages / nprod)
	for i := range seen {
		seen[i] = false
	}
	total := 0
	for c, g := range got {
		var last [mpmcProducers]uint64
		var any [mpmcProducers]bool
		for _, v := range g {
			if v >= uint64(messages) || seen[v] {
				what := "twice"
				if v >= uint64(messages) {
					what = "but never sent"
				}
				fail("mpmc", "value %d received %s", v, what)
			}
			seen[v] = true
			p := v / per
			if any[p] && v < last[p] {
				fail("mpmc", "consumer %d got %d after %d (producer %d out of order)", c, v, last[p], p)
			}
			last[p], any[p] = v, true
		}
		total += len(g)
	}
	if total != messages {
		fail("mpmc", "%d messages received, %d sent", total, messages)
	}
}

func mpmc(shape, capacity int, metric string, messages, reps, warmup int, resultMode bool) {
	got := make([][]uint64, shapeCons[shape])
	for c := range got {
		got[c] = make([]uint64, messages) // resident
	}
	seen := make([]bool, messages)
	for rep := 0; rep < warmup+reps; rep++ {
		for c := range got {
			got[c] = got[c][:0]
		}
		d := mpmcRound(shape, capacity, messages, got)
		mpmcCheck(shapeProd[shape], messages, got, seen)
		if rep < warmup {
			continue
		}
		n := rep - warmup + firstRep
		perMsg := float64(d.Nanoseconds()) / float64(messages)
		if resultMode {
			result(n, metric, perMsg, "ns")
		} else {
			fmt.Printf("rep %d: %s %d x %d, capacity %d, %d messages: %.1f ns/message\n",
				n, shapeNames[shape], shapeProd[shape], shapeCons[shape], capacity, messages, perMsg)
		}
	}
	fmt.Printf("# %s: Go channel of capacity %d, %d messages per round, checked (each once, FIFO "+
		"per producer)\n", shapeNames[shape], capacity, messages)
}

// ------------------------------------------------------------------- main

func usage() {
	fmt.Fprint(os.Stderr, "usage: chan_bench --bench tier2|mpmc|crossbeam [--shape seq|spsc|mpsc|mpmc|select]\n"+
		"                  [--cap N] [--reps N] [--warmup N] [--workers N]\n"+
		"                  [--ops N] [--messages N] [--result]\n")
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
	reps, warmup, workers := defaultReps, defaultWarmup, defaultWorkers
	ops, messages := defaultOps, defaultMessages
	bench, shapeArg, capArg := "", "mpmc", ""
	resultMode := false
	args := os.Args
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "--result":
			resultMode = true
			continue
		case args[i] == "--bench" && i+1 < len(args):
			bench = args[i+1]
		case args[i] == "--shape" && i+1 < len(args):
			shapeArg = args[i+1]
		case args[i] == "--cap" && i+1 < len(args):
			capArg = args[i+1]
		case args[i] == "--reps":
			reps = countArg(args, i, 1, 1000)
		case args[i] == "--warmup":
			warmup = countArg(args, i, 0, 100)
		case args[i] == "--workers":
			workers = countArg(args, i, 1, maxWorkers)
		case args[i] == "--ops":
			ops = countArg(args, i, 1, 100000000)
		case args[i] == "--messages":
			messages = countArg(args, i, mpmcProducers, 100000000)
		default:
			usage()
		}
		i++
	}
	runtime.GOMAXPROCS(workers)
	switch {
	case bench == "tier2":
		tier2(ops, reps, warmup, resultMode)
	case bench == "mpmc" && messages%mpmcProducers == 0 && capArg == "" && shapeArg == "mpmc":
		mpmc(shapeMpmc, mpmcCapacity, "mpmc_ns", messages, reps, warmup, resultMode)
	case bench == "crossbeam" && messages%mpmcProducers == 0:
		shape := -1
		for k, name := range shapeNames {
			if name == shapeArg {
				shape = k
			}
		}
		capacity := mpmcCapacity
		if capArg == "unbounded" {
			fmt.Fprintln(os.Stderr, "chan_bench: Go has no unbounded channel")
			os.Exit(2)
		} else if capArg != "" {
			capacity = countArg([]string{"", capArg}, 0, 0, 100000000)
		}
		if shape < 0 || (shape == shapeSeq && capacity == 0) {
			usage()
		}
		mpmc(shape, capacity, "msg_ns", messages, reps, warmup, resultMode)
	default:
		usage()
	}
}
