package onnx

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/onnx/onnxtest"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
)

func layer(class string, config map[string]any) nn.LayerConfig {
	return nn.LayerConfig{ClassName: class, Config: config}
}

// layerModels are Keras Sequential models that, together, use every layer
// class cifarnet supports, in their inference forms.
var layerModels = map[string][]nn.LayerConfig{
	"every layer": {
		layer("Flatten", map[string]any{"name": "flatten"}),
		layer("Rescaling", map[string]any{"name": "rescaling", "scale": 2.0, "offset": -1.0}),
		layer("Normalization", map[string]any{"name": "normalization"}),
		layer("Dense", map[string]any{"name": "dense", "units": 48, "activation": "relu", "use_bias": false, "kernel_initializer": "he_normal"}),
		layer("BatchNormalization", map[string]any{"name": "batch_normalization"}),
		layer("Dropout", map[string]any{"name": "dropout", "rate": 0.3}),
		layer("Dense", map[string]any{"name": "dense_1", "units": 32}),
		layer("BatchNormalization", map[string]any{"name": "batch_normalization_1", "center": false, "scale": false, "epsilon": 0.01}),
		layer("Activation", map[string]any{"name": "activation", "activation": "swish"}),
		layer("GaussianNoise", map[string]any{"name": "gaussian_noise", "stddev": 0.5}),
		layer("GaussianDropout", map[string]any{"name": "gaussian_dropout", "rate": 0.2}),
		layer("AlphaDropout", map[string]any{"name": "alpha_dropout", "rate": 0.2}),
		layer("Dense", map[string]any{"name": "dense_2", "units": 10, "activation": "softmax"}),
	},
	"softmax layer": {
		layer("Flatten", map[string]any{"name": "flatten"}),
		layer("Rescaling", map[string]any{"name": "rescaling", "scale": 0.5}),
		layer("Dense", map[string]any{"name": "dense", "units": 24, "activation": "gelu"}),
		layer("Dense", map[string]any{"name": "dense_1", "units": 10}),
		layer("Activation", map[string]any{"name": "activation", "activation": "softmax"}),
	},
}

// randomize gives the non-trainable state (moving statistics, adapted
// means and variances) and Batch Normalization's gamma and beta values
// away from their initial ones, so that the export of each one counts.
func randomize(m *nn.Sequential, r *rand.Rand) {
	fill := func(v []float32, lo, hi float64) {
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
	}
	ignoreFeature0 := false
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *nn.BatchNormalization:
			fill(l.MovingMean, -1, 1)
			fill(l.MovingVariance, 0.2, 3)
			fill(l.Gamma, 0.5, 1.5)
			fill(l.Beta, -0.5, 0.5)
		case *nn.Normalization:
			fill(l.Mean, -0.5, 0.5)
			fill(l.Variance, 0.1, 2)
			// Keras divides by max(sqrt(variance), 1e-7): feature 0 gets
			// huge, and the next Dense layer ignores it.
			l.Variance[0] = 0
			l.Adapted = true
			ignoreFeature0 = true
		case *nn.Dense:
			if ignoreFeature0 {
				clear(l.Kernel[:l.Out])
				ignoreFeature0 = false
			}
		}
	}
}

// TestLayersInONNXRuntime exports models holding every layer class in
// both input forms and runs them in ONNX Runtime on the first 1,000 test
// images: probabilities within 1e-5 of cifarnet's, the same classes.
func TestLayersInONNXRuntime(t *testing.T) {
	const n = 1000
	set := testImages(t, n)
	x := set.Float32()
	e := tensor.NewEngine(1)
	defer e.Close()
	seen := map[string]bool{}
	names := make([]string, 0, len(layerModels))
	for name := range layerModels {
		names = append(names, name)
	}
	sort.Strings(names)
	var runs []exportRun
	for i, name := range names {
		mc := nn.ModelConfig{Name: "sequential", InputShape: []int{32, 32, 3}, Layers: layerModels[name]}
		for _, l := range mc.Layers {
			seen[l.ClassName] = true
		}
		m, err := mc.Build(1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m.Initialize(uint64(10 + i))
		randomize(m, rand.New(rand.NewPCG(uint64(i), 9)))
		want := make([]float32, n*m.Outputs())
		m.Predict(e, x, cifar10.Features, n, want)
		// Saturated probabilities (all 0 or 1) would hide differences.
		unsure := 0
		for r := 0; r < n; r++ {
			if slices.Max(want[r*10:(r+1)*10]) < 0.9 {
				unsure++
			}
		}
		if unsure < n/10 {
			t.Fatalf("%s: only %d of %d images have no class above 0.9: the test model is saturated", name, unsure, n)
		}
		c := saving.Describe(nn.Architecture{}, []int{32, 32, 3}, cifar10.ClassNames[:], nil)
		for _, in := range Inputs {
			file, _ := writeModel(t, m, &c, in)
			runs = append(runs, exportRun{name + "/" + string(in), file, in, cifar10.NumClasses, want})
		}
	}
	if classes := nn.LayerClasses(); !slices.Equal(classes, sortedKeys(seen)) {
		t.Errorf("the models use the layer classes %v; cifarnet has %v: add the missing ones to layerModels", sortedKeys(seen), classes)
	}
	for k, r := range runAll(t, runs, set) {
		c := runs[k]
		d := onnxtest.Compare(t, c.name, r.Outputs[0], c.want, c.classes, 1e-5)
		t.Logf("%s: largest difference %.3g, output %v", c.name, d, r.OutputNames)
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestEveryActivationExported: every activation cifarnet's layers can
// have has an exporter (TestActivationsMatchKerasFormulas checks each).
func TestEveryActivationExported(t *testing.T) {
	for _, name := range nn.ActivationNames() {
		if _, ok := activations[name]; !ok {
			t.Errorf("activation %s has no ONNX export", name)
		}
	}
}
