package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/stats"
)

var binary string

// TestMain builds the command once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cifarnet-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cifarnet")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func sharedData(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "cifar-10-batches-bin"))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not found at %s", dir)
	}
	return dir
}

// run executes the binary and returns stdout, stderr and the exit status.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runLimited(t, 10*time.Minute, args...)
}

func TestInvalidFlagsExit2(t *testing.T) {
	data := sharedData(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--batch-size", "0"}, "--batch-size 0"},
		{[]string{"train", "--validation-split", "1.5"}, "--validation-split 1.5"},
		{[]string{"train", "--validation-split", "0"}, "--validation-split 0"},
		{[]string{"train", "--train-samples", "60000"}, "--train-samples 60000"},
		{[]string{"train", "--activation", "swoosh"}, `unknown activation "swoosh"`},
		{[]string{"train", "--init", "zeroes"}, `unknown initializer "zeroes"`},
		{[]string{"train", "--optimizer", "adagrd"}, `--optimizer "adagrd": want one of adadelta,`},
		// An optimizer's, a schedule's or a callback's argument is named by
		// its flag, like every other flag.
		{[]string{"train", "--clipnorm", "-1"}, "--clipnorm -1: want a number from 0 to"},
		{[]string{"train", "--optimizer", "sgd", "--momentum", "1.5"}, "--momentum 1.5: want a number from 0 to 1 (sgd's momentum)"},
		{[]string{"train", "--lr-schedule", "exponential", "--decay-steps", "-1"}, "--decay-steps -1: want"},
		{[]string{"train", "--monitor", "val_acc"}, `--monitor "val_acc": want one of`},
		{[]string{"train", "--reduce-lr-factor", "2"}, "--reduce-lr-factor 2: want a number between 0 and 1"},
		{[]string{"train", "--min-lr", "-1"}, "--min-lr -1: want a finite number"},
		{[]string{"train", "--hidden", "256,x"}, "--hidden"},
		{[]string{"train", "--layers", "dense(256, elu"}, "--layers: at character 15 of"},
		{[]string{"train", "--layers", "foo(3)"}, `--layers: "foo" is not a layer`},
		{[]string{"train", "--epochs", "ten"}, "--epochs"},
		// An empty string read as the flag not given.
		{[]string{"train", "--dataset", ""}, "--dataset given empty"},
		{[]string{"train", "--out", ""}, "--out given empty"},
		{[]string{"train", "--no-such-flag"}, "unknown flag"},
		{[]string{"train", "--threads", "-1"}, "--threads -1"},
		{[]string{"train", "--test-samples", "1001"}, "--test-samples 1001: the data at"},
		{[]string{"train", "--train-samples", "20000"}, "has only 10000 training images (data_batch_2.bin is missing)"},
		{[]string{"train", "--train-samples", "50000"}, "(data_batch_2.bin, data_batch_3.bin, data_batch_4.bin and data_batch_5.bin are missing)"},
		{[]string{"evaluate", "--model", ".", "--test-samples", "0"}, "--test-samples 0"},
		{[]string{"train", "--dataset", "imagenet"}, `--dataset "imagenet": want one of`},
		{[]string{"train", "--label-mode", "coarse"}, "--label-mode coarse: only cifar100 has label modes"},
		{[]string{"bench", "--dataset", "imagenet"}, `--dataset "imagenet"`},
		{[]string{"train", "--dataset", "imagenet", "--layers", "Dense(10)"}, `--dataset "imagenet": want one of`},
		{[]string{"train", "--dataset", "cifar100", "--label-mode", "medium", "--layers", "Dense(10)"}, "--label-mode medium: want fine or coarse"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"trian"}, `unknown command "trian" for "cifarnet" (did you mean train?)`},
		{[]string{"report"}, "accepts 1 arg(s)"},
	}
	// Commands without --data.
	for _, tt := range [][2]string{{"summary", `--dataset "imagenet": want one of`}, {"download", `--dataset "imagenet": want one of`}} {
		_, stderr, code := run(t, tt[0], "--dataset", "imagenet")
		if code != 2 || !strings.Contains(stderr, tt[1]) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s --dataset imagenet: exit %d, stderr %q, want 2 and one line containing %q", tt[0], code, stderr, tt[1])
		}
	}
	for _, tt := range tests {
		_, stderr, code := run(t, append(tt.args, "--data", data)...)
		if code != 2 {
			t.Errorf("%v: exit status %d, want 2 (stderr %q)", tt.args, code, stderr)
		}
		if !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: stderr %q, want one line containing %q", tt.args, stderr, tt.want)
		}
		if strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: panic trace", tt.args)
		}
	}
}

// TestFlagValueErrors: a value that does not parse as its flag's type is
// named with the flag and what the flag takes, for every type of flag the
// commands use, never with strconv's words; exit status 2.
func TestFlagValueErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--epochs", "ten"}, "--epochs ten: not an integer"},
		{[]string{"train", "--epochs", "99999999999999999999"}, "--epochs 99999999999999999999: out of range"},
		{[]string{"train", "--seed", "-1"}, "--seed -1: not a non-negative integer"},
		{[]string{"evaluate", "--mc-seed", "x"}, "--mc-seed x: not a non-negative integer"},
		{[]string{"train", "--validation-split", "abc"}, "--validation-split abc: not a number"},
		{[]string{"train", "--validation-split", "1e999"}, "--validation-split 1e999: out of range"},
		{[]string{"train", "--lr", "abc"}, "--lr abc: not a number"},
		{[]string{"train", "--lr", ""}, `--lr "": not a number`},
		{[]string{"train", "--baseline", "NaN"}, "--baseline NaN: want a finite number"},
		{[]string{"train", "--ema-overwrite-frequency", "x"}, "--ema-overwrite-frequency x: not an integer"},
		{[]string{"train", "--ema-overwrite-frequency", "99999999999"}, "--ema-overwrite-frequency 99999999999: out of range"},
		{[]string{"train", "--hidden", "256,,256"}, "--hidden 256,,256: not a comma-separated list of integers"},
		{[]string{"train", "--hidden", `"1`}, `--hidden "\"1": not a comma-separated list of integers`},
		{[]string{"train", "--boundaries", "1,,2"}, "--boundaries 1,,2: not a comma-separated list of numbers"},
		{[]string{"train", "--values", "1,NaN"}, "--values 1,NaN: want finite numbers"},
		{[]string{"train", "--restore-best=maybe"}, "--restore-best=maybe: not true or false"},
		{[]string{"train", "--nesterov=maybe"}, "--nesterov=maybe: not true or false"},
		{[]string{"train", "--backup-and-restore", "1x"}, `--backup-and-restore 1x: want "epoch", "auto", a number of batches`},
		{[]string{"train", "--lr-schedule", "warp"}, "--lr-schedule warp: unknown schedule"},
		{[]string{"experiment", "--grid", "seed=1", "--named-seed", "-1"}, "--named-seed -1: not a non-negative integer"},
	} {
		_, stderr, code := run(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
			strings.Contains(stderr, "strconv") || strings.Contains(stderr, "invalid argument") {
			t.Errorf("%v: exit %d, stderr %q, want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
	// Every type of flag is covered: one added (a duration) must say
	// what it takes too.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			typ := f.Value.Type()
			if _, ok := valueWants[typ]; !ok && typ != "string" && typ != "stringArray" && typ != "freq" {
				t.Errorf("%s --%s: flag type %s is not in valueWants", c.CommandPath(), f.Name, typ)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}

// TestBoolFlagValueAsArgument: "--restore-best false" (a boolean flag
// takes its value only after "=") says how to write it, for pflag's and
// argValue's boolean flags and a shorthand; a "false" after another flag
// stays an unknown command.
func TestBoolFlagValueAsArgument(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--restore-best", "false"}, `--restore-best takes its value after "=": --restore-best=false`},
		{[]string{"train", "--epochs", "1", "--restore-best", "FALSE"}, `--restore-best takes its value after "=": --restore-best=false`},
		{[]string{"train", "-q", "True"}, `--quiet takes its value after "=": --quiet=true`},
		{[]string{"train", "--nesterov", "false"}, `--nesterov takes its value after "=": --nesterov=false`},
		{[]string{"predict", "--model", "run", "--json", "false", "a.png"}, `--json takes its value after "=": --json=false`},
		{[]string{"train", "--epochs", "2", "false"}, `unknown command "false" for "cifarnet train"`},
		{[]string{"train", "--restore-best=false", "false"}, `unknown command "false" for "cifarnet train"`},
	} {
		_, stderr, code := run(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestMissingDataIsAClearError(t *testing.T) {
	_, stderr, code := run(t, "train", "--data", "/nonexistent/cifar")
	if code != 1 || !strings.Contains(stderr, "/nonexistent/cifar") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestDataBatchFileIsAClearError: --data naming a batch file, not the
// directory that holds it, says to give the directory.
func TestDataBatchFileIsAClearError(t *testing.T) {
	data := sharedData(t)
	_, stderr, code := run(t, "train", "--data", filepath.Join(data, "data_batch_1.bin"))
	if want := "--data takes the directory that holds them (here " + data + ")"; code != 1 || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q, want 1 and one line containing %q", code, stderr, want)
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	out, _, code := run(t, "train", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"--hidden", "--activation", "--init", "--optimizer", "--lr", "--epochs", "--batch-size",
		"--validation-split", "--patience", "--restore-best", "--train-samples", "--test-samples", "--seed",
		"--data", "--out", "--threads", "--quiet", "256,256,256,256", "he_normal", "nadam"} {
		if !strings.Contains(out, f) {
			t.Errorf("train --help lacks %s", f)
		}
	}
}

// TestTrainWritesRun trains a small variant end to end through the binary.
func TestTrainWritesRun(t *testing.T) {
	data := sharedData(t)
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := run(t, "train", "--data", data, "--out", out, "--train-samples", "500", "--test-samples", "100",
		"--epochs", "2", "--hidden", "32")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Test accuracy: 0.") || len(last) != len("Test accuracy: 0.0000") {
		t.Fatalf("last line %q", last)
	}
	// Keras's model.summary() table comes first, then the progress.
	if lines[0] != `Model: "sequential"` || !strings.Contains(stdout, "│ dense (Dense)                   │ (None, 32)             │        98,336 │") {
		t.Fatalf("no summary table before the progress: %q", lines[:3])
	}
	for len(lines) > 2 && !strings.HasPrefix(lines[0], "Epoch 1/2") {
		lines = lines[1:]
	}
	if !strings.HasPrefix(lines[0], "Epoch 1/2") || !strings.Contains(lines[1], "4/4 ━") || !strings.Contains(lines[1], "val_loss: ") {
		t.Fatalf("progress lines %q", lines[:2])
	}
	if strings.ContainsAny(stdout, "\r\x1b") {
		t.Fatal("control characters in non-terminal output")
	}
	// The reading comes before the last line, as a paragraph of lines of
	// at most 100 characters.
	if !strings.Contains(stdout, "Validation loss was lowest at epoch") || !strings.Contains(stdout, "Training ran all 2 epochs") {
		t.Errorf("no reading in the output:\n%s", stdout)
	}
	for _, l := range lines {
		if len([]rune(l)) > 100 && !strings.Contains(l, "━") {
			t.Errorf("reading line of %d characters: %q", len([]rune(l)), l)
		}
	}
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"test_accuracy", "test_loss", "epochs_run", "best_epoch", "best_val_loss", "seed", "train_seconds", "config"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metrics.json lacks %s", k)
		}
	}
	for _, f := range []string{"history.json", "history.csv", "model.safetensors", "model.json", "report.html",
		"loss.png", "loss.svg", "accuracy.png", "confusion_counts.png", "confusion_normalized.svg", "per_class.png", "samples.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A second run into the same directory is refused, and the first kept.
	_, stderr, code = run(t, "train", "--data", data, "--out", out, "--epochs", "1")
	if code != 2 || !strings.Contains(stderr, "--overwrite") {
		t.Fatalf("rerun into %s: exit %d, %q", out, code, stderr)
	}
	if b2, _ := os.ReadFile(filepath.Join(out, "metrics.json")); string(b2) != string(b) {
		t.Fatal("the refused run changed metrics.json")
	}
}

func TestReportCommand(t *testing.T) {
	data := sharedData(t)
	out := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := run(t, "train", "--data", data, "--out", out, "--train-samples", "300", "--test-samples", "50", "--epochs", "1", "--hidden", "16", "-q"); code != 0 {
		t.Fatal(stderr)
	}
	html := filepath.Join(out, "report.html")
	before, _ := os.ReadFile(html)
	os.Remove(html)
	os.Remove(filepath.Join(out, "loss.png"))
	stdout, stderr, code := run(t, "report", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	after, err := os.ReadFile(html)
	if err != nil || !strings.Contains(stdout, "report.html") {
		t.Fatalf("report.html not regenerated: %v %q", err, stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "loss.png")); err != nil {
		t.Fatal("loss.png not regenerated")
	}
	// The same run gives the same report (the figures are deterministic).
	if string(before) != string(after) {
		t.Error("regenerated report.html differs from the one training wrote")
	}
	if _, stderr, code := run(t, "report", filepath.Join(out, "nope")); code != 1 || !strings.Contains(stderr, "not a run directory") {
		t.Errorf("missing run dir: exit %d %q", code, stderr)
	}
	if _, stderr, code := run(t, "report"); code != 2 || !strings.Contains(stderr, "accepts 1 arg") {
		t.Errorf("no argument: exit %d %q", code, stderr)
	}
}

// TestBenchReportsTheUpdate: bench gives every epoch's share of time in
// the optimizer's update, and their median, each between 0 and 100%.
func TestBenchReportsTheUpdate(t *testing.T) {
	out, errOut, code := run(t, "bench", "--synthetic", "300", "--epochs", "2", "--optimizer", "adam", "--amsgrad")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	re := regexp.MustCompile(`(?m)^(epoch [12]:|median) .* update +([0-9.]+)%`)
	ms := re.FindAllStringSubmatch(out, -1)
	if len(ms) != 3 {
		t.Fatalf("%d lines with the update's share, want 3 (2 epochs, the median):\n%s", len(ms), out)
	}
	for _, m := range ms {
		if v, err := strconv.ParseFloat(m[2], 64); err != nil || v <= 0 || v > 100 {
			t.Errorf("%s: update %s%%, want more than 0 and at most 100", m[1], m[2])
		}
	}
	// A loss that overflows in the first epoch leaves nothing to time:
	// one line saying so, not a panic.
	out, errOut, code = run(t, "bench", "--synthetic", "300", "--epochs", "2", "--optimizer", "sgd", "--lr", "1e30")
	if code != 1 || !strings.HasPrefix(errOut, "cifarnet: no complete epoch to time: loss became") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("a loss overflowing in epoch 1: exit %d, stderr %q; want 1 and one line saying no epoch is complete", code, errOut)
	}
	// Early stopping's flags are refused, not ignored.
	if _, errOut, code = run(t, "bench", "--synthetic", "300", "--patience", "3"); code != 2 || !strings.Contains(errOut, "--patience: bench times a fixed number of epochs") {
		t.Errorf("bench --patience 3: exit %d, stderr %q; want 2 and the flag refused", code, errOut)
	}
	// More synthetic images than CIFAR-10 has (up to 2^20) are timed.
	if out, errOut, code = run(t, "bench", "--synthetic", "60000", "--epochs", "1"); code != 0 || !strings.Contains(out, "48000 training + 12000 validation samples") {
		t.Errorf("--synthetic 60000: exit %d, %s%s", code, out, errOut)
	}
}

// TestBenchMedian: bench's median (stats.Quantile at 0.5) is numpy's, the
// mean of the two middle values of an even count, without reordering its
// argument.
func TestBenchMedian(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{250.5, 232.8, 240.6, 244}, 242.3}, {[]float64{5, 1, 3}, 3}} {
		in := slices.Clone(c.x)
		if got := stats.Quantile(c.x, 0.5); math.Abs(got-c.want) > 1e-9 || !slices.Equal(in, c.x) {
			t.Errorf("median(%v) = %g, want %g, the slice unchanged", in, got, c.want)
		}
	}
}

// TestBenchCPUProfile checks that bench --cpuprofile writes a profile (a
// gzip stream, as pprof writes it) and that an unwritable path fails with
// one line naming the flag, before any data is looked for.
func TestBenchCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	out, errOut, code := run(t, "bench", "--synthetic", "300", "--epochs", "1", "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile %s: %d bytes, %v; want a gzip stream", prof, len(b), err)
	}
	_, errOut, code = run(t, "bench", "--data", filepath.Join(t.TempDir(), "nowhere"), "--cpuprofile", filepath.Join(t.TempDir(), "no", "cpu.prof"))
	if code != 1 || !strings.HasPrefix(errOut, "cifarnet: --cpuprofile: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q: want 1 and one line about --cpuprofile", code, errOut)
	}
	// A file that is not a profile (a run's model, a gzipped archive) is
	// never replaced; a profile is.
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write([]byte("data_batch_1.bin"))
	z.Close()
	for _, content := range []string{"weights", gz.String()} {
		model := filepath.Join(t.TempDir(), "model.safetensors")
		if err := os.WriteFile(model, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code = run(t, "bench", "--synthetic", "300", "--epochs", "1", "--cpuprofile", model)
		if b, _ := os.ReadFile(model); code != 2 || string(b) != content || !strings.Contains(errOut, "not a CPU profile") {
			t.Errorf("--cpuprofile naming a model: exit %d, stderr %q, file %q: want 2, refused, untouched", code, errOut, b)
		}
	}
	if _, errOut, code = run(t, "bench", "--synthetic", "300", "--epochs", "1", "--cpuprofile", prof); code != 0 {
		t.Errorf("--cpuprofile naming a profile: exit %d, %s", code, errOut)
	}
}
