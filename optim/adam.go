package optim

import (
	"math"

	"github.com/cifarnet/cifarnet/tensor"
)

// Adam is keras.optimizers.Adam (keras/src/optimizers/adam.py) and, with
// a weight decay, keras.optimizers.AdamW (keras/src/optimizers/adamw.py:
// Adam whose base applies the decoupled decay w -= w·weight_decay·lr
// before each step; default weight_decay 0.004). With t = iterations + 1:
//
//	alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
//	m += (g - m) (1 - beta_1)
//	v += (g² - v) (1 - beta_2)
//	v̂  = max(v̂, v)                      (amsgrad; then v̂ replaces v below)
//	w -= m alpha / (sqrt(v) + epsilon)
//
// Defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7,
// amsgrad false. Note the epsilon is added to sqrt(v), not to sqrt(v̂): the
// bias correction is folded into alpha.
type Adam struct {
	base
	Beta1, Beta2, Epsilon float64
	AMSGrad               bool

	m, v, vHat int
	// The step's float32 scalars.
	alpha, oneMinusB1, oneMinusB2, eps float32
	kern                               tensor.StepScalars
}

// NewAdam returns Adam with learning rate lr and Keras's defaults.
func NewAdam(lr float64) *Adam {
	o, err := Build("adam", Constant(lr), nil)
	if err != nil {
		panic(err)
	}
	return o.(*Adam)
}

func newAdam(r *argReader) rule { return readAdam(r, 0) }

func newAdamW(r *argReader) rule { return readAdam(r, 0.004) }

func readAdam(r *argReader, weightDecay float64) *Adam {
	o := &Adam{}
	o.weightDecay = weightDecay
	o.Beta1 = r.beta("beta_1", 0.9, divideByBeta1)
	o.Beta2 = r.beta("beta_2", 0.999, "every step is 0 (its bias correction sqrt(1-beta_2^t) is 0)")
	o.beta1Divides = true
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.AMSGrad = r.boolean("amsgrad", false)
	o.m, o.v = o.addSlot("momentum", 0), o.addSlot("velocity", 0)
	if o.AMSGrad {
		o.vHat = o.addSlot("velocity_hat", 0)
	}
	o.momentum = &o.Beta1
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	if o.AMSGrad {
		o.fuse(tensor.RuleAdamAMSGrad, &o.kern, o.m, o.v, o.vHat)
	} else {
		o.setOptions, o.fusedChunk = o.setWith, o.chunkWith
	}
	return o
}

func (o *Adam) setWith(k int, opts tensor.Options) { o.fused[k].SetAdam(&o.kern, opts) }

// chunkWith is tensor's Adam pass with the base options over one chunk.
func (o *Adam) chunkWith(k, lo, hi int, g []float32) {
	o.e.AdamWithOptions(o.params[k].Value[lo:hi], g, o.slot(o.m, k)[lo:hi], o.slot(o.v, k)[lo:hi], o.averageChunk(k, lo, hi), &o.fused[k])
}

func (o *Adam) prepare(lr float32) {
	t := float32(o.iterations + 1)
	b1Pow := pow32(float32(o.Beta1), t)
	b2Pow := pow32(float32(o.Beta2), t)
	o.alpha = lr * sqrt32(1-b2Pow) / (1 - b1Pow)
	o.oneMinusB1, o.oneMinusB2 = float32(1-o.Beta1), float32(1-o.Beta2)
	o.eps = float32(o.Epsilon)
	o.kern = tensor.NewStepScalars(o.alpha, o.oneMinusB1, o.oneMinusB2, o.eps)
}

// chunk is tensor's Adam (or AMSGrad) pass over one chunk.
func (o *Adam) chunk(k, lo, hi int, g []float32) {
	w := o.params[k].Value[lo:hi]
	m, v := o.slot(o.m, k)[lo:hi], o.slot(o.v, k)[lo:hi]
	if o.AMSGrad {
		o.e.AdamAMSGrad(w, g, m, v, o.slot(o.vHat, k)[lo:hi], &o.kern)
		return
	}
	o.e.Adam(w, g, m, v, &o.kern)
}

// pow32 and sqrt32 are float32 power and square root (correctly rounded
// from float64).
func pow32(x, y float32) float32 { return float32(math.Pow(float64(x), float64(y))) }

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
