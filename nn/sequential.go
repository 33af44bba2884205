// Package nn holds the network: a Sequential stack of layers behind one
// interface (Dense, ...), activations, Keras's initializers and the softmax
// cross-entropy loss, each layer's forward and backward pass side by side.
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

// Layers returns the unbuilt layers of a: Dense hidden layers with the
// hidden activation and initializer, then a Dense output layer with Keras's
// default glorot_uniform kernel whose softmax is left to the loss.
func (a Architecture) Layers() ([]Layer, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	act, _ := LookupActivation(a.Activation)
	init, _ := LookupInitializer(a.Init)
	linear, _ := LookupActivation("linear")
	outInit, _ := LookupInitializer("glorot_uniform")
	var ls []Layer
	for i, h := range a.Hidden {
		ls = append(ls, NewDense(denseName(i), h, act, init))
	}
	return append(ls, NewDense(denseName(len(a.Hidden)), a.Classes, linear, outInit)), nil
}

// denseName is Keras's automatic name of the i-th Dense layer of a model.
func denseName(i int) string {
	if i == 0 {
		return "dense"
	}
	return fmt.Sprintf("dense_%d", i)
}

// Sequential is keras.Sequential: layers applied in order to inputs of a
// fixed width. Its last layer emits logits: as in Keras, the output
// softmax is folded into the loss, and applied by Predict.
type Sequential struct {
	Layers []Layer

	inputs int
	pcg    *rand.PCG // the layers' random stream (dropout masks, noise)
	out    []float32 // logits, when the last layer leaves them strided
}

// Streams of the PCG generator derived from a model's seed, so that they
// never overlap the streams other consumers derive from the same seed.
const (
	streamInit   = 0x696e6974 // "init": initial weights
	streamLayers = 0x6c617972 // "layr": random layers while training
)

// NewSequential builds layers for inputs of width inputs, each for the
// output width of the one before, with zero weights; seed seeds the random
// layers' stream. It fails when a layer cannot be built or the model
// emits fewer than 2 values per sample.
func NewSequential(inputs int, seed uint64, layers ...Layer) (*Sequential, error) {
	if inputs <= 0 {
		return nil, fmt.Errorf("input width %d must be positive", inputs)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("a Sequential model needs at least one layer")
	}
	m := &Sequential{Layers: layers, inputs: inputs}
	in := inputs
	for _, l := range layers {
		if err := l.Build(in); err != nil {
			return nil, err
		}
		in = l.OutputWidth()
	}
	if in < 2 {
		return nil, fmt.Errorf("the model emits %d value(s) per sample: a softmax classifier needs at least 2", in)
	}
	m.SeedRandom(seed)
	return m, nil
}

// New builds the model of arch with its weights initialised from seed:
// hidden kernels by arch.Init, the output kernel by glorot_uniform (Keras's
// default), all biases zero. The same seed gives the same bits.
func New(arch Architecture, seed uint64) (*Sequential, error) {
	m, err := NewZero(arch, seed)
	if err != nil {
		return nil, err
	}
	m.Initialize(seed)
	return m, nil
}

// NewZero builds the model of arch with all weights zero, to be filled by
// SetWeights or a loader; seed seeds its random layers.
func NewZero(arch Architecture, seed uint64) (*Sequential, error) {
	ls, err := arch.Layers()
	if err != nil {
		return nil, err
	}
	return NewSequential(arch.Inputs, seed, ls...)
}

// Initialize draws every layer's initial weights from seed, layer after
// layer in one stream.
func (m *Sequential) Initialize(seed uint64) {
	r := rand.New(rand.NewPCG(seed, streamInit))
	for _, l := range m.Layers {
		if l, ok := l.(initializable); ok {
			l.initialize(r)
		}
	}
}

// SeedRandom restarts the random layers' stream from seed.
func (m *Sequential) SeedRandom(seed uint64) {
	m.pcg = rand.NewPCG(seed, streamLayers)
	r := rand.New(m.pcg)
	for _, l := range m.Layers {
		if l, ok := l.(random); ok {
			l.useRand(r)
		}
	}
}

// RandomState returns the state of the random layers' stream, for a
// checkpoint.
func (m *Sequential) RandomState() ([]byte, error) { return m.pcg.MarshalBinary() }

// SetRandomState restores a state RandomState returned.
func (m *Sequential) SetRandomState(b []byte) error {
	if err := m.pcg.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("nn: random layers' state: %v", err)
	}
	return nil
}

// Inputs is the number of values per sample the model takes.
func (m *Sequential) Inputs() int { return m.inputs }

// Outputs is the number of logits per sample the model emits (the classes).
func (m *Sequential) Outputs() int { return m.Layers[len(m.Layers)-1].OutputWidth() }

// Forward runs batch rows of x, ldx floats apart (see tensor.PaddedStride),
// through the layers, in training or inference mode, and returns the logits
// (batch x Outputs, contiguous), valid until the next Forward.
func (m *Sequential) Forward(e *tensor.Engine, x []float32, ldx, batch int, training bool) []float32 {
	for _, l := range m.Layers {
		x, ldx = l.Forward(e, x, ldx, batch, training)
	}
	if c := m.Outputs(); ldx != c {
		out := growTo(&m.out, batch*c)
		for i := range batch {
			copy(out[i*c:(i+1)*c], x[i*ldx:])
		}
		return out
	}
	return x
}

// Backward back-propagates dLoss/dlogits (overwritten) through the network,
// leaving every layer's parameter gradients in its Params.
func (m *Sequential) Backward(e *tensor.Engine, dlogits []float32, batch int) {
	g := dlogits
	for i := len(m.Layers) - 1; i >= 0; i-- {
		g = m.Layers[i].Backward(e, g, batch, i > 0)
	}
}

// Predict writes the class probabilities (batch x Outputs) of x (rows ldx
// apart) into probs, in inference mode.
func (m *Sequential) Predict(e *tensor.Engine, x []float32, ldx, batch int, probs []float32) {
	c := m.Outputs()
	copy(probs, m.Forward(e, x, ldx, batch, false))
	Softmax(probs[:batch*c], c)
}

// Params lists the trainable tensors in Keras's order: layer after layer,
// each layer's in its own order (a Dense kernel, then its bias).
func (m *Sequential) Params() []Param {
	var ps []Param
	for _, l := range m.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Variables lists every variable, trainable or not, in Keras's order
// (model.weights).
func (m *Sequential) Variables() []Variable {
	var vs []Variable
	for _, l := range m.Layers {
		vs = append(vs, l.Variables()...)
	}
	return vs
}

// Weights returns a copy of every variable, in Variables order.
func (m *Sequential) Weights() [][]float32 {
	var ws [][]float32
	for _, v := range m.Variables() {
		ws = append(ws, append([]float32(nil), v.Value...))
	}
	return ws
}

// CopyWeights copies every variable into ws, which Weights returned for
// this model, without allocating.
func (m *Sequential) CopyWeights(ws [][]float32) error {
	vs := m.Variables()
	if err := matchWeights(vs, ws); err != nil {
		return err
	}
	for i, v := range vs {
		copy(ws[i], v.Value)
	}
	return nil
}

// SetWeights copies ws (as returned by Weights) into the model.
func (m *Sequential) SetWeights(ws [][]float32) error {
	vs := m.Variables()
	if err := matchWeights(vs, ws); err != nil {
		return err
	}
	for i, v := range vs {
		copy(v.Value, ws[i])
	}
	return nil
}

func matchWeights(vs []Variable, ws [][]float32) error {
	if len(ws) != len(vs) {
		return fmt.Errorf("nn: %d weight tensors given, model has %d", len(ws), len(vs))
	}
	for i, v := range vs {
		if len(ws[i]) != len(v.Value) {
			return fmt.Errorf("nn: %s: %d values given, want %d", v.Name, len(ws[i]), len(v.Value))
		}
	}
	return nil
}

// CountParams returns the number of trainable scalars.
func (m *Sequential) CountParams() int {
	n := 0
	for _, p := range m.Params() {
		n += len(p.Value)
	}
	return n
}
