package optim

import (
	"math"

	"github.com/cifarnet/cifarnet/nn"
)

// Nadam is Keras 3's keras.optimizers.Nadam (Dozat 2015): Adam with
// Nesterov momentum and the momentum schedule
// u_t = beta1 * (1 - 0.5 * 0.96^t), whose running product the optimizer
// keeps. With m, v the first and second moments and t = iterations + 1:
//
//	m      += (g - m) * (1 - beta1)
//	v      += (g² - v) * (1 - beta2)
//	m̂       = u_{t+1} m / (1 - Πu_{..t+1}) + (1 - u_t) g / (1 - Πu_{..t})
//	v̂       = v / (1 - beta2^t)
//	w      -= lr m̂ / (sqrt(v̂) + epsilon)
//
// All arithmetic is float32, as in Keras with float32 variables.
type Nadam struct {
	LearningRate, Beta1, Beta2, Epsilon float32

	iterations int64
	uProduct   float32
	m, v       [][]float32
}

// NewNadam returns Nadam with Keras's defaults: beta1 0.9, beta2 0.999,
// epsilon 1e-7.
func NewNadam(lr float64) *Nadam {
	return &Nadam{LearningRate: float32(lr), Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, uProduct: 1}
}

// Step implements Optimizer.
func (o *Nadam) Step(params []nn.Param) {
	m, v := slots(&o.m, params), slots(&o.v, params)
	t := float64(o.iterations + 1)
	b1, b2 := o.Beta1, o.Beta2
	uT := b1 * (1 - 0.5*float32(math.Pow(0.96, t)))
	uT1 := b1 * (1 - 0.5*float32(math.Pow(0.96, t+1)))
	o.uProduct *= uT // _backend_update_step, before the per-variable updates
	uProdT := o.uProduct
	uProdT1 := uProdT * uT1
	b2Pow := float32(math.Pow(float64(b2), t))

	// The per-element expressions keep Keras's order of operations, so each
	// float32 rounding happens where it happens in keras/src/optimizers/nadam.py.
	d1, d2 := 1-uProdT1, 1-uProdT
	oneMinusUT := 1 - uT
	oneMinusB1, oneMinusB2 := 1-b1, 1-b2
	vScale := 1 - b2Pow
	lr, eps := o.LearningRate, o.Epsilon
	for k, p := range params {
		w, g, mk, vk := p.Value, p.Grad[:len(p.Value)], m[k][:len(p.Value)], v[k][:len(p.Value)]
		for i := range w {
			gi := g[i]
			mi := mk[i] + (gi-mk[i])*oneMinusB1
			vi := vk[i] + (gi*gi-vk[i])*oneMinusB2
			mk[i], vk[i] = mi, vi
			mHat := uT1*mi/d1 + oneMinusUT*gi/d2
			vHat := vi / vScale
			w[i] -= mHat * lr / (float32(math.Sqrt(float64(vHat))) + eps)
		}
	}
	o.iterations++
}

// Iterations implements Optimizer.
func (o *Nadam) Iterations() int64 { return o.iterations }

// Name implements Optimizer.
func (o *Nadam) Name() string { return "nadam" }
