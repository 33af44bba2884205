package optim

import (
	"fmt"
	"math"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
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
	slots      []tensor.NadamSlots
}

// NewNadam returns Nadam with Keras's defaults: beta1 0.9, beta2 0.999,
// epsilon 1e-7.
func NewNadam(lr float64) *Nadam {
	return &Nadam{LearningRate: float32(lr), Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, uProduct: 1}
}

// Step implements Optimizer.
func (o *Nadam) Step(e *tensor.Engine, params []nn.Param) {
	m, v := slots(&o.m, params), slots(&o.v, params)
	t := float64(o.iterations + 1)
	b1, b2 := o.Beta1, o.Beta2
	uT := b1 * (1 - 0.5*float32(math.Pow(0.96, t)))
	uT1 := b1 * (1 - 0.5*float32(math.Pow(0.96, t+1)))
	o.uProduct *= uT // _backend_update_step, before the per-variable updates
	uProdT := o.uProduct
	uProdT1 := uProdT * uT1
	b2Pow := float32(math.Pow(float64(b2), t))

	// One fused pass per tensor, in Keras's order of float32 operations
	// (tensor.NadamStep documents each scalar).
	step := tensor.NadamStep{
		OneMinusBeta1: 1 - b1, OneMinusBeta2: 1 - b2,
		UNext: uT1, OneMinusUProdNext: 1 - uProdT1,
		OneMinusU: 1 - uT, OneMinusUProd: 1 - uProdT,
		OneMinusBeta2Pow: 1 - b2Pow,
		LearningRate:     o.LearningRate, Epsilon: o.Epsilon,
	}
	if len(o.slots) != len(params) {
		o.slots = make([]tensor.NadamSlots, len(params))
	}
	for k, p := range params {
		o.slots[k] = tensor.NadamSlots{W: p.Value, G: p.Grad, M: m[k], V: v[k]}
	}
	e.Nadam(o.slots, step)
	o.iterations++
}

// Iterations implements Optimizer.
func (o *Nadam) Iterations() int64 { return o.iterations }

// Name implements Optimizer.
func (o *Nadam) Name() string { return "nadam" }

// State implements Optimizer.
func (o *Nadam) State() State {
	return State{Iterations: o.iterations, UProduct: o.uProduct, M: o.m, V: o.v}
}

// Restore implements Optimizer.
func (o *Nadam) Restore(s State) error {
	if len(s.M) != len(s.V) {
		return fmt.Errorf("nadam: %d first and %d second moments", len(s.M), len(s.V))
	}
	o.iterations = s.Iterations
	o.uProduct = s.UProduct
	restoreSlots(&o.m, s.M)
	restoreSlots(&o.v, s.V)
	return nil
}
