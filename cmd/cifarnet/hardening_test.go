package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	binenc "encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runLimited runs the binary like run, but kills it after limit, and
// reports that as exit -1: for inputs that used to hang.
func runLimited(t *testing.T, limit time.Duration, args ...string) (string, string, int) {
	t.Helper()
	return runProgram(t, limit, binary, args...)
}

// runProgram runs a program as runLimited runs the binary.
func runProgram(t *testing.T, limit time.Duration, program string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
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

// TestNumericFlagsBounded: every float flag must be finite and every
// numeric flag within bounds: one line, exit 2, before any work. These
// used to train then lose the run (NaN, Inf), panic in makeslice, or start
// a million workers.
func TestNumericFlagsBounded(t *testing.T) {
	data := sharedData(t)
	const huge = "9223372036854775807"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--min-delta", "NaN"}, "--min-delta NaN: want a finite number"},
		{[]string{"train", "--min-delta", "Inf"}, "--min-delta +Inf: want a finite number"},
		{[]string{"train", "--lr", "Inf"}, "finite"},
		{[]string{"train", "--lr", "-Inf"}, "finite"},
		{[]string{"train", "--validation-split", "NaN"}, "--validation-split NaN"},
		{[]string{"bench", "--lr", "NaN"}, "finite"},
		{[]string{"train", "--hidden", huge}, huge},
		{[]string{"train", "--batch-size", huge}, "--batch-size " + huge + ": want 1 to"},
		{[]string{"train", "--epochs", huge}, "--epochs " + huge},
		{[]string{"train", "--patience", huge}, "--patience " + huge},
		{[]string{"train", "--threads", "1000000"}, "--threads 1000000: want 0 (all CPUs) to"},
		{[]string{"train", "--hidden", "1000000"}, "1000000"},
		{[]string{"evaluate", "--model", ".", "--batch-size", "1000000000"}, "--batch-size 1000000000: want 1 to"},
		{[]string{"evaluate", "--model", ".", "--threads", "1000000"}, "--threads 1000000"},
		{[]string{"bench", "--synthetic", "100000000"}, "--synthetic 100000000"},
		{[]string{"bench", "--synthetic", "1", "--epochs", "1"}, "--synthetic 1: with --validation-split 0.2, leaves no training"},
		{[]string{"bench", "--hidden", huge, "--synthetic", "1000"}, huge},
	}
	for _, tt := range tests {
		_, stderr, code := runLimited(t, 60*time.Second, append(tt.args, "--data", data)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
}

// runUnderLimit runs the binary with its address space limited (ulimit
// -v), as a machine with little memory would. GOMAXPROCS is fixed: the
// address space the Go runtime maps at start grows with it (2.3 GB with
// 16), and the limits here are for what the program allocates.
func runUnderLimit(t *testing.T, kb int, args ...string) (string, string, int) {
	t.Helper()
	sh := fmt.Sprintf(`ulimit -v %d && GOMAXPROCS=2 exec "$0" "$@"`, kb)
	return runProgram(t, 120*time.Second, "sh", append([]string{"-c", sh, binary}, args...)...)
}

// TestCraftedInputsUnderAMemoryLimit runs crafted inputs with 2 GB of
// address space: each is refused from what it declares (or, for a batch
// size, bounded by the data), never by running out of memory.
func TestCraftedInputsUnderAMemoryLimit(t *testing.T) {
	data := sharedData(t)
	model := trainedRun(t)
	tmp := t.TempDir()
	// A PNG of 100000 x 100000 pixels in a few hundred bytes.
	bomb := filepath.Join(tmp, "bomb.png")
	os.WriteFile(bomb, pngBomb(t, 100000, 100000), 0o644)
	// A model.json asking for 80000 units (a 1 GB kernel) beside small weights.
	big := filepath.Join(tmp, "big")
	os.Mkdir(big, 0o755)
	js, _ := os.ReadFile(filepath.Join(model, "model.json"))
	js = []byte(strings.Replace(string(js), `"units": 32`, `"units": 80000`, 1))
	os.WriteFile(filepath.Join(big, "model.json"), js, 0o644)
	w, _ := os.ReadFile(filepath.Join(model, "model.safetensors"))
	os.WriteFile(filepath.Join(big, "model.safetensors"), w, 0o644)
	const limit = 2 << 20 // kB: 2 GB
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"predict", "--model", model, bomb}, 1, "100000x100000 pixels, more than"},
		{[]string{"predict", "--model", big, bomb}, 1, "need at least 246560000 weights"},
		{[]string{"evaluate", "--model", big, "--data", data}, 1, "need at least 246560000 weights"},
		{[]string{"evaluate", "--model", model, "--data", data, "--batch-size", "16000000", "--test-samples", "200"}, 0, "Test accuracy"},
		{[]string{"bench", "--synthetic", "1000000", "--epochs", "1"}, 2, "--synthetic 1000000: the run needs about"},
		{[]string{"train", "--data", data, "--hidden", "15000,15000"}, 2, "--hidden 15000,15000: the run needs about"},
		{[]string{"train", "--data", data, "--batch-size", "16000000", "--epochs", "1", "--train-samples", "500", "--test-samples", "100", "--hidden", "8", "--out", filepath.Join(tmp, "r")}, 0, "Test accuracy"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runUnderLimit(t, limit, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %.300q, want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// pngBomb makes a valid PNG header declaring w x h pixels, followed by a
// small compressed stream.
func pngBomb(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binenc.Write(&b, binenc.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binenc.Write(&b, binenc.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binenc.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binenc.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1<<16))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// TestRunDirectoryHasOneOwner: while one train writes to --out R, a second
// train --out R (with or without --overwrite) fails at once naming the
// other process, and the first run finishes whole. Two commands started
// together used to both say "Run saved in R", one replacing the other.
func TestRunDirectoryHasOneOwner(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "R")
	first := exec.Command(binary, "train", "--data", data, "--out", dir, "--epochs", "1000", "--patience", "-1", "--seed", "7",
		"--train-samples", "2000", "--test-samples", "100")
	var firstErr strings.Builder
	first.Stderr = &firstErr
	stdout, _ := first.StdoutPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill(); first.Wait() })
	waitForEpoch(t, first, stdout, &firstErr)
	drained := make(chan struct{})
	go func() { io.Copy(io.Discard, stdout); close(drained) }()
	for _, extra := range [][]string{nil, {"--overwrite"}} {
		_, stderr, code := run(t, append([]string{"train", "--data", data, "--out", dir, "--epochs", "1", "--seed", "8"}, extra...)...)
		if code != 1 || !strings.Contains(stderr, "in use by another cifarnet process") {
			t.Errorf("second train %v: exit %d, stderr %q", extra, code, stderr)
		}
	}
	// So does --resume, which said "no checkpoint: no such file or
	// directory" (the first run has none yet).
	if _, stderr, code := run(t, "train", "--resume", dir, "-q"); code != 1 || !strings.Contains(stderr, "--resume "+dir+": is in use by another cifarnet process") {
		t.Errorf("--resume: exit %d, stderr %q", code, stderr)
	}
	first.Process.Signal(os.Interrupt)
	<-drained // its stdout read to the end before Wait closes it
	first.Wait()
	// The second wrote nothing; the checkpoint the interrupt left is the
	// first's.
	if _, err := os.Stat(filepath.Join(dir, "metrics.json")); err == nil {
		t.Fatal("a finished run's metrics.json appeared: the second train wrote into the first's directory")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "checkpoint.safetensors")); err != nil || !strings.Contains(string(b), `\"seed\":7,`) {
		t.Fatalf("the checkpoint is missing or not the first run's (%v; stderr %q)", err, firstErr.String())
	}
}

// TestUsersDirectoryKept: --out naming a directory of the user's files
// (no run) is refused without --overwrite, and the files are untouched.
func TestUsersDirectoryKept(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "report.html"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("mine"), 0o644)
	_, stderr, code := run(t, "train", "--data", sharedData(t), "--out", dir, "--epochs", "1", "--train-samples", "500", "--test-samples", "100")
	if code != 2 || !strings.Contains(stderr, "not a cifarnet run") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, f := range []string{"report.html", "model.safetensors"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != "mine" {
			t.Errorf("%s changed", f)
		}
	}
}

// waitForEpoch waits until a train prints its first epoch's line: by then
// it holds its run directory. (Polling the lock instead took it, for an
// instant, and a train starting in that instant was refused its own
// directory.)
func waitForEpoch(t *testing.T, train *exec.Cmd, stdout io.Reader, stderr *strings.Builder) {
	t.Helper()
	// A train stuck before its first epoch is killed, which ends stdout.
	stuck := time.AfterFunc(2*time.Minute, func() { train.Process.Kill() })
	defer stuck.Stop()
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "val_loss") {
			return
		}
	}
	train.Wait()
	t.Fatalf("the train ended before its first epoch did: %q", stderr.String())
}

// TestPrintedResumeCommandWorks: after "train --data D --out R" and an
// interrupt, the printed "cifarnet train --resume R" finds D by itself (on
// a machine where nothing else would find the data), and flags that would
// change the run are refused with --resume, naming them.
func TestPrintedResumeCommandWorks(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "R")
	first := exec.Command(binary, "train", "--data", data, "--out", dir, "--epochs", "100", "--patience", "-1", "--train-samples", "500", "--test-samples", "100", "--hidden", "8")
	var stderr strings.Builder
	first.Stderr = &stderr
	stdout, _ := first.StdoutPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill(); first.Wait() })
	// Interrupt once the first epoch has ended (an interrupt before the
	// first step saves nothing).
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && !strings.Contains(lines.Text(), "val_loss") {
	}
	first.Process.Signal(os.Interrupt)
	go io.Copy(io.Discard, stdout)
	first.Wait()
	if !strings.Contains(stderr.String(), "continue with: cifarnet train --resume "+dir) {
		t.Fatalf("interrupt: %q", stderr.String())
	}
	for _, bad := range [][]string{{"--epochs", "5"}, {"--lr", "0.1"}, {"--out", "elsewhere"}, {"--hidden", "8"}, {"--overwrite"}} {
		_, errOut, code := emptyMachine(t, append([]string{"train", "--resume", dir}, bad...)...)
		if code != 2 || !strings.Contains(errOut, bad[0]+" cannot be given with it") {
			t.Errorf("--resume with %v: exit %d, stderr %q", bad, code, errOut)
		}
	}
	out, errOut, code := emptyMachine(t, "train", "--resume", dir, "--threads", "1", "-q")
	if code != 0 || !strings.Contains(out, "Test accuracy") {
		t.Fatalf("the printed resume command: exit %d, stderr %q", code, errOut)
	}
}

// TestErrorsComeBeforeTheSummary: a run that cannot start (no data, broken
// data, a run directory already holding a run, missing starting weights)
// prints its one-line error and nothing else: the model's summary used to
// come first, then the error.
func TestErrorsComeBeforeTheSummary(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)
	held := filepath.Join(tmp, "held")
	os.Mkdir(held, 0o755)
	os.WriteFile(filepath.Join(held, "metrics.json"), []byte("{}"), 0o644)
	interrupted := filepath.Join(tmp, "interrupted")
	os.Mkdir(interrupted, 0o755)
	os.WriteFile(filepath.Join(interrupted, "checkpoint.safetensors"), []byte("x"), 0o644)
	small := []string{"--epochs", "1", "--train-samples", "500", "--test-samples", "100"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", filepath.Join(tmp, "nonexistent")}, "no such file"},
		{[]string{"--data", empty}, "data_batch_1.bin"},
		{[]string{"--data", sharedData(t), "--out", held}, "already holds a finished run (pass --overwrite to replace it, or choose another directory)"}, // not --resume: nothing to continue
		{[]string{"--data", sharedData(t), "--out", interrupted}, "already holds a run (pass --overwrite to replace it, or --resume " + interrupted + " to continue it)"},
		{[]string{"--data", sharedData(t), "--init-weights", filepath.Join(tmp, "none.safetensors")}, "none.safetensors"},
		{[]string{"--init-weights", filepath.Join(tmp, "none.safetensors")}, "none.safetensors"}, // before looking for data
	} {
		stdout, stderr, code := emptyMachine(t, append(append([]string{"train"}, tc.args...), small...)...)
		if code == 0 || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want only an error about %q)", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// kerasDenseModel writes a Keras model file (what model.to_json() writes)
// of Dense layers of the given units on CIFAR-10's 3072 inputs, the last a
// softmax.
func kerasDenseModel(t *testing.T, name string, units ...int) string {
	t.Helper()
	layers := []string{`{"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "config": {"batch_shape": [null, 3072], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_layer"}}`}
	for i, u := range units {
		act := "relu"
		if i == len(units)-1 {
			act = "softmax"
		}
		layers = append(layers, fmt.Sprintf(`{"module": "keras.layers", "class_name": "Dense", "registered_name": null, "config": {"name": "dense_%d", "units": %d, "activation": %q}}`, i, u, act))
	}
	js := `{"module": "keras", "class_name": "Sequential", "registered_name": null, "config": {"name": "sequential", "trainable": true, "layers": [` + strings.Join(layers, ", ") + `]}}`
	if err := os.WriteFile(name, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestDescribedModelsUnderAMemoryLimit: a Keras model file or a --layers
// short form is counted from its layers before anything is built, with 2 GB
// of address space: 40 kernels of 2^28 values (each one allowed) are
// refused by every command that reads the file (summary and train used to
// die out of memory building it); a model that can be built but not
// trained is refused naming --model and the estimate; an evaluation batch
// whose activations cannot fit is refused naming --batch-size, before the
// data is read.
func TestDescribedModelsUnderAMemoryLimit(t *testing.T) {
	data := sharedData(t)
	tmp := t.TempDir()
	many := kerasDenseModel(t, filepath.Join(tmp, "many.json"), append(slices.Repeat([]int{16384}, 40), 10)...)
	mid := kerasDenseModel(t, filepath.Join(tmp, "mid.json"), 5000, 10)
	small := []string{"--data", data, "--epochs", "1", "--train-samples", "500", "--test-samples", "100"}
	// A model whose weights are few but whose activations are wide: a
	// one-unit bottleneck, then 20000 units.
	wide := filepath.Join(tmp, "wide")
	if _, stderr, code := run(t, append([]string{"train", "--layers", "dense(1), dense(20000)", "--out", wide, "-q"}, small...)...); code != 0 {
		t.Fatalf("train the wide model: exit %d: %s", code, stderr)
	}
	const limit = 2 << 20 // kB: 2 GB
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"summary", "--model", many}, 2, "weights need about 168.3 GB of memory to build"},
		{append([]string{"train", "--model", many}, small...), 2, "weights need about 168.3 GB of memory to build"},
		{append([]string{"lr-find", "--model", many, "--data", data}, small[4:]...), 2, "weights need about 168.3 GB of memory to build"}, // lr-find refuses --epochs
		{append([]string{"train", "--model", mid, "--out", filepath.Join(tmp, "r")}, small...), 2, "--model " + mid + ": the run needs about"},
		{append([]string{"train", "--layers", "dense(5000)", "--out", filepath.Join(tmp, "r")}, small...), 2, `--layers "dense(5000)": the run needs about`},
		{[]string{"evaluate", "--model", wide, "--data", data, "--batch-size", "10000", "--test-samples", "10000"}, 2, "--batch-size 10000: batches of 10000 samples of this model (23083 activations each) need about 2.8 GB"},
		{[]string{"evaluate", "--model", wide, "--data", data, "--test-samples", "1000"}, 0, "Test accuracy"},
	}
	for _, tt := range tests {
		lim := limit
		if tt.code == 0 {
			// What fits is checked with room to spare: the address space a
			// Go process maps at start varies (once it left 179 MB of 2 GB
			// on a loaded machine), and only the refusals need the tight
			// limit.
			lim = 2 * limit
		}
		stdout, stderr, code := runUnderLimit(t, lim, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %.300q, want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestOutNeverReplacesTheData: --out naming the data's directory, or one
// above it, is refused by train --overwrite and by lr-find (which replaces
// its --out as a unit: it replaced the shared CIFAR-10 directory with its
// plot once); lr-find refuses a directory of the user's files, and
// replaces an earlier sweep only with --overwrite.
func TestOutNeverReplacesTheData(t *testing.T) {
	shared := sharedData(t)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "cifar")
	os.Mkdir(data, 0o755)
	for _, f := range []string{"data_batch_1.bin", "test_batch.bin", "batches.meta.txt"} {
		if err := os.Symlink(filepath.Join(shared, f), filepath.Join(data, f)); err != nil {
			t.Fatal(err)
		}
	}
	user := filepath.Join(tmp, "mine")
	os.Mkdir(user, 0o755)
	os.WriteFile(filepath.Join(user, "notes.txt"), []byte("mine"), 0o644)
	small := []string{"--data", data, "--train-samples", "500", "--test-samples", "100", "--hidden", "8"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lr-find", "--out", data}, "is or holds the data"},
		{[]string{"train", "--out", data, "--overwrite", "--epochs", "1"}, "is or holds the data"},
		{[]string{"train", "--out", tmp, "--overwrite", "--epochs", "1"}, "is or holds the data"},
		{[]string{"lr-find", "--out", user}, "holds files that are not lr-find's (notes.txt)"},
	} {
		_, stderr, code := run(t, append(tc.args, small...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	for _, f := range []string{"data_batch_1.bin", "test_batch.bin", "batches.meta.txt"} {
		if _, err := os.Lstat(filepath.Join(data, f)); err != nil {
			t.Errorf("the data lost %s", f)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(user, "notes.txt")); string(b) != "mine" {
		t.Error("the user's file changed")
	}
	// An earlier lr-find's directory is kept, unless --overwrite.
	out := filepath.Join(tmp, "lr")
	if _, stderr, code := run(t, append([]string{"lr-find", "--out", out}, small...)...); code != 0 {
		t.Fatalf("lr-find: exit %d: %s", code, stderr)
	}
	first, err := os.ReadFile(filepath.Join(out, "lr_find.csv"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "lr_find.csv"), append(first, "# the first sweep\n"...), 0o644)
	_, stderr, code := run(t, append([]string{"lr-find", "--out", out, "--start-lr", "1e-5"}, small...)...)
	if want := "already holds a sweep (lr_find.csv, lr_find.png, lr_find.svg): pass --overwrite"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("lr-find again: exit %d, stderr %q, want exit 2 and %q", code, stderr, want)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "lr_find.csv")); !strings.HasSuffix(string(b), "# the first sweep\n") {
		t.Error("lr-find without --overwrite changed the earlier sweep")
	}
	if _, stderr, code := run(t, append([]string{"lr-find", "--out", out, "--overwrite"}, small...)...); code != 0 {
		t.Fatalf("lr-find --overwrite: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "lr_find.csv")); strings.Contains(string(b), "# the first sweep") {
		t.Error("lr-find --overwrite kept the earlier sweep")
	}
}
