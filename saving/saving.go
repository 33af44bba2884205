// Package saving stores a trained model in a run directory so that it
// outlives the process and other tools can load it: model.safetensors holds
// the weights under Keras's names and shapes (dense/kernel [in, out],
// dense/bias [out], dense_1/..., float32 little-endian), and model.json the
// architecture and the preprocessing a caller must apply to an image.
package saving

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/finitejson"
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

// MaxConfigSize bounds model.json: the bound of any Keras model file
// train --model reads, so that every model a run trains can be read
// back from the model.json it writes (1 MiB refused a run of about 1000
// Dense layers that train had taken).
const MaxConfigSize = maxKerasFile

// Format identifies model.json's layout: Keras's model.to_json() with
// cifarnet's facts in a "cifarnet" member. LegacyFormat is the layout
// written before, still read.
const (
	Format       = "cifarnet-keras/1"
	LegacyFormat = "cifarnet-mlp/1"
)

// Layer describes one Dense layer in a legacy model.json.
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

// Config is model.json: the model as Keras describes it, and what cifarnet
// adds (how an image becomes the input, the class names, the run).
type Config struct {
	Format string `json:"format"`
	// Model is the network (model.get_config()); Compile its
	// compile_config (nil when absent).
	Model   nn.ModelConfig `json:"-"`
	Compile *Compile       `json:"-"`
	// Architecture and Layers are read from legacy files only.
	Architecture  nn.Architecture `json:"architecture,omitempty"`
	Layers        []Layer         `json:"layers,omitempty"`
	Output        string          `json:"output,omitempty"` // "softmax" of the last layer's logits
	Preprocessing Preprocessing   `json:"preprocessing"`
	ClassNames    []string        `json:"class_names"`
	// Dataset and LabelMode name the data set the model was trained on
	// (empty in models saved before data sets had names: cifar10).
	Dataset   string `json:"dataset,omitempty"`
	LabelMode string `json:"label_mode,omitempty"`
	// DataNotOfficial names the data files the model was trained on that
	// are not the official ones (their SHA-256 differs): a user's own.
	DataNotOfficial []string `json:"data_not_official,omitempty"`
	// Run holds free-form facts about the training run (seed, accuracy, ...).
	Run map[string]string `json:"run,omitempty"`
	// LRSchedule is the optimizer's learning-rate schedule where Keras has
	// no such schedule (1cycle), serialized as Keras's are: the file's
	// compile_config has the constant rate instead, and cifarnet reads this
	// in its place (ParseKeras).
	LRSchedule json.RawMessage `json:"-"`
}

// Describe builds the Config of the model arch describes.
func Describe(arch nn.Architecture, inputShape []int, classNames []string, run map[string]string) Config {
	mc, _ := arch.Config()
	return DescribeModel(mc, inputShape, classNames, run)
}

// DescribeModel builds the Config of the model mc describes, trained on
// images of inputShape (height, width, channels) scaled by 1/255.
func DescribeModel(mc nn.ModelConfig, inputShape []int, classNames []string, run map[string]string) Config {
	return Config{
		Format: Format, Model: mc, Output: "softmax", ClassNames: classNames, Run: run,
		Preprocessing: Preprocessing{InputShape: inputShape, Flatten: "channels_last", Scale: 1.0 / 255},
		Compile:       &Compile{Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}},
	}
}

// cifarnetFacts is model.json's "cifarnet" member.
type cifarnetFacts struct {
	Format          string            `json:"format"`
	Preprocessing   Preprocessing     `json:"preprocessing"`
	ClassNames      []string          `json:"class_names"`
	Dataset         string            `json:"dataset,omitempty"`
	LabelMode       string            `json:"label_mode,omitempty"`
	DataNotOfficial []string          `json:"data_not_official,omitempty"`
	Run             map[string]string `json:"run,omitempty"`
	LRSchedule      json.RawMessage   `json:"lr_schedule,omitempty"`
}

// MarshalJSON writes model.json: Keras's to_json of the model, which
// keras.models.model_from_json reads, with a "cifarnet" member.
func (c Config) MarshalJSON() ([]byte, error) {
	b, err := KerasJSON(c.Model, c.Compile)
	if err != nil {
		return nil, err
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	top["cifarnet"] = cifarnetFacts{Format: Format, Preprocessing: c.Preprocessing, ClassNames: c.ClassNames,
		Dataset: c.Dataset, LabelMode: c.LabelMode, DataNotOfficial: c.DataNotOfficial, Run: c.Run, LRSchedule: c.LRSchedule}
	return finitejson.Marshal(top)
}

// UnmarshalJSON reads model.json in either layout.
func (c *Config) UnmarshalJSON(b []byte) error {
	p, err := parseConfig(b)
	if err != nil {
		return err
	}
	*c = *p
	return nil
}

// parseConfig reads model.json in either layout.
func parseConfig(b []byte) (*Config, error) {
	if err := checkUTF8(b); err != nil {
		return nil, err
	}
	var probe struct {
		ClassName string          `json:"class_name"`
		Cifarnet  json.RawMessage `json:"cifarnet"`
		Format    string          `json:"format"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, errors.New(quote.Line(err.Error(), 4*quote.Max))
	}
	if probe.ClassName == "" {
		// The legacy layout: a multilayer perceptron.
		type legacy Config // without Config's own UnmarshalJSON
		var l legacy
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, errors.New(quote.Line(err.Error(), 4*quote.Max))
		}
		c := Config(l)
		if c.Format != LegacyFormat {
			return nil, fmt.Errorf("format %s, want %q or a Keras model", quote.Short(c.Format), Format)
		}
		mc, err := c.Architecture.Config()
		if err != nil {
			return nil, err
		}
		c.Model = mc
		return &c, nil
	}
	k, err := ParseKeras(b)
	if err != nil {
		return nil, err
	}
	var facts cifarnetFacts
	if len(probe.Cifarnet) == 0 {
		return nil, fmt.Errorf("a Keras model without cifarnet's facts (preprocessing, class names): not a run's model.json")
	}
	if err := json.Unmarshal(probe.Cifarnet, &facts); err != nil {
		return nil, fmt.Errorf("cifarnet: %s", quote.Line(err.Error(), 4*quote.Max))
	}
	if facts.Format != Format {
		return nil, fmt.Errorf("cifarnet.format %s, want %q", quote.Short(facts.Format), Format)
	}
	return &Config{Format: Format, Model: k.Model, Compile: k.Compile, Output: "softmax", Preprocessing: facts.Preprocessing,
		ClassNames: facts.ClassNames, Dataset: facts.Dataset, LabelMode: facts.LabelMode, DataNotOfficial: facts.DataNotOfficial, Run: facts.Run,
		LRSchedule: k.LRSchedule}, nil // the schedule ParseKeras checked
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

// Load reads the model saved in dir. The sizes model.json states are
// checked against the weights file before the model is built, so a
// description asking for more than the weights hold is refused, not
// allocated.
func Load(dir string) (*nn.Sequential, *Config, error) {
	name := filepath.Join(dir, ConfigFile)
	b, err := regular.ReadFile(name, MaxConfigSize)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", name, oserr.Bare(err))
	}
	wname := filepath.Join(dir, WeightsFile)
	f, h, err := openWeights(wname)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	// Checked on the raw description: parsing it builds the model.
	if need, held := minWeights(b), float64(h.DataLen/4); need > held {
		return nil, nil, fmt.Errorf("model %s: its layers need at least %.0f weights, %s holds %.0f: the layer sizes disagree with the weights' shapes", name, need, WeightsFile, held)
	}
	c, err := parseConfig(b)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %v", name, err)
	}
	m, err := c.Model.Build(0)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %v", name, err)
	}
	if err := fill(wname, f, h, m); err != nil {
		return nil, nil, err
	}
	if err := c.check(m); err != nil {
		return nil, nil, fmt.Errorf("model %s: %v", name, err)
	}
	return m, c, nil
}

// maxClassName bounds a class name (CIFAR-100's longest is 13 bytes).
const maxClassName = 256

// check refuses what model.json states about images and classes that its
// network contradicts or that no run writes, so that predict, evaluate
// and export all read the same sound facts: an input shape of [height,
// width, 1 or 3] whose product is the network's inputs, channels-last
// flattening, the scale 1/255 every run uses, and a class name for
// each output, without control characters (a name is printed as it is).
func (c *Config) check(m *nn.Sequential) error {
	p := c.Preprocessing
	d := p.InputShape
	if len(d) != 3 || d[0] < 1 || d[1] < 1 || d[0] > 1<<14 || d[1] > 1<<14 || (d[2] != 1 && d[2] != 3) {
		return fmt.Errorf("preprocessing.input_shape %v: want [height, width, 1 or 3]", d)
	}
	if d[0]*d[1]*d[2] != m.Inputs() {
		return fmt.Errorf("preprocessing.input_shape %v is %d values, the network takes %d", d, d[0]*d[1]*d[2], m.Inputs())
	}
	if p.Flatten != "channels_last" {
		return fmt.Errorf("preprocessing.flatten %s: only \"channels_last\" is supported", quote.Short(p.Flatten))
	}
	if p.Scale != 1.0/255 {
		// Every run scales 8-bit pixels by 1/255, and so do evaluate and
		// predict; export alone would follow another value.
		return fmt.Errorf("preprocessing.scale %g: only 1/255 (%g) is supported: cifarnet's runs, evaluate and predict scale 8-bit pixels by it", p.Scale, 1.0/255)
	}
	if len(c.ClassNames) != m.Outputs() {
		return fmt.Errorf("class_names has %d names, the network has %d outputs", len(c.ClassNames), m.Outputs())
	}
	for i, n := range c.ClassNames {
		if len(n) > maxClassName || strings.IndexFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return fmt.Errorf("class_names[%d] %s: want a name of at most %d bytes without control characters", i, quote.Short(n), maxClassName)
		}
	}
	return nil
}

// minWeights is a lower bound of the weights a model.json needs, read
// from its raw layers (Keras's or the legacy architecture) in float64
// without building anything: each Dense layer needs an input width x units
// kernel. It keeps a description of billions of units from being
// allocated; a description it cannot read gives 0, and parsing reports it.
func minWeights(b []byte) float64 {
	var probe struct {
		Config struct {
			Layers []struct {
				ClassName string         `json:"class_name"`
				Config    map[string]any `json:"config"`
			} `json:"layers"`
		} `json:"config"`
		Architecture *struct {
			Inputs  float64   `json:"inputs"`
			Hidden  []float64 `json:"hidden"`
			Classes float64   `json:"classes"`
		} `json:"architecture"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return 0
	}
	var widths []float64
	if a := probe.Architecture; a != nil {
		widths = append(append([]float64{a.Inputs}, a.Hidden...), a.Classes)
	} else {
		widths = []float64{1}
		for _, l := range probe.Config.Layers {
			switch l.ClassName {
			case "InputLayer":
				shape, _ := l.Config["batch_shape"].([]any)
				if shape == nil {
					shape, _ = l.Config["batch_input_shape"].([]any)
				}
				w := 1.0
				for _, d := range shape {
					if v, ok := d.(float64); ok && v > 0 {
						w *= v
					}
				}
				widths[0] = w
			case "Dense":
				if u, ok := l.Config["units"].(float64); ok && u >= 1 {
					widths = append(widths, u)
				}
			}
		}
	}
	var n float64
	for i := 1; i < len(widths); i++ {
		n += max(widths[i-1], 1) * widths[i]
	}
	return n
}

// openWeights opens a weights file and reads its header.
func openWeights(name string) (*os.File, *safetensors.Header, error) {
	f, err := regular.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("weights %s: %w", name, oserr.Bare(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("weights %s: %w", name, oserr.Bare(err))
	}
	h, err := safetensors.ReadHeader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("weights %s: %w", name, err)
	}
	return f, h, nil
}

// LoadWeights fills m from a safetensors file holding a tensor of the right
// shape for every variable of m, trainable or not (extra tensors are an
// error too: they mean the file belongs to another architecture), except
// that an optional variable (Normalization's count, saved since it was
// added) may be missing and keeps its value. The
// names and shapes are checked before any data is read.
func LoadWeights(name string, m *nn.Sequential) error {
	f, h, err := openWeights(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return fill(name, f, h, m)
}

// fill reads the data of a weights file whose header h was read from f
// into m's variables, after checking every name and shape.
func fill(name string, f io.Reader, h *safetensors.Header, m *nn.Sequential) error {
	ps := m.Variables()
	// An optional variable (Normalization's count) missing from a file
	// written before it was saved keeps the model's value.
	var missing int
	for _, p := range ps {
		if _, ok := h.Spec(p.Name); !ok && p.Optional {
			missing++
		}
	}
	if len(h.Specs) != len(ps)-missing {
		return fmt.Errorf("weights %s: %d tensors, the model has %d variables", name, len(h.Specs), len(ps))
	}
	ws := make([][]float32, len(ps))
	byName := make(map[string]int, len(ps))
	for i, p := range ps {
		t, ok := h.Spec(p.Name)
		if !ok && p.Optional {
			ws[i] = append([]float32(nil), p.Value...)
			continue
		}
		if !ok {
			return fmt.Errorf("weights %s: missing tensor %s", name, p.Name)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("weights %s: tensor %s has shape %v, the model needs %v", name, p.Name, t.Shape, p.Shape)
		}
		ws[i] = make([]float32, len(p.Value))
		byName[p.Name] = i
	}
	dst := make([][]float32, len(h.Specs))
	for i, s := range h.Specs {
		dst[i] = ws[byName[s.Name]]
	}
	if err := h.ReadData(f, dst); err != nil {
		return fmt.Errorf("weights %s: %w", name, err)
	}
	return m.SetWeights(ws)
}
