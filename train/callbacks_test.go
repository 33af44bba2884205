package train

import (
	"errors"
	"math"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
)

// scriptedRun feeds a val_loss sequence to an EarlyStopping, writing the
// epoch number into the model's first weight so that the restored weights
// tell which epoch they came from. It returns the epochs run.
func scriptedRun(t *testing.T, es *EarlyStopping, valLoss []float64) (epochs int, m *nn.Sequential) {
	t.Helper()
	m, err := nn.NewZero(nn.Architecture{Inputs: 1, Activation: "linear", Init: "he_normal", Classes: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &FitState{Model: m}
	es.OnTrainBegin(r)
	for epoch, v := range valLoss {
		m.Layers[0].(*nn.Dense).Kernel[0] = float32(epoch + 1)
		es.OnEpochEnd(r, epoch, Logs{ValLoss: v, HasVal: true})
		epochs++
		if r.StopTraining {
			break
		}
	}
	es.OnTrainEnd(r)
	return epochs, m
}

// seedValLoss is the val_loss column printed in ../shared/seed/exercise_2.txt.
var seedValLoss = []float64{2.1185, 2.0119, 1.9938, 1.9972, 1.9490, 1.9014, 1.8683, 1.8710, 1.8491, 1.8229,
	1.8797, 1.9474, 1.9507, 1.8669, 2.0042,
	// Epochs Keras never ran: they must not be reached.
	1.0, 1.0}

func TestEarlyStopping(t *testing.T) {
	tests := []struct {
		name        string
		es          EarlyStopping
		valLoss     []float64
		wantEpochs  int
		wantBest    int // 1-based epoch whose weights are restored
		wantStopped int // 0-based StoppedEpoch
	}{
		{"seed run: best 10, stop after 15", EarlyStopping{Patience: 5, RestoreBestWeights: true}, seedValLoss, 15, 10, 14},
		{"never stops early", EarlyStopping{Patience: 5, RestoreBestWeights: true}, []float64{5, 4, 3, 2, 1, 0.5}, 6, 6, 0},
		{"best weights restored when not stopped", EarlyStopping{Patience: 5, RestoreBestWeights: true}, []float64{5, 1, 2, 3, 4}, 5, 2, 0},
		{"a tie is no improvement", EarlyStopping{Patience: 2, RestoreBestWeights: true}, []float64{1, 1, 1, 0.5}, 3, 1, 2},
		{"min_delta: small gains do not count", EarlyStopping{Patience: 2, MinDelta: 0.1, RestoreBestWeights: true}, []float64{1, 0.95, 0.91, 0.5}, 3, 1, 2},
		{"patience 0 stops on the second epoch without gain", EarlyStopping{Patience: 0, RestoreBestWeights: true}, []float64{1, 0.5, 0.7, 0.1}, 3, 2, 2},
		{"no restore keeps the last weights", EarlyStopping{Patience: 1}, []float64{1, 2, 3}, 2, 2, 1},
		{"NaN never improves", EarlyStopping{Patience: 2, RestoreBestWeights: true}, []float64{1, math.NaN(), math.NaN()}, 3, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.es
			epochs, m := scriptedRun(t, &es, tt.valLoss)
			if epochs != tt.wantEpochs {
				t.Errorf("ran %d epochs, want %d", epochs, tt.wantEpochs)
			}
			if got := int(m.Layers[0].(*nn.Dense).Kernel[0]); got != tt.wantBest {
				t.Errorf("model holds the weights of epoch %d, want %d", got, tt.wantBest)
			}
			if es.StoppedEpoch != tt.wantStopped {
				t.Errorf("StoppedEpoch = %d, want %d", es.StoppedEpoch, tt.wantStopped)
			}
		})
	}
}

func TestEarlyStoppingSeedBest(t *testing.T) {
	es := EarlyStopping{Patience: 5, RestoreBestWeights: true}
	scriptedRun(t, &es, seedValLoss)
	if es.BestEpoch != 9 || es.Best != 1.8229 {
		t.Errorf("best = %v at epoch %d (0-based), want 1.8229 at 9", es.Best, es.BestEpoch)
	}
}

// TestEarlyStoppingThatWatchedNothing: with start_from_epoch beyond the
// run, early stopping watches no epoch and restores nothing (Keras's
// best_weights stays None): the model keeps the last epoch's weights, and
// the outcome says so (it said epoch 1).
func TestEarlyStoppingThatWatchedNothing(t *testing.T) {
	es := &EarlyStopping{Patience: 2, RestoreBestWeights: true, StartFromEpoch: 5}
	es.OnTrainBegin(nil)
	h := &History{}
	for epoch := range 3 {
		es.OnEpochEnd(nil, epoch, Logs{Loss: 1, ValLoss: 1, HasVal: true})
		h.Epochs = append(h.Epochs, Epoch{Epoch: epoch + 1})
	}
	o := &Outcome{Config: Config{RestoreBest: true}, Early: es, History: h}
	if es.Restores() || o.BestEpoch() != 3 {
		t.Errorf("restores %v, best epoch %d, want the last (3)", es.Restores(), o.BestEpoch())
	}
	// From epoch 2 on it watches, and keeps the best.
	es = &EarlyStopping{Patience: 5, RestoreBestWeights: true, StartFromEpoch: 1}
	es.OnTrainBegin(nil)
	m, err := nn.NewZero(nn.Architecture{Inputs: 1, Activation: "linear", Init: "he_normal", Classes: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &FitState{Model: m}
	for epoch, v := range []float64{0.5, 0.9, 0.7, 0.8} {
		es.OnEpochEnd(r, epoch, Logs{ValLoss: v, HasVal: true})
	}
	o.Early = es
	h.Epochs = append(h.Epochs, Epoch{Epoch: 4})
	if !es.Restores() || o.BestEpoch() != 3 {
		t.Errorf("restores %v, best epoch %d, want 3", es.Restores(), o.BestEpoch())
	}
}

// TestMonitorNeverLogged: early stopping on learning_rate, which a
// constant rate never logs, is refused; with a schedule it is not.
func TestMonitorNeverLogged(t *testing.T) {
	c := Exercise()
	c.Monitor, c.Mode = "learning_rate", "min"
	var fe *FieldError
	if err := c.Validate(); !errors.As(err, &fe) || fe.Field != "monitor" {
		t.Errorf("constant rate: %v", err)
	}
	c.LRSchedule = &optim.ScheduleConfig{ClassName: "ExponentialDecay", Config: optim.Args{"decay_steps": 100, "decay_rate": 0.9}}
	if err := c.Validate(); err != nil {
		t.Errorf("with a schedule: %v", err)
	}
}
