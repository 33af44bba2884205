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
// The quotient sqrt(D + epsilon) / sqrt(G + epsilon) is taken as
// sqrt((D + epsilon) / (G + epsilon)): one square root fewer than Keras's
// order of float32 operations, with a smaller bound on its rounding error
// (see tensor.Engine.Adadelta).
//
// Defaults: learning_rate 0.001, rho 0.95, epsilon 1e-7.
type Adadelta struct {
	base
	Rho, Epsilon float64

	gAcc, dAcc int
	kern       tensor.StepScalars
}

func newAdadelta(r *argReader) rule {
	o := &Adadelta{}
	o.Rho = r.float("rho", 0.95, 0, 1)
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.gAcc, o.dAcc = o.addSlot("accumulated_grad", 0), o.addSlot("accumulated_delta_var", 0)
	o.fuse(tensor.RuleAdadelta, &o.kern, o.gAcc, o.dAcc)
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	return o
}

func (o *Adadelta) prepare(lr float32) {
	o.kern = tensor.NewStepScalars(float32(o.Rho), float32(1-o.Rho), lr, float32(o.Epsilon))
}

// chunk is tensor's Adadelta pass over one chunk.
func (o *Adadelta) chunk(k, lo, hi int, g []float32) {
	o.e.Adadelta(o.params[k].Value[lo:hi], g, o.slot(o.gAcc, k)[lo:hi], o.slot(o.dAcc, k)[lo:hi], &o.kern)
}
