package train

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

// RangeTest is the result of a learning-rate range test (Smith 2015; the
// "find the learning rate" sweep of fastai and of Géron's book): the loss
// of each training step while the rate grows exponentially over one epoch.
type RangeTest struct {
	Rates, Losses []float64
	// Smoothed is the bias-corrected exponential moving average of the
	// losses (fastai's), with momentum 0.98 for sweeps of 500 steps or more
	// and less for shorter ones (1 - 10/steps, at least 0.5), so that its
	// lag stays a small part of the sweep.
	Smoothed []float64
	// Minimum is the rate of the lowest smoothed loss; Suggested a tenth of
	// it, the usual rule (the best rate lies about ten times below the
	// point where the loss stops falling). Diverged says the sweep stopped
	// early, the smoothed loss having exceeded 4 times its minimum.
	Minimum, Suggested float64
	Diverged           bool
}

// ErrDivergedAtOnce is LRFind's error when the loss is not finite after
// the first step or two: the sweep's starting rate is already too high.
var ErrDivergedAtOnce = errors.New("the loss diverged at once: start the sweep at a lower rate")

// LRFind runs the range test on cfg's network, optimizer and data: one
// epoch (cfg's batch size, validation split, shuffling and seed) whose
// rate grows from start to end. cfg's learning rate and schedule are not
// used.
func LRFind(cfg Config, data *dataset.Data, start, end float64) (*RangeTest, error) {
	cfg.LRSchedule, cfg.ReduceLR = nil, nil
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.matches(data); err != nil {
		return nil, err
	}
	steps := cfg.StepsPerEpoch()
	sweep := optim.ExponentialRange{Start: start, End: end, Steps: int64(steps)}
	if err := sweep.Validate(); err != nil {
		return nil, fmt.Errorf("lr-find: %v (the epoch has %d steps)", err, steps)
	}
	opt, err := optim.Build(cfg.Optimizer, sweep, cfg.OptimizerArgs)
	if err != nil {
		return nil, err
	}
	model, err := cfg.NewModel()
	if err != nil {
		return nil, err
	}
	model.Initialize(cfg.Seed)
	e := tensor.NewEngine(cfg.Threads)
	defer e.Close()
	rt := &RangeTest{}
	beta := min(0.98, max(0.5, 1-10/float64(steps)))
	rec := &rangeRecorder{rt: rt, sweep: sweep, bs: cfg.BatchSize, n: SplitAt(cfg.TrainSamples, cfg.ValidationSplit), best: math.Inf(1), beta: beta}
	tr := data.Train.Slice(0, cfg.TrainSamples)
	_, err = Fit(e, model, opt, PixelRows{tr.Pixels, tr.Features()}, tr.Int32Labels(), Options{
		Epochs: 1, BatchSize: cfg.BatchSize, ValidationSplit: cfg.ValidationSplit, Shuffle: cfg.Shuffle, Seed: cfg.Seed,
		Callbacks: []Callback{rec}, Interrupt: func() bool { return rt.Diverged },
	})
	var intr *Interrupted
	var nf *NonFinite
	switch {
	case errors.As(err, &intr), errors.As(err, &nf):
		rt.Diverged = true
	case err != nil:
		return nil, err
	}
	if len(rt.Losses) < 2 {
		return nil, fmt.Errorf("%w (from %g)", ErrDivergedAtOnce, start)
	}
	i := 0
	for j, s := range rt.Smoothed {
		if s < rt.Smoothed[i] {
			i = j
		}
	}
	rt.Minimum = rt.Rates[i]
	rt.Suggested = rt.Minimum / 10
	return rt, nil
}

// rangeRecorder records each step's loss from Fit's running means.
type rangeRecorder struct {
	NopCallback
	rt      *RangeTest
	sweep   optim.ExponentialRange
	bs, n   int
	prevSum float64
	avg     float64
	best    float64
	beta    float64
}

func (c *rangeRecorder) OnBatchEnd(r *FitState, step int, logs Logs) {
	seen := min((step+1)*c.bs, c.n)
	sum := logs.Loss * float64(seen)
	loss := (sum - c.prevSum) / float64(seen-step*c.bs)
	c.prevSum = sum
	beta := c.beta
	c.avg = beta*c.avg + (1-beta)*loss
	smoothed := c.avg / (1 - math.Pow(beta, float64(len(c.rt.Losses)+1)))
	c.rt.Rates = append(c.rt.Rates, c.sweep.At(int64(step)))
	c.rt.Losses = append(c.rt.Losses, loss)
	c.rt.Smoothed = append(c.rt.Smoothed, smoothed)
	c.best = min(c.best, smoothed)
	if math.IsNaN(smoothed) || smoothed > 4*c.best {
		c.rt.Diverged = true
	}
}

// CSV is the test as step,learning_rate,loss,smoothed_loss rows.
func (rt *RangeTest) CSV() []byte {
	var b bytes.Buffer
	b.WriteString("step,learning_rate,loss,smoothed_loss\n")
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for i := range rt.Rates {
		fmt.Fprintf(&b, "%d,%s,%s,%s\n", i+1, f(rt.Rates[i]), f(rt.Losses[i]), f(rt.Smoothed[i]))
	}
	return b.Bytes()
}
