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
// A Pool is used by one goroutine at a time. The number of threads it runs
// a loop on may change between loops (Follow): results do not. The count
// followed takes effect in apply, which For calls first: code that plans
// a loop by the thread count (Threads, the helpers) calls apply before
// reading it, or plans for the count of the loop before.
type Pool struct {
	threads int
	workers []*worker     // the helpers running loops: threads-1 of them
	follow  *ThreadTarget // the thread count wanted, applied before a loop (nil: fixed)
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
	quit     bool // set before the loop after which the worker exits
}

// ThreadTarget is a thread count that one goroutine sets while others' pools
// follow it (Pool.Follow): an experiment hands the CPUs of runs that have
// finished to the runs still training. The zero value wants no change.
type ThreadTarget struct{ n atomic.Int32 }

// Set asks for n threads from the next loop of every pool that follows t;
// n is clamped to [1, maxThreads].
func (t *ThreadTarget) Set(n int) { t.n.Store(int32(min(max(1, n), maxThreads))) }

// maxThreads bounds a thread count set (far above any CPU count).
const maxThreads = 1 << 16

// Get returns the count last Set (0 if none).
func (t *ThreadTarget) Get() int { return int(t.n.Load()) }

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

// Follow makes the pool run each loop on t's count of threads, applied
// before the loop: helpers are started, or told to exit after an empty
// loop, so that none is left spinning on a CPU that another run uses.
// Follow is called by the pool's goroutine; t may be set by any.
func (p *Pool) Follow(t *ThreadTarget) { p.follow = t }

// resize runs the loops that follow on n threads (the caller's goroutine
// counts as one). Between loops every helper waits in await, so those
// beyond n-1 are told to quit and run one empty loop to see it.
func (p *Pool) resize(n int) {
	if n < p.threads {
		for _, w := range p.workers[n-1:] {
			w.quit = true
		}
		p.loop(0, nil)
		clear(p.workers[n-1:])
		p.workers = p.workers[:n-1]
	}
	for len(p.workers) < n-1 {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.run(w, p.gen.Load()) // the next loop is the generation after this one
	}
	p.threads = n
}

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
		quit := w.quit
		p.pending.Add(-1)
		if quit {
			return
		}
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

// apply runs the loops that follow on the thread count followed (Follow),
// if it has changed; For calls it first.
func (p *Pool) apply() {
	if p.follow != nil {
		if want := p.follow.Get(); want > 0 && want != p.threads {
			p.resize(want)
		}
	}
}

// For runs fn(0), ..., fn(n-1), spread over the workers, and returns when
// all have finished.
func (p *Pool) For(n int, fn func(task int)) {
	p.apply()
	if n <= 0 {
		return
	}
	p.loop(n, fn)
}

// loop is For on the current threads; n = 0 is an empty loop that every
// helper still takes part in.
func (p *Pool) loop(n int, fn func(task int)) {
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
