package train

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/tensor"
)

func realData(t *testing.T, nTrain, nTest int) *dataset.Data {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", cifar10.DirName)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not found at %s", dir)
	}
	d, err := cifar10.Load(dir, nTrain, nTest)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// smallConfig is the exercise shrunk to run in a second.
func smallConfig() Config {
	c := Exercise()
	c.TrainSamples, c.TestSamples, c.Epochs, c.Hidden = 600, 200, 3, []int{64, 32}
	return c
}

// TestDeterministicAcrossThreads trains twice with the same seed and
// different thread counts: every weight, and the history, must be identical.
func TestDeterministicAcrossThreads(t *testing.T) {
	data := realData(t, 600, 200)
	var runs []*Outcome
	for _, threads := range []int{1, 2, 1} {
		c := smallConfig()
		c.Threads = threads
		o, err := FitAndEvaluate(c, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, o)
	}
	// And a run whose threads change between steps, as an experiment's
	// last runs are given the CPUs of those that finished.
	c := smallConfig()
	c.Threads = 1
	var threads tensor.ThreadTarget
	step, most, base := 0, 0, runtime.NumGoroutine()
	changing := func() bool {
		most = max(most, runtime.NumGoroutine()-base)
		threads.Set([]int{1, 3, 2, 3, 1}[step/3%5])
		step++
		return false
	}
	model, err := c.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	model.Initialize(c.Seed)
	o, err := FitAndEvaluateWith(c, data, model, Control{Interrupt: changing, ThreadTarget: &threads})
	if err != nil {
		t.Fatal(err)
	}
	// most counts every goroutine above base, so an unrelated one could
	// satisfy it: ThreadsAtEnd is the solid half of the check.
	if most < 2 || o.ThreadsAtEnd < 2 {
		t.Fatalf("threads set to 3 during training, but at most %d helper goroutines ran and it ended on %d threads", most, o.ThreadsAtEnd)
	}
	runs = append(runs, o)
	for r := 1; r < len(runs); r++ {
		a, b := runs[0].Model.Params(), runs[r].Model.Params()
		for i := range a {
			for j := range a[i].Value {
				if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
					t.Fatalf("run %d (threads %d): %s[%d] differs", r, runs[r].Config.Threads, a[i].Name, j)
				}
			}
		}
		for e := range runs[0].History.Epochs {
			if runs[0].History.Epochs[e].Logs != runs[r].History.Epochs[e].Logs {
				t.Fatalf("run %d: epoch %d logs differ", r, e+1)
			}
		}
	}
	// And another seed gives another model.
	c = smallConfig()
	c.Seed = 43
	o, _ = FitAndEvaluate(c, data, nil)
	if o.Model.Params()[0].Value[0] == runs[0].Model.Params()[0].Value[0] {
		t.Fatal("seed 43 gave the same first weight as seed 42")
	}
}

// TestExerciseLearns runs the real exercise configuration for a few epochs
// and checks that it learns: validation loss falls below chance (ln 10).
func TestExerciseLearns(t *testing.T) {
	data := realData(t, 5000, 1000)
	c := Exercise()
	c.Epochs = 3
	o, err := FitAndEvaluate(c, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.EpochsRun() != 3 {
		t.Fatalf("ran %d epochs", o.EpochsRun())
	}
	last := o.History.Epochs[2]
	if !(last.ValLoss < math.Log(10)) || !(o.Test.Accuracy > 0.2) {
		t.Fatalf("after 3 epochs val_loss %.4f, test accuracy %.4f: not learning", last.ValLoss, o.Test.Accuracy)
	}
	if len(o.Test.Predicted) != 1000 {
		t.Fatalf("%d test predictions", len(o.Test.Predicted))
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.BatchSize = 0 },
		func(c *Config) { c.ValidationSplit = 0 },
		func(c *Config) { c.ValidationSplit = 1 },
		func(c *Config) { c.TrainSamples = 50001 },
		func(c *Config) { c.TestSamples = 0 },
		func(c *Config) { c.Activation = "swish?" },
		func(c *Config) { c.Optimizer = "adagrad?" },
		func(c *Config) { c.LearningRate = -1 },
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.TrainSamples, c.ValidationSplit = 1, 0.2 },
	}
	for i, f := range bad {
		c := Exercise()
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: %+v: %v, want an ErrInvalid", i, c, err)
		}
	}
	if err := Exercise().Validate(); err != nil {
		t.Fatalf("the exercise is invalid: %v", err)
	}
}

func TestWriteReadRun(t *testing.T) {
	h := &History{Epochs: []Epoch{{Epoch: 1, Logs: Logs{Loss: 2, Accuracy: 0.25, ValLoss: 1.9, ValAccuracy: 0.3, HasVal: true}, Seconds: 0.1},
		{Epoch: 2, Logs: Logs{Loss: 1.5, Accuracy: 0.4, ValLoss: math.NaN(), ValAccuracy: math.NaN()}, Seconds: 0.1}}}
	dir := t.TempDir()
	if err := WriteRun(dir, h, Metrics{TestAccuracy: 0.385, Config: Exercise()}); err != nil {
		t.Fatal(err)
	}
	h2, m2, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h2.Epochs[0] != h.Epochs[0] || !math.IsNaN(h2.Epochs[1].ValLoss) || h2.Epochs[1].HasVal || m2.TestAccuracy != 0.385 {
		t.Fatalf("round trip: %+v %+v", h2.Epochs, m2)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, HistoryCSV))
	if want := "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,2,0.25,1.9,0.3,0.1\n2,1.5,0.4,,,0.1\n"; string(csv) != want {
		t.Fatalf("history.csv:\n%s\nwant\n%s", csv, want)
	}
}

// TestValidateAllocatesNoWeights: a configuration is validated without
// building its model (an experiment validates thousands): a network of
// 10.5 million weights (84 MB with their gradients) allocates a few
// kilobytes to validate.
func TestValidateAllocatesNoWeights(t *testing.T) {
	c := Exercise()
	c.Hidden = []int{2048, 2048}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := c.Validate()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("Validate allocated %d bytes", got)
	}
}
