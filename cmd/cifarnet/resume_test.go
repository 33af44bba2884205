package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSIGINTThenResume interrupts a training run with SIGINT once epoch 2
// has begun, checks what it leaves, resumes it, and compares the final
// model with an uninterrupted run's, byte for byte.
func TestSIGINTThenResume(t *testing.T) {
	data := sharedData(t)
	args := []string{"train", "--data", data, "--train-samples", "2000", "--test-samples", "200", "--epochs", "6", "--patience", "-1", "--hidden", "64"}
	full := filepath.Join(t.TempDir(), "full")
	if _, stderr, code := run(t, append(args, "--out", full, "-q")...); code != 0 {
		t.Fatal(stderr)
	}

	dir := filepath.Join(t.TempDir(), "cut")
	cmd := exec.Command(binary, append(args, "--out", dir)...)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Epoch 2/6") {
			cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	for sc.Scan() { // drain
	}
	err := cmd.Wait()
	var x *exec.ExitError
	if !errors.As(err, &x) || x.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, stderr %q", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "checkpoint and history saved") || !strings.Contains(stderr.String(), "--resume "+dir+" --data "+data) {
		t.Fatalf("stderr %q", stderr.String())
	}
	for _, f := range []string{"checkpoint.safetensors", "history.json", "history.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("after the interrupt: %v", err)
		}
	}
	if _, stderr, code := run(t, append(args, "--out", dir)...); code != 2 || !strings.Contains(stderr, "--resume") {
		t.Fatalf("a new run into the interrupted directory: exit %d %q", code, stderr)
	}
	// A setting given with --resume would be ignored: it is refused, naming it.
	if _, stderr, code := run(t, "train", "--data", data, "--resume", dir, "--lr", "0.5", "-q"); code != 2 || !strings.Contains(stderr, "--lr") {
		t.Fatalf("--resume with --lr: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, "train", "--data", data, "--resume", dir, "-q"); code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	sameRun(t, full, dir)
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); !os.IsNotExist(err) {
		t.Error("the checkpoint was kept after the run finished")
	}
}

// TestTrainBackupSIGKILLThenResume: with --backup-and-restore epoch, a
// training killed outright (SIGKILL: nothing saved at the kill) leaves its
// last epoch end's checkpoint, and --resume finishes it with the bits of a
// run never killed.
func TestTrainBackupSIGKILLThenResume(t *testing.T) {
	data := sharedData(t)
	args := []string{"train", "--data", data, "--train-samples", "2000", "--test-samples", "200", "--epochs", "8", "--patience", "3", "--hidden", "64", "-q"}
	full := filepath.Join(t.TempDir(), "full")
	if _, stderr, code := run(t, append(args, "--out", full)...); code != 0 {
		t.Fatal(stderr)
	}
	dir := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(binary, append(args, "--out", dir, "--backup-and-restore", "epoch")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	for i := 0; i < 100000; i++ { // polls for the file, up to about 5 minutes
		if _, err := os.Stat(ck); err == nil {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no backup before the kill: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.json")); err == nil {
		t.Fatal("the run finished before the kill")
	}
	if _, stderr, code := run(t, "train", "--data", data, "--resume", dir, "-q"); code != 0 {
		t.Fatalf("resume: exit %d %s", code, stderr)
	}
	sameRun(t, full, dir)
}

// sameRun fails the test unless the resumed run in dir has the model bytes,
// test loss and epochs of the uninterrupted run in full.
func sameRun(t *testing.T, full, dir string) {
	t.Helper()
	a, _ := os.ReadFile(filepath.Join(full, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("the resumed run's model differs from the uninterrupted run's")
	}
	if ma, mb := readMetrics(t, full), readMetrics(t, dir); ma.TestLoss != mb.TestLoss || ma.EpochsRun != mb.EpochsRun {
		t.Fatalf("metrics differ: %+v vs %+v", ma.TestLoss, mb.TestLoss)
	}
}
