package train

import (
	"encoding/json"
	"math"

	"github.com/cifarnet/cifarnet/internal/finitejson"
)

// Logs are the metrics of one epoch (or, during an epoch, its running means).
type Logs struct {
	Loss        float64 `json:"loss"`
	Accuracy    float64 `json:"accuracy"`
	ValLoss     float64 `json:"val_loss"`
	ValAccuracy float64 `json:"val_accuracy"`
	// HasVal is false when there is no validation data (then ValLoss and
	// ValAccuracy are NaN and omitted from outputs).
	HasVal bool `json:"-"`
	// LearningRate is the optimizer's learning rate at the epoch's end,
	// before any callback changed it, logged (HasLearningRate) as Keras's
	// ReduceLROnPlateau logs it: when a schedule or a callback may change
	// it.
	LearningRate    float64 `json:"learning_rate"`
	HasLearningRate bool    `json:"-"`
}

// Get returns the metric named as in Keras's logs dict.
func (l Logs) Get(name string) (float64, bool) {
	switch name {
	case "loss":
		return l.Loss, true
	case "accuracy":
		return l.Accuracy, true
	case "val_loss":
		return l.ValLoss, l.HasVal
	case "val_accuracy":
		return l.ValAccuracy, l.HasVal
	case "learning_rate":
		return l.LearningRate, l.HasLearningRate
	}
	return math.NaN(), false
}

// Epoch is one row of a History.
type Epoch struct {
	Epoch int `json:"epoch"` // 1-based, as Keras prints it
	Logs
	Seconds float64 `json:"seconds"` // wall time of the epoch, validation included
}

// History is the per-epoch record of a Fit, Keras's History.history.
type History struct {
	Epochs []Epoch `json:"epochs"`
}

// Series returns one metric over the epochs, e.g. History.Series("val_loss").
func (h *History) Series(name string) []float64 {
	out := make([]float64, len(h.Epochs))
	for i, e := range h.Epochs {
		out[i], _ = e.Get(name)
	}
	return out
}

// epochJSON is Epoch on the wire: metrics that do not exist (no validation
// data) are null rather than NaN, which JSON cannot hold.
type epochJSON struct {
	Epoch       int      `json:"epoch"`
	Loss        *float64 `json:"loss"`
	Accuracy    *float64 `json:"accuracy"`
	ValLoss     *float64 `json:"val_loss"`
	ValAccuracy *float64 `json:"val_accuracy"`
	// LearningRate is absent when not logged.
	LearningRate *float64 `json:"learning_rate,omitempty"`
	Seconds      float64  `json:"seconds"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes NaN metrics as null.
func (e Epoch) MarshalJSON() ([]byte, error) {
	var lr *float64
	if e.HasLearningRate {
		lr = &e.LearningRate
	}
	return finitejson.Marshal(epochJSON{e.Epoch, finite(e.Loss), finite(e.Accuracy), finite(e.ValLoss), finite(e.ValAccuracy), lr, e.Seconds})
}

// UnmarshalJSON reads null metrics as NaN.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Epoch{Epoch: j.Epoch, Seconds: j.Seconds, Logs: Logs{
		Loss: orNaN(j.Loss), Accuracy: orNaN(j.Accuracy), ValLoss: orNaN(j.ValLoss), ValAccuracy: orNaN(j.ValAccuracy),
		HasVal: j.ValLoss != nil,
	}}
	if j.LearningRate != nil {
		e.LearningRate, e.HasLearningRate = *j.LearningRate, true
	}
	return nil
}
