package saving

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/safetensors"
)

var arch = nn.Architecture{Inputs: 12, Hidden: []int{5, 4}, Activation: "elu", Init: "he_normal", Classes: 3}

func TestSaveLoadBitIdentical(t *testing.T) {
	m, _ := nn.New(arch, 42)
	m.Layers[0].(*nn.Dense).Bias[1] = float32(math.Copysign(0, -1)) // signed zero survives too
	dir := t.TempDir()
	if err := Save(dir, m, Describe(arch, []int{2, 2, 3}, []string{"a", "b", "c"}, map[string]string{"seed": "42"})); err != nil {
		t.Fatal(err)
	}
	got, cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Params()
	for i, p := range got.Params() {
		if p.Name != want[i].Name {
			t.Fatalf("param %d is %s, want %s", i, p.Name, want[i].Name)
		}
		for j := range p.Value {
			if math.Float32bits(p.Value[j]) != math.Float32bits(want[i].Value[j]) {
				t.Fatalf("%s[%d] differs", p.Name, j)
			}
		}
	}
	if cfg.Model.Layers[2].Config["activation"] != "softmax" || cfg.Model.Layers[0].Config["name"] != "dense" || cfg.Preprocessing.Flatten != "channels_last" || cfg.ClassNames[1] != "b" {
		t.Fatalf("model.json %+v", cfg)
	}
	// The file is plain safetensors with Keras names and shapes.
	b, _ := os.ReadFile(filepath.Join(dir, WeightsFile))
	f, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	k, ok := f.Get("dense_1/kernel")
	if !ok || len(k.Shape) != 2 || k.Shape[0] != 5 || k.Shape[1] != 4 {
		t.Fatalf("dense_1/kernel: %v", k.Shape)
	}
}

func TestLoadWeightsRejectsOtherArchitectures(t *testing.T) {
	m, _ := nn.New(arch, 1)
	dir := t.TempDir()
	Save(dir, m, Describe(arch, nil, nil, nil))
	name := filepath.Join(dir, WeightsFile)
	for _, other := range []nn.Architecture{
		{Inputs: 12, Hidden: []int{5, 5}, Activation: "elu", Init: "he_normal", Classes: 3}, // shape
		{Inputs: 12, Hidden: []int{5}, Activation: "elu", Init: "he_normal", Classes: 3},    // count
	} {
		o, _ := nn.NewZero(other, 0)
		if err := LoadWeights(name, o); err == nil {
			t.Errorf("%v: loaded weights of %v", other.Hidden, arch.Hidden)
		}
	}
	if err := LoadWeights(filepath.Join(dir, "nope.safetensors"), m); err == nil || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(name, []byte("garbage!garbage!"), 0o644)
	if err := LoadWeights(name, m); err == nil || !strings.Contains(err.Error(), "not a valid safetensors file") {
		t.Errorf("garbage file: %v", err)
	}
}

// TestLoadLegacyModelJSON: a run saved before model.json became Keras's
// format (cifarnet-mlp/1) still loads, to the same model.
func TestLoadLegacyModelJSON(t *testing.T) {
	m, _ := nn.New(arch, 7)
	dir := t.TempDir()
	if err := Save(dir, m, Describe(arch, []int{2, 2, 3}, []string{"a", "b", "c"}, nil)); err != nil {
		t.Fatal(err)
	}
	legacy := `{"format": "cifarnet-mlp/1", "architecture": {"inputs": 12, "hidden": [5, 4], "activation": "elu", "initializer": "he_normal", "classes": 3},
	 "layers": [{"name": "dense", "units": 5, "activation": "elu", "kernel": "dense/kernel", "bias": "dense/bias"}],
	 "output": "softmax", "preprocessing": {"input_shape": [2, 2, 3], "flatten": "channels_last", "scale": 0.00392156862745098},
	 "class_names": ["a", "b", "c"]}`
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	got, cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClassNames[2] != "c" || cfg.Preprocessing.InputShape[2] != 3 || len(got.Layers) != 3 {
		t.Fatalf("legacy model.json read as %+v", cfg)
	}
	for i, w := range got.Weights() {
		for j, v := range w {
			if v != m.Weights()[i][j] {
				t.Fatalf("weight %d[%d] differs", i, j)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"format": "cifarnet-mlp/9"}`), 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "cifarnet-mlp/9") {
		t.Errorf("unknown format: %v", err)
	}
}

// TestNormalizationCountSavedAndOptional: an adapted Normalization layer
// saves Keras's normalization/count (a scalar, 0: Keras 3's adapt never
// assigns it) after mean and variance; a weights file written before count
// was saved (mean and variance only) still loads, leaving count at 0,
// while a file missing mean is still refused.
func TestNormalizationCountSavedAndOptional(t *testing.T) {
	build := func() *nn.Sequential {
		m, err := nn.FromConfigs(4, 1, []nn.LayerConfig{
			{ClassName: "Normalization", Config: map[string]any{"name": "normalization"}},
			{ClassName: "Dense", Config: map[string]any{"name": "dense", "units": 2.0, "activation": "softmax"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := build()
	norm := m.Layers[0].(*nn.Normalization)
	copy(norm.Mean, []float32{1, 2, 3, 4})
	copy(norm.Variance, []float32{5, 6, 7, 8})
	var buf bytes.Buffer
	if err := WriteWeights(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := f.Get("normalization/count")
	if !ok || len(c.Shape) != 0 || len(c.Data) != 1 || c.Data[0] != 0 {
		t.Fatalf("normalization/count: found %v, shape %v, data %v; want a scalar 0", ok, c.Shape, c.Data)
	}
	dir := t.TempDir()
	write := func(skip string) string {
		var ts []safetensors.Tensor
		for _, tt := range f.Tensors {
			if tt.Name != skip {
				ts = append(ts, tt)
			}
		}
		name := filepath.Join(dir, strings.ReplaceAll(skip, "/", "_")+".safetensors")
		var b bytes.Buffer
		if err := safetensors.Write(&b, ts, nil); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(name, b.Bytes(), 0o644)
		return name
	}
	old := build()
	if err := LoadWeights(write("normalization/count"), old); err != nil {
		t.Fatalf("weights without count: %v", err)
	}
	on := old.Layers[0].(*nn.Normalization)
	if on.Mean[3] != 4 || on.Variance[0] != 5 || on.Count[0] != 0 || !on.Adapted {
		t.Errorf("loaded mean %v variance %v count %v adapted %v", on.Mean, on.Variance, on.Count, on.Adapted)
	}
	if err := LoadWeights(write("normalization/mean"), build()); err == nil {
		t.Error("weights without normalization/mean loaded")
	}
}

// TestManyLayersReadBack: a model of 5000 small Dense layers, well inside what
// train --model takes, writes a model.json of more than 1 MiB; the run's
// own file must load back (it was refused as larger than model.json can
// be).
func TestManyLayersReadBack(t *testing.T) {
	mc := nn.ModelConfig{Name: "deep", InputShape: []int{12}}
	for i := range 5000 {
		mc.Layers = append(mc.Layers, nn.LayerConfig{ClassName: "Dense", Config: map[string]any{"name": fmt.Sprintf("dense_%d", i), "units": 4.0, "activation": "relu"}})
	}
	mc.Layers = append(mc.Layers, nn.LayerConfig{ClassName: "Dense", Config: map[string]any{"name": "out", "units": 3.0, "activation": "softmax"}})
	m, err := mc.Build(1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Save(dir, m, DescribeModel(mc, []int{2, 2, 3}, []string{"a", "b", "c"}, nil)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil || fi.Size() <= 1<<20 {
		t.Fatalf("model.json: %v, want over 1 MiB for the case: %v", fi.Size(), err)
	}
	if _, _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}
