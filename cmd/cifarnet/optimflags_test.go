package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/train"
)

func parseConfig(t *testing.T, args ...string) train.Config {
	t.Helper()
	var c train.Config
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	addConfigFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return c
}

// TestOptimizerFlagsMakeTheConfig: each flag lands on its Keras argument,
// only the flags given are passed, and --lr defaults to the optimizer's.
func TestOptimizerFlagsMakeTheConfig(t *testing.T) {
	c := parseConfig(t)
	if c.OptimizerArgs != nil || c.LRSchedule != nil || c.ReduceLR != nil || c.LearningRate != 0.001 || c.Optimizer != "nadam" {
		t.Fatalf("defaults: %+v", c)
	}
	if !reflect.DeepEqual(c, train.Exercise()) {
		t.Fatalf("the default flags are not the exercise: %+v", c)
	}
	c = parseConfig(t, "--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--clipnorm", "1")
	if c.LearningRate != 0.01 || !reflect.DeepEqual(c.OptimizerArgs, optim.Args{"momentum": 0.9, "nesterov": true, "clipnorm": 1.0}) {
		t.Fatalf("sgd: lr %v args %v", c.LearningRate, c.OptimizerArgs)
	}
	c = parseConfig(t, "--lr", "0.2", "--optimizer", "sgd")
	if c.LearningRate != 0.2 {
		t.Fatalf("--lr before --optimizer lost: %v", c.LearningRate)
	}
	c = parseConfig(t, "--optimizer", "adamw", "--use-ema", "--ema-overwrite-frequency", "3", "--beta-1", "0.8", "--amsgrad=false")
	if !reflect.DeepEqual(c.OptimizerArgs, optim.Args{"use_ema": true, "ema_overwrite_frequency": 3, "beta_1": 0.8, "amsgrad": false}) {
		t.Fatalf("adamw: %v", c.OptimizerArgs)
	}
	c = parseConfig(t, "--lr-schedule", "onecycle", "--max-lr", "0.05", "--three-phase", "--anneal-strategy", "linear")
	if c.LRSchedule.ClassName != "OneCycle" || !reflect.DeepEqual(c.LRSchedule.Config, optim.Args{"max_lr": 0.05, "three_phase": true, "anneal_strategy": "linear"}) {
		t.Fatalf("onecycle: %+v", c.LRSchedule)
	}
	s, err := c.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	// 5000 samples, 4000 to train in batches of 128: 32 steps, 50 epochs.
	if oc := s.(optim.OneCycle); oc.TotalSteps != 32*50 || oc.MaxLR != 0.05 || !oc.ThreePhase || oc.DivFactor != 25 {
		t.Fatalf("onecycle schedule %+v", oc)
	}
	c = parseConfig(t, "--lr", "0.1", "--lr-schedule", "piecewise", "--boundaries", "100,200", "--values", "0.1,0.01,0.001")
	if s, err := c.Schedule(); err != nil || s.At(150) != 0.01 {
		t.Fatalf("piecewise: %v %v", s, err)
	}
	c = parseConfig(t, "--lr", "0.1", "--lr-schedule", "exponential", "--decay-steps", "10", "--decay-rate", "0.5", "--staircase")
	if s, err := c.Schedule(); err != nil || s != (optim.ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5, Staircase: true}) {
		t.Fatalf("exponential: %v %v", s, err)
	}
	c = parseConfig(t, "--reduce-lr-patience", "3", "--min-lr", "1e-5", "--monitor", "val_accuracy", "--baseline", "0.3", "--start-from-epoch", "2")
	want := train.DefaultReduceLR()
	want.Patience, want.MinLR = 3, 1e-5
	if c.ReduceLR == nil || *c.ReduceLR != want || c.Monitor != "val_accuracy" || *c.Baseline != 0.3 || c.StartFromEpoch != 2 {
		t.Fatalf("callbacks: %+v %+v", c.ReduceLR, c)
	}
	if c := parseConfig(t, "--reduce-lr-on-plateau"); c.ReduceLR == nil || *c.ReduceLR != train.DefaultReduceLR() {
		t.Fatalf("--reduce-lr-on-plateau: %+v", c.ReduceLR)
	}
	// constant is no schedule (an experiment's grid compares it with one);
	// the last --lr-schedule wins.
	for _, args := range [][]string{{"--lr-schedule", "constant"}, {"--lr-schedule", "onecycle", "--lr-schedule", "constant"}} {
		if c := parseConfig(t, args...); !reflect.DeepEqual(c, train.Exercise()) {
			t.Fatalf("%v: %+v", args, c.LRSchedule)
		}
	}
}

func TestOptimizerFlagErrorsExit2(t *testing.T) {
	data := sharedData(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--optimizer", "sgd", "--momentum", "1.5"}, "--momentum 1.5: want a number from 0 to 1"},
		// An optimizer's flag given to another optimizer names those that
		// take it.
		{[]string{"--optimizer", "sgd", "--beta-1", "0.9"}, "--beta-1: an argument of adam, adamax, adamw, lion and nadam, not of sgd (give --optimizer adam, adamax, adamw, lion or nadam)"},
		{[]string{"--nesterov"}, "--nesterov: an argument of sgd, not of nadam (give --optimizer sgd)"},
		{[]string{"--momentum", "0.9"}, "--momentum: an argument of rmsprop and sgd, not of nadam (give --optimizer rmsprop or sgd)"},
		{[]string{"--optimizer", "adam", "--centered"}, "--centered: an argument of rmsprop, not of adam (give --optimizer rmsprop)"},
		{[]string{"--clipnorm", "1", "--clipvalue", "1"}, "--clipnorm, --clipvalue: give only one"},
		{[]string{"--global-clipnorm", "1", "--clipnorm", "1"}, "--clipnorm, --global-clipnorm: give only one"},
		{[]string{"--lr-schedule", "warp"}, `--lr-schedule warp: unknown schedule (want constant, cosine, cosine-restarts, exponential, inverse-time, onecycle, piecewise, polynomial, or a Keras class name`},
		{[]string{"--lr-schedule", ""}, `--lr-schedule "": want a schedule name`},
		{[]string{"--lr-schedule", "constant", "--max-lr", "0.1"}, "schedule arguments (max-lr) given with lr-schedule constant, which takes none"},
		{[]string{"--max-lr", "0.1", "--lr-schedule", "constant"}, "schedule arguments (max-lr) given with lr-schedule constant, which takes none"},
		{[]string{"--decay-steps", "10"}, "--decay-steps: a schedule's arguments, given without --lr-schedule: add --lr-schedule NAME"},
		{[]string{"--values", "0.1,0.01", "--boundaries", "10"}, "--boundaries, --values: a schedule's arguments, given without --lr-schedule"},
		{[]string{"--lr-schedule", "exponential", "--decay-rate", "0.5"}, "--lr-schedule exponential needs --decay-steps (ExponentialDecay's decay_steps has no default)"},
		{[]string{"--lr-schedule", "ExponentialDecay", "--decay-steps", "3"}, "--lr-schedule ExponentialDecay needs --decay-rate"},
		{[]string{"--lr-schedule", "cosine", "--decay-steps", "10", "--cycle"}, "CosineDecay has no argument cycle"},
		{[]string{"--lr-schedule", "onecycle", "--total-steps", "2", "--pct-start", "0.5"}, "first phase no steps"},
		// What the schedule asks of arguments left at their defaults names
		// their flags too: --lr-schedule made the schedule.
		{[]string{"--lr-schedule", "onecycle", "--max-lr", "0.1", "--optimizer", "sgd"}, "--momentum 0: the schedule cycles the momentum: want above 0, e.g. 0.9 (or --cycle-momentum=false) (sgd's momentum)"},
		{[]string{"--lr-schedule", "onecycle", "--optimizer", "adagrad"}, "--cycle-momentum=true: adagrad has no momentum to cycle: want false (1cycle's cycle_momentum)"},
		{[]string{"--lr-schedule", "onecycle", "--optimizer", "adam", "--max-momentum", "1"}, "--max-momentum 1: want below 1 with adam, whose beta_1 it cycles: at 1 the step divides by its bias correction 1-beta_1^t, which is 0 (or --cycle-momentum=false) (1cycle's max_momentum)"},
		{[]string{"--lr-schedule", "onecycle", "--momentum", "0.9", "--optimizer", "sgd", "--epochs", "3", "--total-steps", "95"}, "--total-steps 95: fewer than the run's 96 steps (epochs × steps an epoch: 3 × 32), which 1cycle (PyTorch's OneCycleLR) cannot step past: want 96 or more, or fewer epochs (1cycle's total_steps)"},
		// 1cycle peaks at --lr without --max-lr.
		{[]string{"--lr-schedule", "onecycle", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0"}, "--lr 0: want a number > 0"},
		{[]string{"--lr-schedule", "cosine", "--decay-steps", "100", "--reduce-lr-on-plateau"}, "--reduce-lr-on-plateau: ReduceLROnPlateau needs a constant learning rate, not --lr-schedule cosine"},
		{[]string{"--lr-schedule", "cosine", "--decay-steps", "100", "--reduce-lr-factor", "0.5"}, "--reduce-lr-factor: ReduceLROnPlateau needs a constant learning rate, not --lr-schedule cosine"},
		{[]string{"--monitor", "val_acc"}, `monitor "val_acc"`},
		// Keras's "give mode min or max" names the flag.
		{[]string{"--monitor", "learning_rate"}, "--monitor learning_rate: cannot tell whether to maximize or minimize it (early stopping's mode auto): give --mode min or max"},
		{[]string{"--monitor", "learning_rate", "--lr-schedule", "cosine", "--decay-steps", "10"}, "give --mode min or max"},
		{[]string{"--reduce-lr-monitor", "learning_rate"}, "--reduce-lr-monitor learning_rate: cannot tell whether to maximize or minimize it (reduce_lr_on_plateau's mode auto): give --reduce-lr-mode min or max"},
		{[]string{"--reduce-lr-factor", "2"}, "factor 2"},
		{[]string{"--momentum", "x"}, "--momentum"},
		{[]string{"--lr", "NaN"}, "--lr"},
		// Rates float32 makes 0 trained at 0; each message names its flag
		// and says > 0.
		{[]string{"--lr", "0"}, "--lr 0: want a number > 0, from 1.1754944e-38 to 3.4028235e+38"},
		{[]string{"--lr", "-1"}, "--lr -1: want a number > 0, from"},
		{[]string{"--lr", "1e-50"}, "--lr 1e-50: want a number > 0, from"},
		{[]string{"--lr", "1e39"}, "--lr 1e+39: want a number > 0, from"},
		{[]string{"--lr-schedule", "onecycle", "--max-lr", "1e-50"}, "--max-lr 1e-50: want a number > 0, from"},
		{[]string{"--lr-schedule", "exponential", "--decay-rate", "0.5", "--lr", "1e-50"}, "--lr 1e-50: want a number > 0, from"},
		{[]string{"--lr-schedule", "exponential", "--decay-rate", "0.5", "--decay-steps", "-1"}, "--decay-steps -1: want a number > 0 (ExponentialDecay's decay_steps)"},
		{[]string{"--ema-overwrite-frequency", "99999999999"}, "--ema-overwrite-frequency"},
	} {
		_, stderr, code := run(t, append(append([]string{"train"}, tt.args...), "--data", data)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestOneCycleRunLogsTheRate trains a small run with 1cycle through the
// binary: the history has a learning_rate column that rises then falls.
func TestOneCycleRunLogsTheRate(t *testing.T) {
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := run(t, "train", "--data", data, "--out", dir, "-q", "--train-samples", "1000", "--test-samples", "100",
		"--hidden", "32", "--epochs", "6", "--patience", "-1", "--optimizer", "sgd", "--momentum", "0.9", "--nesterov",
		"--lr-schedule", "onecycle", "--max-lr", "0.05")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, train.HistoryCSV))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds" || len(lines) != 7 {
		t.Fatalf("history.csv:\n%s", b)
	}
	h, _, err := train.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	// 800 samples in batches of 128: 7 steps an epoch, 42 in all; the rate
	// at the end of epoch e is the schedule's at step 7e.
	oc := optim.NewOneCycle(0.05, 42)
	for i, e := range h.Epochs {
		if !e.HasLearningRate || e.LearningRate != oc.At(int64(7*(i+1))) {
			t.Fatalf("epoch %d: learning_rate %v (logged %v), want %v", i+1, e.LearningRate, e.HasLearningRate, oc.At(int64(7*(i+1))))
		}
	}
}

func TestLRFindCommand(t *testing.T) {
	data := sharedData(t)
	_, stderr, code := run(t, "lr-find", "--data", data, "--start-lr", "1", "--end-lr", "0.1")
	if code != 2 || !strings.Contains(stderr, "--start-lr 1 and --end-lr 0.1") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// --quiet prints the suggested rate alone, the same as the full
	// output's; the note on a coarse sweep (7 steps) goes to stderr.
	sweep := []string{"lr-find", "--data", data, "--train-samples", "1000", "--start-lr", "1e-5", "--end-lr", "1"}
	full, _, code := run(t, append(sweep, "--out", filepath.Join(t.TempDir(), "a"))...)
	quiet, qerr, qcode := run(t, append(sweep, "--out", filepath.Join(t.TempDir(), "b"), "-q")...)
	_, suggested, _ := strings.Cut(full, "Suggested learning rate: ")
	suggested, _, _ = strings.Cut(suggested, " ")
	if _, err := strconv.ParseFloat(strings.TrimSpace(quiet), 64); code != 0 || qcode != 0 || err != nil || quiet != suggested+"\n" {
		t.Errorf("lr-find -q: exit %d, stdout %q; want the full output's suggested rate %q alone (full output, exit %d: %q)", qcode, quiet, suggested, code, full)
	}
	if !strings.Contains(full, "Note: a sweep of 7 steps") || !strings.Contains(qerr, "cifarnet: note: a sweep of 7 steps") {
		t.Errorf("the coarse sweep's note: %q without -q, stderr %q with it", full, qerr)
	}
	// A sweep that diverges at its first rates names --start-lr (train's
	// error says only that the rate was too high).
	_, stderr, code = run(t, "lr-find", "--data", data, "--train-samples", "600", "--optimizer", "lion", "--start-lr", "9e5", "--end-lr", "1e6", "--out", filepath.Join(t.TempDir(), "lr"))
	if want := "--start-lr 900000: the loss diverged at once: give a lower --start-lr"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("a sweep diverging at once: exit %d, stderr %q, want exit 1 and %q", code, stderr, want)
	}
	// The flags that set the rate during training are refused by name (they
	// were silently ignored), before any data is read.
	for _, args := range [][]string{{"--lr", "0.1"}, {"--lr-schedule", "onecycle", "--max-lr", "0.1"}, {"--reduce-lr-patience", "2"}} {
		_, stderr, code = run(t, append([]string{"lr-find", "--data", "/nonexistent"}, args...)...)
		if code != 2 || !strings.Contains(stderr, args[0]) || !strings.Contains(stderr, "lr-find sets the learning rate itself") {
			t.Errorf("lr-find %v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if out, _, _ := run(t, "lr-find", "--help"); strings.Contains(out, "--lr-schedule string") || strings.Contains(out, "--reduce-lr-factor") {
		t.Errorf("lr-find --help lists the flags it refuses:\n%s", out)
	}
	dir := filepath.Join(t.TempDir(), "find")
	stdout, stderr, code := run(t, "lr-find", "--data", data, "--out", dir, "--train-samples", "1000", "--hidden", "32", "--batch-size", "16", "--optimizer", "sgd")
	if code != 0 || !strings.Contains(stdout, "Suggested learning rate: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, f := range []string{"lr_find.csv", "lr_find.png", "lr_find.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// A sweep of 7 steps (1000 samples, batch 128) cannot place the lowest
	// point: its suggestion comes with a note saying so and how to refine
	// it (it came alone, a rate at the sweep's edge).
	stdout, stderr, code = run(t, "lr-find", "--data", data, "--out", filepath.Join(t.TempDir(), "coarse"), "--train-samples", "1000", "--hidden", "8")
	if code != 0 || !strings.Contains(stdout, "Note: ") || !strings.Contains(stdout, "7 steps from 1e-07 to 10: more --train-samples or a smaller --batch-size give more") {
		t.Errorf("a 7-step sweep: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestKerasCompileOptimizer: a model file's compile_config optimizer (its
// learning_rate a serialized schedule) becomes the run's, flags winning.
func TestKerasCompileOptimizer(t *testing.T) {
	raw := `{"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "SGD", "momentum": 0.9, "nesterov": false,
		"learning_rate": {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
		"config": {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.5, "staircase": true}, "registered_name": null}},
		"registered_name": null}`
	c := parseConfig(t, "--nesterov")
	if err := applyKerasOptimizer(&c, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	if c.Optimizer != "sgd" || c.OptimizerArgs["momentum"] != 0.9 || c.OptimizerArgs["nesterov"] != true || c.LRSchedule.ClassName != "ExponentialDecay" {
		t.Fatalf("%+v %+v", c, c.LRSchedule)
	}
	s, err := c.Schedule()
	if err != nil || s.At(150) != 0.05 {
		t.Fatalf("schedule %v %v", s, err)
	}
	if err := applyKerasOptimizer(&c, []byte(`{"class_name": "Ftrl", "config": {}}`)); err == nil || !strings.Contains(err.Error(), "Ftrl") {
		t.Fatalf("Ftrl: %v", err)
	}
}

// TestLRFindRatesBounded: rates float32 cannot hold are a usage error
// before any data is read (1e-300 to 1e300 swept, then failed with exit 1,
// "plotter: infinite data point"); the bounds themselves sweep and plot.
func TestLRFindRatesBounded(t *testing.T) {
	for _, r := range [][2]string{{"1e-300", "1e300"}, {"1e-300", "1"}, {"1e-6", "1e300"}, {"1e-13", "1"}, {"1e-6", "2e6"}} {
		_, stderr, code := run(t, "lr-find", "--data", "/nonexistent", "--start-lr", r[0], "--end-lr", r[1])
		if code != 2 || !strings.Contains(stderr, "want rates from 1e-12 to 1e+06") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("lr-find %v: exit %d, stderr %q, want exit 2 and one line naming the bounds", r, code, stderr)
		}
	}
	data := sharedData(t)
	dir := filepath.Join(t.TempDir(), "find")
	_, stderr, code := run(t, "lr-find", "--data", data, "--out", dir, "--train-samples", "200", "--hidden", "16", "--batch-size", "16", "--start-lr", "1e-12", "--end-lr", "1e6")
	if code != 0 {
		t.Fatalf("lr-find from 1e-12 to 1e6: exit %d, stderr %q", code, stderr)
	}
}

// TestIgnoredOptionsRefused: options that would do nothing were accepted
// silently (the moving average's without --use-ema; ReduceLROnPlateau's
// with --reduce-lr-on-plateau=false, which they turned back on; lr-find's
// hidden early-stopping flags; early stopping's with --patience -1, which
// turns it off; --mc-seed without --mc-samples): each is refused by name,
// exit 2, before any data is read.
func TestIgnoredOptionsRefused(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--ema-momentum", "0.9"}, "--ema-momentum 0.9: the moving average of the weights is off: give --use-ema"},
		{[]string{"train", "--optimizer", "adamw", "--use-ema=false", "--ema-overwrite-frequency", "3"}, "--ema-overwrite-frequency 3: the moving average"},
		{[]string{"train", "--reduce-lr-on-plateau=false", "--reduce-lr-patience", "2", "--min-lr", "1e-4"}, "--reduce-lr-patience, --min-lr: --reduce-lr-on-plateau=false turns ReduceLROnPlateau off"},
		{[]string{"train", "--reduce-lr-factor", "0.5", "--reduce-lr-on-plateau=false"}, "--reduce-lr-factor: --reduce-lr-on-plateau=false"},
		{[]string{"train", "--optimizer", "sgd", "--momentum", "0.9", "--lr-schedule", "onecycle", "--max-lr", "0.01", "--lr", "0.5"}, "--lr 0.5: --lr-schedule onecycle peaks at --max-lr 0.01"},
		{[]string{"lr-find", "--epochs", "3"}, "--epochs: lr-find runs one epoch, without early stopping"},
		{[]string{"lr-find", "--patience", "2", "--monitor", "loss", "--restore-best=false"}, "--patience, --restore-best, --monitor: lr-find runs one epoch"},
		{[]string{"lr-find", "--mode", "min"}, "--mode: lr-find"},
		{[]string{"lr-find", "--min-delta", "0.1"}, "--min-delta: lr-find"},
		{[]string{"lr-find", "--baseline", "0.1"}, "--baseline: lr-find"},
		{[]string{"lr-find", "--start-from-epoch", "1"}, "--start-from-epoch: lr-find"},
		{[]string{"train", "--patience", "-1", "--monitor", "accuracy", "--min-delta", "0.1"}, "--min-delta, --monitor: --patience -1 turns early stopping off"},
		{[]string{"train", "--patience", "-1", "--start-from-epoch", "3"}, "--start-from-epoch: --patience -1"},
		{[]string{"train", "--restore-best=false", "--patience", "-1"}, "--restore-best: --patience -1"},
		{[]string{"train", "--optimizer", "sgd", "--momentum", "0.9", "--lr-schedule", "onecycle", "--cycle-momentum=false", "--max-momentum", "0.9"}, "--max-momentum: --cycle-momentum=false keeps the momentum"},
		{[]string{"evaluate", "--model", "/nonexistent", "--mc-seed", "3"}, "--mc-seed 3: Monte Carlo dropout is off: give --mc-samples"},
	} {
		_, stderr, code := run(t, append(tt.args, "--data", "/nonexistent")...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
	// With --use-ema (or a model file's use_ema) the options are taken.
	if _, err := applySettings([]experiment.Setting{{Name: "use-ema", Value: "true"}, {Name: "ema-momentum", Value: "0.9"}}); err != nil {
		t.Error(err)
	}
}

// TestUsageErrorsExit2: an lr-find epoch of fewer than 2 steps, and an
// --out where a file stands, are usage errors (exit 2) naming the flags;
// they exited 1 ("want end > start and at least 2 steps", "cannot create
// it: not a directory").
func TestUsageErrorsExit2(t *testing.T) {
	data := sharedData(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	small := []string{"--train-samples", "200", "--test-samples", "100", "--hidden", "8", "--epochs", "1"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lr-find", "--train-samples", "10"}, "--train-samples 10 with --validation-split 0.2 and --batch-size 128 give 1 training step an epoch: lr-find needs at least 2"},
		{[]string{"lr-find", "--batch-size", "4000"}, "--batch-size 4000 give 1 training step"},
		{append([]string{"train", "-q", "--out", file}, small...), "--out " + file + ": not a directory (a file is there"},
		{append([]string{"train", "-q", "--out", filepath.Join(file, "run")}, small...), "--out " + filepath.Join(file, "run") + ": not a directory (a file is there"},
		{[]string{"lr-find", "--out", file, "--train-samples", "200", "--hidden", "8"}, "--out " + file + ": not a directory (a file is there"},
	} {
		_, stderr, code := run(t, append(tt.args, "--data", data)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q, want 2 and one line containing %q", tt.args, code, stderr, tt.want)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "mine" {
		t.Errorf("the file at --out was changed: %q", b)
	}
}

// TestCycledMomentumNote: a 1cycle run that cycles the momentum given by
// --momentum or --beta-1 says that the cycle replaces it; with
// --cycle-momentum=false, or without 1cycle, no note.
func TestCycledMomentumNote(t *testing.T) {
	data := sharedData(t)
	base := []string{"train", "--data", data, "--train-samples", "300", "--test-samples", "100", "--hidden", "16", "--epochs", "1", "--patience", "-1"}
	for _, c := range []struct {
		args []string
		note string
	}{
		{[]string{"--optimizer", "sgd", "--momentum", "0.9", "--lr-schedule", "onecycle"}, "in place of --momentum 0.9"},
		{[]string{"--optimizer", "adam", "--beta-1", "0.8", "--lr-schedule", "onecycle"}, "in place of --beta-1 0.8"},
		{[]string{"--optimizer", "sgd", "--momentum", "0.9", "--lr-schedule", "onecycle", "--cycle-momentum=false"}, ""},
		{[]string{"--optimizer", "sgd", "--momentum", "0.9"}, ""},
	} {
		args := append(append(append([]string(nil), base...), c.args...), "--out", filepath.Join(t.TempDir(), "run"))
		_, errOut, code := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		if got := strings.Contains(errOut, "cifarnet: note: 1cycle moves the momentum"); got != (c.note != "") || !strings.Contains(errOut, c.note) {
			t.Errorf("%v: stderr %q, want the note %q", c.args, errOut, c.note)
		}
	}
}

// TestAverageRestoredNote: a run with --use-ema whose early stopping will
// restore the best epoch's weights says that the model will not keep the
// average; with --restore-best=false, early stopping off, or no average,
// no note.
func TestAverageRestoredNote(t *testing.T) {
	data := sharedData(t)
	base := []string{"train", "--data", data, "--train-samples", "300", "--test-samples", "100", "--hidden", "16", "--epochs", "1"}
	for _, c := range []struct {
		args []string
		note bool
	}{
		{[]string{"--optimizer", "adamw", "--use-ema"}, true},
		{[]string{"--optimizer", "adamw", "--use-ema", "--restore-best=false"}, false},
		{[]string{"--optimizer", "adamw", "--use-ema", "--patience", "-1"}, false},
		{[]string{"--optimizer", "adamw"}, false},
	} {
		args := append(append(append([]string(nil), base...), c.args...), "--out", filepath.Join(t.TempDir(), "run"))
		_, errOut, code := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		if got := strings.Contains(errOut, "cifarnet: note: --use-ema's moving average replaces the weights when training ends, then early stopping's --restore-best puts back"); got != c.note {
			t.Errorf("%v: stderr %q, note %v, want %v", c.args, errOut, got, c.note)
		}
	}
}
