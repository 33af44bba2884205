// Package saving stores a trained model in a run directory so that it
// outlives the process and other tools can load it: model.safetensors holds
// the weights under Keras's names and shapes (dense/kernel [in, out],
// dense/bias [out], dense_1/..., float32 little-endian), and model.json the
// architecture and the preprocessing a caller must apply to an image.
package saving

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/safetensors"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// File names in a run directory.
const (
	WeightsFile = "model.safetensors"
	ConfigFile  = "model.json"
)

// MaxConfigSize bounds model.json: a description of layers, not data.
const MaxConfigSize = 1 << 20

// Format identifies model.json's layout.
const Format = "cifarnet-mlp/1"

// Layer describes one Dense layer in model.json.
type Layer struct {
	Name       string `json:"name"`
	Units      int    `json:"units"`
	Activation string `json:"activation"`
	Kernel     string `json:"kernel"` // tensor names in model.safetensors
	Bias       string `json:"bias"`
}

// Preprocessing tells how an image becomes the network's input.
type Preprocessing struct {
	InputShape []int   `json:"input_shape"` // [32, 32, 3], height x width x channels
	Flatten    string  `json:"flatten"`     // "channels_last": pixel-major, RGB interleaved
	Scale      float64 `json:"scale"`       // multiply uint8 pixels by this (1/255)
}

// Config is model.json.
type Config struct {
	Format        string          `json:"format"`
	Architecture  nn.Architecture `json:"architecture"`
	Layers        []Layer         `json:"layers"`
	Output        string          `json:"output"` // "softmax" of the last layer's logits
	Preprocessing Preprocessing   `json:"preprocessing"`
	ClassNames    []string        `json:"class_names"`
	// Dataset and LabelMode name the data set the model was trained on
	// (empty in models saved before data sets had names: cifar10).
	Dataset   string `json:"dataset,omitempty"`
	LabelMode string `json:"label_mode,omitempty"`
	// Run holds free-form facts about the training run (seed, accuracy, ...).
	Run map[string]string `json:"run,omitempty"`
}

// Describe builds the Config of the model arch describes.
func Describe(arch nn.Architecture, inputShape []int, classNames []string, run map[string]string) Config {
	c := Config{
		Format: Format, Architecture: arch, Output: "softmax", ClassNames: classNames, Run: run,
		Preprocessing: Preprocessing{InputShape: inputShape, Flatten: "channels_last", Scale: 1.0 / 255},
	}
	units := append(append([]int(nil), arch.Hidden...), arch.Classes)
	for i, u := range units {
		act, name := arch.Activation, "dense"
		if i == len(units)-1 {
			act = "softmax"
		}
		if i > 0 {
			name = fmt.Sprintf("dense_%d", i)
		}
		c.Layers = append(c.Layers, Layer{name, u, act, name + "/kernel", name + "/bias"})
	}
	return c
}

// Save writes model.safetensors and model.json into dir, atomically.
func Save(dir string, m *nn.Sequential, c Config) error {
	err := atomicfile.Write(filepath.Join(dir, WeightsFile), 0o644, func(f *os.File) error {
		return WriteWeights(f, m, c.Run)
	})
	if err != nil {
		return err
	}
	return atomicfile.WriteJSON(filepath.Join(dir, ConfigFile), c)
}

// WriteWeights writes m's variables, trainable or not, as safetensors to w.
func WriteWeights(w io.Writer, m *nn.Sequential, metadata map[string]string) error {
	var ts []safetensors.Tensor
	for _, p := range m.Variables() {
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Value})
	}
	md := map[string]string{"format": "cifarnet", "framework": "cifarnet"}
	for k, v := range metadata {
		md[k] = v
	}
	return safetensors.Write(w, ts, md)
}

// Load reads the model saved in dir.
func Load(dir string) (*nn.Sequential, *Config, error) {
	name := filepath.Join(dir, ConfigFile)
	b, err := regular.ReadFile(name, MaxConfigSize)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", name, oserr.Bare(err))
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, nil, fmt.Errorf("model %s: %s", name, quote.Line(err.Error(), 4*quote.Max))
	}
	if c.Format != Format {
		return nil, nil, fmt.Errorf("model %s: format %s, want %q", name, quote.Short(c.Format), Format)
	}
	m, err := nn.NewZero(c.Architecture, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %v", name, err)
	}
	if err := LoadWeights(filepath.Join(dir, WeightsFile), m); err != nil {
		return nil, nil, err
	}
	return m, &c, nil
}

// LoadWeights fills m from a safetensors file holding a tensor of the right
// shape for every variable of m, trainable or not (extra tensors are an
// error too: they mean the file belongs to another architecture).
func LoadWeights(name string, m *nn.Sequential) error {
	f, err := regular.Open(name)
	if err != nil {
		return fmt.Errorf("weights %s: %w", name, oserr.Bare(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("weights %s: %w", name, oserr.Bare(err))
	}
	st, err := safetensors.Read(f, fi.Size())
	if err != nil {
		return fmt.Errorf("weights %s: %w", name, err)
	}
	ps := m.Variables()
	if len(st.Tensors) != len(ps) {
		return fmt.Errorf("weights %s: %d tensors, the model has %d variables", name, len(st.Tensors), len(ps))
	}
	for _, p := range ps {
		t, ok := st.Get(p.Name)
		if !ok {
			return fmt.Errorf("weights %s: missing tensor %s", name, p.Name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(p.Shape) {
			return fmt.Errorf("weights %s: tensor %s has shape %v, the model needs %v", name, p.Name, t.Shape, p.Shape)
		}
	}
	for _, p := range ps {
		t, _ := st.Get(p.Name)
		copy(p.Value, t.Data)
	}
	return nil
}
