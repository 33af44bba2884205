package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTrainAgainFromARunsModel: training from a run's model.json with the
// run's fit flags gives the run's weights bit for bit, also for a 1cycle
// run with SGD's Nesterov momentum, whose schedule Keras cannot hold
// (model.json keeps it in its cifarnet member) and whose optimizer was
// once left out of the file, so that the replay trained Nadam. Flags given
// with the file change it as they change the run: --lr (1cycle's peak),
// --epochs (its length), --max-lr.
func TestTrainAgainFromARunsModel(t *testing.T) {
	data := sharedData(t)
	fit := []string{"--data", data, "--train-samples", "600", "--test-samples", "100", "--epochs", "3", "--patience", "-1", "-q"}
	oneCycle := []string{"--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--lr", "0.05", "--lr-schedule", "onecycle"}
	train := func(args ...string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := run(t, append(append([]string{"train", "--out", out}, fit...), args...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, opt := range [][]string{oneCycle, {"--optimizer", "adam", "--lr-schedule", "exponential", "--decay-steps", "5", "--decay-rate", "0.5"}} {
		first := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := run(t, append(append([]string{"train", "--out", first, "--hidden", "32,16"}, fit...), opt...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", opt, code, stderr)
		}
		model := filepath.Join(first, "model.json")
		a, _ := os.ReadFile(filepath.Join(first, "model.safetensors"))
		if b := train("--model", model); !bytes.Equal(a, b) {
			t.Errorf("%v: the run trained again from its model.json gives other weights", opt)
		}
		if !slices.Equal(opt, oneCycle) {
			continue
		}
		for _, extra := range [][]string{{"--lr", "0.02"}, {"--epochs", "4"}, {"--max-lr", "0.03"}} {
			direct := append(append([]string{"--hidden", "32,16"}, oneCycle...), extra...)
			if extra[0] == "--max-lr" { // --lr is refused beside --max-lr
				direct = slices.Delete(direct, 7, 9)
			}
			if !bytes.Equal(train(direct...), train(append([]string{"--model", model}, extra...)...)) {
				t.Errorf("the 1cycle run's model.json with %v trains otherwise than the run's flags with it", extra)
			}
		}
	}
}

// TestScheduleFlagsChangeAFilesSchedule: a schedule's flags given without
// --lr-schedule change the schedule of a Keras file's compile_config, as
// they change a run's 1cycle kept in its model.json (they were refused as
// given without --lr-schedule).
func TestScheduleFlagsChangeAFilesSchedule(t *testing.T) {
	data := sharedData(t)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(data), "keras", "exercise_model.json"))
	if err != nil {
		t.Skip(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	opt := m["compile_config"].(map[string]any)["optimizer"].(map[string]any)["config"].(map[string]any)
	opt["learning_rate"] = map[string]any{"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
		"config": map[string]any{"initial_learning_rate": 0.001, "decay_steps": 100, "decay_rate": 0.5}, "registered_name": nil}
	file := filepath.Join(t.TempDir(), "model.json")
	b, _ = json.Marshal(m)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fit := []string{"--data", data, "--train-samples", "600", "--test-samples", "100", "--epochs", "2", "-q"}
	weights := func(args ...string) []byte {
		out := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := run(t, append(append([]string{"train", "--out", out}, fit...), args...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		w, _ := os.ReadFile(filepath.Join(out, "model.safetensors"))
		return w
	}
	if !bytes.Equal(weights("--model", file, "--decay-steps", "3"), weights("--lr-schedule", "exponential", "--decay-steps", "3", "--decay-rate", "0.5")) {
		t.Error("the file's schedule with --decay-steps trains otherwise than the flags' schedule")
	}
	// ReduceLROnPlateau with the file's schedule is refused, naming it.
	_, stderr, code := run(t, append(append([]string{"train", "--out", filepath.Join(t.TempDir(), "run")}, fit...), "--model", file, "--reduce-lr-on-plateau")...)
	if want := "--reduce-lr-on-plateau: ReduceLROnPlateau needs a constant learning rate, not the model file's schedule ExponentialDecay"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("--reduce-lr-on-plateau with the file's schedule: exit %d, stderr %q, want exit 2 and %q", code, stderr, want)
	}
}
