package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/train"
)

// TestExperimentSIGKILLThenRerun kills an experiment with SIGKILL (no
// chance to save anything) once a run has backed itself up, reruns the
// same command, and wants the statistics and every run's model bytes
// equal to an experiment never killed, with the killed run continued from
// its backup rather than trained again from its start.
func TestExperimentSIGKILLThenRerun(t *testing.T) {
	data := sharedData(t)
	args := func(dir string) []string {
		return []string{"experiment", "--data", data, "--dir", dir, "--seeds", "0-1", "--grid", "activation=elu,relu",
			"--epochs", "8", "--patience", "3", "--train-samples", "2000", "--test-samples", "200", "--hidden", "64",
			"--backup-and-restore", "epoch"}
	}
	whole := filepath.Join(t.TempDir(), "whole")
	if _, stderr, code := run(t, args(whole)...); code != 0 {
		t.Fatalf("uninterrupted experiment: exit %d %s", code, stderr)
	}

	dir := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(binary, args(dir)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it as soon as a run holds a backup (polling for the file: the
	// kill waits for that, not for a length of time).
	var backedUp string
	deadline := time.Now().Add(5 * time.Minute)
	for backedUp == "" && time.Now().Before(deadline) {
		cks, _ := filepath.Glob(filepath.Join(dir, "runs", "*", train.CheckpointFile))
		if len(cks) > 0 {
			backedUp = filepath.Dir(cks[0])
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Kill()
	err := cmd.Wait()
	var x *exec.ExitError
	if !errors.As(err, &x) || x.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the experiment was not killed: %v (stderr %q)", err, stderr.String())
	}
	if backedUp == "" {
		t.Fatal("no run saved a backup")
	}
	ck, err := train.LoadCheckpoint(backedUp)
	if err != nil {
		t.Fatalf("the backup left by the killed experiment: %v", err)
	}
	if ck.Epoch < 1 {
		t.Fatalf("the backup is at epoch %d, step %d: want an epoch end", ck.Epoch, ck.Step)
	}
	if _, err := os.Stat(filepath.Join(backedUp, "report.html")); err == nil {
		t.Fatal("the backed-up run finished before the kill")
	}

	stdout, stderrText, code := run(t, args(dir)...)
	if code != 0 {
		t.Fatalf("rerun: exit %d %s", code, stderrText)
	}
	// The killed run went on from its backup, not from its first epoch.
	m := regexp.MustCompile(`continued from epoch (\d+), step 1\)  ` + regexp.QuoteMeta(backedUp)).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("the rerun does not say it continued %s from its backup:\n%s", backedUp, stdout)
	}
	if e, _ := strconv.Atoi(m[1]); e < 2 {
		t.Fatalf("continued from epoch %d, want 2 or later", e)
	}

	if a, b := statistics(t, whole), statistics(t, dir); a != b {
		t.Errorf("statistics differ from the uninterrupted experiment's:\n%s\n%s", a, b)
	}
	models, _ := filepath.Glob(filepath.Join(whole, "runs", "*", "model.safetensors"))
	if len(models) != 4 {
		t.Fatalf("%d models in the uninterrupted experiment, want 4", len(models))
	}
	for _, a := range models {
		b := filepath.Join(dir, strings.TrimPrefix(a, whole))
		wa, _ := os.ReadFile(a)
		wb, err := os.ReadFile(b)
		if err != nil || !bytes.Equal(wa, wb) {
			t.Errorf("%s differs from %s (%v)", b, a, err)
		}
	}
	if cks, _ := filepath.Glob(filepath.Join(dir, "runs", "*", train.CheckpointFile)); len(cks) > 0 {
		t.Errorf("checkpoints left after the rerun: %v", cks)
	}
}

// statistics is the "statistics" of DIR/experiment.json, as JSON.
func statistics(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "experiment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Statistics json.RawMessage }
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Statistics) < 100 {
		t.Fatalf("%s: no statistics", dir)
	}
	return string(e.Statistics)
}
