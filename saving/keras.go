package saving

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/nn"
)

// KerasModel is a model file as Keras 3's model.to_json() writes it (a
// Sequential, keras/src/models/sequential.py get_config, with its
// compile_config when the model was compiled).
type KerasModel struct {
	Model nn.ModelConfig
	// Compile is nil when the file has no compile_config.
	Compile *Compile
	// LRSchedule is the learning-rate schedule of a run's model.json that
	// Keras has not (1cycle), serialized as Keras's are: it replaces
	// compile_config's constant rate (the schedule's peak) in training.
	LRSchedule json.RawMessage
}

// Compile is the part of compile_config cifarnet reads.
type Compile struct {
	// Optimizer is the serialized optimizer as Keras wrote it ({"class_name",
	// "config"} or a name), handed as is to the optimizer package
	// (optim.ParseKeras; train.Config.SetKerasOptimizer applies it); nil
	// when absent.
	Optimizer json.RawMessage
	// Loss is "sparse_categorical_crossentropy" (integer labels) or
	// "categorical_crossentropy" (one-hot labels): for a softmax
	// classifier on the same data both are the same loss.
	Loss    string
	Metrics []string
}

// maxKerasFile bounds the size of a Keras model file read into memory.
const maxKerasFile = 64 << 20

// ReadKeras reads a Keras model file.
func ReadKeras(name string) (*KerasModel, error) {
	// A FIFO or a device is refused without blocking on it.
	b, err := regular.ReadFile(name, maxKerasFile)
	var tooLarge *regular.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("model %s: larger than %d MiB: not a Keras model file", name, maxKerasFile>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, oserr.Bare(err))
	}
	k, err := ParseKeras(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", name, err)
	}
	return k, nil
}

// kerasObject is the envelope Keras serializes every object in.
type kerasObject struct {
	Module         string          `json:"module,omitempty"`
	ClassName      string          `json:"class_name"`
	Config         json.RawMessage `json:"config"`
	RegisteredName *string         `json:"registered_name"`
	BuildConfig    json.RawMessage `json:"build_config,omitempty"`
	CompileConfig  json.RawMessage `json:"compile_config,omitempty"`
	Cifarnet       json.RawMessage `json:"cifarnet,omitempty"` // a run's model.json: cifarnetFacts
}

// ParseKeras reads the JSON of model.to_json(): a Sequential of supported
// layers. Anything cifarnet cannot honour is an error naming the layer and
// the field.
func ParseKeras(b []byte) (*KerasModel, error) {
	if err := checkUTF8(b); err != nil {
		return nil, err
	}
	var top kerasObject
	if err := strictJSON(b, &top); err != nil {
		return nil, fmt.Errorf("not a Keras model JSON: %v", err)
	}
	if top.ClassName != "Sequential" {
		return nil, fmt.Errorf("class_name %q: only Sequential models are supported", top.ClassName)
	}
	if top.RegisteredName != nil && *top.RegisteredName != "" {
		return nil, fmt.Errorf("registered (custom) model %q is not supported", *top.RegisteredName)
	}
	var cfg struct {
		Name            string            `json:"name"`
		Trainable       *bool             `json:"trainable"`
		DType           any               `json:"dtype"`
		Layers          []json.RawMessage `json:"layers"`
		BuildInputShape []*int            `json:"build_input_shape"`
	}
	if err := strictJSON(top.Config, &cfg); err != nil {
		return nil, fmt.Errorf("Sequential config: %v", err)
	}
	if cfg.Trainable != nil && !*cfg.Trainable {
		return nil, fmt.Errorf("Sequential config: trainable: only true is supported")
	}
	if len(cfg.Layers) > 10000 {
		return nil, fmt.Errorf("Sequential config: %d layers: at most 10000 are supported", len(cfg.Layers))
	}
	k := &KerasModel{Model: nn.ModelConfig{Name: cfg.Name}}
	if k.Model.Name == "" {
		k.Model.Name = "sequential"
	}
	for i, raw := range cfg.Layers {
		var o kerasObject
		if err := strictJSON(raw, &o); err != nil {
			return nil, fmt.Errorf("layer %d: %v", i, err)
		}
		lc, err := decodeConfig(o.Config)
		if lc == nil {
			return nil, fmt.Errorf("layer %d (%s): config is not a JSON object", i, o.ClassName)
		}
		name, _ := lc["name"].(string)
		if err != nil {
			return nil, fmt.Errorf("layer %q (%s): %v", name, o.ClassName, err)
		}
		if o.RegisteredName != nil && *o.RegisteredName != "" {
			return nil, fmt.Errorf("layer %q: registered (custom) layer %q is not supported", name, *o.RegisteredName)
		}
		if o.ClassName == "InputLayer" {
			if i != 0 {
				return nil, fmt.Errorf("layer %q (InputLayer): must be the first layer", name)
			}
			shape, err := inputShape(name, lc)
			if err != nil {
				return nil, err
			}
			k.Model.InputShape = shape
			if name != DefaultInputName {
				k.Model.InputName = name
			}
			continue
		}
		k.Model.Layers = append(k.Model.Layers, nn.LayerConfig{ClassName: o.ClassName, Config: lc})
	}
	if k.Model.InputShape == nil {
		if len(cfg.BuildInputShape) < 2 {
			return nil, fmt.Errorf("the model has no InputLayer and no build_input_shape: its input size is unknown")
		}
		for _, d := range cfg.BuildInputShape[1:] {
			if d == nil {
				return nil, fmt.Errorf("build_input_shape %v: every size but the batch must be known", cfg.BuildInputShape)
			}
			k.Model.InputShape = append(k.Model.InputShape, *d)
		}
	}
	if err := k.Model.Validate(); err != nil {
		return nil, err
	}
	if len(top.CompileConfig) > 0 && string(top.CompileConfig) != "null" {
		c, err := parseCompile(top.CompileConfig)
		if err != nil {
			return nil, fmt.Errorf("compile_config: %v", err)
		}
		k.Compile = c
	}
	if err := scheduleBeyondKeras(k, top.Cifarnet); err != nil {
		return nil, err
	}
	return k, nil
}

// scheduleBeyondKeras reads the learning-rate schedule a run's model.json
// keeps in its cifarnet member (Config.LRSchedule: 1cycle, which Keras
// has not) into k.LRSchedule: the command that trains from the file puts
// it in place of compile_config's constant rate.
func scheduleBeyondKeras(k *KerasModel, cifarnet json.RawMessage) error {
	var facts struct {
		LRSchedule json.RawMessage `json:"lr_schedule"`
	}
	if len(cifarnet) == 0 || json.Unmarshal(cifarnet, &facts) != nil || len(facts.LRSchedule) == 0 || string(facts.LRSchedule) == "null" {
		return nil
	}
	var sc struct {
		ClassName string          `json:"class_name"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(facts.LRSchedule, &sc); err != nil || sc.ClassName == "" || (len(sc.Config) > 0 && sc.Config[0] != '{' && string(sc.Config) != "null") {
		return fmt.Errorf("cifarnet: lr_schedule: want a serialized schedule ({\"class_name\": ..., \"config\": {...}})")
	}
	k.LRSchedule = facts.LRSchedule
	return nil
}

// inputShape reads InputLayer's batch_shape (or Keras 2's
// batch_input_shape): [null, d1, ...].
func inputShape(name string, lc map[string]any) ([]int, error) {
	for k, v := range lc {
		switch k {
		case "name", "batch_shape", "batch_input_shape":
		case "dtype":
			if s, ok := v.(string); !ok || s != "float32" {
				return nil, fmt.Errorf("layer %q (InputLayer): dtype: only float32 is supported, got %v", name, v)
			}
		case "sparse", "ragged":
			if b, ok := v.(bool); !ok || b {
				return nil, fmt.Errorf("layer %q (InputLayer): %s: only false is supported", name, k)
			}
		case "optional":
			if b, ok := v.(bool); !ok || b {
				return nil, fmt.Errorf("layer %q (InputLayer): optional: only false is supported", name)
			}
		default:
			return nil, fmt.Errorf("layer %q (InputLayer): field %q is not supported", name, k)
		}
	}
	raw, ok := lc["batch_shape"]
	if !ok {
		raw = lc["batch_input_shape"]
	}
	dims, ok := raw.([]any)
	if !ok || len(dims) < 2 {
		return nil, fmt.Errorf("layer %q (InputLayer): batch_shape: want [null, size, ...], got %v", name, raw)
	}
	var shape []int
	for _, d := range dims[1:] {
		f, ok := d.(float64)
		if !ok || f != float64(int(f)) || f < 1 || f > 1<<24 {
			return nil, fmt.Errorf("layer %q (InputLayer): batch_shape: want [null, size, ...] with known positive sizes, got %v", name, raw)
		}
		shape = append(shape, int(f))
	}
	return shape, nil
}

// losses are the compile_config losses cifarnet trains.
var losses = map[string]string{
	"sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
	"SparseCategoricalCrossentropy":   "sparse_categorical_crossentropy",
	"categorical_crossentropy":        "categorical_crossentropy",
	"CategoricalCrossentropy":         "categorical_crossentropy",
}

// metrics are the compile_config metrics cifarnet reports (accuracy).
var metrics = map[string]bool{"accuracy": true, "acc": true, "sparse_categorical_accuracy": true, "categorical_accuracy": true}

func parseCompile(raw json.RawMessage) (*Compile, error) {
	var cc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	c := &Compile{Loss: "sparse_categorical_crossentropy", Metrics: []string{}}
	for k, v := range cc {
		switch k {
		case "optimizer":
			if string(v) != "null" {
				c.Optimizer = v
			}
		case "loss":
			loss, err := parseLoss(v)
			if err != nil {
				return nil, err
			}
			c.Loss = loss
		case "metrics":
			var ms []any
			if string(v) != "null" {
				if err := json.Unmarshal(v, &ms); err != nil {
					return nil, fmt.Errorf("metrics: want a list of names, got %s", short(v))
				}
			}
			for _, m := range ms {
				name, _ := m.(string)
				if o, ok := m.(map[string]any); ok {
					name, _ = o["class_name"].(string)
					name = snakeMetric(name)
				}
				if !metrics[name] {
					return nil, fmt.Errorf("metrics: %s is not supported (cifarnet reports accuracy)", short(mustJSON(m)))
				}
				c.Metrics = append(c.Metrics, name)
			}
		case "loss_weights", "weighted_metrics":
			if string(v) != "null" {
				return nil, fmt.Errorf("%s: only null is supported, got %s", k, short(v))
			}
		case "run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss":
			// How Keras executes, not what it computes.
		default:
			return nil, fmt.Errorf("field %q is not supported", k)
		}
	}
	return c, nil
}

func parseLoss(v json.RawMessage) (string, error) {
	var name string
	if json.Unmarshal(v, &name) == nil {
		if l, ok := losses[name]; ok {
			return l, nil
		}
		return "", fmt.Errorf("loss %q is not supported (want sparse_categorical_crossentropy or categorical_crossentropy)", name)
	}
	var o struct {
		ClassName      string         `json:"class_name"`
		Config         map[string]any `json:"config"`
		RegisteredName *string        `json:"registered_name"`
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return "", fmt.Errorf("loss: want a name or a Keras loss object, got %s", short(v))
	}
	if o.RegisteredName != nil && *o.RegisteredName != "" {
		return "", fmt.Errorf("loss: registered (custom) loss %q is not supported", *o.RegisteredName)
	}
	l, ok := losses[o.ClassName]
	if !ok {
		return "", fmt.Errorf("loss %q is not supported (want SparseCategoricalCrossentropy or CategoricalCrossentropy)", o.ClassName)
	}
	for k, val := range o.Config {
		ok := false
		switch k {
		case "name", "dtype":
			ok = true
		case "from_logits":
			ok = val == false
		case "reduction":
			ok = val == "sum_over_batch_size"
		case "ignore_class":
			ok = val == nil
		case "axis":
			ok = val == -1.0
		case "label_smoothing":
			ok = val == 0.0
		}
		if !ok {
			return "", fmt.Errorf("loss %s: %s = %s is not supported", o.ClassName, k, short(mustJSON(val)))
		}
	}
	return l, nil
}

func snakeMetric(class string) string {
	switch class {
	case "SparseCategoricalAccuracy":
		return "sparse_categorical_accuracy"
	case "CategoricalAccuracy":
		return "categorical_accuracy"
	case "Accuracy":
		return "accuracy"
	}
	return class
}

// checkUTF8 refuses a file that is not UTF-8, which Go's JSON decoder
// would read with U+FFFD in place of each bad byte (renaming a layer and
// its weights' keys) and Python's json, hence Keras, refuses.
func checkUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	off := 0
	for off < len(b) {
		r, n := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		off += n
	}
	return fmt.Errorf("invalid UTF-8 at byte offset %d: not a JSON file (Keras reads UTF-8 only)", off)
}

// decodeConfig decodes a JSON object as json.Unmarshal does into a
// map[string]any, but a number float64 cannot hold (1e400), which
// json.Unmarshal reports without saying where, is an error naming its
// field ("units", "kernel_initializer.config.stddev", "batch_shape[1]"),
// with the object decoded. It returns nil for what is not a JSON object.
func decodeConfig(raw json.RawMessage) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || m == nil {
		return nil, nil
	}
	v, err := numbersToFloat(m, "")
	return v.(map[string]any), err
}

// numbersToFloat turns the json.Numbers in v into float64s, as
// json.Unmarshal gives them (strconv.ParseFloat), naming by its path the
// first, in key order, that is out of range.
func numbersToFloat(v any, path string) (any, error) {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: number %s is out of range (want a finite number of at most 1.8e308)", path, x)
		}
		return f, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			y, err := numbersToFloat(x[k], p)
			if err != nil {
				keep(err)
			}
			x[k] = y
		}
	case []any:
		for i := range x {
			y, err := numbersToFloat(x[i], fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				keep(err)
			}
			x[i] = y
		}
	}
	return v, first
}

// strictJSON decodes b into v, refusing trailing data.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// short quotes a JSON value briefly for an error message.
func short(b []byte) string {
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// DefaultInputName is the name Keras gives a model's InputLayer.
const DefaultInputName = "input_layer"

// KerasJSON writes the model file Keras's model.to_json() writes for m
// (with compile_config when c is non-nil), which
// keras.models.model_from_json reads back.
func KerasJSON(m nn.ModelConfig, c *Compile) ([]byte, error) {
	dtype := map[string]any{"module": "keras", "class_name": "DTypePolicy", "config": map[string]any{"name": "float32"}, "registered_name": nil}
	batchShape := append([]any{nil}, intsAny(m.InputShape)...)
	inputName := m.InputName
	if inputName == "" {
		inputName = DefaultInputName
	}
	layers := []any{map[string]any{
		"module": "keras.layers", "class_name": "InputLayer", "registered_name": nil,
		"config": map[string]any{"batch_shape": batchShape, "dtype": "float32", "sparse": false, "ragged": false, "name": inputName},
	}}
	for _, l := range m.Layers {
		// Fields only newer Keras takes, unused, are left out so that
		// every Keras 3 reads the file.
		l = nn.Portable(l)
		layers = append(layers, map[string]any{"module": "keras.layers", "class_name": l.ClassName, "config": l.Config, "registered_name": nil})
	}
	top := map[string]any{
		"module": "keras", "class_name": "Sequential", "registered_name": nil,
		"config":       map[string]any{"name": m.Name, "trainable": true, "dtype": dtype, "layers": layers, "build_input_shape": batchShape},
		"build_config": map[string]any{"input_shape": batchShape},
	}
	if c != nil {
		cc := map[string]any{"loss": c.Loss, "metrics": c.Metrics, "loss_weights": nil, "weighted_metrics": nil,
			"run_eagerly": false, "steps_per_execution": 1, "jit_compile": false}
		if c.Optimizer != nil {
			cc["optimizer"] = c.Optimizer
		}
		top["compile_config"] = cc
	}
	return finitejson.MarshalIndent(top, "", "  ")
}

func intsAny(xs []int) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
