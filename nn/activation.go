package nn

import (
	"fmt"
	"math"
	"sort"
)

// Activation is an elementwise function whose derivative can be computed
// from its output alone, so a layer keeps only its activations for backward.
type Activation struct {
	// Name is the Keras name ("elu", "relu", ...).
	Name string
	// Forward replaces each z with f(z).
	Forward func(z []float32)
	// Backward multiplies each upstream gradient g by f'(z), given the
	// outputs a = f(z).
	Backward func(g, a []float32)
}

var activations = map[string]Activation{
	"elu":     {"elu", eluForward, eluBackward},
	"relu":    {"relu", reluForward, reluBackward},
	"tanh":    {"tanh", tanhForward, tanhBackward},
	"sigmoid": {"sigmoid", sigmoidForward, sigmoidBackward},
	"linear":  {"linear", func([]float32) {}, func(_, _ []float32) {}},
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

// ELU with alpha = 1 (Keras's default): z if z > 0, else exp(z) - 1.
func eluForward(z []float32) {
	for i, v := range z {
		if v <= 0 {
			z[i] = float32(math.Expm1(float64(v)))
		}
	}
}

// ELU'(z) = 1 for z > 0, else exp(z) = a + 1. a > 0 exactly when z > 0.
func eluBackward(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		if v <= 0 {
			g[i] *= v + 1
		}
	}
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
