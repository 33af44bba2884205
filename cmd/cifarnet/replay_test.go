package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTrainAgainFromARunsModel: training from a run's model.json with the
// run's fit flags gives the run's weights bit for bit, also for a 1cycle
// run with SGD's Nesterov momentum, whose schedule Keras cannot hold
// (model.json keeps it in its cifarnet member) and whose optimizer was
// once left out of the file, so that the replay trained Nadam.
func TestTrainAgainFromARunsModel(t *testing.T) {
	data := sharedData(t)
	fit := []string{"--data", data, "--train-samples", "600", "--test-samples", "100", "--epochs", "3", "--patience", "-1", "-q"}
	for _, opt := range [][]string{
		{"--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--lr", "0.05", "--lr-schedule", "onecycle"},
		{"--optimizer", "adam", "--lr-schedule", "exponential", "--decay-steps", "5", "--decay-rate", "0.5"},
	} {
		first := filepath.Join(t.TempDir(), "run")
		if _, stderr, code := run(t, append(append([]string{"train", "--out", first, "--hidden", "32,16"}, fit...), opt...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", opt, code, stderr)
		}
		again := filepath.Join(t.TempDir(), "again")
		if _, stderr, code := run(t, append([]string{"train", "--model", filepath.Join(first, "model.json"), "--out", again}, fit...)...); code != 0 {
			t.Fatalf("%v again: exit %d: %s", opt, code, stderr)
		}
		a, err1 := os.ReadFile(filepath.Join(first, "model.safetensors"))
		b, err2 := os.ReadFile(filepath.Join(again, "model.safetensors"))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%v: the run trained again from its model.json gives other weights (%v, %v)", opt, err1, err2)
		}
	}
}
