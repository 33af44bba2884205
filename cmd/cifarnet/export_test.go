package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/onnx/onnxtest"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/tensor"
)

// TestExportTheExercise trains the exercise's network (a few epochs),
// exports it with both inputs through the command, and runs the files in
// ONNX Runtime on the 1,000 test images: probabilities within 1e-5 of
// cifarnet's and the same class for every image. docs/onnx/accuracy.js,
// the Node.js recipe of docs/onnx.md, must print cifarnet's accuracy.
func TestExportTheExercise(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := run(t, "train", "--data", data, "--out", dir, "--epochs", "3", "-q"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	// The argument form, writing RUN_DIR/model.onnx, and the --model/--out form.
	stdout, stderr, code := run(t, "export", dir)
	if code != 0 || !strings.Contains(stdout, "input input_layer [batch, 32, 32, 3] uint8, output dense_4 [batch, 10]") {
		t.Fatalf("export: exit %d: %s%s", code, stdout, stderr)
	}
	features := filepath.Join(t.TempDir(), "features.onnx")
	if _, stderr, code := run(t, "export", "--format", "onnx", "--model", dir, "--input", "float32", "--out", features); code != 0 {
		t.Fatalf("export --input float32: exit %d: %s", code, stderr)
	}
	pixels := filepath.Join(dir, ONNXFile)
	want, d := compareExport(t, dir, "cifar10", data, pixels, features)

	correct := 0
	for i, l := range d.Test.Labels {
		if onnxtest.Argmax(want[i*cifar10.NumClasses:(i+1)*cifar10.NumClasses]) == int(l) {
			correct++
		}
	}
	wantLine := fmt.Sprintf("ONNX Runtime accuracy %.4f on 1000 test images", float64(correct)/1000)
	for _, model := range []string{pixels, features} {
		if got := onnxtest.Node(t, "../../docs/onnx/accuracy.js", model, data, "1000"); strings.TrimSpace(got) != wantLine {
			t.Errorf("accuracy.js %s printed %q, want %q", model, got, wantLine)
		}
	}
}

// TestExportMNIST: a model of MNIST's 28x28x1 images exports with that
// input shape (from the model's description) and agrees with cifarnet on
// MNIST's first 1,000 test images.
func TestExportMNIST(t *testing.T) {
	data := filepath.Join(filepath.Dir(sharedData(t)), "mnist")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("MNIST not found at %s", data)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := run(t, "train", "--dataset", "mnist", "--data", data, "--out", dir, "--epochs", "1",
		"--train-samples", "2000", "--hidden", "64", "-q"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := run(t, "export", dir)
	if code != 0 || !strings.Contains(stdout, "input input_layer [batch, 28, 28, 1] uint8") {
		t.Fatalf("export: exit %d: %s%s", code, stdout, stderr)
	}
	features := filepath.Join(t.TempDir(), "features.onnx")
	if _, stderr, code := run(t, "export", "--input", "float32", "--out", features, dir); code != 0 {
		t.Fatalf("export --input float32: exit %d: %s", code, stderr)
	}
	compareExport(t, dir, "mnist", data, filepath.Join(dir, ONNXFile), features)
}

// TestExportTrainedLayers: a model of every layer kind (--layers), trained
// so that Normalization is adapted and Batch Normalization has moving
// statistics, exports and agrees with cifarnet in ONNX Runtime.
func TestExportTrainedLayers(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "run")
	layers := "flatten, rescaling(2, -1), normalization, dense(64, relu), batchnorm, dropout(0.2), " +
		"dense(32, selu, lecun_normal), alpha_dropout(0.1), gaussian_noise(0.1), gaussian_dropout(0.1), activation(gelu)"
	if _, stderr, code := run(t, "train", "--data", data, "--out", dir, "--epochs", "2", "--train-samples", "2000",
		"--layers", layers, "-q"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	features := filepath.Join(t.TempDir(), "features.onnx")
	for _, args := range [][]string{{dir}, {"--input", "float32", "--out", features, dir}} {
		if _, stderr, code := run(t, append([]string{"export"}, args...)...); code != 0 {
			t.Fatalf("export %v: exit %d: %s", args, code, stderr)
		}
	}
	compareExport(t, dir, "cifar10", data, filepath.Join(dir, ONNXFile), features)
}

// compareExport runs the model of run directory dir, exported with uint8
// (pixels) and float32 (features) input, in ONNX Runtime on the first
// 1,000 test images of the data set and compares the probabilities with
// cifarnet's; it returns cifarnet's probabilities and the data.
func compareExport(t *testing.T, dir, name, src, pixels, features string) ([]float32, *dataset.Data) {
	t.Helper()
	const n = 1000
	onnxtest.Check(t, pixels, features)
	m, _, err := saving.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := datasets.Lookup(name, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := datasets.Load(info, src, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	x, k := d.Test.Float32(), info.NumClasses()
	e := tensor.NewEngine(1)
	defer e.Close()
	want := make([]float32, n*k)
	m.Predict(e, x, info.Features(), n, want)
	r := onnxtest.Run(t, pixels, "uint8", []int{n, info.Height, info.Width, info.Channels}, d.Test.Pixels)
	diff := onnxtest.Compare(t, name+", uint8 input", r.Outputs[0], want, k, 1e-5)
	r = onnxtest.Run(t, features, "float32", []int{n, info.Features()}, x)
	diff = max(diff, onnxtest.Compare(t, name+", float32 input", r.Outputs[0], want, k, 1e-5))
	t.Logf("%s: largest difference from cifarnet's probabilities: %.3g (onnxruntime-node %s)", name, diff, r.Version)
	return want, d
}

// TestExportBadInput: a missing or empty run directory, a model whose
// weights do not match its description, truncated weights, bad flags:
// one line on stderr naming the problem, exit status 2.
func TestExportBadInput(t *testing.T) {
	good := trainedRun(t)
	copyRun := func(t *testing.T) string {
		dir := t.TempDir()
		for _, f := range []string{saving.ConfigFile, saving.WeightsFile} {
			b, err := os.ReadFile(filepath.Join(good, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	edit := func(t *testing.T, dir, file string, f func([]byte) []byte) {
		name := filepath.Join(dir, file)
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, f(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	editJSON := func(t *testing.T, dir string, f func(map[string]any)) {
		edit(t, dir, saving.ConfigFile, func(b []byte) []byte {
			var c map[string]any
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			f(c)
			b, _ = json.Marshal(c)
			return b
		})
	}
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"no run directory", func(t *testing.T) []string { return nil }, "no run directory"},
		{"missing directory", func(t *testing.T) []string { return []string{filepath.Join(t.TempDir(), "nope")} }, "not a directory"},
		{"directory without a model", func(t *testing.T) []string { return []string{t.TempDir()} }, "model.json"},
		{"weights of another architecture", func(t *testing.T) []string {
			dir := copyRun(t)
			editJSON(t, dir, func(c map[string]any) {
				// model.json is Keras's to_json: the first Dense after the InputLayer.
				c["config"].(map[string]any)["layers"].([]any)[1].(map[string]any)["config"].(map[string]any)["units"] = 33
			})
			return []string{dir}
		}, "shape"},
		{"input shape not matching the inputs", func(t *testing.T) []string {
			dir := copyRun(t)
			editJSON(t, dir, func(c map[string]any) {
				c["cifarnet"].(map[string]any)["preprocessing"].(map[string]any)["input_shape"] = []int{31, 32, 3}
			})
			return []string{dir}
		}, "input_shape"},
		{"truncated weights", func(t *testing.T) []string {
			dir := copyRun(t)
			edit(t, dir, saving.WeightsFile, func(b []byte) []byte { return b[:len(b)/2] })
			return []string{dir}
		}, saving.WeightsFile},
		{"unknown format", func(t *testing.T) []string { return []string{"--format", "tflite", good} }, "--format"},
		{"unknown input", func(t *testing.T) []string { return []string{"--input", "int8", good} }, "--input"},
		{"two run directories", func(t *testing.T) []string { return []string{"--model", t.TempDir(), good} }, "twice"},
		{"--out a directory", func(t *testing.T) []string { return []string{"--out", t.TempDir(), good} }, "is a directory"},
		{"--out in no directory", func(t *testing.T) []string {
			return []string{"--out", filepath.Join(t.TempDir(), "nope", "m.onnx"), good}
		}, "does not exist"},
		{"--out the run's own model.json", func(t *testing.T) []string {
			dir := copyRun(t)
			return []string{"--out", filepath.Join(dir, saving.ConfigFile), dir}
		}, "want a file name ending in .onnx"},
		{"--out a new file not .onnx", func(t *testing.T) []string {
			return []string{"--out", filepath.Join(t.TempDir(), "x.txt"), good}
		}, "want a file name ending in .onnx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args(t)
			out := filepath.Join(t.TempDir(), "m.onnx")
			_, stderr, code := run(t, append([]string{"export", "--out", out}, args...)...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("export %v: exit %d, stderr %q: want exit 2 and one line naming %s", args, code, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("export %v failed but wrote %s", args, out)
			}
		})
	}
	// The run's model.json survives an --out naming it; an earlier export
	// is replaced.
	dir := copyRun(t)
	before, _ := os.ReadFile(filepath.Join(dir, saving.ConfigFile))
	run(t, "export", "--out", filepath.Join(dir, saving.ConfigFile), dir)
	if after, _ := os.ReadFile(filepath.Join(dir, saving.ConfigFile)); !bytes.Equal(before, after) {
		t.Error("export --out RUN/model.json replaced the run's model.json")
	}
	onnxFile := filepath.Join(dir, "m.onnx")
	for i := range 2 {
		if _, stderr, code := run(t, "export", "--out", onnxFile, dir); code != 0 {
			t.Errorf("export %d to %s: exit %d: %s", i+1, onnxFile, code, stderr)
		}
	}
}

func TestExportHelpDocumentsEveryFlag(t *testing.T) {
	out, _, code := run(t, "export", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"--model", "--format", "--input", "--out", "uint8", "float32", "RUN_DIR/model.onnx", "docs/onnx.md"} {
		if !strings.Contains(out, f) {
			t.Errorf("export --help lacks %s", f)
		}
	}
}
