package nn

import (
	"fmt"
	"math"
	"sort"

	"github.com/cifarnet/cifarnet/tensor"
)

// Activation is one of keras.activations (keras/src/activations/
// activations.py), applied elementwise (softmax: along each row).
type Activation struct {
	// Name is the Keras name ("elu", "relu", ...).
	Name string
	// Forward sets each row of x (rows x len(bias)) to f(row + bias).
	Forward func(e *tensor.Engine, x, bias []float32, rows int)
	// Backward multiplies each upstream gradient g (rows of width values)
	// by f'(z), given the outputs a = f(z) and, for the activations that
	// NeedInput, the inputs z.
	Backward func(e *tensor.Engine, g, a, z []float32, width int)
	// NeedInput is set for activations whose derivative is not a function
	// of their output (gelu, silu, mish, hard_silu): the layer keeps z.
	NeedInput bool
}

// Constants of keras.activations.selu.
const (
	seluAlpha = 1.67326324235437728481704299167171
	seluScale = 1.05070098735548049341933498529461
)

// leakyReLUSlope is keras.activations.leaky_relu's default negative_slope.
const leakyReLUSlope = 0.2

// ELU has fused vector kernels in package tensor; the others are a bias
// pass followed by their elementwise loop.
var activations = map[string]Activation{
	"elu": {Name: "elu", Forward: (*tensor.Engine).BiasELU,
		Backward: func(e *tensor.Engine, g, a, _ []float32, _ int) { e.ELUBackward(g, a) }},
	"selu": pointwise("selu", func(x float64) float64 {
		if x > 0 {
			return seluScale * x
		}
		return seluScale * seluAlpha * math.Expm1(x)
	}, func(a float32) float32 {
		if a > 0 {
			return seluScale
		}
		return a + seluScale*seluAlpha
	}),
	"relu": pointwise("relu", func(x float64) float64 { return max(x, 0) }, func(a float32) float32 { return step(a > 0) }),
	"relu6": pointwise("relu6", func(x float64) float64 { return min(max(x, 0), 6) },
		func(a float32) float32 { return step(a > 0 && a < 6) }),
	"leaky_relu": pointwise("leaky_relu", func(x float64) float64 {
		if x >= 0 {
			return x
		}
		return leakyReLUSlope * x
	}, func(a float32) float32 {
		if a > 0 {
			return 1
		}
		return leakyReLUSlope
	}),
	"tanh":    pointwise("tanh", math.Tanh, func(a float32) float32 { return 1 - a*a }),
	"sigmoid": pointwise("sigmoid", sigmoid, func(a float32) float32 { return a * (1 - a) }),
	"hard_sigmoid": pointwise("hard_sigmoid", hardSigmoid,
		func(a float32) float32 { return step(a > 0 && a < 1) / 6 }),
	"softplus": pointwise("softplus", softplus, func(a float32) float32 {
		return float32(-math.Expm1(-float64(a))) // sigmoid(z) = 1 - e^-softplus(z)
	}),
	"softsign": pointwise("softsign", func(x float64) float64 { return x / (1 + math.Abs(x)) }, func(a float32) float32 {
		d := 1 - float32(math.Abs(float64(a))) // 1/(1+|z|)
		return d * d
	}),
	"exponential": pointwise("exponential", math.Exp, func(a float32) float32 { return a }),
	"linear": {Name: "linear", Forward: func(_ *tensor.Engine, x, bias []float32, rows int) { tensor.BiasAdd(x, bias, rows) },
		Backward: func(*tensor.Engine, []float32, []float32, []float32, int) {}},
	"gelu": ofInput("gelu", func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, func(x float64) float64 {
		return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
	}),
	// gelu_tanh is keras.activations.gelu(x, approximate=True).
	"gelu_tanh": ofInput("gelu_tanh", func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(geluC*(x+0.044715*x*x*x)))
	}, func(x float64) float64 {
		t := math.Tanh(geluC * (x + 0.044715*x*x*x))
		return 0.5*(1+t) + 0.5*x*(1-t*t)*geluC*(1+3*0.044715*x*x)
	}),
	"silu": ofInput("silu", func(x float64) float64 { return x * sigmoid(x) }, func(x float64) float64 {
		s := sigmoid(x)
		return s * (1 + x*(1-s))
	}),
	"mish": ofInput("mish", func(x float64) float64 { return x * math.Tanh(softplus(x)) }, func(x float64) float64 {
		t := math.Tanh(softplus(x))
		return t + x*(1-t*t)*sigmoid(x)
	}),
	"hard_silu": ofInput("hard_silu", func(x float64) float64 { return x * hardSigmoid(x) }, func(x float64) float64 {
		switch {
		case x <= -3:
			return 0
		case x >= 3:
			return 1
		}
		return x/3 + 0.5
	}),
	"log_softmax": {Name: "log_softmax", Forward: func(_ *tensor.Engine, x, bias []float32, rows int) {
		tensor.BiasAdd(x, bias, rows)
		logSoftmax(x[:rows*len(bias)], len(bias))
	}, Backward: logSoftmaxBackward},
	"softmax": {Name: "softmax", Forward: func(_ *tensor.Engine, x, bias []float32, rows int) {
		tensor.BiasAdd(x, bias, rows)
		Softmax(x[:rows*len(bias)], len(bias))
	}, Backward: softmaxBackward},
}

// aliases are Keras's other names for the same functions.
var aliases = map[string]string{"swish": "silu", "hard_swish": "hard_silu"}

// geluC is sqrt(2/pi), of gelu's tanh approximation.
var geluC = math.Sqrt(2 / math.Pi)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// hardSigmoid is Keras 3's relu6(x + 3) / 6.
func hardSigmoid(x float64) float64 { return min(max(x+3, 0), 6) / 6 }

// softplus is log(1 + e^x), computed without overflow.
func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

func step(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// pointwise makes an Activation of f, computed in float64, whose
// derivative df is a function of the output.
func pointwise(name string, f func(float64) float64, df func(a float32) float32) Activation {
	return Activation{
		Name: name,
		Forward: func(_ *tensor.Engine, x, bias []float32, rows int) {
			tensor.BiasAdd(x, bias, rows)
			x = x[:rows*len(bias)]
			for i, v := range x {
				x[i] = float32(f(float64(v)))
			}
		},
		Backward: func(_ *tensor.Engine, g, a, _ []float32, _ int) {
			a = a[:len(g)]
			for i, v := range a {
				g[i] *= df(v)
			}
		},
	}
}

// ofInput makes an Activation whose derivative df needs the input z.
func ofInput(name string, f, df func(float64) float64) Activation {
	a := pointwise(name, f, nil)
	a.NeedInput = true
	a.Backward = func(_ *tensor.Engine, g, _, z []float32, _ int) {
		z = z[:len(g)]
		for i, v := range z {
			g[i] *= float32(df(float64(v)))
		}
	}
	return a
}

// softmaxBackward applies the softmax Jacobian row by row:
// g_i <- a_i (g_i - Σ_j g_j a_j).
func softmaxBackward(_ *tensor.Engine, g, a, _ []float32, width int) {
	for r := 0; r+width <= len(g); r += width {
		gr, ar := g[r:r+width], a[r:r+width]
		var dot float32
		for j, v := range gr {
			dot += v * ar[j]
		}
		for j := range gr {
			gr[j] = ar[j] * (gr[j] - dot)
		}
	}
}

// logSoftmax replaces each row of x with z - logsumexp(z).
func logSoftmax(x []float32, width int) {
	for r := 0; r+width <= len(x); r += width {
		z := x[r : r+width]
		best := z[0]
		for _, v := range z[1:] {
			best = max(best, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v - best))
		}
		lse := best + float32(math.Log(s))
		for j := range z {
			z[j] -= lse
		}
	}
}

// logSoftmaxBackward: g_i <- g_i - softmax_i Σ_j g_j, softmax = e^a.
func logSoftmaxBackward(_ *tensor.Engine, g, a, _ []float32, width int) {
	for r := 0; r+width <= len(g); r += width {
		gr, ar := g[r:r+width], a[r:r+width]
		var sum float32
		for _, v := range gr {
			sum += v
		}
		for j := range gr {
			gr[j] -= float32(math.Exp(float64(ar[j]))) * sum
		}
	}
}

// ActivationNames lists the activations LookupActivation accepts.
func ActivationNames() []string {
	names := make([]string, 0, len(activations)+len(aliases))
	for n := range activations {
		names = append(names, n)
	}
	for n := range aliases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupActivation returns the activation with the given Keras name.
func LookupActivation(name string) (Activation, error) {
	if to, ok := aliases[name]; ok {
		name = to
	}
	a, ok := activations[name]
	if !ok {
		return Activation{}, fmt.Errorf("unknown activation %q (want one of %v)", name, ActivationNames())
	}
	return a, nil
}
