package train

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

func TestLRFind(t *testing.T) {
	data := realData(t, 600, 200)
	cfg := smallConfig()
	cfg.Optimizer, cfg.OptimizerArgs = "sgd", optim.Args{"momentum": 0.9}

	// A sweep too low to diverge: every step recorded, rates growing by a
	// constant factor, and the step losses those of training with that
	// schedule (the epoch's weighted mean is Fit's epoch loss).
	rt, err := LRFind(cfg, data, 1e-5, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	steps := cfg.StepsPerEpoch() // 480 samples in batches of 128: 4
	if len(rt.Rates) != steps || rt.Diverged {
		t.Fatalf("%d steps (diverged %v), want %d", len(rt.Rates), rt.Diverged, steps)
	}
	for i, r := range rt.Rates {
		want := 1e-5 * math.Pow(100, float64(i)/float64(steps-1))
		if math.Abs(r-want) > 1e-12*want {
			t.Fatalf("step %d: rate %g, want %g", i, r, want)
		}
	}
	m, _ := nn.New(cfg.Architecture(), cfg.Seed)
	opt, _ := optim.Build("sgd", optim.ExponentialRange{Start: 1e-5, End: 1e-3, Steps: int64(steps)}, cfg.OptimizerArgs)
	e := tensor.NewEngine(1)
	defer e.Close()
	tr := data.Train.Slice(0, cfg.TrainSamples)
	h, err := Fit(e, m, opt, PixelRows{tr.Pixels, tr.Features()}, tr.Int32Labels(), Options{Epochs: 1, BatchSize: cfg.BatchSize, ValidationSplit: cfg.ValidationSplit, Shuffle: true, Seed: cfg.Seed})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := SplitAt(cfg.TrainSamples, cfg.ValidationSplit)
	for i, l := range rt.Losses {
		sum += l * float64(min(cfg.BatchSize, n-i*cfg.BatchSize))
	}
	if got := sum / float64(n); math.Abs(got-h.Epochs[0].Loss) > 1e-9 {
		t.Fatalf("the step losses average %v, Fit's epoch loss is %v", got, h.Epochs[0].Loss)
	}
	lowest := 0
	for i, s := range rt.Smoothed {
		if s < rt.Smoothed[lowest] {
			lowest = i
		}
	}
	if rt.Minimum != rt.Rates[lowest] || rt.Suggested != rt.Minimum/10 {
		t.Fatalf("minimum %g suggested %g, want %g and a tenth", rt.Minimum, rt.Suggested, rt.Rates[lowest])
	}
	if csv := string(rt.CSV()); strings.Count(csv, "\n") != steps+1 || !strings.HasPrefix(csv, "step,learning_rate,loss,smoothed_loss\n1,1e-05,") {
		t.Fatalf("csv:\n%s", csv)
	}

	// A sweep to absurd rates diverges and stops before the epoch's end.
	cfg.BatchSize = 16 // 30 steps
	rt, err = LRFind(cfg, data, 1e-4, 1e4)
	if err != nil {
		t.Fatal(err)
	}
	if !rt.Diverged || len(rt.Rates) >= cfg.StepsPerEpoch() {
		t.Fatalf("diverged %v after %d of %d steps", rt.Diverged, len(rt.Rates), cfg.StepsPerEpoch())
	}
}

// TestLRFindDivergedAtOnce: a sweep whose first rates already diverge
// says so in a typed error, which the command line puts in its flag's
// terms.
func TestLRFindDivergedAtOnce(t *testing.T) {
	data := realData(t, 600, 200)
	cfg := smallConfig()
	cfg.Optimizer, cfg.OptimizerArgs = "sgd", optim.Args{"momentum": 0.9}
	_, err := LRFind(cfg, data, 1e30, 1e31)
	if !errors.Is(err, ErrDivergedAtOnce) {
		t.Fatalf("got %v, want ErrDivergedAtOnce", err)
	}
	if _, err := LRFind(cfg, data, 1e-5, 1e-3); err != nil {
		t.Fatalf("a sweep from 1e-5: %v", err)
	}
}
