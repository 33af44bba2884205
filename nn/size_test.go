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
