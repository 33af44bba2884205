package tensor

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Pool runs the tasks of one parallel loop on a fixed set of persistent
// worker goroutines. Which worker runs which task never affects a result:
// every kernel in this package splits its work so that each output element
// is computed by exactly one task in a fixed order of operations, which makes
// results bit-identical for any number of threads.
//
// Training calls For thousands of times a second with a few microseconds
// between calls, less than it takes to wake a parked goroutine. So a worker
// that finishes a loop spins for a while (spinFor) on the loop counter
// before it parks, and a parked worker is woken through its channel.
//
// A Pool is used by one goroutine at a time.
type Pool struct {
	threads int
	workers []*worker
	gen     atomic.Uint64 // incremented for each loop handed to the workers
	pending atomic.Int32  // helpers that have not finished the current loop
	closed  atomic.Bool

	// the loop in flight, published by gen
	fn   func(task int)
	n    int64
	next atomic.Int64
}

type worker struct {
	wake     chan struct{}
	sleeping atomic.Bool
}

// spinFor is how long an idle worker waits for the next loop before it parks.
const spinFor = 200 * time.Microsecond

// NewPool starts a pool of threads workers (the caller's goroutine counts as
// one). threads <= 0 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads}
	for range threads - 1 {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.run(w, 0) // generation 0: no loop yet, whenever the goroutine starts
	}
	return p
}

// Threads returns the number of goroutines that run a loop.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	p.closed.Store(true)
	p.gen.Add(1)
	for _, w := range p.workers {
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}

func (p *Pool) run(w *worker, seen uint64) {
	for {
		seen = p.await(w, seen)
		if p.closed.Load() {
			return
		}
		p.drain()
		p.pending.Add(-1)
	}
}

// await returns once the generation differs from seen: spinning first, then
// parked on the worker's channel.
func (p *Pool) await(w *worker, seen uint64) uint64 {
	start := time.Now()
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if i%64 != 63 {
			continue
		}
		if time.Since(start) < spinFor {
			runtime.Gosched()
			continue
		}
		w.sleeping.Store(true)
		if g := p.gen.Load(); g != seen {
			if !w.sleeping.CompareAndSwap(true, false) {
				<-w.wake // For took the flag: its token is on the way
			}
			return g
		}
		<-w.wake
		start = time.Now()
	}
}

func (p *Pool) drain() {
	for {
		t := p.next.Add(1) - 1
		if t >= p.n {
			return
		}
		p.fn(int(t))
	}
}

// For runs fn(0), ..., fn(n-1), spread over the workers, and returns when
// all have finished.
func (p *Pool) For(n int, fn func(task int)) {
	if n <= 0 {
		return
	}
	if len(p.workers) == 0 || n == 1 {
		for t := range n {
			fn(t)
		}
		return
	}
	p.fn, p.n = fn, int64(n)
	p.next.Store(0)
	p.pending.Store(int32(len(p.workers)))
	p.gen.Add(1) // publishes fn and n to the workers
	for _, w := range p.workers {
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	p.drain()
	for i := 0; p.pending.Load() > 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	p.fn = nil
}
