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

	m                  int
	task               func(k, lo, hi int)
	lr, b1, c1, b2, c2 float32
}

func newLion(r *argReader) rule {
	o := &Lion{}
	o.Beta1 = r.float("beta_1", 0.9, 0, 1)
	o.Beta2 = r.float("beta_2", 0.99, 0, 1)
	if o.Beta1 == 0 {
		r.fail("beta_1 = 0: want (0, 1]; otherwise the optimizer degenerates to SignSGD")
	}
	o.m = o.addSlot("momentum", 0)
	o.momentum = &o.Beta1
	o.task = o.chunk
	o.update = o.step
	return o
}

func (o *Lion) step(e *tensor.Engine, lr float32) {
	o.lr, o.b1, o.b2 = lr, float32(o.Beta1), float32(o.Beta2)
	o.c1, o.c2 = float32(1-o.Beta1), float32(1-o.Beta2)
	e.ForChunks(o.lens, o.task)
}

func (o *Lion) chunk(k, lo, hi int) {
	w, g := o.params[k].Value[lo:hi], o.params[k].Grad[lo:hi]
	m := o.slot(o.m, k)[lo:hi]
	lr, b1, c1, b2, c2 := o.lr, o.b1, o.c1, o.b2, o.c2
	for i := range w {
		gi := g[i]
		c := float32(m[i]*b1) + float32(gi*c1)
		switch {
		case c > 0:
			w[i] -= lr
		case c < 0:
			w[i] += lr
		case c != c: // NaN: sign is NaN
			w[i] = c
		}
		m[i] = float32(m[i]*b2) + float32(gi*c2)
	}
}
