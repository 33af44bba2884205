package train

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/optim"
)

// scripted runs a callback over a sequence of one logged metric and
// returns the Run (its optimizer a constant-rate SGD at lr) and the rate
// logged at each epoch's end.
func scripted(t *testing.T, c Callback, metric string, values []float64, lr float64) (*FitState, []float64) {
	t.Helper()
	opt, err := optim.New("sgd", lr)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	r := &FitState{Optimizer: opt, Epochs: len(values), History: &History{}}
	c.OnTrainBegin(r)
	var rates []float64
	for epoch, v := range values {
		logs := Logs{Loss: math.NaN(), Accuracy: math.NaN(), ValLoss: math.NaN(), ValAccuracy: math.NaN(), HasVal: true,
			LearningRate: opt.LearningRate(), HasLearningRate: true}
		switch metric {
		case "loss":
			logs.Loss = v
		case "val_loss":
			logs.ValLoss = v
		case "val_accuracy":
			logs.ValAccuracy = v
		}
		rates = append(rates, opt.LearningRate())
		c.OnEpochEnd(r, epoch, logs)
		if r.StopTraining {
			break
		}
	}
	return r, rates
}

func f32(x float64) float64 { return float64(float32(x)) }

// TestReduceLROnPlateauScripted follows Keras 3's on_epoch_end by hand:
// patience 2, cooldown 1, factor 0.5, min_lr 0.02 from 0.1.
//
//	epoch     0    1    2     3     4     5     6    7     8     9     10    11
//	val_loss  1.0  0.9  0.95  0.95  0.97  0.96  0.8  0.85  0.86  0.87  0.88  0.89
//	best      1.0  0.9  .     .     .     .     0.8  .     .     .     .     .
//	cooldown  0    0    0     1     0     1     0    0     1     0     0     0
//	wait      0    0    1     0     1     0     0    1     0     1     2     3
//	reduce    .    .    .     0.05  .     0.025 .    .     0.02  .     (0.02 is not above min_lr)
func TestReduceLROnPlateauScripted(t *testing.T) {
	c := &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 2, Cooldown: 1, MinLR: 0.02, Mode: "auto"}
	r, rates := scripted(t, c, "val_loss", []float64{1.0, 0.9, 0.95, 0.95, 0.97, 0.96, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89}, 0.1)
	if !slices.Equal(c.Reductions, []int{3, 5, 8}) {
		t.Errorf("reductions at epochs %v, want [3 5 8]", c.Reductions)
	}
	want := []float64{0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02}
	for i := range want {
		if rates[i] != f32(want[i]) {
			t.Fatalf("epoch %d: rate %v, want %v (rates %v)", i, rates[i], f32(want[i]), rates)
		}
	}
	if c.Wait != 3 || c.CooldownCounter != 0 || c.Best != 0.8 || r.Optimizer.LearningRate() != f32(0.02) {
		t.Errorf("end state wait %d cooldown %d best %v rate %v, want 3 0 0.8 0.02", c.Wait, c.CooldownCounter, c.Best, r.Optimizer.LearningRate())
	}
}

// TestReduceLROnPlateauOptions: min_delta, mode max and no cooldown.
func TestReduceLROnPlateauOptions(t *testing.T) {
	// min_delta 0.1 on loss: 0.95 and 0.91 do not improve on 1.0; 0.85 does.
	c := &ReduceLROnPlateau{Monitor: "loss", Factor: 0.1, Patience: 2, MinDelta: 0.1}
	_, rates := scripted(t, c, "loss", []float64{1.0, 0.95, 0.91, 0.85, 0.8}, 1)
	if !slices.Equal(c.Reductions, []int{2}) || rates[3] != f32(0.1) || c.Best != 0.85 {
		t.Errorf("min_delta: reductions %v rates %v best %v, want [2], 0.1 from epoch 3, best 0.85", c.Reductions, rates, c.Best)
	}
	// mode max on val_accuracy (auto picks max too): a fall is no improvement.
	for _, mode := range []string{"max", "auto"} {
		c = &ReduceLROnPlateau{Monitor: "val_accuracy", Factor: 0.5, Patience: 1, Mode: mode}
		scripted(t, c, "val_accuracy", []float64{0.5, 0.6, 0.55, 0.7, 0.65}, 1)
		if !slices.Equal(c.Reductions, []int{2, 4}) {
			t.Errorf("mode %s: reductions %v, want [2 4]", mode, c.Reductions)
		}
	}
	// mode min on an accuracy: a rise is no improvement.
	c = &ReduceLROnPlateau{Monitor: "val_accuracy", Factor: 0.5, Patience: 1, Mode: "min"}
	scripted(t, c, "val_accuracy", []float64{0.5, 0.6, 0.45, 0.7}, 1)
	if !slices.Equal(c.Reductions, []int{1, 3}) {
		t.Errorf("mode min: reductions %v, want [1 3]", c.Reductions)
	}
	for _, bad := range []struct {
		c    *ReduceLROnPlateau
		want string
	}{
		{&ReduceLROnPlateau{Factor: 1}, "factor = 1"},
		{&ReduceLROnPlateau{Factor: 0.5, Monitor: "learning_rate"}, "give mode min or max"},
		{&ReduceLROnPlateau{Factor: 0.5, Monitor: "val_acc"}, `monitor = "val_acc"`},
		{&ReduceLROnPlateau{Factor: 0.5, Mode: "up"}, `mode = "up"`},
		{&ReduceLROnPlateau{Factor: 0.5, MinLR: -1}, "min_lr = -1"},
	} {
		if err := bad.c.Validate(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: error %v, want %q", bad.c, err, bad.want)
		}
	}
}

// TestEarlyStoppingOptions follows Keras 3's early_stopping.py by hand.
func TestEarlyStoppingOptions(t *testing.T) {
	base := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		name   string
		es     *EarlyStopping
		metric string
		values []float64
		stop   int // 0-based epoch at which it stopped; -1 if it did not
		best   float64
	}{
		// Epochs 0 and 1 are ignored: 1.0 at epoch 2 is the first best.
		{"start_from_epoch", &EarlyStopping{Patience: 1, StartFromEpoch: 2}, "val_loss", []float64{0.5, 0.4, 1.0, 1.1, 1.2}, 3, 1.0},
		{"start_from_epoch 0", &EarlyStopping{Patience: 1}, "val_loss", []float64{0.5, 0.4, 1.0, 1.1, 1.2}, 2, 0.4},
		// With a baseline, improvements that miss it do not reset wait.
		{"baseline", &EarlyStopping{Patience: 2, Baseline: base(0.3)}, "val_loss", []float64{0.5, 0.45, 0.46, 0.47, 0.48}, 2, 0.45},
		{"no baseline", &EarlyStopping{Patience: 2}, "val_loss", []float64{0.5, 0.45, 0.46, 0.47, 0.48}, 3, 0.45},
		{"baseline met", &EarlyStopping{Patience: 2, Baseline: base(0.6)}, "val_loss", []float64{0.5, 0.45, 0.46, 0.47, 0.48}, 3, 0.45},
		// Modes: max on a loss keeps the rises; auto minimises it.
		{"mode max", &EarlyStopping{Monitor: "loss", Mode: "max", Patience: 1}, "loss", []float64{1, 2, 1.5, 1.4}, 2, 2},
		{"mode auto", &EarlyStopping{Monitor: "loss", Patience: 1}, "loss", []float64{1, 2, 1.5, 1.4}, 1, 1},
		{"auto accuracy", &EarlyStopping{Monitor: "val_accuracy", Patience: 1}, "val_accuracy", []float64{0.5, 0.6, 0.55}, 2, 0.6},
		// min_delta 0.05: 0.97 and 0.96 are within it of 1.0.
		{"min_delta", &EarlyStopping{Patience: 2, MinDelta: 0.05}, "val_loss", []float64{1.0, 0.97, 0.96, 0.5}, 2, 1.0},
		// learning_rate (SGD's constant rate 0.1) with mode min never improves after the first.
		{"learning_rate", &EarlyStopping{Monitor: "learning_rate", Mode: "min", Patience: 2}, "", []float64{0, 0, 0, 0}, 2, f32(0.1)},
	} {
		r, _ := scripted(t, c.es, c.metric, c.values, 0.1)
		stop := -1
		if r.StopTraining {
			stop = c.es.StoppedEpoch
		}
		if stop != c.stop || c.es.Best != c.best {
			t.Errorf("%s: stopped at %d with best %v, want %d and %v", c.name, stop, c.es.Best, c.stop, c.best)
		}
	}
	if err := (&EarlyStopping{Monitor: "learning_rate"}).Validate(); err == nil {
		t.Error("learning_rate in auto mode accepted (Keras cannot tell its direction)")
	}
}
