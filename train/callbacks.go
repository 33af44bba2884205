package train

import (
	"fmt"
	"math"
	"strings"
)

// Callback is notified at Keras's hook points of Fit. Embed NopCallback to
// implement only some hooks.
type Callback interface {
	OnTrainBegin(r *Run)
	OnEpochBegin(r *Run, epoch int)
	// OnBatchEnd receives the running epoch metrics after each step.
	OnBatchEnd(r *Run, step int, logs Logs)
	// OnEpochEnd receives the finished epoch's metrics; setting
	// r.StopTraining ends Fit after this epoch.
	OnEpochEnd(r *Run, epoch int, logs Logs)
	OnTrainEnd(r *Run)
}

// NopCallback implements every Callback hook as a no-op.
type NopCallback struct{}

func (NopCallback) OnTrainBegin(*Run)          {}
func (NopCallback) OnEpochBegin(*Run, int)     {}
func (NopCallback) OnBatchEnd(*Run, int, Logs) {}
func (NopCallback) OnEpochEnd(*Run, int, Logs) {}
func (NopCallback) OnTrainEnd(*Run)            {}

// EarlyStopping is keras.callbacks.EarlyStopping (Keras 3), with its exact
// rules: an epoch improves when current - MinDelta beats the best so far
// (strictly; ties do not improve); wait counts epochs since the last
// improvement and training stops when wait >= Patience (never after the
// first epoch). With RestoreBestWeights, the weights of the best epoch are
// restored when training ends, whether it stopped early or not.
type EarlyStopping struct {
	NopCallback
	Monitor            string  // "val_loss" (default), "loss", "val_accuracy", "accuracy"
	MinDelta           float64 // minimum change that counts as an improvement
	Patience           int
	RestoreBestWeights bool

	// State, readable after training.
	Wait         int
	StoppedEpoch int     // 0-based epoch at which training was stopped; 0 if it was not
	BestEpoch    int     // 0-based epoch of the best monitored value
	Best         float64 // best monitored value
	bestWeights  [][]float32
	maximize     bool
}

// OnTrainBegin implements Callback.
func (es *EarlyStopping) OnTrainBegin(*Run) {
	if es.Monitor == "" {
		es.Monitor = "val_loss"
	}
	// Keras's "auto" mode: accuracies are maximised, losses minimised.
	es.maximize = strings.HasSuffix(es.Monitor, "accuracy")
	es.Wait, es.StoppedEpoch, es.BestEpoch, es.bestWeights = 0, 0, 0, nil
	es.Best = math.Inf(1)
	if es.maximize {
		es.Best = math.Inf(-1)
	}
}

func (es *EarlyStopping) improves(current, reference float64) bool {
	d := math.Abs(es.MinDelta)
	if es.maximize {
		return current-d > reference
	}
	return current+d < reference
}

// OnEpochEnd implements Callback.
func (es *EarlyStopping) OnEpochEnd(r *Run, epoch int, logs Logs) {
	current, ok := logs.Get(es.Monitor)
	if !ok {
		return
	}
	if es.RestoreBestWeights && es.bestWeights == nil {
		es.bestWeights = r.Model.Weights()
		es.BestEpoch = epoch
	}
	es.Wait++
	if es.improves(current, es.Best) {
		es.Best = current
		es.BestEpoch = epoch
		if es.RestoreBestWeights {
			es.snapshot(r)
		}
		es.Wait = 0
		return
	}
	if es.Wait >= es.Patience && epoch > 0 {
		es.StoppedEpoch = epoch
		r.StopTraining = true
	}
}

// snapshot copies the model's variables (trainable or not) into
// bestWeights, reusing its memory.
func (es *EarlyStopping) snapshot(r *Run) {
	if r.Model.CopyWeights(es.bestWeights) != nil {
		es.bestWeights = r.Model.Weights()
	}
}

// OnTrainEnd implements Callback.
func (es *EarlyStopping) OnTrainEnd(r *Run) {
	if es.RestoreBestWeights && es.bestWeights != nil {
		if err := r.Model.SetWeights(es.bestWeights); err != nil {
			panic(fmt.Sprintf("train: restoring best weights: %v", err)) // shapes come from the same model
		}
	}
}
