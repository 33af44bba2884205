// Package train runs Keras's training loop: Fit with a validation split,
// per-epoch shuffling, sample-weighted epoch metrics, a History and
// callbacks (early stopping, progress); Evaluate on held-out data; and
// Experiment, the whole exercise from data to test accuracy.
package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

// Options are the arguments of Keras's model.fit that Fit supports.
type Options struct {
	Epochs    int
	BatchSize int
	// ValidationSplit is the fraction of samples, taken from the end before
	// any shuffling, held out for validation; 0 for none.
	ValidationSplit float64
	// Shuffle reshuffles the training samples before every epoch.
	Shuffle bool
	// Seed drives the shuffling.
	Seed      uint64
	Callbacks []Callback
}

// Run is the state of one Fit that callbacks see and may change.
type Run struct {
	Model        *nn.Model
	Optimizer    optim.Optimizer
	Epochs       int // epochs requested
	Steps        int // steps per epoch
	StopTraining bool
	History      *History
}

// streamShuffle selects the PCG stream of the per-epoch shuffles.
const streamShuffle = 0x73687566 // "shuf"

// SplitAt returns the number of training samples Keras keeps out of n with
// the given validation split: floor(n * (1 - split)).
func SplitAt(n int, split float64) int {
	return int(math.Floor(float64(n) * (1 - split)))
}

// Fit trains m on x (n x features) and labels y with opt, as Keras's
// model.fit does, and returns the History.
func Fit(e *tensor.Engine, m *nn.Model, opt optim.Optimizer, x []float32, y []int32, o Options) (*History, error) {
	features, classes := m.Arch.Inputs, m.Arch.Classes
	n := len(y)
	if len(x) != n*features {
		return nil, fmt.Errorf("train: %d values of x for %d labels of %d features", len(x), n, features)
	}
	if o.BatchSize <= 0 || o.Epochs < 0 {
		return nil, fmt.Errorf("train: batch size %d and epochs %d must be positive", o.BatchSize, o.Epochs)
	}
	if o.ValidationSplit < 0 || o.ValidationSplit >= 1 {
		return nil, fmt.Errorf("train: validation split %g outside [0, 1)", o.ValidationSplit)
	}
	split := SplitAt(n, o.ValidationSplit)
	if split == 0 {
		return nil, fmt.Errorf("train: validation split %g of %d samples leaves none to train on", o.ValidationSplit, n)
	}
	xt, yt := x[:split*features], y[:split]
	xv, yv := x[split*features:], y[split:]

	bs := o.BatchSize
	steps := (split + bs - 1) / bs
	r := &Run{Model: m, Optimizer: opt, Epochs: o.Epochs, Steps: steps, History: &History{}}
	samples := newSampler(split, o.Shuffle, o.Seed)
	// The batch buffer's rows are padded where that spares Gemm a copy.
	ldx := tensor.PaddedStride(features)
	xb := make([]float32, bs*ldx)
	yb := make([]int32, bs)
	grad := make([]float32, bs*classes)
	params := m.Params()
	var ev evaluator

	for _, c := range o.Callbacks {
		c.OnTrainBegin(r)
	}
	for epoch := 0; epoch < o.Epochs && !r.StopTraining; epoch++ {
		start := time.Now()
		for _, c := range o.Callbacks {
			c.OnEpochBegin(r, epoch)
		}
		order := samples.epoch()
		var lossSum float64
		var correct, seen int
		for step := range steps {
			idx := order[step*bs : min(split, (step+1)*bs)]
			b := len(idx)
			gather(e, xb, ldx, xt, features, idx)
			for i, s := range idx {
				yb[i] = yt[s]
			}
			logits := m.ForwardStrided(e, xb, ldx, b)
			loss, ok := nn.SparseCategoricalCrossentropy(logits, yb[:b], classes, grad)
			m.Backward(e, grad, b)
			opt.Step(e, params)
			// Keras's epoch metrics are means weighted by batch size.
			lossSum += float64(loss) * float64(b)
			correct += ok
			seen += b
			running := Logs{Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen)}
			for _, c := range o.Callbacks {
				c.OnBatchEnd(r, step, running)
			}
		}
		logs := Logs{Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen), ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		if len(yv) > 0 {
			res := ev.evaluate(e, m, xv, yv, bs, nil)
			logs.ValLoss, logs.ValAccuracy, logs.HasVal = res.Loss, res.Accuracy, true
		}
		r.History.Epochs = append(r.History.Epochs, Epoch{Epoch: epoch + 1, Logs: logs, Seconds: time.Since(start).Seconds()})
		for _, c := range o.Callbacks {
			c.OnEpochEnd(r, epoch, logs)
		}
	}
	for _, c := range o.Callbacks {
		c.OnTrainEnd(r)
	}
	return r.History, nil
}

// sampler yields the order of the training samples for each epoch: 0..n-1,
// reshuffled before every epoch when shuffling (Keras's shuffle=True).
type sampler struct {
	order   []int
	shuffle bool
	rng     *rand.Rand
}

func newSampler(n int, shuffle bool, seed uint64) *sampler {
	s := &sampler{order: make([]int, n), shuffle: shuffle, rng: rand.New(rand.NewPCG(seed, streamShuffle))}
	for i := range s.order {
		s.order[i] = i
	}
	return s
}

// epoch returns the next epoch's order; the slice is reused.
func (s *sampler) epoch() []int {
	if s.shuffle {
		s.rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	}
	return s.order
}

// gather copies the rows idx of x (rows features long) into dst, rows ldx
// apart, on the engine's workers.
func gather(e *tensor.Engine, dst []float32, ldx int, x []float32, features int, idx []int) {
	const rowsPerTask = 16
	e.Pool().For((len(idx)+rowsPerTask-1)/rowsPerTask, func(t int) {
		for i := t * rowsPerTask; i < min(len(idx), (t+1)*rowsPerTask); i++ {
			s := idx[i]
			copy(dst[i*ldx:i*ldx+features], x[s*features:(s+1)*features])
		}
	})
}
