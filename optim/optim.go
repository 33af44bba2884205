// Package optim holds the optimizers, each a small Keras 3 update rule
// applied to every parameter after each training step.
package optim

import (
	"fmt"
	"sort"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// Optimizer updates parameters from their gradients, one step at a time.
type Optimizer interface {
	// Step applies one update to every parameter from its Grad.
	Step(e *tensor.Engine, params []nn.Param)
	// Iterations returns the number of steps applied so far.
	Iterations() int64
	// Name is the Keras name of the optimizer.
	Name() string
	// State returns the optimizer's variables, for a checkpoint; Restore
	// sets them back.
	State() State
	Restore(State) error
}

// State is everything an optimizer carries from one step to the next.
type State struct {
	Iterations int64       `json:"iterations"`
	UProduct   float32     `json:"u_product,omitempty"` // Nadam's running product of u_t
	M, V       [][]float32 `json:"-"`                   // moments, one per parameter (in a checkpoint's tensors)
}

func restoreSlots(dst *[][]float32, src [][]float32) {
	*dst = nil
	for _, s := range src {
		*dst = append(*dst, append([]float32(nil), s...))
	}
}

// New returns the optimizer of the given Keras name with learning rate lr
// and Keras's default hyper-parameters.
func New(name string, lr float64) (Optimizer, error) {
	if !(lr > 0) {
		return nil, fmt.Errorf("learning rate %g must be positive", lr)
	}
	switch name {
	case "nadam":
		return NewNadam(lr), nil
	case "adam":
		return NewAdam(lr), nil
	case "sgd":
		return &SGD{LearningRate: float32(lr)}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (want one of %v)", name, Names())
}

// Names lists the optimizers New accepts.
func Names() []string {
	n := []string{"nadam", "adam", "sgd"}
	sort.Strings(n)
	return n
}

// slots returns per-parameter state buffers shaped like params, allocating
// them on first use.
func slots(s *[][]float32, params []nn.Param) [][]float32 {
	if len(*s) != len(params) {
		*s = make([][]float32, len(params))
		for i, p := range params {
			(*s)[i] = make([]float32, len(p.Value))
		}
	}
	return *s
}

// SGD is plain stochastic gradient descent: w -= lr * g.
type SGD struct {
	LearningRate float32
	iterations   int64
}

// Step implements Optimizer.
func (o *SGD) Step(_ *tensor.Engine, params []nn.Param) {
	for _, p := range params {
		g := p.Grad[:len(p.Value)]
		for i := range p.Value {
			p.Value[i] -= o.LearningRate * g[i]
		}
	}
	o.iterations++
}

// Iterations implements Optimizer.
func (o *SGD) Iterations() int64 { return o.iterations }

// Name implements Optimizer.
func (o *SGD) Name() string { return "sgd" }

// State implements Optimizer.
func (o *SGD) State() State { return State{Iterations: o.iterations} }

// Restore implements Optimizer.
func (o *SGD) Restore(s State) error { o.iterations = s.Iterations; return nil }
