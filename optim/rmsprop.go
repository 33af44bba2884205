package optim

import "github.com/cifarnet/cifarnet/tensor"

// RMSprop is keras.optimizers.RMSprop (keras/src/optimizers/rmsprop.py):
// with the velocity v, the average gradient a (centered) and the momentum
// buffer b,
//
//	v = rho v + (1 - rho) g²
//	a = rho a + (1 - rho) g                  (centered)
//	d = v - a² + epsilon  (centered),  else  v + epsilon
//	inc = lr g / sqrt(d)
//	b = momentum b + inc;  w -= b            (momentum > 0)
//	w -= inc                                 (momentum 0)
//
// Note epsilon inside the square root. Defaults: learning_rate 0.001,
// rho 0.9, momentum 0, epsilon 1e-7, centered false.
type RMSprop struct {
	base
	Rho, Momentum, Epsilon float64
	Centered               bool

	v, b, a                int
	lr, rho, omr, mom, eps float32
	kern, full             tensor.StepScalars
}

func newRMSprop(r *argReader) rule {
	o := &RMSprop{}
	o.Rho = r.float("rho", 0.9, 0, 1)
	o.Momentum = r.float("momentum", 0, 0, 1)
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.Centered = r.boolean("centered", false)
	o.v = o.addSlot("velocity", 0)
	if o.Momentum > 0 {
		o.b = o.addSlot("momentum", 0)
	}
	if o.Centered {
		o.a = o.addSlot("average_gradient", 0)
	}
	o.momentum = &o.Momentum
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	switch {
	case o.Centered && o.Momentum > 0:
		o.fuse(tensor.RuleRMSpropCenteredMomentum, &o.full, o.v, o.a, o.b)
	case o.Centered:
		o.fuse(tensor.RuleRMSpropCentered, &o.full, o.v, o.a)
	case o.Momentum > 0:
		o.fuse(tensor.RuleRMSpropMomentum, &o.full, o.v, o.b)
	default:
		o.fuse(tensor.RuleRMSprop, &o.kern, o.v)
	}
	return o
}

func (o *RMSprop) prepare(lr float32) {
	o.lr, o.rho, o.omr = lr, float32(o.Rho), float32(1-o.Rho)
	o.mom, o.eps = float32(o.Momentum), float32(o.Epsilon)
	o.kern = tensor.NewStepScalars(o.rho, o.omr, o.lr, o.eps)
	o.full = tensor.NewStepScalars(o.rho, o.omr, o.lr, o.eps, o.mom)
}

func (o *RMSprop) chunk(k, lo, hi int, g []float32) {
	w := o.params[k].Value[lo:hi]
	v := o.slot(o.v, k)[lo:hi]
	if !o.Centered && o.Momentum == 0 { // Keras's default: tensor's pass
		o.e.RMSprop(w, g, v, &o.kern)
		return
	}
	var a, b []float32
	if o.Centered {
		a = o.slot(o.a, k)[lo:hi]
	}
	if o.Momentum > 0 {
		b = o.slot(o.b, k)[lo:hi]
	}
	o.e.RMSpropFull(w, g, v, a, b, &o.full)
}
