// Package nn holds the network: Dense layers, activations, Keras's
// initializers and the softmax cross-entropy loss, each layer's forward and
// backward pass side by side.
package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/tensor"
)

// Architecture describes a multilayer perceptron the way the exercise does.
type Architecture struct {
	Inputs     int    `json:"inputs"`      // 3072 for flattened CIFAR-10
	Hidden     []int  `json:"hidden"`      // units of each hidden layer
	Activation string `json:"activation"`  // hidden activation, Keras name
	Init       string `json:"initializer"` // hidden kernel initializer, Keras name
	Classes    int    `json:"classes"`     // units of the softmax output layer
}

// Validate reports the first problem with a, naming the offending field.
func (a Architecture) Validate() error {
	if a.Inputs <= 0 || a.Classes <= 1 {
		return fmt.Errorf("inputs %d and classes %d must be positive (classes at least 2)", a.Inputs, a.Classes)
	}
	for _, h := range a.Hidden {
		if h <= 0 {
			return fmt.Errorf("hidden layer size %d must be positive", h)
		}
	}
	if _, err := LookupActivation(a.Activation); err != nil {
		return err
	}
	if _, err := LookupInitializer(a.Init); err != nil {
		return err
	}
	return nil
}

// Model is a Sequential stack of Dense layers ending in a softmax output
// layer. Forward returns the output layer's logits: as in Keras, the
// softmax is folded into the loss, and applied by Predict.
type Model struct {
	Arch   Architecture
	Layers []*Dense
}

// New builds the model of arch with its weights initialised from seed:
// hidden kernels by arch.Init, the output kernel by glorot_uniform (Keras's
// default), all biases zero. The same seed gives the same bits.
func New(arch Architecture, seed uint64) (*Model, error) {
	m, err := NewZero(arch)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, streamInit))
	hiddenInit, _ := LookupInitializer(arch.Init)
	outInit, _ := LookupInitializer("glorot_uniform")
	for i, l := range m.Layers {
		init := hiddenInit
		if i == len(m.Layers)-1 {
			init = outInit
		}
		init(r, l.Kernel, l.In, l.Out)
	}
	return m, nil
}

// streamInit selects the PCG stream used for weight initialisation, so that
// it never overlaps the streams other consumers derive from the same seed.
const streamInit = 0x696e6974 // "init"

// NewZero builds the model of arch with all weights zero, to be filled by
// SetWeights or a loader.
func NewZero(arch Architecture) (*Model, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	act, _ := LookupActivation(arch.Activation)
	linear, _ := LookupActivation("linear")
	m := &Model{Arch: arch}
	in := arch.Inputs
	for i, h := range append(append([]int(nil), arch.Hidden...), arch.Classes) {
		name := "dense"
		if i > 0 {
			name = fmt.Sprintf("dense_%d", i)
		}
		a := act
		if i == len(arch.Hidden) {
			a = linear // logits; softmax lives in the loss
		}
		m.Layers = append(m.Layers, NewDense(name, in, h, a))
		in = h
	}
	return m, nil
}

// Forward runs batch rows of x (batch x Inputs) through the network and
// returns the logits (batch x Classes), valid until the next Forward.
func (m *Model) Forward(e *tensor.Engine, x []float32, batch int) []float32 {
	return m.ForwardStrided(e, x, m.Arch.Inputs, batch)
}

// ForwardStrided is Forward for inputs whose rows lie ldx floats apart
// (see tensor.PaddedStride).
func (m *Model) ForwardStrided(e *tensor.Engine, x []float32, ldx, batch int) []float32 {
	for _, l := range m.Layers {
		x = l.Forward(e, x, ldx, batch)
		ldx = l.Out
	}
	return x
}

// Backward back-propagates dLoss/dlogits (overwritten) through the network,
// leaving every layer's parameter gradients in DKernel and DBias.
func (m *Model) Backward(e *tensor.Engine, dlogits []float32, batch int) {
	g := dlogits
	for i := len(m.Layers) - 1; i >= 0; i-- {
		g = m.Layers[i].Backward(e, g, batch, i > 0)
	}
}

// Predict writes the class probabilities (batch x Classes) of x into probs.
func (m *Model) Predict(e *tensor.Engine, x []float32, batch int, probs []float32) {
	copy(probs, m.Forward(e, x, batch))
	Softmax(probs[:batch*m.Arch.Classes], m.Arch.Classes)
}

// Param is one trainable tensor with its gradient and Keras-style path.
type Param struct {
	Name  string // "dense/kernel", "dense/bias", "dense_1/kernel", ...
	Shape []int  // [in, out] for kernels, [out] for biases
	Value []float32
	Grad  []float32
}

// Params lists the trainable tensors in Keras's order: each layer's kernel,
// then its bias.
func (m *Model) Params() []Param {
	var ps []Param
	for _, l := range m.Layers {
		ps = append(ps,
			Param{l.Name + "/kernel", []int{l.In, l.Out}, l.Kernel, l.DKernel},
			Param{l.Name + "/bias", []int{l.Out}, l.Bias, l.DBias})
	}
	return ps
}

// Weights returns a copy of every parameter, in Params order.
func (m *Model) Weights() [][]float32 {
	var ws [][]float32
	for _, p := range m.Params() {
		ws = append(ws, append([]float32(nil), p.Value...))
	}
	return ws
}

// SetWeights copies ws (as returned by Weights) into the model.
func (m *Model) SetWeights(ws [][]float32) error {
	ps := m.Params()
	if len(ws) != len(ps) {
		return fmt.Errorf("nn: %d weight tensors given, model has %d", len(ws), len(ps))
	}
	for i, p := range ps {
		if len(ws[i]) != len(p.Value) {
			return fmt.Errorf("nn: %s: %d values given, want %d", p.Name, len(ws[i]), len(p.Value))
		}
	}
	for i, p := range ps {
		copy(p.Value, ws[i])
	}
	return nil
}

// CountParams returns the number of trainable scalars.
func (m *Model) CountParams() int {
	n := 0
	for _, p := range m.Params() {
		n += len(p.Value)
	}
	return n
}
