package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exerciseKeras = "../../../shared/keras/exercise_model.json"

// TestKerasFileTrainsLikeTheFlags: the exercise as Keras wrote it trains to
// the same bits as the exercise's flags (a short run of the same model).
func TestKerasFileTrainsLikeTheFlags(t *testing.T) {
	keras, _ := filepath.Abs(exerciseKeras)
	if _, err := os.Stat(keras); err != nil {
		t.Skip("no shared Keras file:", err)
	}
	data := sharedData(t)
	short := []string{"--data", data, "--train-samples", "300", "--test-samples", "50", "--epochs", "2", "-q"}
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if _, stderr, code := run(t, append([]string{"train", "--out", a}, short...)...); code != 0 {
		t.Fatalf("flags: exit %d: %s", code, stderr)
	}
	if _, stderr, code := run(t, append([]string{"train", "--out", b, "--model", keras}, short...)...); code != 0 {
		t.Fatalf("--model: exit %d: %s", code, stderr)
	}
	wa, _ := os.ReadFile(filepath.Join(a, "model.safetensors"))
	wb, _ := os.ReadFile(filepath.Join(b, "model.safetensors"))
	if len(wa) == 0 || !bytes.Equal(wa, wb) {
		t.Fatal("the Keras file's run and the flags' run differ")
	}
}

// TestModelFlagErrors: an unsupported or mismatched model is one line and
// exit 2.
func TestModelFlagErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	seq := func(shape, layers string) string {
		return `{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, ` + shape + `], "name": "in"}}, ` + layers + `]}}`
	}
	out := `{"class_name": "Dense", "config": {"name": "out", "units": 10, "activation": "softmax"}}`
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", write("conv.json", seq("3072", `{"class_name": "Conv2D", "config": {"name": "c"}}, `+out))}, `"Conv2D" is not supported`},
		{[]string{"--model", write("field.json", seq("3072", `{"class_name": "Dense", "config": {"name": "d", "units": 4, "lora_rank": 4}}, `+out))}, `layer "d" (Dense): lora_rank`},
		{[]string{"--model", write("size.json", seq("784", out))}, "the model takes 784 values per sample"},
		{[]string{"--model", write("classes.json", seq("3072", `{"class_name": "Dense", "config": {"name": "out", "units": 7, "activation": "softmax"}}`))}, "7 units"},
		{[]string{"--model", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"--model", write("garbage.json", "{{{")}, "not a Keras model JSON"},
		{[]string{"--layers", "dense(32), conv(3)"}, `"conv" is not a layer`},
		{[]string{"--layers", "dense(32, swoosh)"}, "activation"},
		{[]string{"--layers", "dropout(1.5)"}, "rate"},
		{[]string{"--layers", "dense(32)", "--hidden", "64"}, "--hidden describes the exercise's network"},
		{[]string{"--layers", "dense(32)", "--model", "x.json"}, "give one"},
	} {
		_, stderr, code := run(t, append([]string{"train", "--data", t.TempDir()}, tt.args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q: want exit 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestSummaryTable checks the numbers of Keras's model.summary() for a
// model with Batch Normalization: BN has 4 weights per feature, 2 of them
// trainable.
func TestSummaryTable(t *testing.T) {
	stdout, stderr, code := run(t, "summary", "--layers", "dense(100, elu), batchnorm, dropout(0.2)")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"│ dense (Dense)                   │ (None, 100)            │       307,300 │",
		"│ batch_normalization (BatchNorm… │ (None, 100)            │           400 │",
		"│ dropout (Dropout)               │ (None, 100)            │             0 │",
		"│ dense_1 (Dense)                 │ (None, 10)             │         1,010 │",
		" Total params: 308,710 (1.18 MB)",
		" Trainable params: 308,510 (1.18 MB)",
		" Non-trainable params: 200 (800.00 B)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// TestSummaryNormalizationCount: an adapted Normalization layer over n
// features has Keras's weights mean (n), variance (n) and count (a
// scalar), all non-trainable: model.summary() counts 2n+1.
func TestSummaryNormalizationCount(t *testing.T) {
	stdout, stderr, code := run(t, "summary", "--layers", "normalization, dense(16, relu)")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	const n = 32 * 32 * 3
	norm := 2*n + 1
	trainable := n*16 + 16 + 16*10 + 10
	for _, want := range []string{
		fmt.Sprintf("│ normalization (Normalization)   │ %-22s │ %13s │", fmt.Sprintf("(None, %d)", n), thousandsOf(norm)),
		fmt.Sprintf(" Total params: %s (", thousandsOf(norm+trainable)),
		fmt.Sprintf(" Trainable params: %s (", thousandsOf(trainable)),
		fmt.Sprintf(" Non-trainable params: %s (", thousandsOf(norm)),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

// thousandsOf writes n with commas, as Keras's summary does (n < 10⁶).
func thousandsOf(n int) string {
	if n < 1000 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d,%03d", n/1000, n%1000)
}

// TestBatchNormRunReloadsAndMCDropout: a model with Batch Normalization and
// Dropout evaluates, reloaded from its run directory, to the test accuracy
// the run measured; MC dropout adds its own figures, the same for the same
// seed, and is refused for a model without random layers.
func TestBatchNormRunReloadsAndMCDropout(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := run(t, "train", "--data", data, "--out", dir, "--train-samples", "500", "--test-samples", "200", "--epochs", "3",
		"--layers", "dense(64, relu), batchnorm, dropout(0.3), dense(32, elu), batchnorm", "-q"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	m := readMetrics(t, dir)
	evaluate := func(args ...string) Evaluation {
		t.Helper()
		if _, stderr, code := run(t, append([]string{"evaluate", "--model", dir, "--data", data, "--test-samples", "200"}, args...)...); code != 0 {
			t.Fatalf("evaluate %v: exit %d: %s", args, code, stderr)
		}
		return readEvaluation(t, dir)
	}
	ev := evaluate()
	if ev.Accuracy != m.TestAccuracy || ev.MCDropout != nil {
		t.Fatalf("reloaded accuracy %v, the run's %v (mc %v)", ev.Accuracy, m.TestAccuracy, ev.MCDropout)
	}
	mc1 := evaluate("--mc-samples", "8", "--mc-seed", "3")
	mc2 := evaluate("--mc-samples", "8", "--mc-seed", "3")
	mc3 := evaluate("--mc-samples", "8", "--mc-seed", "4")
	if mc1.MCDropout == nil || mc1.Accuracy != m.TestAccuracy || *mc1.MCDropout != *mc2.MCDropout {
		t.Fatalf("MC dropout: %+v then %+v", mc1.MCDropout, mc2.MCDropout)
	}
	if mc1.MCDropout.Loss == mc3.MCDropout.Loss || mc1.MCDropout.Loss == mc1.Loss {
		t.Errorf("MC dropout loss %v with seed 3, %v with seed 4, deterministic %v: the passes are not stochastic", mc1.MCDropout.Loss, mc3.MCDropout.Loss, mc1.Loss)
	}
	// predict's JSON says how many passes each MC answer averaged.
	for _, mc := range []string{"0", "8"} {
		stdout, stderr, code := run(t, "predict", "--model", dir, "--json", "--mc-samples", mc, filepath.Join(dir, "samples.png"))
		var preds []Prediction
		if code != 0 || json.Unmarshal([]byte(stdout), &preds) != nil || len(preds) != 1 {
			t.Fatalf("predict --mc-samples %s: exit %d: %s%s", mc, code, stdout, stderr)
		}
		if want := map[string]int{"0": 0, "8": 8}[mc]; preds[0].MCSamples != want || strings.Contains(stdout, "mc_samples") != (want > 0) {
			t.Errorf("predict --mc-samples %s: mc_samples %d in %s", mc, preds[0].MCSamples, stdout)
		}
	}
	// And its text says that the probabilities are MC averages.
	for _, mc := range []string{"0", "8"} {
		stdout, stderr, code := run(t, "predict", "--model", dir, "--mc-samples", mc, filepath.Join(dir, "samples.png"))
		if code != 0 || strings.Contains(stdout, "mean of 8 passes") != (mc == "8") {
			t.Errorf("predict --mc-samples %s: exit %d: %s%s", mc, code, stdout, stderr)
		}
	}
	plain := trainedRun(t)
	if _, stderr, code := run(t, "evaluate", "--model", plain, "--data", data, "--mc-samples", "4"); code != 2 || !strings.Contains(stderr, "no dropout") {
		t.Errorf("MC dropout without dropout layers: exit %d %q", code, stderr)
	}
}
