package optim

import (
	"math"

	"github.com/cifarnet/cifarnet/tensor"
)

// Nadam is keras.optimizers.Nadam (keras/src/optimizers/nadam.py; Dozat
// 2015): Adam with Nesterov momentum and the momentum schedule
// u_t = beta_1 (1 - 0.5 · 0.96^t), whose running product u_product the
// optimizer keeps. With m, v the first and second moments and
// t = iterations + 1:
//
//	u_product *= u_t                          (once per step)
//	m += (g - m) (1 - beta_1)
//	v += (g² - v) (1 - beta_2)
//	m̂  = u_{t+1} m / (1 - u_product u_{t+1}) + (1 - u_t) g / (1 - u_product)
//	v̂  = v / (1 - beta_2^t)
//	w -= m̂ lr / (sqrt(v̂) + epsilon)
//
// Defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
// The per-element pass is tensor's fused Nadam kernel (in Keras's order of
// float32 operations); this rule computes its scalars. Those differ from
// Keras's in their last bits: 0.96^t is float64's pow of 0.96 rounded to
// float32 (Keras: the backend's float32 pow of float32(0.96), itself a
// matter of an ulp between backends), and u_product is multiplied by u_t
// as a whole (Keras: by beta_1, then by the rest). A review measured the
// effect: after 200 steps about one weight in seven differs by one ulp.
// They stay, since any change to them changes the bits of every Nadam
// run, the exercise's included.
type Nadam struct {
	base
	Beta1, Beta2, Epsilon float64

	m, v, uProduct int
	kern           tensor.NadamScalars
}

// NewNadam returns Nadam with learning rate lr and Keras's defaults.
func NewNadam(lr float64) *Nadam {
	o, err := Build("nadam", Constant(lr), nil)
	if err != nil {
		panic(err)
	}
	return o.(*Nadam)
}

func newNadam(r *argReader) rule {
	o := &Nadam{}
	o.Beta1 = r.float("beta_1", 0.9, 0, 1)
	o.Beta2 = r.beta("beta_2", 0.999, "the step divides by its bias correction 1-beta_2^t, which is 0")
	o.Epsilon = r.float("epsilon", 1e-7, 0, 1)
	o.m, o.v = o.addSlot("momentum", 0), o.addSlot("velocity", 0)
	o.uProduct = o.addScalar("u_product", 1)
	o.momentum = &o.Beta1
	o.prepareStep, o.updateChunk = o.prepare, o.chunk
	o.setOptions, o.fusedChunk = o.setWith, o.chunkWith
	return o
}

func (o *Nadam) prepare(lr float32) {
	t := float64(o.iterations + 1)
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	uT := b1 * (1 - 0.5*float32(math.Pow(0.96, t)))
	uT1 := b1 * (1 - 0.5*float32(math.Pow(0.96, t+1)))
	o.scalars[o.uProduct][0] *= uT // _backend_update_step, before the per-variable updates
	uProdT := o.scalars[o.uProduct][0]
	uProdT1 := uProdT * uT1
	b2Pow := float32(math.Pow(float64(b2), t))
	o.kern = tensor.NadamStep{
		OneMinusBeta1: 1 - b1, OneMinusBeta2: 1 - b2,
		UNext: uT1, OneMinusUProdNext: 1 - uProdT1,
		OneMinusU: 1 - uT, OneMinusUProd: 1 - uProdT,
		OneMinusBeta2Pow: 1 - b2Pow,
		LearningRate:     lr, Epsilon: float32(o.Epsilon),
	}.Scalars()
}

// chunk is tensor's Nadam pass over one chunk.
func (o *Nadam) chunk(k, lo, hi int, g []float32) {
	o.e.NadamPass(o.params[k].Value[lo:hi], g, o.slot(o.m, k)[lo:hi], o.slot(o.v, k)[lo:hi], &o.kern)
}

func (o *Nadam) setWith(k int, opts tensor.Options) { o.fused[k].SetNadam(&o.kern, opts) }

// chunkWith is tensor's Nadam pass with the base options over one chunk.
func (o *Nadam) chunkWith(k, lo, hi int, g []float32) {
	o.e.NadamWithOptions(o.params[k].Value[lo:hi], g, o.slot(o.m, k)[lo:hi], o.slot(o.v, k)[lo:hi], o.averageChunk(k, lo, hi), &o.fused[k])
}
