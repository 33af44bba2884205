package optim

import (
	"fmt"
	"math"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// Adam is Keras 3's keras.optimizers.Adam (amsgrad off):
//
//	alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//	m    += (g - m) * (1 - beta1)
//	v    += (g² - v) * (1 - beta2)
//	w    -= alpha m / (sqrt(v) + epsilon)
type Adam struct {
	LearningRate, Beta1, Beta2, Epsilon float32

	iterations int64
	m, v       [][]float32
}

// NewAdam returns Adam with Keras's defaults: beta1 0.9, beta2 0.999,
// epsilon 1e-7.
func NewAdam(lr float64) *Adam {
	return &Adam{LearningRate: float32(lr), Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}
}

// Step implements Optimizer.
func (o *Adam) Step(_ *tensor.Engine, params []nn.Param) {
	m, v := slots(&o.m, params), slots(&o.v, params)
	t := float64(o.iterations + 1)
	b1Pow := float32(math.Pow(float64(o.Beta1), t))
	b2Pow := float32(math.Pow(float64(o.Beta2), t))
	alpha := o.LearningRate * float32(math.Sqrt(float64(1-b2Pow))) / (1 - b1Pow)
	oneMinusB1, oneMinusB2 := 1-o.Beta1, 1-o.Beta2
	for k, p := range params {
		w, g, mk, vk := p.Value, p.Grad[:len(p.Value)], m[k][:len(p.Value)], v[k][:len(p.Value)]
		for i := range w {
			gi := g[i]
			mk[i] += (gi - mk[i]) * oneMinusB1
			vk[i] += (gi*gi - vk[i]) * oneMinusB2
			w[i] -= alpha * mk[i] / (float32(math.Sqrt(float64(vk[i]))) + o.Epsilon)
		}
	}
	o.iterations++
}

// Iterations implements Optimizer.
func (o *Adam) Iterations() int64 { return o.iterations }

// Name implements Optimizer.
func (o *Adam) Name() string { return "adam" }

// State implements Optimizer.
func (o *Adam) State() State {
	return State{Iterations: o.iterations, M: o.m, V: o.v}
}

// Restore implements Optimizer.
func (o *Adam) Restore(s State) error {
	if len(s.M) != len(s.V) {
		return fmt.Errorf("adam: %d first and %d second moments", len(s.M), len(s.V))
	}
	o.iterations = s.Iterations

	restoreSlots(&o.m, s.M)
	restoreSlots(&o.v, s.V)
	return nil
}
