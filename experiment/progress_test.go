package experiment

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/train"
)

// TestProgressDiverged: a diverged run's line says so, as runs.csv does,
// and shows no accuracy (that of NaN weights is whichever class argmax
// picks, a tenth on CIFAR-10, and read like a result).
func TestProgressDiverged(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false, 2, 0)
	p.done(Run{Label: "lr=0.01", Seed: 0, Dir: "runs/a"}, &rundir.Result{Metrics: train.Metrics{TestAccuracy: 0.244, TestLoss: 2.2, EpochsRun: 2}}, time.Second)
	p.done(Run{Label: "lr=1000", Seed: 0, Dir: "runs/b"}, &rundir.Result{Metrics: train.Metrics{TestAccuracy: 0.103, TestLoss: math.NaN(), Terminated: "loss became NaN at epoch 1, step 3: training stopped"}}, time.Second)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	if !strings.Contains(lines[0], "lr=0.01 seed 0: test accuracy 0.2440, 2 epochs") {
		t.Errorf("finished run: %s", lines[0])
	}
	if !strings.Contains(lines[1], "lr=1000 seed 0: diverged (no finite test loss: loss became NaN at epoch 1, step 3: training stopped), 0 epochs") || strings.Contains(lines[1], "accuracy 0.") {
		t.Errorf("diverged run: %s", lines[1])
	}
}

// TestProgressCountsOneRun: an experiment of one run says "1 run", not
// "1 runs", in the line of finished runs and in the bar.
func TestProgressCountsOneRun(t *testing.T) {
	var b bytes.Buffer
	newProgress(&b, true, 1, 1)
	if out := b.String(); !strings.Contains(out, "1 of 1 run already finished\n") || !strings.Contains(out, "] 1/1 run ") {
		t.Errorf("%q, want \"1 of 1 run already finished\" and \"1/1 run\"", out)
	}
}
