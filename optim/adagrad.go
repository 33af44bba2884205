package optim

import "github.com/cifarnet/cifarnet/tensor"

// Adagrad is keras.optimizers.Adagrad (keras/src/optimizers/adagrad.py):
// with the accumulator a, starting at initial_accumulator_value,
//
//	a += g²
//	w -= lr g / sqrt(a + epsilon)
//
// Defaults: learning_rate 0.001, initial_accumulator_value 0.1,
// epsilon 1e-7.
type Adagrad struct {
	base
	InitialAccumulatorValue, Epsilon float64

	a    int
	kern tensor.StepScalars
}

func newAdagrad(r *argReader) rule {
	o := &Adagrad{}
	o.InitialAccumulatorValue = r.float("initial_accumulator_value", 0.1, 0, 1e30)
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.a = o.addSlot("accumulator", float32(o.InitialAccumulatorValue))
	o.fuse(tensor.RuleAdagrad, &o.kern, o.a)
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	return o
}

func (o *Adagrad) prepare(lr float32) {
	o.kern = tensor.NewStepScalars(lr, float32(o.Epsilon))
}

// chunk is tensor's Adagrad pass over one chunk.
func (o *Adagrad) chunk(k, lo, hi int, g []float32) {
	o.e.Adagrad(o.params[k].Value[lo:hi], g, o.slot(o.a, k)[lo:hi], &o.kern)
}
