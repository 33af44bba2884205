package nn

import (
	"fmt"
	"strings"
	"testing"
)

// TestSizeCountsWhatBuildAllocates: the size read from the configs equals
// what the built model holds: the values of its variables, and the sum of
// its layers' output widths.
func TestSizeCountsWhatBuildAllocates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shape  []int
		layers []LayerConfig
	}{
		{"dense", []int{12}, []LayerConfig{dense("a", 7, "relu"), dense("b", 3, "softmax")}},
		{"no bias", []int{12}, []LayerConfig{dense("a", 7, "relu", "use_bias", false), dense("b", 3, "softmax")}},
		{"every kind", []int{4, 3}, []LayerConfig{
			layer("Flatten", "f"), layer("Rescaling", "r", "scale", 0.5), layer("Normalization", "n"),
			dense("a", 9, "elu"), layer("BatchNormalization", "bn"), layer("Dropout", "d", "rate", 0.1),
			layer("GaussianNoise", "g", "stddev", 0.1), layer("Activation", "act", "activation", "tanh"),
			dense("b", 4, "softmax"),
		}},
	} {
		c := ModelConfig{Name: "m", InputShape: tc.shape, Layers: tc.layers}
		m, err := c.Build(1)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var vars, units float64
		for _, v := range m.Variables() {
			vars += float64(len(v.Value))
		}
		for _, l := range m.Layers {
			units += float64(l.OutputWidth())
		}
		s := c.Size()
		if s.Variables != vars || s.Units != units || s.Inputs != float64(m.Inputs()) {
			t.Errorf("%s: Size %+v, built model: %v variables' values, %v units, %d inputs", tc.name, s, vars, units, m.Inputs())
		}
	}
}

// TestBuildRefusesWhatCannotFit: 1000 kernels of 2^28 values (4 TB), each within
// the bound of one kernel, are refused from their configs before any is
// allocated (this process would die trying).
func TestBuildRefusesWhatCannotFit(t *testing.T) {
	c := ModelConfig{Name: "m", InputShape: []int{16384}}
	for i := range 1000 {
		c.Layers = append(c.Layers, dense(fmt.Sprint("d", i), 16384, "relu"))
	}
	c.Layers = append(c.Layers, dense("out", 10, "softmax"))
	_, err := c.Build(0)
	if err == nil || !strings.Contains(err.Error(), "weights need about") {
		t.Fatalf("Build: %v", err)
	}
}

// TestValidateSaysWhatBuildSays: Validate, which builds nothing, accepts
// what Build builds and refuses what it refuses, with the same error, and
// Check counts the outputs of the model built; every layer class tells its
// output width without being built.
func TestValidateSaysWhatBuildSays(t *testing.T) {
	every := []LayerConfig{
		layer("Flatten", "f"), layer("Rescaling", "r", "scale", 0.5), layer("Normalization", "n"),
		dense("a", 9, "elu"), layer("BatchNormalization", "bn"), layer("Dropout", "d", "rate", 0.1),
		layer("AlphaDropout", "ad", "rate", 0.1), layer("GaussianDropout", "gd", "rate", 0.1),
		layer("GaussianNoise", "g", "stddev", 0.1), layer("Activation", "act", "activation", "tanh"),
		dense("b", 4, "softmax"),
	}
	for _, l := range every {
		nl, err := NewLayer(l)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := nl.(widther); !ok {
			t.Errorf("%s: no outputWidth (Validate would build it)", l.ClassName)
		}
	}
	if got, want := len(every)-1, len(LayerClasses()); got != want {
		t.Errorf("%d layer classes here, %d supported: add the new one", got, want)
	}
	huge := ModelConfig{Name: "m", InputShape: []int{16384}}
	for i := range 1000 {
		huge.Layers = append(huge.Layers, dense(fmt.Sprint("d", i), 16384, "relu"))
	}
	huge.Layers = append(huge.Layers, dense("out", 10, "softmax"))
	for _, tc := range []struct {
		name  string
		shape []int
		ls    []LayerConfig
	}{
		{"every kind", []int{4, 3}, every},
		{"exercise", []int{3072}, []LayerConfig{dense("a", 256, "elu"), dense("b", 10, "softmax")}},
		{"no input shape", nil, []LayerConfig{dense("b", 10, "softmax")}},
		{"zero input", []int{0}, []LayerConfig{dense("b", 10, "softmax")}},
		{"huge input", []int{1 << 20, 1 << 10}, []LayerConfig{layer("Flatten", "f"), dense("b", 10, "softmax")}},
		{"not flattened", []int{4, 3}, []LayerConfig{dense("b", 10, "softmax")}},
		{"no layers", []int{12}, nil},
		{"unknown class", []int{12}, []LayerConfig{layer("Conv2D", "c"), dense("b", 10, "softmax")}},
		{"no name", []int{12}, []LayerConfig{{"Dense", map[string]any{"units": 3, "activation": "softmax"}}}},
		{"two names", []int{12}, []LayerConfig{dense("a", 5, "relu"), dense("a", 10, "softmax")}},
		{"unknown field", []int{12}, []LayerConfig{dense("b", 10, "softmax", "colour", "red")}},
		{"zero units", []int{12}, []LayerConfig{dense("a", 0, "relu"), dense("b", 10, "softmax")}},
		{"kernel too large", []int{1 << 16}, []LayerConfig{dense("a", 1<<13, "relu"), dense("b", 10, "softmax")}},
		{"not softmax", []int{12}, []LayerConfig{dense("b", 10, "relu")}},
		{"one output", []int{12}, []LayerConfig{dense("b", 1, "softmax")}},
		{"softmax then dropout", []int{12}, []LayerConfig{dense("b", 10, "softmax"), layer("Dropout", "d", "rate", 0.1)}},
		{"cannot fit", huge.InputShape, huge.Layers},
	} {
		c := ModelConfig{Name: "m", InputShape: tc.shape, Layers: tc.ls}
		m, berr := c.Build(0)
		verr := c.Validate()
		if fmt.Sprint(berr) != fmt.Sprint(verr) {
			t.Errorf("%s: Build says %v, Validate %v", tc.name, berr, verr)
		}
		if out, err := c.Check(1 << 40); berr == nil && (err != nil || out != m.Outputs()) {
			t.Errorf("%s: Check says %d outputs (%v), the built model has %d", tc.name, out, err, m.Outputs())
		}
		if tc.name != "every kind" && tc.name != "exercise" && verr == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
