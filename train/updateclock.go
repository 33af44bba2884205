package train

import (
	"sync/atomic"
	"time"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

// UpdateClock measures the time a training spends in the optimizer's
// update, epoch by epoch (bench's "update" share, issue 11's measure): the
// wall time of every Update call, on whichever thread it runs (inside
// the backward pass, a block of rows at a time), and of every Begin, End
// and whole Step times the engine's threads, since they hold every thread
// (a Step's passes run on all of them; Begin and End run while the others
// wait). It reads the clock twice a call, a few hundred times a step, and
// changes no result: the optimizer it times computes as it would alone.
type UpdateClock struct {
	NopCallback
	ns atomic.Int64
	// Epochs holds each finished epoch's update time in thread-seconds,
	// at most the epoch's seconds times its threads.
	Epochs []float64
}

// OnEpochEnd implements Callback: the epoch's time is put in Epochs.
func (c *UpdateClock) OnEpochEnd(*FitState, int, Logs) {
	c.Epochs = append(c.Epochs, time.Duration(c.ns.Swap(0)).Seconds())
}

// timedOptimizer is an optimizer whose updates an UpdateClock times.
type timedOptimizer struct {
	optim.Optimizer
	c *UpdateClock
}

// since adds the time from start on, times n threads, to the clock.
func (t timedOptimizer) since(start time.Time, n int) {
	t.c.ns.Add(int64(time.Since(start)) * int64(n))
}

func (t timedOptimizer) Update(k, lo, hi int, grad []float32) {
	start := time.Now()
	t.Optimizer.Update(k, lo, hi, grad)
	t.since(start, 1)
}

func (t timedOptimizer) Step(e *tensor.Engine, params []nn.Param) {
	start := time.Now()
	t.Optimizer.Step(e, params)
	t.since(start, threadsOf(e))
}

func (t timedOptimizer) Begin(e *tensor.Engine, params []nn.Param) bool {
	start := time.Now()
	ok := t.Optimizer.Begin(e, params)
	t.since(start, threadsOf(e))
	return ok
}

func (t timedOptimizer) End() {
	start := time.Now()
	t.Optimizer.End()
	t.since(start, 1)
}

// threadsOf is e's threads; 1 for nil, which steps on one thread.
func threadsOf(e *tensor.Engine) int {
	if e == nil {
		return 1
	}
	return e.Threads()
}
