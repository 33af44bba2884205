package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runLimited runs the binary like run, but kills it after limit, and
// reports that as exit -1: for inputs that used to hang.
func runLimited(t *testing.T, limit time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), errOut.String(), -1
	}
	code := 0
	var x *exec.ExitError
	if errors.As(err, &x) {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func mkfifo(t *testing.T, name string) string {
	t.Helper()
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return name
}

// TestSpecialFilesAreRefused: a FIFO (or a directory) wherever a command
// reads a file the user names is refused at once with a one-line error,
// exit 1; it used to block forever in open.
func TestSpecialFilesAreRefused(t *testing.T) {
	data := sharedData(t)
	model := trainedRun(t)
	tmp := t.TempDir()
	fifo := mkfifo(t, filepath.Join(tmp, "fifo"))
	// A data directory whose batch file is a FIFO.
	fifoData := filepath.Join(tmp, "data")
	os.Mkdir(fifoData, 0o755)
	for _, f := range []string{"test_batch.bin", "batches.meta.txt"} {
		os.Symlink(filepath.Join(data, f), filepath.Join(fifoData, f))
	}
	mkfifo(t, filepath.Join(fifoData, "data_batch_1.bin"))
	// A model directory whose model.json is a FIFO.
	fifoModel := filepath.Join(tmp, "model")
	os.Mkdir(fifoModel, 0o755)
	mkfifo(t, filepath.Join(fifoModel, "model.json"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", fifo, "--epochs", "1"}, "not a regular file (a named pipe)"},
		{[]string{"train", "--data", fifoData, "--epochs", "1"}, "data_batch_1.bin: not a regular file"},
		{[]string{"train", "--data", data, "--epochs", "1", "--init-weights", fifo}, "not a regular file"},
		{[]string{"predict", "--model", model, fifo}, "not a regular file (a named pipe)"},
		{[]string{"predict", "--model", model, tmp}, "not a regular file (a directory)"},
		{[]string{"evaluate", "--model", fifoModel, "--data", data}, "model.json: not a regular file"},
		{[]string{"evaluate", "--model", model, "--data", fifo}, "not a regular file"},
	}
	for _, tt := range tests {
		_, stderr, code := runLimited(t, 60*time.Second, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want exit 1 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestBrokenDataFileIsNotAFlagError: a missing or empty data_batch_1.bin
// is a broken data set (exit 1 naming the file), not a --train-samples
// error (exit 2).
func TestBrokenDataFileIsNotAFlagError(t *testing.T) {
	data := sharedData(t)
	for _, empty := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
		os.Mkdir(dir, 0o755)
		os.Symlink(filepath.Join(data, "test_batch.bin"), filepath.Join(dir, "test_batch.bin"))
		if empty {
			os.WriteFile(filepath.Join(dir, "data_batch_1.bin"), nil, 0o644)
		}
		_, stderr, code := run(t, "train", "--data", dir, "--epochs", "1")
		if code != 1 || !strings.Contains(stderr, "data_batch_1.bin") || strings.Contains(stderr, "--train-samples") {
			t.Errorf("empty=%v: exit %d, stderr %q", empty, code, stderr)
		}
	}
	// Fewer samples than asked for is still the flag's fault.
	_, stderr, code := run(t, "train", "--data", data, "--train-samples", "20000", "--epochs", "1")
	if code != 2 || !strings.Contains(stderr, "--train-samples 20000") {
		t.Errorf("--train-samples 20000: exit %d, stderr %q", code, stderr)
	}
}

// TestErrorLinesAreShort: whatever a crafted file holds, the error line
// printed stays short (a 900 KB value in model.json used to be echoed whole).
func TestErrorLinesAreShort(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m")
	os.Mkdir(model, 0o755)
	long := strings.Repeat("x", 900<<10)
	for _, js := range []string{`{"format":"` + long + `"}`, `{"format":1` + long + `}`, `{"` + long + `":[}`} {
		os.WriteFile(filepath.Join(model, "model.json"), []byte(js), 0o644)
		_, stderr, code := run(t, "predict", "--model", model, "x.png")
		if code != 1 || len(stderr) > 1200 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("exit %d, %d bytes of stderr: %.200s", code, len(stderr), stderr)
		}
	}
}
