package train

import (
	"errors"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
)

// TestInterruptResumeOptimizersBitIdentical: for SGD with Nesterov
// momentum, AdamW with clipnorm and EMA, a 1cycle schedule cycling the
// momentum, and ReduceLROnPlateau (its wait, cooldown and best), a run
// interrupted three times, each checkpoint saved to disk and resumed on
// another thread count, ends with exactly the bits and the history of the
// uninterrupted run.
func TestInterruptResumeOptimizersBitIdentical(t *testing.T) {
	data := realData(t, 600, 200)
	for _, c := range []struct {
		name string
		edit func(*Config)
	}{
		{"sgd nesterov", func(c *Config) {
			c.Optimizer, c.LearningRate, c.OptimizerArgs = "sgd", 0.01, optim.Args{"momentum": 0.9, "nesterov": true}
		}},
		{"adamw clipnorm ema", func(c *Config) {
			c.Optimizer, c.OptimizerArgs = "adamw", optim.Args{"clipnorm": 1.0, "use_ema": true, "ema_momentum": 0.9, "ema_overwrite_frequency": 3}
		}},
		{"1cycle", func(c *Config) {
			c.Optimizer, c.OptimizerArgs = "sgd", optim.Args{"momentum": 0.9}
			c.LRSchedule = &optim.ScheduleConfig{ClassName: "OneCycle", Config: optim.Args{"max_lr": 0.05}}
		}},
		{"reduce_lr_on_plateau", func(c *Config) {
			c.ReduceLR = &ReduceLRConfig{Monitor: "loss", Mode: "max", Factor: 0.5, Patience: 1, Cooldown: 1}
		}},
	} {
		cfg := smallConfig()
		cfg.Epochs, cfg.Patience, cfg.Threads = 4, 2, 1
		c.edit(&cfg)
		want, err := FitAndEvaluate(cfg, data, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cfg.Threads = 3
		model, _ := nn.New(cfg.Architecture(), cfg.Seed)
		stops, calls := []int{2, 5, 11}, 0
		interrupt := func() bool {
			calls++
			for _, s := range stops {
				if calls == s+1 {
					return true
				}
			}
			return false
		}
		out, err := FitAndEvaluateFrom(cfg, data, model, nil, interrupt)
		resumed := 0
		for {
			var intr *Interrupted
			if !errors.As(err, &intr) {
				break
			}
			resumed++
			dir := t.TempDir()
			if err := intr.Checkpoint.Save(dir); err != nil {
				t.Fatal(err)
			}
			ck, err2 := LoadCheckpoint(dir)
			if err2 != nil {
				t.Fatal(err2)
			}
			out, err = Resume(ck, data, nil, interrupt)
		}
		if err != nil || resumed != len(stops) {
			t.Fatalf("%s: %v after %d resumes", c.name, err, resumed)
		}
		sameWeights(t, want.Model, out.Model)
		if len(out.History.Epochs) != len(want.History.Epochs) {
			t.Fatalf("%s: %d epochs, want %d", c.name, len(out.History.Epochs), len(want.History.Epochs))
		}
		for i := range want.History.Epochs {
			if out.History.Epochs[i].Logs != want.History.Epochs[i].Logs {
				t.Fatalf("%s: epoch %d logs differ: %+v vs %+v", c.name, i+1, out.History.Epochs[i].Logs, want.History.Epochs[i].Logs)
			}
		}
		if cfg.ReduceLR != nil && len(want.ReduceLR.Reductions) == 0 {
			t.Errorf("%s: the rate was never reduced; the test would not see its state", c.name)
		}
		if lr := want.History.Epochs[0].Logs; (cfg.LRSchedule != nil || cfg.ReduceLR != nil) != lr.HasLearningRate {
			t.Errorf("%s: learning_rate logged %v", c.name, lr.HasLearningRate)
		}
	}
}
