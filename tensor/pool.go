package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool runs the tasks of one parallel loop on a fixed set of persistent
// worker goroutines. Which worker runs which task never affects a result:
// every kernel in this package splits its work so that each output element
// is computed by exactly one task in a fixed order of operations, which makes
// results bit-identical for any number of threads.
//
// A Pool is used by one goroutine at a time.
type Pool struct {
	threads int
	wake    []chan struct{}
	wg      sync.WaitGroup

	// the loop in flight
	fn   func(task int)
	n    int64
	next atomic.Int64
}

// NewPool starts a pool of threads workers (the caller's goroutine counts as
// one). threads <= 0 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads}
	for range threads - 1 {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.worker(ch)
	}
	return p
}

// Threads returns the number of goroutines that run a loop.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	for _, ch := range p.wake {
		close(ch)
	}
	p.wake = nil
}

func (p *Pool) worker(wake chan struct{}) {
	for range wake {
		p.drain()
		p.wg.Done()
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
	helpers := min(len(p.wake), n-1)
	if helpers == 0 {
		for t := range n {
			fn(t)
		}
		return
	}
	p.fn, p.n = fn, int64(n)
	p.next.Store(0)
	p.wg.Add(helpers)
	for _, ch := range p.wake[:helpers] {
		ch <- struct{}{}
	}
	p.drain()
	p.wg.Wait()
	p.fn = nil
}
