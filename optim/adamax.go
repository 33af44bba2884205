package optim

import "github.com/cifarnet/cifarnet/tensor"

// Adamax is keras.optimizers.Adamax (keras/src/optimizers/adamax.py): with
// the moment m, the infinity norm u and t = iterations + 1,
//
//	m += (g - m) (1 - beta_1)
//	u  = max(beta_2 u, |g|)
//	w -= lr m / ((1 - beta_1^t) (u + epsilon))
//
// Defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
type Adamax struct {
	base
	Beta1, Beta2, Epsilon float64

	m, u int
	kern tensor.StepScalars
}

func newAdamax(r *argReader) rule {
	o := &Adamax{}
	o.Beta1 = r.beta("beta_1", 0.9, divideByBeta1)
	o.Beta2 = r.float("beta_2", 0.999, 0, 1)
	o.beta1Divides = true
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.m, o.u = o.addSlot("momentum", 0), o.addSlot("norm", 0)
	o.fuse(tensor.RuleAdamax, &o.kern, o.m, o.u)
	o.momentum = &o.Beta1
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	return o
}

func (o *Adamax) prepare(lr float32) {
	corr := 1 - pow32(float32(o.Beta1), float32(o.iterations+1))
	o.kern = tensor.NewStepScalars(lr, float32(1-o.Beta1), float32(o.Beta2), corr, float32(o.Epsilon))
}

// chunk is tensor's Adamax pass over one chunk.
func (o *Adamax) chunk(k, lo, hi int, g []float32) {
	o.e.Adamax(o.params[k].Value[lo:hi], g, o.slot(o.m, k)[lo:hi], o.slot(o.u, k)[lo:hi], &o.kern)
}
