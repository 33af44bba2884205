package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cifarnet/cifarnet/tensor"
)

// gradCase is a model to check: its layers' configs (the test appends a
// softmax output layer).
type gradCase struct {
	name   string
	layers []LayerConfig
}

func dense(name string, units int, act string, extra ...any) LayerConfig {
	c := map[string]any{"name": name, "units": units, "activation": act}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return LayerConfig{"Dense", c}
}

func layer(class, name string, kv ...any) LayerConfig {
	c := map[string]any{"name": name}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return LayerConfig{class, c}
}

func gradCases() []gradCase {
	var cs []gradCase
	for _, act := range ActivationNames() {
		cs = append(cs, gradCase{"dense/" + act, []LayerConfig{dense("d", 6, act)}})
		cs = append(cs, gradCase{"activation/" + act, []LayerConfig{dense("d", 6, "linear"), layer("Activation", "a", "activation", act)}})
	}
	l1 := map[string]any{"class_name": "L1", "config": map[string]any{"l1": 0.05}}
	l2 := map[string]any{"class_name": "L2", "config": map[string]any{"l2": 0.1}}
	l1l2 := map[string]any{"class_name": "L1L2", "config": map[string]any{"l1": 0.02, "l2": 0.03}}
	cs = append(cs,
		gradCase{"dense/no_bias", []LayerConfig{dense("d", 6, "tanh", "use_bias", false)}},
		gradCase{"regularizer/l1", []LayerConfig{dense("d", 6, "tanh", "kernel_regularizer", l1, "bias_regularizer", l1)}},
		gradCase{"regularizer/l2", []LayerConfig{dense("d", 6, "tanh", "kernel_regularizer", l2, "bias_regularizer", l2)}},
		gradCase{"regularizer/l1_l2", []LayerConfig{dense("d", 6, "tanh", "kernel_regularizer", l1l2)}},
		gradCase{"batch_normalization", []LayerConfig{dense("d", 6, "tanh"), layer("BatchNormalization", "bn")}},
		gradCase{"batch_normalization/regularized", []LayerConfig{dense("d", 6, "tanh"), layer("BatchNormalization", "bn", "gamma_regularizer", l2, "beta_regularizer", l1l2)}},
		gradCase{"batch_normalization/no_center_scale", []LayerConfig{dense("d", 6, "tanh"), layer("BatchNormalization", "bn", "center", false, "scale", false)}},
		gradCase{"batch_normalization/first", []LayerConfig{layer("BatchNormalization", "bn"), dense("d", 6, "tanh")}},
		gradCase{"dropout", []LayerConfig{dense("d", 6, "tanh"), layer("Dropout", "x", "rate", 0.3)}},
		gradCase{"alpha_dropout", []LayerConfig{dense("d", 6, "selu"), layer("AlphaDropout", "x", "rate", 0.2)}},
		gradCase{"gaussian_noise", []LayerConfig{dense("d", 6, "tanh"), layer("GaussianNoise", "x", "stddev", 0.5)}},
		gradCase{"gaussian_dropout", []LayerConfig{dense("d", 6, "tanh"), layer("GaussianDropout", "x", "rate", 0.3)}},
		gradCase{"normalization", []LayerConfig{layer("Normalization", "n", "mean", 0.3, "variance", 2.0), dense("d", 6, "tanh")}},
		gradCase{"rescaling", []LayerConfig{layer("Rescaling", "r", "scale", 0.5, "offset", -0.25), dense("d", 6, "tanh")}},
		gradCase{"flatten", []LayerConfig{layer("Flatten", "f"), dense("d", 6, "tanh")}},
	)
	return cs
}

// TestGradientFiniteDifferences checks, for every layer, activation and
// regularizer, the gradient of the loss (cross-entropy plus the
// regularization penalty) with respect to every parameter and every input
// against central differences, in training mode with the random layers'
// draws fixed.
func TestGradientFiniteDifferences(t *testing.T) {
	e := tensor.NewEngine(1)
	defer e.Close()
	const inputs, classes, batch = 5, 4, 6
	for _, tc := range gradCases() {
		t.Run(tc.name, func(t *testing.T) {
			cs := append(append([]LayerConfig(nil), tc.layers...), dense("out", classes, "softmax"))
			m, err := FromConfigs(inputs, 3, cs)
			if err != nil {
				t.Fatal(err)
			}
			m.Initialize(11)
			r := rand.New(rand.NewPCG(5, 6))
			// Non-zero biases and BN offsets so that every path is exercised.
			for _, p := range m.Params() {
				if len(p.Shape) == 1 {
					for j := range p.Value {
						p.Value[j] += float32(r.NormFloat64() * 0.1)
					}
				}
			}
			x := make([]float32, batch*inputs)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			y := []int32{0, 3, 1, 2, 3, 1}
			state, _ := m.RandomState()
			// loss is computed in float64 from the logits, independently of
			// SparseCategoricalCrossentropy, with the same random draws.
			loss := func() float64 {
				m.SetRandomState(state)
				logits := m.Forward(e, x, inputs, batch, true)
				var sum float64
				for i, yi := range y {
					z := logits[i*classes : (i+1)*classes]
					var s float64
					for _, v := range z {
						s += math.Exp(float64(v))
					}
					sum += math.Log(s) - float64(z[yi])
				}
				return sum/batch + float64(m.RegularizationLoss())
			}
			m.SetRandomState(state)
			grad := make([]float32, batch*classes)
			SparseCategoricalCrossentropy(m.Forward(e, x, inputs, batch, true), y, classes, grad)
			// Backward with the input gradient of the first layer too.
			g := grad
			for i := len(m.Layers) - 1; i >= 0; i-- {
				g = m.Layers[i].Backward(e, g, batch, true)
			}
			dx := append([]float32(nil), g...)
			for _, l := range m.Layers {
				if rl, ok := l.(regularized); ok {
					rl.regularization(true)
				}
			}
			// Sequential.Backward gives the same parameter gradients.
			var manual [][]float32
			for _, p := range m.Params() {
				manual = append(manual, append([]float32(nil), p.Grad...))
			}
			m.SetRandomState(state)
			SparseCategoricalCrossentropy(m.Forward(e, x, inputs, batch, true), y, classes, grad)
			m.Backward(e, grad, batch)
			for k, p := range m.Params() {
				for i, v := range p.Grad {
					if math.Float32bits(v) != math.Float32bits(manual[k][i]) {
						t.Fatalf("%s[%d]: Sequential.Backward gives %v, the layers' Backward and regularizers %v", p.Name, i, v, manual[k][i])
					}
				}
			}
			targets := []Param{{Name: "input", Value: x, Grad: dx}}
			targets = append(targets, m.Params()...)
			checked, kinks := 0, 0
			for _, p := range targets {
				analytic := append([]float32(nil), p.Grad...)
				for i := range p.Value {
					central := func(h float32) float64 {
						old := p.Value[i]
						p.Value[i] = old + h
						up := loss()
						p.Value[i] = old - h
						down := loss()
						p.Value[i] = old
						return (up - down) / float64(2*h)
					}
					n1, n2 := central(1e-2), central(5e-3)
					if math.Abs(n1-n2) > 1e-3+1e-2*math.Abs(n1) {
						// A kink (ReLU at 0, |w| at 0) lies within h.
						kinks++
						continue
					}
					checked++
					if diff := math.Abs(n2 - float64(analytic[i])); diff > 2e-3+2e-2*math.Abs(n2) {
						t.Errorf("%s[%d]: backprop %.6f, finite differences %.6f", p.Name, i, analytic[i], n2)
					}
				}
			}
			if kinks*5 > checked {
				t.Errorf("%d of %d coordinates skipped as non-differentiable: the check checks too little", kinks, checked+kinks)
			}
		})
	}
}
