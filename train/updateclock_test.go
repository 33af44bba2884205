package train

import (
	"testing"

	"github.com/cifarnet/cifarnet/optim"
)

// TestUpdateClock: a training with an UpdateClock gives the bits of one
// without, and the clock holds one time per epoch, each more than zero
// and at most the epoch's seconds times its threads: with the update
// inside the backward pass (Nadam) and as a whole Step (clipnorm).
func TestUpdateClock(t *testing.T) {
	data := realData(t, 600, 200)
	for _, c := range []struct {
		opt  string
		args optim.Args
	}{{"nadam", nil}, {"adamw", optim.Args{"clipnorm": 1.0, "use_ema": true}}} {
		t.Run(c.opt, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Threads, cfg.Optimizer, cfg.OptimizerArgs = 2, c.opt, c.args
			want, err := FitAndEvaluate(cfg, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			model, err := cfg.NewModel()
			if err != nil {
				t.Fatal(err)
			}
			model.Initialize(cfg.Seed)
			var clock UpdateClock
			got, err := FitAndEvaluateWith(cfg, data, model, Control{UpdateClock: &clock})
			if err != nil {
				t.Fatal(err)
			}
			sameWeights(t, want.Model, got.Model)
			for _, e := range got.History.Epochs {
				if tm, ok := clock.Time(e.Epoch); !ok || tm <= 0 || tm > 2*e.Seconds {
					t.Errorf("epoch %d: update %g thread-seconds (%v), want more than 0 and at most 2 threads x %g s", e.Epoch, tm, ok, e.Seconds)
				}
			}
			if _, ok := clock.Time(len(got.History.Epochs) + 1); ok {
				t.Errorf("a time for epoch %d, after the last", len(got.History.Epochs)+1)
			}
		})
	}
}
