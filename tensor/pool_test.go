package tensor

import (
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRunsEveryTaskOnce covers loops of every size, back to back and
// after the workers have parked.
func TestPoolRunsEveryTaskOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 4} {
		p := NewPool(threads)
		for round, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
			if round == 4 {
				time.Sleep(2 * spinFor) // let the workers park
			}
			counts := make([]atomic.Int32, n)
			p.For(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("threads %d, n %d: task %d ran %d times", threads, n, i, c)
				}
			}
		}
		p.Close()
	}
}

// TestPoolFollowsThreads changes a pool's threads between loops and wants
// each loop to run on exactly that many goroutines at once: n tasks that
// each wait until n have started finish only on n threads. Helpers let go
// must exit (not spin on a CPU another run uses).
func TestPoolFollowsThreads(t *testing.T) {
	base := runtime.NumGoroutine()
	p := NewPool(1)
	defer p.Close()
	var want ThreadTarget
	p.Follow(&want)
	for _, n := range []int{3, 1, 2, 4, 2, 1} {
		want.Set(n)
		var started atomic.Int32
		var timedOut atomic.Bool
		p.For(n, func(int) {
			started.Add(1)
			deadline := time.Now().Add(10 * time.Second)
			for started.Load() < int32(n) {
				if time.Now().After(deadline) {
					timedOut.Store(true)
					return
				}
				runtime.Gosched()
			}
		})
		if timedOut.Load() {
			t.Fatalf("threads set to %d: the %d tasks never ran at once", n, n)
		}
		if p.Threads() != n {
			t.Fatalf("threads set to %d: the pool says %d", n, p.Threads())
		}
		// apply takes a new count before any loop, as Gemm's plans need.
		want.Set(n%3 + 1)
		p.apply()
		if p.Threads() != n%3+1 || len(p.workers) != n%3 {
			t.Fatalf("threads set to %d and applied: the pool says %d, with %d helpers", n%3+1, p.Threads(), len(p.workers))
		}
		want.Set(n)
		// And every task of a larger loop runs once.
		counts := make([]atomic.Int32, 100)
		p.For(len(counts), func(i int) { counts[i].Add(1) })
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Fatalf("threads %d: task %d ran %d times", n, i, c)
			}
		}
	}
	// On one thread again: the helpers have gone.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if g := runtime.NumGoroutine(); g > base {
		t.Errorf("%d goroutines on one thread, %d before the pool: helpers let go are still running", g, base)
	}
}

// TestThreadsSetClamps wants counts beyond an int32 clamped, not wrapped
// to a negative count that For would read as no change.
func TestThreadsSetClamps(t *testing.T) {
	var th ThreadTarget
	cases := map[int]int{-5: 1, 0: 1, 7: 7, maxThreads + 1: maxThreads, math.MaxInt: maxThreads}
	if big := int64(math.MaxInt); big > math.MaxInt32 { // 64-bit int: past an int32 too
		cases[int(big>>23)] = maxThreads
		cases[int(big>>32)+3] = maxThreads
	}
	for n, want := range cases {
		if th.Set(n); th.Get() != want {
			t.Errorf("Set(%d): Get %d, want %d", n, th.Get(), want)
		}
	}
}
