package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/train"
)

// TestKeptSummary: the "Run saved in" line names the epoch whose weights
// the model holds with that epoch's own val_loss, and the lowest val_loss
// apart when another epoch had it (a 1cycle run with --patience -1 said
// "best epoch 15 of 15, val_loss 1.6817", epoch 13's value).
func TestKeptSummary(t *testing.T) {
	hist := func(vl ...float64) *train.History {
		h := &train.History{}
		for i, v := range vl {
			h.Epochs = append(h.Epochs, train.Epoch{Epoch: i + 1, Logs: train.Logs{ValLoss: v, HasVal: true}})
		}
		return h
	}
	restored := &train.EarlyStopping{RestoreBestWeights: true}
	restored.Restore(&train.EarlyState{BestEpoch: 1, BestWeights: [][]float32{{0}}})
	cases := []struct {
		name string
		out  train.Outcome
		want string
	}{
		{"restored best", train.Outcome{Config: train.Config{RestoreBest: true}, Early: restored, History: hist(2.0, 1.5, 1.7)},
			"best epoch 2 of 3, val_loss 1.5000"},
		{"early stopping off", train.Outcome{Config: train.Config{RestoreBest: true}, History: hist(2.0, 1.5, 1.7)},
			"last epoch 3 of 3, val_loss 1.7000; lowest val_loss 1.5000 at epoch 2"},
		{"restore-best=false", train.Outcome{Early: restored, History: hist(2.0, 1.5, 1.7)},
			"last epoch 3 of 3, val_loss 1.7000; lowest val_loss 1.5000 at epoch 2"},
		{"last is lowest", train.Outcome{History: hist(2.0, 1.5, 1.4)}, "last epoch 3 of 3, val_loss 1.4000"},
		{"no validation", train.Outcome{History: &train.History{Epochs: []train.Epoch{{Epoch: 1}}}}, "last epoch 1 of 1"},
		{"no epoch", train.Outcome{History: &train.History{}}, "no epoch finished"},
	}
	for _, c := range cases {
		if got := keptSummary(&c.out); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestAccuracyLine: an experiment's line per configuration names its
// figures and prints no NaN for one run or none (it printed "0.2410 ± NaN
// (95% CI NaN to NaN)").
func TestAccuracyLine(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		s    stats.Summary
		want string
	}{
		{stats.Summary{N: 30, Mean: 0.3627, SD: 0.0296, CILow: 0.3511, CIHigh: 0.3722}, "n=30  test accuracy mean 0.3627, sd 0.0296, 95% CI of the mean 0.3511 to 0.3722"},
		{stats.Summary{N: 3, Mean: 0.3, SD: 0.02, CILow: 0.28, CIHigh: 0.32}, "n=3   test accuracy mean 0.3000, sd 0.0200, 95% CI of the mean 0.2800 to 0.3200 (too few runs: the real uncertainty is wider)"},
		{stats.Summary{N: 1, Mean: 0.241, SD: nan, CILow: nan, CIHigh: nan}, "n=1   test accuracy 0.2410 (one run: no spread, no interval)"},
		{stats.Summary{N: 0, Mean: nan, SD: nan, CILow: nan, CIHigh: nan}, "n=0   no finished run"},
		// Diverged runs are counted, not hidden.
		{stats.Summary{N: 0, Missing: 3, Mean: nan, SD: nan, CILow: nan, CIHigh: nan}, "n=0   every finished run diverged (3)"},
		{stats.Summary{N: 12, Missing: 1, Mean: 0.3627, SD: 0.0296, CILow: 0.3511, CIHigh: 0.3722}, "n=12  test accuracy mean 0.3627, sd 0.0296, 95% CI of the mean 0.3511 to 0.3722 (1 diverged, left out)"},
	}
	for _, c := range cases {
		if got := accuracyLine(c.s); got != c.want {
			t.Errorf("n=%d: %q, want %q", c.s.N, got, c.want)
		}
	}
}

// TestExperimentSaysWhereSeed42Falls: the experiment's summary says where
// the named seed's run ranks when it was run (only the report said it),
// and nothing about it when it was not.
func TestExperimentSaysWhereSeed42Falls(t *testing.T) {
	data := sharedData(t)
	for _, seeds := range []string{"0,42", "0-1"} {
		stdout, stderr, code := run(t, "experiment", "--data", data, "--dir", filepath.Join(t.TempDir(), "exp"), "--seeds", seeds,
			"--train-samples", "200", "--test-samples", "50", "--epochs", "1", "--hidden", "16")
		if code != 0 {
			t.Fatalf("seeds %s: exit %d: %s", seeds, code, stderr)
		}
		said := strings.Contains(stdout, "seed 42: test accuracy 0.") && strings.Contains(stdout, " of 2 runs (1 = best)")
		if said != (seeds == "0,42") {
			t.Errorf("seeds %s: stdout %q", seeds, stdout)
		}
	}
}
