// Package train holds Keras's training loop: Fit with a validation split,
// per-epoch shuffling, sample-weighted epoch metrics, a History and
// callbacks (early stopping, progress); Evaluate on held-out data; and
// FitAndEvaluate, the whole exercise from data to test accuracy.
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
	// Interrupt, if non-nil, is polled after every step: once it returns
	// true, Fit stops and returns an *Interrupted holding a checkpoint.
	Interrupt func() bool
	// Resume continues the Fit a checkpoint describes (the model and the
	// optimizer already hold its state; callbacks are not told
	// OnTrainBegin). Its Config is not consulted.
	Resume *Checkpoint
	// Backup, if non-nil, saves checkpoints as training goes.
	Backup *Backup
	// KeepEpochStart keeps a copy of the weights at the start of every
	// epoch after the first, which a stop by a non-finite loss puts back:
	// the model then holds the last complete epoch's weights, as early
	// stopping's restoring would, not those of the steps before the
	// failing one (overflowing already). No copy is made while a callback
	// will restore weights of its own at the end (Restores(), as early
	// stopping with restore_best_weights once it has watched an epoch).
	KeepEpochStart bool
}

// Interrupted is returned by Fit when Options.Interrupt asked it to stop.
type Interrupted struct {
	Checkpoint *Checkpoint
	// Steps is the number of steps of an epoch.
	Steps int
}

func (i *Interrupted) Error() string {
	return "train: interrupted " + StoppedAt(i.Checkpoint.Epoch, i.Checkpoint.Step, i.Steps)
}

// StoppedAt says where a run stopped that will continue with step (0-based)
// of epoch (0-based), of steps steps an epoch (0: unknown): "in epoch 2
// after step 51 of 94", or "at the start of epoch 2" when no step of it
// ran. (The 1-based position of the next step, "before epoch 2, step 52",
// read as 52 steps done.)
func StoppedAt(epoch, step, steps int) string {
	if step == 0 {
		return fmt.Sprintf("at the start of epoch %d", epoch+1)
	}
	if steps <= 0 {
		return fmt.Sprintf("in epoch %d after step %d", epoch+1, step)
	}
	return fmt.Sprintf("in epoch %d after step %d of %d", epoch+1, step, steps)
}

// NonFinite describes a training stopped by a NaN or infinite loss, as
// Keras's TerminateOnNaN stops it; Fit records it in FitState.Terminated.
type NonFinite struct {
	Epoch, Step int // 1-based
	Loss        float32
}

func (n *NonFinite) Error() string {
	return fmt.Sprintf("loss became %v at epoch %d, step %d: training stopped", n.Loss, n.Epoch, n.Step)
}

// FitState is the state of one Fit that callbacks see and may change.
type FitState struct {
	Model        *nn.Sequential
	Optimizer    optim.Optimizer
	Epochs       int // epochs requested
	Steps        int // steps per epoch
	StopTraining bool
	History      *History
	// Terminated is set when a non-finite loss stopped training.
	Terminated *NonFinite
	// epochStart is the weights at the start of the epoch in progress
	// (Options.KeepEpochStart).
	epochStart [][]float32
}

// streamShuffle selects the PCG stream of the per-epoch shuffles.
const streamShuffle = 0x73687566 // "shuf"

// SplitAt returns the number of training samples Keras keeps out of n with
// the given validation split: floor(n * (1 - split)).
func SplitAt(n int, split float64) int {
	return int(math.Floor(float64(n) * (1 - split)))
}

// Fit trains m on x and labels y with opt, as Keras's model.fit does, and
// returns the History.
func Fit(e *tensor.Engine, m *nn.Sequential, opt optim.Optimizer, x Inputs, y []int32, o Options) (*History, error) {
	features, classes := m.Inputs(), m.Outputs()
	n := len(y)
	if x.Len() != n || x.Width() != features {
		return nil, fmt.Errorf("train: %d inputs of %d values for %d labels of %d features", x.Len(), x.Width(), n, features)
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
	xt, yt := x.Slice(0, split), y[:split]
	xv, yv := x.Slice(split, n), y[split:]

	// The learning rate is logged each epoch when it may change.
	logLR := opt.Scheduled()
	for _, c := range o.Callbacks {
		if v, ok := c.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return nil, fmt.Errorf("train: %v", err)
			}
		}
		if _, ok := c.(*ReduceLROnPlateau); ok {
			if opt.Scheduled() {
				return nil, fmt.Errorf("train: reduce_lr_on_plateau needs a constant learning rate, and a schedule drives this one")
			}
			logLR = true
		}
	}

	// A batch larger than the samples is all of them, as in Keras: the
	// buffers are never larger than the data.
	bs := min(o.BatchSize, split)
	steps := (split + bs - 1) / bs
	r := &FitState{Model: m, Optimizer: opt, Epochs: o.Epochs, Steps: steps, History: &History{}}
	samples := newSampler(split, o.Shuffle, o.Seed)
	// The batch buffer's rows are padded where that spares Gemm a copy.
	ldx := tensor.PaddedStride(features)
	xb := make([]float32, bs*ldx)
	yb := make([]int32, bs)
	grad := make([]float32, bs*classes)
	params := m.Params()
	var ev evaluator

	var clock *backupClock
	if o.Backup != nil {
		clock = newBackupClock(o.Backup.Freq)
	}
	epoch0, step0 := 0, 0
	var lossSum, carried float64
	var correct, seen int
	if c := o.Resume; c != nil {
		if err := samples.restore(c.RNG, c.Order); err != nil {
			return nil, err
		}
		epoch0, step0 = c.Epoch, c.Step
		lossSum, correct, seen, carried = c.LossSum, c.Correct, c.Seen, c.EpochSeconds
		r.History.Epochs = append(r.History.Epochs, c.History.Epochs...)
	} else {
		for _, c := range o.Callbacks {
			c.OnTrainBegin(r)
		}
	}
	for epoch := epoch0; epoch < o.Epochs && !r.StopTraining; epoch++ {
		start := time.Now()
		// A resumed epoch keeps the order and sums of the checkpoint.
		resumed := o.Resume != nil && epoch == epoch0
		order := samples.order
		first := 0
		if resumed {
			first = step0
		} else {
			lossSum, correct, seen, carried = 0, 0, 0, 0
			order = samples.epoch()
		}
		if o.KeepEpochStart && epoch > 0 {
			switch {
			case restoring(o.Callbacks):
				r.epochStart = nil // the callback's weights go back instead
			case resumed && first > 0:
				r.epochStart = o.Resume.EpochStart // nil from an earlier version's checkpoint
			case r.epochStart == nil || m.CopyWeights(r.epochStart) != nil:
				r.epochStart = m.Weights()
			}
		}
		for _, c := range o.Callbacks {
			c.OnEpochBegin(r, epoch)
		}
		for step := first; step < steps; step++ {
			if o.Interrupt != nil && o.Interrupt() {
				ck, err := checkpoint(r, samples, epoch, step, lossSum, correct, seen, carried+time.Since(start).Seconds())
				if err != nil {
					return r.History, err
				}
				return r.History, &Interrupted{Checkpoint: ck, Steps: steps}
			}
			if clock != nil && clock.due(step) {
				began := time.Now()
				ck, err := checkpoint(r, samples, epoch, step, lossSum, correct, seen, carried+time.Since(start).Seconds())
				if err != nil {
					return r.History, err
				}
				if err := o.Backup.Save(ck); err != nil {
					return r.History, fmt.Errorf("train: backup: %w", err)
				}
				clock.saved(began)
			}
			idx := order[step*bs : min(split, (step+1)*bs)]
			b := len(idx)
			xt.Gather(e, xb, ldx, idx)
			for i, s := range idx {
				yb[i] = yt[s]
			}
			logits := m.Forward(e, xb, ldx, b, true)
			loss, ok := nn.SparseCategoricalCrossentropy(logits, yb[:b], classes, grad)
			// Keras adds the regularization penalties to the loss it logs.
			loss += m.RegularizationLoss()
			if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
				// Keras's TerminateOnNaN: stop now; OnTrainEnd still runs, so
				// early stopping restores the best weights seen so far. Keras
				// checks after the step (on_batch_end), applies it and logs
				// the epoch; here the step is not applied nor the epoch
				// logged (README, "Interruptions and faults").
				r.Terminated = &NonFinite{Epoch: epoch + 1, Step: step + 1, Loss: loss}
				r.StopTraining = true
				break
			}
			backwardStep(e, m, opt, params, grad, b)
			m.ApplyConstraints()
			// Keras's epoch metrics are means weighted by batch size.
			lossSum += float64(loss) * float64(b)
			correct += ok
			seen += b
			if clock != nil {
				clock.batches++
			}
			running := Logs{Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen)}
			for _, c := range o.Callbacks {
				c.OnBatchEnd(r, step, running)
			}
		}
		if r.Terminated != nil {
			break
		}
		logs := Logs{Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen), ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		if len(yv) > 0 {
			res := ev.evaluate(e, m, xv, yv, bs, nil)
			logs.ValLoss, logs.ValAccuracy, logs.HasVal = res.Loss, res.Accuracy, true
		}
		if logLR {
			logs.LearningRate, logs.HasLearningRate = opt.LearningRate(), true
		}
		r.History.Epochs = append(r.History.Epochs, Epoch{Epoch: epoch + 1, Logs: logs, Seconds: carried + time.Since(start).Seconds()})
		for _, c := range o.Callbacks {
			c.OnEpochEnd(r, epoch, logs)
		}
	}
	if o.Epochs > 0 {
		// Keras's fit ends with finalize_variable_values (use_ema: the
		// weights take their moving averages), before on_train_end.
		opt.Finalize(params)
	}
	if r.Terminated != nil && r.epochStart != nil {
		if err := m.SetWeights(r.epochStart); err != nil {
			return r.History, err
		}
	}
	for _, c := range o.Callbacks {
		c.OnTrainEnd(r)
	}
	if r.Terminated != nil {
		return r.History, r.Terminated
	}
	return r.History, nil
}

// backwardStep back-propagates the loss's gradient grad through m and
// applies opt's step to params. The step goes inside the backward pass,
// each layer's kernel stepped block by block as its gradient comes out of
// the product, still in the caches (the same bits as stepping after it),
// unless the step needs every gradient first (clipnorm, global_clipnorm).
func backwardStep(e *tensor.Engine, m *nn.Sequential, opt optim.Optimizer, params []nn.Param, grad []float32, batch int) {
	if opt.Begin(e, params) {
		m.BackwardUpdate(e, grad, batch, opt)
		opt.End()
		return
	}
	m.Backward(e, grad, batch)
	opt.Step(e, params)
}

// checkpoint captures the state of a Fit before epoch, step.
func checkpoint(r *FitState, s *sampler, epoch, step int, lossSum float64, correct, seen int, secs float64) (*Checkpoint, error) {
	rng, order, err := s.state()
	if err != nil {
		return nil, err
	}
	layersRNG, err := r.Model.RandomState()
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{
		Epoch: epoch, Step: step, LossSum: lossSum, Correct: correct, Seen: seen, EpochSeconds: secs,
		EpochStart: epochStartOf(r, step),
		History:    &History{Epochs: append([]Epoch(nil), r.History.Epochs...)},
		RNG:        rng, Order: order, LayersRNG: layersRNG, Weights: r.Model.Weights(), Optimizer: r.Optimizer.State(),
	}
	return c, nil
}

// restoring tells whether a callback will put weights of its own back
// when training ends.
func restoring(cs []Callback) bool {
	for _, c := range cs {
		if r, ok := c.(interface{ Restores() bool }); ok && r.Restores() {
			return true
		}
	}
	return false
}

// epochStartOf is the weights at the start of the epoch a checkpoint of
// step (0-based) holds: none at its start, where the weights are they.
func epochStartOf(r *FitState, step int) [][]float32 {
	if step == 0 {
		return nil
	}
	return r.epochStart
}

// sampler yields the order of the training samples for each epoch: 0..n-1,
// reshuffled before every epoch when shuffling (Keras's shuffle=True).
type sampler struct {
	order   []int
	shuffle bool
	pcg     *rand.PCG
	rng     *rand.Rand
}

func newSampler(n int, shuffle bool, seed uint64) *sampler {
	pcg := rand.NewPCG(seed, streamShuffle)
	s := &sampler{order: make([]int, n), shuffle: shuffle, pcg: pcg, rng: rand.New(pcg)}
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
