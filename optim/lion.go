package optim

import "github.com/cifarnet/cifarnet/tensor"

// Lion is keras.optimizers.Lion (keras/src/optimizers/lion.py; Chen et al.
// 2023): with the momentum m,
//
//	w -= lr sign(beta_1 m + (1 - beta_1) g)
//	m  = beta_2 m + (1 - beta_2) g
//
// Defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.99; beta_1 must lie
// in (0, 1].
type Lion struct {
	base
	Beta1, Beta2 float64

	m    int
	kern tensor.StepScalars
}

func newLion(r *argReader) rule {
	o := &Lion{}
	o.Beta1 = r.float("beta_1", 0.9, 0, 1)
	o.Beta2 = r.float("beta_2", 0.99, 0, 1)
	if o.Beta1 == 0 {
		r.bad("beta_1", 0, "want (0, 1]; otherwise the optimizer degenerates to SignSGD")
	}
	o.m = o.addSlot("momentum", 0)
	o.fuse(tensor.RuleLion, &o.kern, o.m)
	o.momentum = &o.Beta1
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	return o
}

// prepare sets the step's scalars. Keras casts beta_1 and beta_2 to the
// variable's dtype before taking 1.0 - beta, so that difference is
// float32 arithmetic (1 - 0.99 is 0.00999999, not float32(0.01)).
func (o *Lion) prepare(lr float32) {
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	o.kern = tensor.NewStepScalars(lr, b1, 1-b1, b2, 1-b2)
}

// chunk is tensor's Lion pass over one chunk.
func (o *Lion) chunk(k, lo, hi int, g []float32) {
	o.e.Lion(o.params[k].Value[lo:hi], g, o.slot(o.m, k)[lo:hi], &o.kern)
}
