package saving

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
)

const exerciseModel = "../../shared/keras/exercise_model.json"

// TestExerciseModelIsTheExercise: the exercise as Keras wrote it builds the
// same layers and the same initial weights, bit for bit, as the
// exercise's architecture.
func TestExerciseModelIsTheExercise(t *testing.T) {
	if _, err := os.Stat(exerciseModel); err != nil {
		t.Skip("no shared Keras file:", err)
	}
	k, err := ReadKeras(exerciseModel)
	if err != nil {
		t.Fatal(err)
	}
	if k.Compile == nil || k.Compile.Loss != "sparse_categorical_crossentropy" || !reflect.DeepEqual(k.Compile.Metrics, []string{"accuracy"}) {
		t.Fatalf("compile config %+v", k.Compile)
	}
	fromFile, err := k.Model.Build(42)
	if err != nil {
		t.Fatal(err)
	}
	fromFile.Initialize(42)
	arch := nn.Architecture{Inputs: 3072, Hidden: []int{256, 256, 256, 256}, Activation: "elu", Init: "he_normal", Classes: 10}
	want, _ := nn.New(arch, 42)
	a, b := fromFile.Variables(), want.Variables()
	if len(a) != len(b) {
		t.Fatalf("%d variables, want %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !reflect.DeepEqual(a[i].Shape, b[i].Shape) {
			t.Fatalf("variable %d: %s %v, want %s %v", i, a[i].Name, a[i].Shape, b[i].Name, b[i].Shape)
		}
		for j := range a[i].Value {
			if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
				t.Fatalf("%s[%d] = %v, want %v", a[i].Name, j, a[i].Value[j], b[i].Value[j])
			}
		}
	}
}

// TestKerasRoundTrip: read, write, read gives the same model config, for
// the exercise and a model using every layer class.
func TestKerasRoundTrip(t *testing.T) {
	src := `{"class_name": "Sequential", "config": {"name": "seq", "layers": [
	 {"class_name": "InputLayer", "config": {"batch_shape": [null, 32, 32, 3], "name": "in"}},
	 {"class_name": "Rescaling", "config": {"name": "rescaling", "scale": 0.00392156862745098}},
	 {"class_name": "Flatten", "config": {"name": "flatten"}},
	 {"class_name": "Normalization", "config": {"name": "normalization"}},
	 {"class_name": "Dense", "config": {"name": "dense", "units": 8, "activation": "selu", "use_bias": false,
	   "kernel_initializer": {"class_name": "LecunNormal", "config": {"seed": 3}},
	   "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.001, "l2": 0.01}},
	   "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}}},
	 {"class_name": "AlphaDropout", "config": {"name": "alpha_dropout", "rate": 0.1}},
	 {"class_name": "Dense", "config": {"name": "dense_1", "units": 8, "activation": "relu"}},
	 {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "momentum": 0.9}},
	 {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.2}},
	 {"class_name": "GaussianNoise", "config": {"name": "gaussian_noise", "stddev": 0.1}},
	 {"class_name": "GaussianDropout", "config": {"name": "gaussian_dropout", "rate": 0.1}},
	 {"class_name": "Dense", "config": {"name": "dense_2", "units": 10}},
	 {"class_name": "Activation", "config": {"name": "activation", "activation": "softmax"}}]},
	 "compile_config": {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}}`
	for i, in := range []string{src, readOrSkip(t, exerciseModel)} {
		k1, err := ParseKeras([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		b, err := KerasJSON(k1.Model, k1.Compile)
		if err != nil {
			t.Fatal(err)
		}
		// The InputLayer keeps its name ("in"; Keras's default in the
		// exercise's file).
		if l, want := writtenLayers(t, b)[0], []string{"in", "input_layer"}[i]; l.ClassName != "InputLayer" || l.Config["name"] != want {
			t.Errorf("first layer written: %s %q, want InputLayer %q", l.ClassName, l.Config["name"], want)
		}
		k2, err := ParseKeras(b)
		if err != nil {
			t.Fatalf("%v in\n%s", err, b)
		}
		m1, _ := k1.Model.Build(1)
		m2, _ := k2.Model.Build(1)
		c1, _ := json.Marshal(m1.Configs())
		c2, _ := json.Marshal(m2.Configs())
		if string(c1) != string(c2) || !reflect.DeepEqual(k1.Model.InputShape, k2.Model.InputShape) || k1.Compile.Loss != k2.Compile.Loss {
			t.Errorf("round trip changed the model:\n%s\n%s", c1, c2)
		}
	}
}

// writtenLayer is one layer of a model file KerasJSON wrote.
type writtenLayer struct {
	ClassName string         `json:"class_name"`
	Config    map[string]any `json:"config"`
}

// writtenLayers reads the layers of a model file KerasJSON wrote.
func writtenLayers(t *testing.T, b []byte) []writtenLayer {
	t.Helper()
	var written struct {
		Config struct {
			Layers []writtenLayer `json:"layers"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &written); err != nil || len(written.Config.Layers) == 0 {
		t.Fatalf("%v in\n%s", err, b)
	}
	return written.Config.Layers
}

func readOrSkip(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Skip(err)
	}
	return string(b)
}

// TestKerasMalformed: each unsupported or broken file gets its own error,
// naming the layer and the field.
func TestKerasMalformed(t *testing.T) {
	wrap := func(layers string) string {
		return `{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}}, ` + layers + `]}}`
	}
	out := `{"class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "softmax"}}`
	for _, tt := range []struct{ in, want string }{
		{`not json`, "not a Keras model JSON"},
		{`{"class_name": "Functional", "config": {}}`, `"Functional": only Sequential`},
		{wrap(`{"class_name": "Conv2D", "config": {"name": "conv"}}, ` + out), `"Conv2D" is not supported`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "bogus": 1}}, ` + out), `layer "d" (Dense): field "bogus" is not supported`},
		// tf.keras 2 put the input shape on the first layer; Keras 3 refuses it too.
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "batch_input_shape": [null, 3072]}}, ` + out), `field "batch_input_shape" is not supported (tf.keras 2`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "swoosh"}}, ` + out), `layer "d" (Dense): activation`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": -3}}, ` + out), `layer "d" (Dense): units`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_initializer": {"class_name": "MyInit", "config": {}, "registered_name": "custom>MyInit"}}}, ` + out), `layer "d" (Dense): kernel_initializer: registered (custom)`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_regularizer": {"class_name": "OrthogonalRegularizer", "config": {}}}}, ` + out), `layer "d" (Dense): kernel_regularizer: regularizer "OrthogonalRegularizer"`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": null, "x": 1}}}}, ` + out), `"kernel_initializer.HeNormal.x" is not supported`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_initializer": "identity_ish"}}, ` + out), `layer "d" (Dense): kernel_initializer: initializer "IdentityIsh" is not supported`},
		{wrap(`{"class_name": "Dropout", "config": {"name": "dr", "rate": 0.5, "seed": 7}}, ` + out), `layer "dr" (Dropout): seed`},
		{wrap(`{"class_name": "Dropout", "config": {"name": "dr", "rate": 1}}, ` + out), `layer "dr" (Dropout): rate`},
		{wrap(`{"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": false}}, ` + out), `layer "bn" (BatchNormalization): trainable`},
		{wrap(`{"class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "relu"}}`), `layer "out": the last layer's activation must be softmax`},
		{`{"class_name": "Sequential", "config": {"layers": [` + out + `]}}`, "input size is unknown"},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 1}}}}, ` + out), `layer "d" (Dense): kernel_constraint.MaxNorm.axis: only 0 is supported`},
		// Keras's axis=None normalizes by one mean and variance over all
		// the features: not cifarnet's per-feature statistics.
		{wrap(`{"class_name": "Normalization", "config": {"name": "nz", "axis": null}}, ` + out), `layer "nz" (Normalization): axis: want [-1] (a mean and variance per feature), got null`},
		// A number float64 cannot hold is named, not "config is not a
		// JSON object".
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 1e400}}, ` + out), `layer "d" (Dense): units: number 1e400 is out of range`},
		{wrap(`{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_initializer": {"class_name": "RandomNormal", "config": {"stddev": -2e999}}}}, ` + out), `layer "d" (Dense): kernel_initializer.config.stddev: number -2e999 is out of range`},
		{`{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 1e400], "name": "in"}}, ` + out + `]}}`, `layer "in" (InputLayer): batch_shape[1]: number 1e400 is out of range`},
	} {
		_, err := ParseKeras([]byte(tt.in))
		if err == nil {
			t.Errorf("%.80s: no error, want %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %q, want it to contain %q", err, tt.want)
		}
	}
	k, err := ParseKeras([]byte(strings.TrimSuffix(wrap(out), "}") + `, "compile_config": {"loss": "mean_squared_error"}}`))
	if err == nil || !strings.Contains(err.Error(), `loss "mean_squared_error" is not supported`) {
		t.Errorf("mse loss: %v %v", k, err)
	}
}

// TestExamples: every Keras file in examples/ reads and builds for CIFAR-10.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.json")
	if len(files) < 5 {
		t.Fatalf("%d example files, want the 5 of the README", len(files))
	}
	for _, f := range files {
		k, err := ReadKeras(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		// They load in every Keras 3 (TestKerasDenseLoadsInEveryKeras3).
		for _, l := range k.Model.Layers {
			for key := range l.Config {
				if l.ClassName == "Dense" && !keras30Dense[key] {
					t.Errorf("%s: layer %v: %q, which Keras 3.0's Dense refuses", f, l.Config["name"], key)
				}
			}
		}
		m, err := k.Model.Build(1)
		if err != nil || m.Inputs() != 3072 || m.Outputs() != 10 || k.Compile == nil || k.Compile.Optimizer == nil {
			t.Errorf("%s: %v (inputs %d, outputs %d)", f, err, m.Inputs(), m.Outputs())
		}
	}
}

// keras30Dense lists the config keys Keras 3.0.0's Dense takes (its
// __init__ in keras/layers/core/dense.py, and the base Layer's name,
// trainable and dtype): a file with any other loads only in a newer Keras.
var keras30Dense = map[string]bool{"name": true, "trainable": true, "dtype": true, "units": true, "activation": true,
	"use_bias": true, "kernel_initializer": true, "bias_initializer": true, "kernel_regularizer": true,
	"bias_regularizer": true, "activity_regularizer": true, "kernel_constraint": true, "bias_constraint": true}

// TestKerasDenseLoadsInEveryKeras3: lora_rank, lora_alpha and
// quantization_config, null (or lora_alpha without lora_rank), are read
// but not written back: Keras before 3.13 refuses quantization_config,
// before 3.12 lora_alpha, before 3.0.3 lora_rank.
func TestKerasDenseLoadsInEveryKeras3(t *testing.T) {
	in := `{"class_name": "Sequential", "config": {"name": "seq", "layers": [
	 {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}},
	 {"class_name": "Dense", "config": {"name": "d", "units": 3, "lora_rank": null, "lora_alpha": null, "quantization_config": null}},
	 {"class_name": "Dense", "config": {"name": "d2", "units": 3, "lora_alpha": 4}},
	 {"class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "softmax"}}]}}`
	k, err := ParseKeras([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := KerasJSON(k.Model, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range writtenLayers(t, b)[1:] {
		for key := range l.Config {
			if !keras30Dense[key] {
				t.Errorf("layer %v: %q written, which Keras 3.0's Dense refuses", l.Config["name"], key)
			}
		}
	}
	if _, err := ParseKeras(b); err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
}

// TestKerasInvalidUTF8: a model file with bytes that are not UTF-8 (here a
// layer name with FF FE) is refused, naming the file and the offset of
// the first bad byte, as Python's json, hence Keras, refuses it; Go's
// decoder would read U+FFFD instead, renaming the layer and its weights.
func TestKerasInvalidUTF8(t *testing.T) {
	good := `{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}}, {"class_name": "Dense", "config": {"name": "out", "units": 2, "activation": "softmax"}}]}}`
	bad := strings.Replace(good, `"name": "out"`, "\"name\": \"o\xff\xfeut\"", 1)
	off := strings.Index(bad, "\xff")
	dir := t.TempDir()
	name := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(name, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadKeras(name)
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "invalid UTF-8 at byte offset "+strconv.Itoa(off)) || strings.Contains(err.Error(), "\n") {
		t.Errorf("ReadKeras: %v", err)
	}
	// A run's model.json too.
	m, _ := nn.New(arch, 1)
	if err := Save(dir, m, Describe(arch, nil, nil, nil)); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, ConfigFile)
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte(`"dense"`), []byte("\"dense\xff\""), 1)
	os.WriteFile(cfg, b, 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), cfg) || !strings.Contains(err.Error(), "invalid UTF-8 at byte offset "+strconv.Itoa(bytes.IndexByte(b, 0xff))) {
		t.Errorf("Load: %v", err)
	}
}

// TestKerasNewerFields: the fields Keras 3.14 (BatchNormalization's
// renorm, renorm_clipping, renorm_momentum) and 3.15 (every
// VarianceScaling initializer's input_axes and output_axes) write at their
// defaults are read, and the model is the one without them: the same
// model.json written back (without them, for older Keras), hence the same
// configuration. Other values are refused, naming the field.
func TestKerasNewerFields(t *testing.T) {
	vs := map[string]bool{"HeNormal": true, "HeUniform": true, "GlorotNormal": true, "GlorotUniform": true,
		"LecunNormal": true, "LecunUniform": true, "VarianceScaling": true}
	var add func(v any, renorm, axes any)
	add = func(v any, renorm, axes any) {
		switch v := v.(type) {
		case map[string]any:
			if cfg, ok := v["config"].(map[string]any); ok {
				switch class, _ := v["class_name"].(string); {
				case vs[class]:
					cfg["input_axes"], cfg["output_axes"] = axes, nil
				case class == "BatchNormalization":
					cfg["renorm"], cfg["renorm_clipping"], cfg["renorm_momentum"] = renorm, nil, 0.99
				}
			}
			for _, x := range v {
				add(x, renorm, axes)
			}
		case []any:
			for _, x := range v {
				add(x, renorm, axes)
			}
		}
	}
	for _, f := range []string{exerciseModel, "../examples/batchnorm.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		written := func(renorm, axes any) ([]byte, error) {
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if renorm != nil {
				add(v, renorm, axes)
			}
			nb, _ := json.Marshal(v)
			k, err := ParseKeras(nb)
			if err != nil {
				return nil, err
			}
			return KerasJSON(k.Model, nil)
		}
		want, err := written(nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got, err := written(false, nil)
		if err != nil {
			t.Fatalf("%s with Keras 3.15's fields: %v", f, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s with Keras 3.15's fields: the model written back differs:\n%s\nwant\n%s", f, got, want)
		}
		if _, err := written(false, []any{0.0}); err == nil || !strings.Contains(err.Error(), "input_axes: only null") {
			t.Errorf("%s: input_axes [0]: %v, want refused", f, err)
		}
		if f != exerciseModel {
			if _, err := written(true, nil); err == nil || !strings.Contains(err.Error(), "renorm: only false") {
				t.Errorf("%s: renorm true: %v, want refused", f, err)
			}
		}
	}
}

// TestScheduleBeyondKeras: a run's model.json keeps a schedule Keras has
// not (1cycle) in its cifarnet member, which reading the file gives as
// LRSchedule (training puts it in place of compile_config's constant
// rate), also without an optimizer (evaluate and export never train); a
// member that is not a serialized schedule is refused, named.
func TestScheduleBeyondKeras(t *testing.T) {
	model := `{"module": "keras", "class_name": "Sequential", "registered_name": null, "config": {"name": "s", "layers": [
		{"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "config": {"batch_shape": [null, 8], "name": "input_layer"}},
		{"module": "keras.layers", "class_name": "Dense", "registered_name": null, "config": {"name": "d", "units": 2, "activation": "softmax"}}]}%s,
		"cifarnet": {"lr_schedule": %s}}`
	compile := `, "compile_config": {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"],
		"optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {"learning_rate": 0.05, "momentum": 0.9}, "registered_name": null}}`
	oneCycle := `{"module": "keras.optimizers.schedules", "class_name": "OneCycle", "config": {"pct_start": 0.25}}`
	for _, c := range []string{compile, ""} {
		k, err := ParseKeras([]byte(fmt.Sprintf(model, c, oneCycle)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(k.LRSchedule), `"OneCycle"`) {
			t.Errorf("LRSchedule %s, want the OneCycle", k.LRSchedule)
		}
	}
	for _, bad := range []string{`0.5`, `{"config": {}}`, `{"class_name": "OneCycle", "config": 3}`} {
		if _, err := ParseKeras([]byte(fmt.Sprintf(model, compile, bad))); err == nil || !strings.Contains(err.Error(), "cifarnet: lr_schedule") {
			t.Errorf("lr_schedule %s: %v, want an error naming it", bad, err)
		}
	}
}
