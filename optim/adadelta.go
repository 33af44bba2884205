package optim

import "github.com/cifarnet/cifarnet/tensor"

// Adadelta is keras.optimizers.Adadelta (keras/src/optimizers/adadelta.py):
// with the accumulated squared gradient G and squared update D,
//
//	G  = rho G + (1 - rho) g²
//	dw = -(sqrt(D + epsilon) g / sqrt(G + epsilon))
//	D  = rho D + (1 - rho) dw²
//	w += lr dw
//
// Defaults: learning_rate 0.001, rho 0.95, epsilon 1e-7.
type Adadelta struct {
	base
	Rho, Epsilon float64

	gAcc, dAcc        int
	task              func(k, lo, hi int)
	lr, rho, omr, eps float32
}

func newAdadelta(r *argReader) rule {
	o := &Adadelta{}
	o.Rho = r.float("rho", 0.95, 0, 1)
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.gAcc, o.dAcc = o.addSlot("accumulated_grad", 0), o.addSlot("accumulated_delta_var", 0)
	o.task = o.chunk
	o.update = o.step
	return o
}

func (o *Adadelta) step(e *tensor.Engine, lr float32) {
	o.lr, o.rho, o.omr, o.eps = lr, float32(o.Rho), float32(1-o.Rho), float32(o.Epsilon)
	e.ForChunks(o.lens, o.task)
}

func (o *Adadelta) chunk(k, lo, hi int) {
	w, g := o.params[k].Value[lo:hi], o.params[k].Grad[lo:hi]
	ga, da := o.slot(o.gAcc, k)[lo:hi], o.slot(o.dAcc, k)[lo:hi]
	lr, rho, omr, eps := o.lr, o.rho, o.omr, o.eps
	for i := range w {
		gi := g[i]
		gai := float32(rho*ga[i]) + float32(omr*float32(gi*gi))
		ga[i] = gai
		dw := -(float32(sqrt32(da[i]+eps)*gi) / sqrt32(gai+eps))
		da[i] = float32(rho*da[i]) + float32(omr*float32(dw*dw))
		w[i] += float32(lr * dw)
	}
}
