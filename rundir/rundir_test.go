package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/train"
)

func sharedData(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "shared", "cifar-10-batches-bin"))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not found at %s", dir)
	}
	return dir
}

func small() train.Config {
	c := train.Exercise()
	c.TrainSamples, c.TestSamples, c.Epochs, c.Hidden, c.Patience = 400, 100, 3, []int{32}, 1
	return c
}

// TestInterruptResume interrupts a run inside its second epoch, resumes it
// from its directory, and wants the files of a run never interrupted.
func TestInterruptResume(t *testing.T) {
	src := sharedData(t)
	cfg := small()
	whole, err := Train(Options{Config: cfg, Dir: t.TempDir(), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	steps := 0
	_, err = Train(Options{Config: cfg, Dir: dir, Source: src, Interrupt: func() bool { steps++; return steps == 5 }})
	var intr *Interrupted
	if !errors.As(err, &intr) || intr.Dir != dir || intr.Epoch != 2 {
		t.Fatalf("got %v, want an interruption in epoch 2", err)
	}
	// It ran intr.Step-1 steps of epoch 2: "interrupted before epoch 2,
	// step 2" read as 2 steps done.
	if want := fmt.Sprintf("interrupted in epoch 2 after step %d of %d: ", intr.Step-1, cfg.StepsPerEpoch()); intr.Step < 2 || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want it to start %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); err != nil {
		t.Fatalf("no checkpoint after the interruption: %v", err)
	}
	// Another process training the directory: refused as such, before
	// its checkpoint is read.
	other, err := Open(dir, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(Options{Dir: dir, Resume: true, Source: src}); !errors.Is(err, ErrBusy) {
		t.Fatalf("resume of a directory in use: %v, want ErrBusy", err)
	}
	other.Close()
	// A second run into the same directory is refused: it holds a run.
	var de *DirError
	if _, err := Train(Options{Config: cfg, Dir: dir, Source: src}); !errors.As(err, &de) || !errors.Is(err, ErrExists) {
		t.Fatalf("second run into %s: %v, want ErrExists", dir, err)
	}
	var from [3]int
	resumed, err := Train(Options{Dir: dir, Resume: true, Source: src, Continuing: func(e, s, n int) { from = [3]int{e, s, n} }})
	if err != nil {
		t.Fatal(err)
	}
	if want := [3]int{2, intr.Step, cfg.StepsPerEpoch()}; from != want {
		t.Errorf("Continuing told epoch, step, steps %v, want %v", from, want)
	}
	if resumed.Metrics.TestAccuracy != whole.Metrics.TestAccuracy || resumed.Metrics.TestLoss != whole.Metrics.TestLoss ||
		resumed.Metrics.EpochsRun != whole.Metrics.EpochsRun {
		t.Fatalf("resumed %+v, whole %+v", resumed.Metrics, whole.Metrics)
	}
	a, _ := os.ReadFile(filepath.Join(whole.Dir, saving.WeightsFile))
	b, _ := os.ReadFile(filepath.Join(dir, saving.WeightsFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("%s differs between the resumed and the whole run", saving.WeightsFile)
	}
	if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); !os.IsNotExist(err) {
		t.Errorf("checkpoint left after the run finished: %v", err)
	}
	for _, f := range []string{train.MetricsJSON, train.HistoryJSON, "report.html", "model.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("finished run lacks %s", f)
		}
	}
	// model.json's compile_config holds the optimizer, as Keras's to_json
	// writes it, and it reads back to the run's.
	k, err := saving.ReadKeras(filepath.Join(dir, "model.json"))
	if err != nil || k.Compile == nil || k.Compile.Optimizer == nil {
		t.Fatalf("model.json: %v, compile_config %+v: no optimizer", err, k)
	}
	back := train.Exercise()
	if err := back.SetKerasOptimizer(k.Compile.Optimizer); err != nil || back.Optimizer != cfg.Optimizer || back.LearningRate != cfg.LearningRate {
		t.Errorf("model.json's optimizer %s reads back as %s lr %g (%v), want %s lr %g", k.Compile.Optimizer, back.Optimizer, back.LearningRate, err, cfg.Optimizer, cfg.LearningRate)
	}
	// Each resume that cannot be says why (all were "no checkpoint: no
	// such file or directory").
	if _, err := Train(Options{Dir: dir, Resume: true, Source: src}); !errors.Is(err, ErrFinished) {
		t.Errorf("resume of a finished run: %v, want ErrFinished", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := Train(Options{Dir: missing, Resume: true, Source: src}); err == nil || err.Error() != "resume "+missing+": no such directory" {
		t.Errorf("resume of a missing directory: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the resume made the missing directory: %v", err)
	}
	// A run another process trains, with no checkpoint yet.
	busy := t.TempDir()
	d, err := Open(busy, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := Train(Options{Dir: busy, Resume: true, Source: src}); !errors.Is(err, ErrBusy) {
		t.Errorf("resume of a directory in use, no checkpoint in it: %v, want ErrBusy", err)
	}
}

// TestFieldErrors checks that invalid settings and too few samples come
// back as field errors naming the Config field, before any directory is made.
func TestFieldErrors(t *testing.T) {
	src := sharedData(t)
	for _, tt := range []struct {
		field string
		edit  func(*train.Config)
	}{
		{"batch_size", func(c *train.Config) { c.BatchSize = 0 }},
		{"activation", func(c *train.Config) { c.Activation = "swish?" }},
		{"threads", func(c *train.Config) { c.Threads = -2 }},
		{"train_samples", func(c *train.Config) { c.TrainSamples = 20000 }}, // the shared data has 10000
	} {
		cfg := small()
		tt.edit(&cfg)
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Train(Options{Config: cfg, Dir: dir, Source: src})
		var fe *train.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: got %v, want a field error on it", tt.field, err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s: the run directory was made", tt.field)
		}
	}
}

// TestOverwriteContinuesOnlyFromTheSameInitWeights: a replacing run
// started again continues its checkpoint only when it starts from the same
// weights, by content: the same --init-weights path holding other weights,
// or no --init-weights, starts afresh (and ends as a fresh run from them).
func TestOverwriteContinuesOnlyFromTheSameInitWeights(t *testing.T) {
	src := sharedData(t)
	cfg := small()
	whole := func(c train.Config, initWeights string) string {
		t.Helper()
		r, err := Train(Options{Config: c, Dir: t.TempDir(), Source: src, InitWeights: initWeights})
		if err != nil {
			t.Fatal(err)
		}
		return read(filepath.Join(r.Dir, saving.WeightsFile))
	}
	one := cfg
	one.Epochs = 1
	one.Seed = 1
	a := whole(one, "")
	one.Seed = 2
	b := whole(one, "")
	init := filepath.Join(t.TempDir(), "init.safetensors")
	write(t, init, b)
	fromB, plain := whole(cfg, init), whole(cfg, "")
	if a == b || fromB == plain {
		t.Fatal("the weights to start from are not different")
	}
	dir := filepath.Join(t.TempDir(), "run")
	interrupted := func(initWeights string) {
		t.Helper()
		steps := 0
		_, err := Train(Options{Config: cfg, Dir: dir, Overwrite: true, Source: src, InitWeights: initWeights,
			Interrupt: func() bool { steps++; return steps == 5 }})
		var intr *Interrupted
		if !errors.As(err, &intr) || intr.Epoch != 2 {
			t.Fatalf("got %v, want an interruption in epoch 2", err)
		}
	}
	again := func(initWeights string, continued bool, want string) {
		t.Helper()
		r, err := Train(Options{Config: cfg, Dir: dir, Overwrite: true, Source: src, InitWeights: initWeights})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.ResumedEpoch > 0; got != continued {
			t.Fatalf("init weights %q: continued %v, want %v", initWeights, got, continued)
		}
		if read(filepath.Join(dir, saving.WeightsFile)) != want {
			t.Fatalf("init weights %q: the model is not the run's from its starting weights", initWeights)
		}
	}
	// Started from a's weights, run again with b's in the same file.
	write(t, init, a)
	interrupted(init)
	write(t, init, b)
	again(init, false, fromB)
	// Started from b's, run again from the initializers.
	interrupted(init)
	again("", false, plain)
	// The same weights again: continued.
	interrupted(init)
	again(init, true, fromB)
}

// TestResumePlanned: resuming with the configuration planned for the
// directory continues a checkpoint of that configuration (the threads
// aside) and refuses one of another, the directory left as it was.
func TestResumePlanned(t *testing.T) {
	src := sharedData(t)
	cfg := small()
	dir := t.TempDir()
	steps := 0
	_, err := Train(Options{Config: cfg, Dir: dir, Source: src, Interrupt: func() bool { steps++; return steps == 5 }})
	var intr *Interrupted
	if !errors.As(err, &intr) {
		t.Fatalf("got %v, want an interruption", err)
	}
	ck := read(filepath.Join(dir, train.CheckpointFile))
	other := cfg
	other.LearningRate *= 2
	if _, err := Train(Options{Dir: dir, Resume: true, Source: src, Planned: &other}); err == nil || !strings.Contains(err.Error(), "the checkpoint is of another configuration") {
		t.Fatalf("resumed with another configuration planned: %v", err)
	}
	if read(filepath.Join(dir, train.CheckpointFile)) != ck {
		t.Fatal("the refused resume changed the checkpoint")
	}
	same := cfg
	same.Threads = 1
	r, err := Train(Options{Dir: dir, Resume: true, Source: src, Planned: &same})
	if err != nil || r.ResumedEpoch == 0 {
		t.Fatalf("resumed with its own configuration planned: %v", err)
	}
}

// TestDoneKeepsAFinishedRun: a replacing run (Overwrite) whose Done says,
// once the directory's lock is held, that the run needs no training
// returns ErrFinished and leaves the run's files as they were (a second
// experiment on one directory retrained, and replaced, runs the first had
// finished since it listed them).
func TestDoneKeepsAFinishedRun(t *testing.T) {
	src := sharedData(t)
	cfg := small()
	dir := t.TempDir()
	if _, err := Train(Options{Config: cfg, Dir: dir, Source: src}); err != nil {
		t.Fatal(err)
	}
	before := read(filepath.Join(dir, train.MetricsJSON))
	asked := ""
	_, err := Train(Options{Config: cfg, Dir: dir, Source: src, Overwrite: true, Done: func(d string) bool { asked = d; return true }})
	if !errors.Is(err, ErrFinished) || asked != dir {
		t.Fatalf("got %v (asked about %q), want ErrFinished for %s", err, asked, dir)
	}
	if read(filepath.Join(dir, train.MetricsJSON)) != before {
		t.Error("the finished run's metrics.json was replaced")
	}
	ents, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range ents {
		if strings.Contains(e.Name(), "staging") {
			t.Errorf("staging directory left: %s", e.Name())
		}
	}
}

// TestInitWeightsMustBeFinite: starting weights holding a NaN trained
// until the first loss stopped the run; they are refused, naming the
// tensor.
func TestInitWeightsMustBeFinite(t *testing.T) {
	src := sharedData(t)
	cfg := small()
	dir := t.TempDir()
	if _, err := Train(Options{Config: cfg, Dir: dir, Source: src}); err != nil {
		t.Fatal(err)
	}
	m, c, err := saving.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := m.Variables()[1]
	v.Value[3] = float32(math.Inf(-1))
	bad := t.TempDir()
	if err := saving.Save(bad, m, *c); err != nil {
		t.Fatal(err)
	}
	_, err = Train(Options{Config: cfg, Dir: t.TempDir(), Source: src, InitWeights: filepath.Join(bad, saving.WeightsFile)})
	var fe *train.FieldError
	if !errors.As(err, &fe) || fe.Field != "init_weights" || !strings.Contains(fe.Want, v.Name+"[3] is -Inf") {
		t.Errorf("got %v, want init_weights naming %s[3]", err, v.Name)
	}
}
