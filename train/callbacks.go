package train

import (
	"fmt"
	"math"

	"github.com/cifarnet/cifarnet/optim"
)

// Callback is notified at Keras's hook points of Fit. Embed NopCallback to
// implement only some hooks.
type Callback interface {
	OnTrainBegin(r *FitState)
	OnEpochBegin(r *FitState, epoch int)
	// OnBatchEnd receives the running epoch metrics after each step.
	OnBatchEnd(r *FitState, step int, logs Logs)
	// OnEpochEnd receives the finished epoch's metrics; setting
	// r.StopTraining ends Fit after this epoch.
	OnEpochEnd(r *FitState, epoch int, logs Logs)
	OnTrainEnd(r *FitState)
}

// NopCallback implements every Callback hook as a no-op.
type NopCallback struct{}

func (NopCallback) OnTrainBegin(*FitState)          {}
func (NopCallback) OnEpochBegin(*FitState, int)     {}
func (NopCallback) OnBatchEnd(*FitState, int, Logs) {}
func (NopCallback) OnEpochEnd(*FitState, int, Logs) {}
func (NopCallback) OnTrainEnd(*FitState)            {}

// EarlyStopping is keras.callbacks.EarlyStopping (Keras 3,
// keras/src/callbacks/early_stopping.py), with its exact rules: epochs
// before StartFromEpoch are ignored; an epoch improves when the monitored
// value beats the best so far by more than MinDelta (strictly; ties do not
// improve; the first epoch seen always improves); wait counts epochs since
// the last improvement, except that with a Baseline an improvement resets
// wait only if it also beats the baseline; training stops when
// wait >= Patience (never after the first epoch). With RestoreBestWeights,
// the weights of the best epoch are restored when training ends, whether
// it stopped early or not.
type EarlyStopping struct {
	NopCallback
	Monitor            string  // a logged metric (MonitorNames); default "val_loss"
	Mode               string  // "auto" (default), "min" or "max"
	MinDelta           float64 // minimum change that counts as an improvement
	Patience           int
	Baseline           *float64 // nil: none (Keras's None)
	RestoreBestWeights bool
	StartFromEpoch     int

	// State, readable after training.
	Wait         int
	StoppedEpoch int     // 0-based epoch at which training was stopped; 0 if it was not
	BestEpoch    int     // 0-based epoch of the best monitored value
	Best         float64 // best monitored value (meaningful once HasBest)
	HasBest      bool
	bestWeights  [][]float32
	mon          monitor
}

// Validate reports a monitor, mode or option Keras would refuse.
func (es *EarlyStopping) Validate() error {
	if es.Monitor == "" {
		es.Monitor = "val_loss"
	}
	m, err := newMonitor("early stopping", es.Monitor, es.Mode, es.MinDelta)
	if err != nil {
		return err
	}
	if es.StartFromEpoch < 0 {
		return &optim.ArgError{Owner: "early stopping", Key: "start_from_epoch", Value: fmt.Sprint(es.StartFromEpoch), Want: "want >= 0"}
	}
	if es.Baseline != nil && (math.IsNaN(*es.Baseline) || math.IsInf(*es.Baseline, 0)) {
		return &optim.ArgError{Owner: "early stopping", Key: "baseline", Value: fmt.Sprint(*es.Baseline), Want: "want a finite number"}
	}
	es.mon = m
	return nil
}

// OnTrainBegin implements Callback.
func (es *EarlyStopping) OnTrainBegin(*FitState) {
	if err := es.Validate(); err != nil {
		panic(fmt.Sprintf("train: %v (Fit validates callbacks first)", err))
	}
	es.Wait, es.StoppedEpoch, es.BestEpoch, es.bestWeights = 0, 0, 0, nil
	es.Best, es.HasBest = math.NaN(), false
}

// OnEpochEnd implements Callback.
func (es *EarlyStopping) OnEpochEnd(r *FitState, epoch int, logs Logs) {
	current, ok := logs.Get(es.Monitor)
	if !ok || epoch < es.StartFromEpoch {
		return
	}
	if es.RestoreBestWeights && es.bestWeights == nil {
		es.bestWeights = r.Model.Weights()
		es.BestEpoch = epoch
	}
	es.Wait++
	var best *float64
	if es.HasBest {
		best = &es.Best
	}
	if es.mon.improves(current, best) {
		es.Best, es.HasBest = current, true
		es.BestEpoch = epoch
		if es.RestoreBestWeights {
			es.snapshot(r)
		}
		if es.Baseline == nil || es.mon.improves(current, es.Baseline) {
			es.Wait = 0
		}
		return
	}
	if es.Wait >= es.Patience && epoch > 0 {
		es.StoppedEpoch = epoch
		r.StopTraining = true
	}
}

// snapshot copies the model's variables (trainable or not) into
// bestWeights, reusing its memory.
func (es *EarlyStopping) snapshot(r *FitState) {
	if r.Model.CopyWeights(es.bestWeights) != nil {
		es.bestWeights = r.Model.Weights()
	}
}

// Restores tells whether OnTrainEnd restores (or restored) the best
// epoch's weights: with RestoreBestWeights, once an epoch was watched.
func (es *EarlyStopping) Restores() bool { return es.RestoreBestWeights && es.bestWeights != nil }

// OnTrainEnd implements Callback.
func (es *EarlyStopping) OnTrainEnd(r *FitState) {
	if es.RestoreBestWeights && es.bestWeights != nil {
		if err := r.Model.SetWeights(es.bestWeights); err != nil {
			panic(fmt.Sprintf("train: restoring best weights: %v", err)) // shapes come from the same model
		}
	}
}
