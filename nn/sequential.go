// Package nn holds the network: a Sequential stack of layers behind one
// interface (Dense, ...), activations, Keras's initializers and the softmax
// cross-entropy loss, each layer's forward and backward pass side by side.
package nn

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"

	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/internal/quote"
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

// Configs returns the Keras configs of a's layers: Dense hidden layers
// with the hidden activation and initializer, then a Dense softmax output
// layer with Keras's default glorot_uniform kernel.
func (a Architecture) Configs() ([]LayerConfig, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	dense := func(i, units int, act, init string) LayerConfig {
		return LayerConfig{"Dense", map[string]any{"name": denseName(i), "units": units, "activation": act, "kernel_initializer": init}}
	}
	var cs []LayerConfig
	for i, h := range a.Hidden {
		cs = append(cs, dense(i, h, a.Activation, a.Init))
	}
	return append(cs, dense(len(a.Hidden), a.Classes, "softmax", "glorot_uniform")), nil
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
	// softmax is the output activation folded into the loss (removed from
	// the last layer): "softmax", or "" when the last layer emits logits.
	softmax string
	pcg     *rand.PCG // the layers' random stream (dropout masks, noise)
	out     []float32 // logits, when the last layer leaves them strided
	// For the layers indexed (BackwardUpdate's, set by indexParams):
	// firstParam[i] indexes layer i's first parameter in Params, and
	// paramLens[i] lists the lengths of its parameters.
	indexed    []Layer
	firstParam []int
	paramLens  [][]int
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
	if _, err := connect(inputs, layers, true); err != nil {
		return nil, err
	}
	m := &Sequential{Layers: layers, inputs: inputs}
	m.SeedRandom(seed)
	return m, nil
}

// widther is a layer that tells its output width for inputs of width in,
// refusing them as its Build would, without building anything.
type widther interface {
	outputWidth(in int) (int, error)
}

// connect checks that layers chain from inputs of width inputs to a
// classifier's outputs, and returns their number, building each layer (its
// weights allocated) when build is set; else the widths are only checked,
// with Build's errors.
func connect(inputs int, layers []Layer, build bool) (int, error) {
	if inputs <= 0 {
		return 0, fmt.Errorf("input width %d must be positive", inputs)
	}
	if len(layers) == 0 {
		return 0, fmt.Errorf("a Sequential model needs at least one layer")
	}
	in := inputs
	for _, l := range layers {
		if w, ok := l.(widther); ok && !build {
			out, err := w.outputWidth(in)
			if err != nil {
				return 0, err
			}
			in = out
			continue
		}
		if err := l.Build(in); err != nil {
			return 0, err
		}
		in = l.OutputWidth()
	}
	if in < 2 {
		return 0, fmt.Errorf("the model emits %d value(s) per sample: a softmax classifier needs at least 2", in)
	}
	return in, nil
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
	cs, err := arch.Configs()
	if err != nil {
		return nil, err
	}
	return FromConfigs(arch.Inputs, seed, cs)
}

// FromConfigs builds (unbuilt, zero) layers from their Keras configs for
// inputs of width inputs. The last layer's activation must be softmax: it
// is folded into the loss, so that the model emits logits.
func FromConfigs(inputs int, seed uint64, cs []LayerConfig) (*Sequential, error) {
	ls, err := layersOf(cs)
	if err != nil {
		return nil, err
	}
	m, err := NewSequential(inputs, seed, ls...)
	if err != nil {
		return nil, err
	}
	m.softmax = "softmax"
	return m, nil
}

// layersOf makes the (unbuilt) layers of cs, the last one's softmax folded
// into the loss.
func layersOf(cs []LayerConfig) ([]Layer, error) {
	if len(cs) == 0 {
		return nil, fmt.Errorf("the model has no layers")
	}
	ls := make([]Layer, len(cs))
	names := make(map[string]bool, len(cs))
	for i, c := range cs {
		l, err := NewLayer(c)
		if err != nil {
			return nil, err
		}
		// The weights are saved by layer name ("dense/kernel"): two
		// layers of one name would collide, found only when the trained
		// model is saved. Keras refuses them too.
		if names[l.Name()] {
			return nil, fmt.Errorf("layer %s: two layers have this name; a model's layer names must be unique", quote.Short(l.Name()))
		}
		names[l.Name()] = true
		ls[i] = l
	}
	if err := foldSoftmax(ls[len(ls)-1]); err != nil {
		return nil, err
	}
	return ls, nil
}

// foldSoftmax makes the last layer emit logits, its softmax left to the
// loss (as Keras computes the cross-entropy of a softmax from its logits).
func foldSoftmax(l Layer) error {
	linear := activations["linear"]
	switch l := l.(type) {
	case *Dense:
		if l.Act.Name == "softmax" {
			l.Act = linear
			return nil
		}
	case *ActivationLayer:
		if l.Act.Name == "softmax" {
			l.Act = linear
			return nil
		}
	}
	return fmt.Errorf("layer %q: the last layer's activation must be softmax (a classifier trained with cross-entropy)", l.Name())
}

// Configs returns the Keras configs of the layers (those made by NewLayer).
func (m *Sequential) Configs() []LayerConfig {
	var cs []LayerConfig
	for _, l := range m.Layers {
		if c, ok := ConfigOf(l); ok {
			cs = append(cs, c)
		}
	}
	return cs
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
	return m.contiguous(x, ldx, batch)
}

// contiguous returns the logits x (rows ldx apart) with contiguous rows.
func (m *Sequential) contiguous(x []float32, ldx, batch int) []float32 {
	c := m.Outputs()
	if ldx == c {
		return x
	}
	out := growTo(&m.out, batch*c)
	for i := range batch {
		copy(out[i*c:(i+1)*c], x[i*ldx:])
	}
	return out
}

// ForwardMC is Forward for Monte Carlo dropout: the random layers
// (dropout, noise) act as in training, every other layer (Batch
// Normalization) as at inference.
func (m *Sequential) ForwardMC(e *tensor.Engine, x []float32, ldx, batch int) []float32 {
	for _, l := range m.Layers {
		_, isRandom := l.(random)
		x, ldx = l.Forward(e, x, ldx, batch, isRandom)
	}
	return m.contiguous(x, ldx, batch)
}

// HasRandomLayers tells whether any layer draws random numbers in training
// mode (for Monte Carlo dropout).
func (m *Sequential) HasRandomLayers() bool {
	for _, l := range m.Layers {
		if _, ok := l.(random); ok {
			return true
		}
	}
	return false
}

// Backward back-propagates dLoss/dlogits (overwritten) through the network,
// leaving every layer's parameter gradients in its Params, the
// regularizers' gradients included.
func (m *Sequential) Backward(e *tensor.Engine, dlogits []float32, batch int) {
	m.backward(e, dlogits, batch, nil)
}

// An Updater applies an optimizer's step (optim.Optimizer's Update) to
// parameters during a backward pass, as soon as their gradients are
// complete; k indexes the model's Params.
type Updater interface {
	// Update steps elements lo to hi-1 of parameter k, whose gradient is
	// grad (hi-lo values, which the step may overwrite: clipping), or, if
	// grad is nil, the parameter's Grad[lo:hi]. Calls on disjoint elements
	// may run at the same time, on the engine's threads, inside one of its
	// loops: Update must not use the engine's products, passes or pool.
	Update(k, lo, hi int, grad []float32)
}

// BackwardUpdate is Backward followed by the step u on every element of
// every parameter (u's parameter k is Params()[k]), with each parameter
// stepped as soon as its gradient (the regularizers' included) is
// complete and nothing left to compute reads it: a Dense layer's kernel
// block by block as its gradient's rows come out of the product, in the
// caches, never stored (its Grad is left as it was). The weights and the
// step's state are Backward's and the step's, bit for bit, since the step
// of an element reads only that element.
func (m *Sequential) BackwardUpdate(e *tensor.Engine, dlogits []float32, batch int, u Updater) {
	m.indexParams()
	m.backward(e, dlogits, batch, u)
}

// backward is Backward, each layer's regularizers' gradients added right
// after its own (they read only its weights), and, if u is not nil,
// BackwardUpdate (indexParams done).
func (m *Sequential) backward(e *tensor.Engine, dlogits []float32, batch int, u Updater) {
	g := dlogits
	for i := len(m.Layers) - 1; i >= 0; i-- {
		l := m.Layers[i]
		if d, ok := l.(*Dense); ok && u != nil {
			g = d.backward(e, g, batch, i > 0, u, m.firstParam[i])
			continue
		}
		g = l.Backward(e, g, batch, i > 0)
		if r, ok := l.(regularized); ok {
			r.regularization(true)
		}
		if u != nil {
			for j, n := range m.paramLens[i] {
				u.Update(m.firstParam[i]+j, 0, n, nil)
			}
		}
	}
}

// indexParams sets firstParam and paramLens for the layers in Layers,
// unless they are the layers indexed last (compared without allocating;
// a layer of a type that cannot be compared is indexed again each time).
func (m *Sequential) indexParams() {
	if slices.EqualFunc(m.indexed, m.Layers, func(a, b Layer) bool {
		return reflect.TypeOf(a).Comparable() && a == b
	}) {
		return
	}
	m.indexed = slices.Clone(m.Layers)
	m.firstParam, m.paramLens = make([]int, len(m.Layers)), make([][]int, len(m.Layers))
	k := 0
	for i, l := range m.Layers {
		m.firstParam[i] = k
		for _, p := range l.Params() {
			m.paramLens[i] = append(m.paramLens[i], len(p.Value))
			k++
		}
	}
}

// RegularizationLoss is the sum of the layers' regularization penalties at
// the current weights, which Keras adds to the loss (0 without
// regularizers).
func (m *Sequential) RegularizationLoss() float32 {
	var l float32
	for _, layer := range m.Layers {
		if r, ok := layer.(regularized); ok {
			l += r.regularization(false)
		}
	}
	return l
}

// ApplyConstraints applies the layers' weight constraints, as Keras does
// after each optimizer step.
func (m *Sequential) ApplyConstraints() {
	for _, l := range m.Layers {
		if c, ok := l.(constrained); ok {
			c.constrain()
		}
	}
}

// NeedsAdapt tells whether a Normalization layer waits for Adapt.
func (m *Sequential) NeedsAdapt() bool {
	for _, l := range m.Layers {
		if n, ok := l.(*Normalization); ok && !n.Adapted {
			return true
		}
	}
	return false
}

// Adapt computes the mean and variance of every Normalization layer not
// yet adapted from n samples, as layer.adapt(x) does: the samples pass
// through the layers before it (at inference) in batches that gather
// fills (batch rows, ldx floats apart, from sample from on).
func (m *Sequential) Adapt(e *tensor.Engine, n, batchSize int, gather func(dst []float32, ldx, from, to int)) {
	ldx0 := tensor.PaddedStride(m.inputs)
	xb := make([]float32, batchSize*ldx0)
	for k, l := range m.Layers {
		norm, ok := l.(*Normalization)
		if !ok || norm.Adapted {
			continue
		}
		w := norm.width
		sum, sumSq := make([]float64, w), make([]float64, w)
		for from := 0; from < n; from += batchSize {
			to := min(n, from+batchSize)
			gather(xb, ldx0, from, to)
			x, ldx := xb, ldx0
			for _, prev := range m.Layers[:k] {
				x, ldx = prev.Forward(e, x, ldx, to-from, false)
			}
			for i := range to - from {
				for j, v := range x[i*ldx : i*ldx+w] {
					sum[j] += float64(v)
					sumSq[j] += float64(v) * float64(v)
				}
			}
		}
		norm.adapt(sum, sumSq, n)
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
	for _, l := range m.Layers {
		if n, ok := l.(*Normalization); ok {
			n.Adapted = true
		}
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

// CountVariables returns the number of scalars of every variable,
// trainable or not.
func (m *Sequential) CountVariables() int {
	n := 0
	for _, v := range m.Variables() {
		n += len(v.Value)
	}
	return n
}

// CountParams returns the number of trainable scalars.
func (m *Sequential) CountParams() int {
	n := 0
	for _, p := range m.Params() {
		n += len(p.Value)
	}
	return n
}

// ModelConfig describes a Sequential model as Keras's model.get_config()
// does: its name, the shape of one input sample (InputLayer's batch_shape
// without the batch) and its layers' configs.
type ModelConfig struct {
	Name       string `json:"name"`
	InputShape []int  `json:"input_shape"`
	// InputName is the name of the model file's InputLayer when it is
	// not Keras's default "input_layer", so that the model file written
	// back keeps it. It names nothing a run computes, so it is no part of
	// a configuration's identity (an experiment run's hash, a checkpoint's
	// configuration): never marshalled with it, it is lost on --resume.
	InputName string        `json:"-"`
	Layers    []LayerConfig `json:"layers"`
}

// randomClasses are the layer classes that draw random numbers while
// training (their layers are random; TestRandomClasses keeps the two
// in step).
var randomClasses = map[string]bool{"Dropout": true, "AlphaDropout": true, "GaussianNoise": true, "GaussianDropout": true}

// HasNoiseLayers tells whether the model has layers that draw random
// numbers while training (dropout and noise layers), off at evaluation:
// Sequential.HasRandomLayers of the model described.
func (c ModelConfig) HasNoiseLayers() bool {
	return slices.ContainsFunc(c.Layers, func(l LayerConfig) bool { return randomClasses[l.ClassName] })
}

// Inputs is the number of values of one input sample.
func (c ModelConfig) Inputs() int {
	n := 1
	for _, d := range c.InputShape {
		n *= d
	}
	return n
}

// Validate reports the first problem of c, as Build would: a bad input
// shape, an unsupported layer or field, a layer that cannot be built for
// its input, or a model that is not a softmax classifier. Nothing is
// built: the layers' widths are checked, no weights allocated.
func (c ModelConfig) Validate() error {
	_, err := c.Check(memlimit.Available())
	return err
}

// Check is Validate for a process that may still allocate available bytes
// (memlimit.Available, read once by a caller that checks more than the
// model); it returns the number of values the model emits per sample.
func (c ModelConfig) Check(available int64) (outputs int, err error) {
	if err := c.check(available); err != nil {
		return 0, err
	}
	ls, err := layersOf(c.Layers)
	if err != nil {
		return 0, err
	}
	return connect(c.Inputs(), ls, false)
}

// Build makes the model c describes with zero weights (Initialize draws
// them); seed seeds its random layers. A multi-dimensional input must be
// flattened (Flatten) before any layer that acts on features.
func (c ModelConfig) Build(seed uint64) (*Sequential, error) {
	if err := c.check(memlimit.Available()); err != nil {
		return nil, err
	}
	return FromConfigs(c.Inputs(), seed, c.Layers)
}

// check reports the problems of c's input shape and size (against
// available bytes), before any layer is made.
func (c ModelConfig) check(available int64) error {
	if len(c.InputShape) == 0 {
		return fmt.Errorf("the model has no input shape")
	}
	for _, d := range c.InputShape {
		if d <= 0 || d > 1<<24 {
			return fmt.Errorf("input shape %v: want positive sizes up to %d", c.InputShape, 1<<24)
		}
	}
	if c.Inputs() > 1<<26 {
		return fmt.Errorf("input shape %v: %d values per sample is too many", c.InputShape, c.Inputs())
	}
	if len(c.InputShape) > 1 {
		for _, l := range c.Layers {
			if l.ClassName == "Flatten" {
				break
			}
			switch l.ClassName {
			case "Dense", "BatchNormalization", "Normalization":
				name, _ := l.Config["name"].(string)
				return fmt.Errorf("layer %q (%s): the input of shape %v must be flattened (a Flatten layer) before it", name, l.ClassName, c.InputShape)
			}
		}
	}
	// Counted before anything is allocated: each kernel is bounded, but
	// not how many there are.
	return c.Size().checkBuild(available)
}

// Config returns the ModelConfig of a's model.
func (a Architecture) Config() (ModelConfig, error) {
	cs, err := a.Configs()
	if err != nil {
		return ModelConfig{}, err
	}
	return ModelConfig{Name: "sequential", InputShape: []int{a.Inputs}, Layers: cs}, nil
}
