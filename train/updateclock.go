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
// the backward pass, a block of rows at a time; the few made while the
// other threads wait, a bias's say, count once), and of every Begin, End
// and whole Step times the engine's threads, since they hold every thread
// (a Step's passes run on all of them; Begin and End run while the others
// wait). It reads the clock twice a call, about 70 times a step of the
// exercise, and changes no result: the optimizer it times computes as it
// would alone.
type UpdateClock struct {
	NopCallback
	ns      atomic.Int64
	threads int // the engine's, at the last Begin or Step
	times   map[int]float64
}

// Time returns the update time of epoch (1-based, as History numbers
// them) in thread-seconds, at most the epoch's seconds times its threads;
// ok is false for an epoch not finished under the clock. An epoch resumed
// from a checkpoint counts only its steps after the resume.
func (c *UpdateClock) Time(epoch int) (seconds float64, ok bool) {
	seconds, ok = c.times[epoch]
	return seconds, ok
}

// OnEpochEnd implements Callback: the epoch's time is kept for Time.
func (c *UpdateClock) OnEpochEnd(_ *FitState, epoch int, _ Logs) {
	if c.times == nil {
		c.times = make(map[int]float64)
	}
	c.times[epoch+1] = time.Duration(c.ns.Swap(0)).Seconds()
}

// timedOptimizer is an optimizer whose updates an UpdateClock times.
// fitAndEvaluate gives it its engine, never nil.
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
	t.c.threads = e.Threads()
	t.Optimizer.Step(e, params)
	t.since(start, t.c.threads)
}

func (t timedOptimizer) Begin(e *tensor.Engine, params []nn.Param) bool {
	start := time.Now()
	t.c.threads = e.Threads()
	ok := t.Optimizer.Begin(e, params)
	t.since(start, t.c.threads)
	return ok
}

func (t timedOptimizer) End() {
	start := time.Now()
	t.Optimizer.End()
	t.since(start, t.c.threads) // after a Begin
}
