package nn

import (
	"fmt"
	"math"
	"sort"

	"github.com/cifarnet/cifarnet/tensor"
)

// Activation is an elementwise function whose derivative can be computed
// from its output alone, so a layer keeps only its activations for backward.
type Activation struct {
	// Name is the Keras name ("elu", "relu", ...).
	Name string
	// Forward sets each row of x (rows x len(bias)) to f(row + bias).
	Forward func(e *tensor.Engine, x, bias []float32, rows int)
	// Backward multiplies each upstream gradient g by f'(z), given the
	// outputs a = f(z).
	Backward func(e *tensor.Engine, g, a []float32)
}

// ELU has fused vector kernels in package tensor; the others are a bias
// pass followed by their elementwise loop.
var activations = map[string]Activation{
	"elu":     {"elu", (*tensor.Engine).BiasELU, (*tensor.Engine).ELUBackward},
	"relu":    elementwise("relu", reluForward, reluBackward),
	"tanh":    elementwise("tanh", tanhForward, tanhBackward),
	"sigmoid": elementwise("sigmoid", sigmoidForward, sigmoidBackward),
	"linear":  elementwise("linear", func([]float32) {}, func(_, _ []float32) {}),
}

// elementwise makes an Activation of plain loops over the values.
func elementwise(name string, f func(z []float32), df func(g, a []float32)) Activation {
	return Activation{
		Name: name,
		Forward: func(_ *tensor.Engine, x, bias []float32, rows int) {
			tensor.BiasAdd(x, bias, rows)
			f(x[:rows*len(bias)])
		},
		Backward: func(_ *tensor.Engine, g, a []float32) { df(g, a) },
	}
}

// ActivationNames lists the activations Lookup accepts.
func ActivationNames() []string {
	names := make([]string, 0, len(activations))
	for n := range activations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupActivation returns the activation with the given Keras name.
func LookupActivation(name string) (Activation, error) {
	a, ok := activations[name]
	if !ok {
		return Activation{}, fmt.Errorf("unknown activation %q (want one of %v)", name, ActivationNames())
	}
	return a, nil
}

func reluForward(z []float32) {
	for i, v := range z {
		if v < 0 {
			z[i] = 0
		}
	}
}

func reluBackward(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		if v <= 0 {
			g[i] = 0
		}
	}
}

func tanhForward(z []float32) {
	for i, v := range z {
		z[i] = float32(math.Tanh(float64(v)))
	}
}

func tanhBackward(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		g[i] *= 1 - v*v
	}
}

func sigmoidForward(z []float32) {
	for i, v := range z {
		z[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
}

func sigmoidBackward(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		g[i] *= v * (1 - v)
	}
}
