package optim

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
	lr, mom  float32
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
	return o
}

func (o *SGD) prepare(lr float32) {
	o.lr, o.mom = lr, float32(o.Momentum)
}

func (o *SGD) chunk(k, lo, hi int) {
	w, g := o.params[k].Value[lo:hi], o.params[k].Grad[lo:hi]
	lr, mom := o.lr, o.mom
	if !o.hasSlots {
		for i := range w {
			w[i] -= float32(g[i] * lr)
		}
		return
	}
	m := o.slot(o.m, k)[lo:hi]
	for i := range w {
		mi := float32(m[i]*mom) - float32(g[i]*lr)
		m[i] = mi
		if o.Nesterov {
			w[i] += float32(mi*mom) - float32(g[i]*lr)
		} else {
			w[i] += mi
		}
	}
}
