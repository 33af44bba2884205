package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/saving"
)

func sharedMNIST(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "mnist"))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real MNIST not found at %s", dir)
	}
	return dir
}

// A run on MNIST records its data set in model.json and metrics.json;
// evaluate and predict then use MNIST (28x28 gray) without being told.
func TestMNISTRunEvaluatePredict(t *testing.T) {
	data := sharedMNIST(t)
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := run(t, "train", "--dataset", "mnist", "--data", data, "--out", dir, "--train-samples", "1000", "--test-samples", "200", "--epochs", "2", "--hidden", "32", "-q")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	// The official files: no warning, nothing recorded.
	if stderr != "" {
		t.Errorf("train on the official files: stderr %q, want nothing", stderr)
	}
	m := readMetrics(t, dir)
	if m.Env.DataNotOfficial != nil {
		t.Errorf("metrics.json: data_not_official %v for the official files", m.Env.DataNotOfficial)
	}
	if m.Config.Dataset != "mnist" {
		t.Errorf("metrics.json config dataset %q, want mnist", m.Config.Dataset)
	}
	var mc saving.Config
	b, _ := os.ReadFile(filepath.Join(dir, saving.ConfigFile))
	json.Unmarshal(b, &mc)
	if mc.Dataset != "mnist" || len(mc.Preprocessing.InputShape) != 3 || mc.Preprocessing.InputShape[0] != 28 || mc.Preprocessing.InputShape[2] != 1 || mc.ClassNames[3] != "3" {
		t.Errorf("model.json: dataset %q, input shape %v, classes %v", mc.Dataset, mc.Preprocessing.InputShape, mc.ClassNames)
	}
	if m.TestAccuracy < 0.5 {
		t.Errorf("test accuracy %.3f after 2 epochs on 800 digits, want well above chance", m.TestAccuracy)
	}
	if _, stderr, code := run(t, "evaluate", "--model", dir, "--data", data, "--test-samples", "200"); code != 0 || stderr != "" {
		t.Fatalf("evaluate: exit %d: stderr %q", code, stderr)
	}
	if ev := readEvaluation(t, dir); ev.Dataset != "mnist" || ev.Accuracy != m.TestAccuracy {
		t.Errorf("evaluation.json: dataset %q accuracy %v, the run's %v", ev.Dataset, ev.Accuracy, m.TestAccuracy)
	}
	// Evaluating the MNIST model on CIFAR-10 data is refused by the loader.
	if _, stderr, code := run(t, "evaluate", "--model", dir, "--data", sharedData(t)); code == 0 || !strings.Contains(stderr, "mnist") {
		t.Errorf("MNIST model on CIFAR-10 files: exit %d %q", code, stderr)
	}
	// A colour image of any size is made 28x28 gray.
	img := image.NewRGBA(image.Rect(0, 0, 97, 61))
	for y := range 61 {
		for x := range 97 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	name := filepath.Join(t.TempDir(), "photo.png")
	f, _ := os.Create(name)
	png.Encode(f, img)
	f.Close()
	stdout, stderr, code := run(t, "predict", "--model", dir, "--json", "--top", "10", name)
	if code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	var preds []Prediction
	if err := json.Unmarshal([]byte(stdout), &preds); err != nil || len(preds) != 1 || len(preds[0].Top) != 10 {
		t.Fatalf("predict output %q: %v", stdout, err)
	}
	for _, c := range preds[0].Top {
		if c.Class != mc.ClassNames[c.Index] {
			t.Errorf("class %q at index %d", c.Class, c.Index)
		}
	}
}

// CIFAR-100 from a directory written in the binary layout (coarse label,
// fine label, 3072 planar bytes): --label-mode coarse trains 20 classes,
// and model.json and evaluate keep the mode.
func TestCIFAR100CoarseRun(t *testing.T) {
	data := t.TempDir()
	for name, n := range map[string]int{"train.bin": 40, "test.bin": 10} {
		var b []byte
		for i := range n {
			b = append(b, byte(i%20), byte(i%100))
			for j := range 3072 {
				b = append(b, byte(i*13+j))
			}
		}
		os.WriteFile(filepath.Join(data, name), b, 0o644)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := run(t, "train", "--dataset", "cifar100", "--label-mode", "coarse", "--data", data, "--out", dir,
		"--train-samples", "40", "--test-samples", "10", "--epochs", "1", "--hidden", "8", "-q"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var mc saving.Config
	b, _ := os.ReadFile(filepath.Join(dir, saving.ConfigFile))
	json.Unmarshal(b, &mc)
	if mc.Dataset != "cifar100" || mc.LabelMode != "coarse" || len(mc.ClassNames) != 20 || mc.ClassNames[0] != "aquatic_mammals" {
		t.Errorf("model.json: %q %q, %d classes", mc.Dataset, mc.LabelMode, len(mc.ClassNames))
	}
	if m := readMetrics(t, dir); m.Config.LabelMode != "coarse" {
		t.Errorf("metrics.json label mode %q", m.Config.LabelMode)
	}
	if _, stderr, code := run(t, "evaluate", "--model", dir, "--data", data, "--test-samples", "10"); code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, stderr)
	}
	// A model.json with a label mode nobody wrote: the refusal names the
	// file's field, not a flag.
	bad := filepath.Join(t.TempDir(), "run")
	os.CopyFS(bad, os.DirFS(dir))
	var raw map[string]json.RawMessage
	var facts map[string]any
	json.Unmarshal(b, &raw)
	json.Unmarshal(raw["cifarnet"], &facts) // cifarnet's facts
	facts["label_mode"] = "medium"
	raw["cifarnet"], _ = json.Marshal(facts)
	b2, _ := json.Marshal(raw)
	os.WriteFile(filepath.Join(bad, saving.ConfigFile), b2, 0o644)
	if _, stderr, code := run(t, "evaluate", "--model", bad, "--data", data, "--test-samples", "10"); code == 0 || !strings.Contains(stderr, saving.ConfigFile+`: label_mode "medium": want fine or coarse`) || strings.Contains(stderr, "--label-mode") {
		t.Errorf("model.json with label mode medium: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, "train", "--dataset", "cifar100", "--data", data, "--train-samples", "41", "--test-samples", "10", "--epochs", "1"); code != 2 || !strings.Contains(stderr, "--train-samples 41") {
		t.Errorf("41 of 40 images: exit %d %q", code, stderr)
	}
}

// TestNotOfficialMNISTWarned: files in the MNIST layout that are not the
// official ones (a user's own) train, with one warning line naming them,
// and the run records it in metrics.json, model.json, its report and
// evaluation.json.
func TestNotOfficialMNISTWarned(t *testing.T) {
	data := t.TempDir()
	write := func(name string, header []byte, n, size int) {
		b := append([]byte(nil), header...)
		for i := range n * size {
			b = append(b, byte(i*7%251))
		}
		if size == 1 { // labels
			b = b[:len(header)]
			for i := range n {
				b = append(b, byte(i%10))
			}
		}
		if err := os.WriteFile(filepath.Join(data, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("train-images-idx3-ubyte", idxHeader(0x803, 100, 28, 28), 100, 784)
	write("train-labels-idx1-ubyte", idxHeader(0x801, 100), 100, 1)
	write("t10k-images-idx3-ubyte", idxHeader(0x803, 20, 28, 28), 20, 784)
	write("t10k-labels-idx1-ubyte", idxHeader(0x801, 20), 20, 1)
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := run(t, "train", "--dataset", "mnist", "--data", data, "--out", dir, "--train-samples", "100", "--test-samples", "20", "--epochs", "1", "--hidden", "8", "-q")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	line := strings.TrimSpace(stderr)
	if strings.Count(line, "\n") != 0 || !strings.HasPrefix(line, "cifarnet: warning: mnist: "+filepath.Join(data, "train-images-idx3-ubyte")) ||
		!strings.Contains(line, "are not the official MNIST files") || !strings.Contains(line, "not comparable with published") {
		t.Errorf("train: stderr %q, want one warning line naming the files", stderr)
	}
	want := []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}
	if m := readMetrics(t, dir); !slices.Equal(m.Env.DataNotOfficial, want) {
		t.Errorf("metrics.json: data_not_official %v, want %v", m.Env.DataNotOfficial, want)
	}
	var mc saving.Config
	b, _ := os.ReadFile(filepath.Join(dir, saving.ConfigFile))
	if err := json.Unmarshal(b, &mc); err != nil || !slices.Equal(mc.DataNotOfficial, want) {
		t.Errorf("model.json: %v, data_not_official %v, want %v", err, mc.DataNotOfficial, want)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), `id="data-not-official"`) || !strings.Contains(string(html), "not comparable with published MNIST results") {
		t.Errorf("report.html does not say the data is not the official files")
	}
	_, stderr, code = run(t, "evaluate", "--model", dir, "--data", data)
	if code != 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "cifarnet: warning: mnist: "+filepath.Join(data, "t10k-images-idx3-ubyte")) {
		t.Errorf("evaluate: exit %d, stderr %q, want one warning naming the test files", code, stderr)
	}
	if ev := readEvaluation(t, dir); len(ev.DataNotOfficial) != 2 {
		t.Errorf("evaluation.json: data_not_official %v, want the two test files", ev.DataNotOfficial)
	}
}
