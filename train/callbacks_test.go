package train

import (
	"math"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
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
