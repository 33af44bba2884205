package optim

import "github.com/cifarnet/cifarnet/tensor"

// SGD is keras.optimizers.SGD (keras/src/optimizers/sgd.py): with
// momentum 0, w -= g lr; else, with the velocity m,
//
//	m  = m momentum - g lr
//	w += m                              (nesterov false)
//	w += m momentum - g lr              (nesterov true, with the new m)
//
// Defaults: learning_rate 0.01, momentum 0, nesterov false.
type SGD struct {
	base
	Momentum float64
	Nesterov bool

	m        int
	kern     tensor.StepScalars
	hasSlots bool
}

func newSGD(r *argReader) rule {
	o := &SGD{}
	o.Momentum = r.float("momentum", 0, 0, 1)
	o.Nesterov = r.boolean("nesterov", false)
	if o.Momentum != 0 {
		o.m, o.hasSlots = o.addSlot("momentum", 0), true
	}
	o.momentum = &o.Momentum
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	switch {
	case !o.hasSlots:
		o.fuse(tensor.RuleSGD, &o.kern)
	case o.Nesterov:
		o.fuse(tensor.RuleSGDNesterov, &o.kern, o.m)
	default:
		o.fuse(tensor.RuleSGDMomentum, &o.kern, o.m)
	}
	return o
}

func (o *SGD) prepare(lr float32) {
	o.kern = tensor.NewStepScalars(lr, float32(o.Momentum))
}

// chunk is tensor's SGD pass over one chunk.
func (o *SGD) chunk(k, lo, hi int, g []float32) {
	var m []float32
	if o.hasSlots {
		m = o.slot(o.m, k)[lo:hi]
	}
	o.e.SGD(o.params[k].Value[lo:hi], g, m, o.Nesterov, &o.kern)
}
