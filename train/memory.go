package train

import (
	"fmt"

	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/nn"
)

// Upper bounds of the numeric settings, far beyond any sensible run but
// small enough that no size computed from them overflows, and that a
// mistyped value is refused at once rather than tried.
const (
	MaxUnits     = 1 << 20 // units of one hidden layer
	MaxLayers    = 1 << 10 // hidden layers
	MaxEpochs    = 100_000 // their history fits history.json and a checkpoint (TestMaxEpochsFit)
	MaxBatchSize = 1 << 24
	MaxThreads   = 1 << 10
)

// Memory is an estimate of the memory a run takes, by what takes it.
type Memory struct {
	Weights, Activations, Data float64 // bytes
}

// Total is the estimate's sum in bytes.
func (m Memory) Total() float64 { return m.Weights + m.Activations + m.Data }

// EstimateMemory estimates the memory a training run of c takes: its
// weights and the copies of them training keeps (gradients, optimizer
// slots, early stopping's best weights, a checkpoint's), the activations
// of a batch (at most all the samples), and the samples as bytes. It is
// computed in float64 from validated sizes, so it cannot overflow.
//
// A model described by a file or the short form (c.Model) is counted from
// its layers' configs (nn.ModelConfig.Size), before it is built.
func EstimateMemory(c Config) Memory {
	var params, units, inputs float64
	if c.Model != nil {
		s := c.Model.Size()
		params, units, inputs = s.Variables, s.Units, s.Inputs
	} else {
		a := c.Architecture()
		widths := append(append([]int{a.Inputs}, a.Hidden...), a.Classes)
		for i := 1; i < len(widths); i++ {
			params += float64(widths[i-1]+1) * float64(widths[i])
			units += float64(widths[i])
		}
		inputs = float64(a.Inputs)
	}
	batch := float64(min(c.BatchSize, c.TrainSamples))
	evalBatch := float64(min(max(c.EvalBatchSize, c.BatchSize), c.TrainSamples+c.TestSamples))
	const copies = 8 // value, gradient, up to three optimizer slots, best weights, checkpoint, saving
	return Memory{
		Weights: 4 * copies * params,
		// Forward values and their gradients, the input rows at a padded
		// stride, for a training batch and an evaluation batch.
		Activations: 4 * (3*units + inputs) * (batch + evalBatch),
		Data:        float64(c.TrainSamples+c.TestSamples) * inputs,
	}
}

// CheckMemory refuses a run of c whose estimated memory is more than
// available bytes, with a *FieldError naming the setting that asks for
// most of it ("model" for a described model's weights).
func CheckMemory(c Config, available int64) error {
	m := EstimateMemory(c)
	if m.Total() <= float64(available) {
		return nil
	}
	want := fmt.Sprintf("the run needs about %s of memory (weights %s, activations %s, data %s), more than the %s available",
		memlimit.Words(m.Total()), memlimit.Words(m.Weights), memlimit.Words(m.Activations), memlimit.Words(m.Data), memlimit.Words(float64(available)))
	switch {
	case m.Activations >= m.Weights && m.Activations >= m.Data:
		return fieldErr("batch_size", c.BatchSize, "%s", want)
	case m.Data >= m.Weights:
		return fieldErr("train_samples", c.TrainSamples, "%s", want)
	}
	if c.Model != nil {
		// The caller knows which file or flag described it.
		return fieldErr("model", fmt.Sprintf("%q (%d layers)", c.Model.Name, len(c.Model.Layers)), "%s", want)
	}
	return fieldErr("hidden", intList(c.Hidden), "%s", want)
}

// CheckEvaluation refuses to run model m over samples inputs in batches of
// batch when their activations need more than available bytes, with a
// *FieldError on batch_size: the model file gives the widths, the flag the
// batch.
func CheckEvaluation(m *nn.Sequential, batch, samples int, available int64) error {
	units := float64(m.Inputs())
	for _, l := range m.Layers {
		units += float64(l.OutputWidth())
	}
	b := float64(max(min(batch, samples), 1))
	// A layer's output, its pre-activation and the input rows, as in
	// EstimateMemory.
	if need := 4 * 3 * units * b; need > float64(available) {
		return fieldErr("batch_size", batch, "batches of %.0f samples of this model (%.0f activations each) need about %s of memory, more than the %s available",
			b, units, memlimit.Words(need), memlimit.Words(float64(available)))
	}
	return nil
}
