package train

import (
	"fmt"
	"math"

	"github.com/cifarnet/cifarnet/optim"
)

// ReduceLROnPlateau is keras.callbacks.ReduceLROnPlateau (Keras 3,
// keras/src/callbacks/reduce_lr_on_plateau.py): at each epoch's end, while
// cooling down the cooldown counter falls by one and wait is reset; an
// improvement (by more than MinDelta, the first always) resets wait;
// otherwise, out of cooldown, wait grows and, on reaching Patience, the
// learning rate becomes max(rate · Factor, MinLR) if the rate is above
// MinLR (as float32), and then cooldown starts and wait is reset. The
// optimizer's learning rate must be a constant (Keras cannot set a
// scheduled one either).
type ReduceLROnPlateau struct {
	NopCallback
	Monitor  string // a logged metric (MonitorNames); default "val_loss"
	Factor   float64
	Patience int
	Mode     string // "auto" (default), "min" or "max"
	MinDelta float64
	Cooldown int
	MinLR    float64

	// State, readable after training.
	Wait, CooldownCounter int
	Best                  float64 // meaningful once HasBest
	HasBest               bool
	// Reductions lists the 0-based epochs at whose end the rate was cut.
	Reductions []int
	mon        monitor
}

// NewReduceLROnPlateau returns the callback with Keras's defaults: monitor
// val_loss, factor 0.1, patience 10, mode auto, min_delta 1e-4, cooldown 0,
// min_lr 0.
func NewReduceLROnPlateau() *ReduceLROnPlateau {
	return &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.1, Patience: 10, Mode: "auto", MinDelta: 1e-4}
}

// Validate reports an option Keras would refuse.
func (c *ReduceLROnPlateau) Validate() error {
	if c.Monitor == "" {
		c.Monitor = "val_loss"
	}
	m, err := newMonitor("reduce_lr_on_plateau", c.Monitor, c.Mode, c.MinDelta)
	if err != nil {
		return err
	}
	switch {
	case !(c.Factor > 0 && c.Factor < 1):
		return &optim.ArgError{Owner: "reduce_lr_on_plateau", Key: "factor", Value: fmt.Sprint(c.Factor), Want: "want a number between 0 and 1 (exclusive)"}
	case c.Patience < 0:
		return &optim.ArgError{Owner: "reduce_lr_on_plateau", Key: "patience", Value: fmt.Sprint(c.Patience), Want: "want >= 0"}
	case c.Cooldown < 0:
		return &optim.ArgError{Owner: "reduce_lr_on_plateau", Key: "cooldown", Value: fmt.Sprint(c.Cooldown), Want: "want >= 0"}
	case !(c.MinLR >= 0) || math.IsInf(c.MinLR, 0):
		return &optim.ArgError{Owner: "reduce_lr_on_plateau", Key: "min_lr", Value: fmt.Sprint(c.MinLR), Want: "want a finite number >= 0"}
	}
	c.mon = m
	return nil
}

// OnTrainBegin implements Callback.
func (c *ReduceLROnPlateau) OnTrainBegin(r *FitState) {
	if err := c.Validate(); err != nil {
		panic(fmt.Sprintf("train: %v (Fit validates callbacks first)", err))
	}
	c.Wait, c.CooldownCounter, c.Best, c.HasBest, c.Reductions = 0, 0, math.NaN(), false, nil
}

// OnEpochEnd implements Callback.
func (c *ReduceLROnPlateau) OnEpochEnd(r *FitState, epoch int, logs Logs) {
	current, ok := logs.Get(c.Monitor)
	if !ok {
		return
	}
	if c.CooldownCounter > 0 {
		c.CooldownCounter--
		c.Wait = 0
	}
	var best *float64
	if c.HasBest {
		best = &c.Best
	}
	switch {
	case c.mon.improves(current, best):
		c.Best, c.HasBest, c.Wait = current, true, 0
	case c.CooldownCounter == 0:
		c.Wait++
		if c.Wait >= c.Patience {
			old := r.Optimizer.LearningRate()
			if old > float64(float32(c.MinLR)) {
				if err := r.Optimizer.SetLearningRate(max(old*c.Factor, c.MinLR)); err != nil {
					panic(fmt.Sprintf("train: reduce_lr_on_plateau: %v (Fit checks the rate is settable)", err))
				}
				c.Reductions = append(c.Reductions, epoch)
				c.CooldownCounter, c.Wait = c.Cooldown, 0
			}
		}
	}
}

// ReduceLRState is ReduceLROnPlateau's state in a checkpoint.
type ReduceLRState struct {
	Wait            int      `json:"wait"`
	CooldownCounter int      `json:"cooldown_counter"`
	Best            *float64 `json:"best"` // null: none yet
	Reductions      []int    `json:"reductions,omitempty"`
}

// State returns the callback's state for a checkpoint.
func (c *ReduceLROnPlateau) State() *ReduceLRState {
	s := &ReduceLRState{Wait: c.Wait, CooldownCounter: c.CooldownCounter, Reductions: append([]int(nil), c.Reductions...)}
	if c.HasBest {
		b := c.Best
		s.Best = &b
	}
	return s
}

// Restore sets the state of a callback that Fit will resume.
func (c *ReduceLROnPlateau) Restore(s *ReduceLRState) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if s.Wait < 0 || s.CooldownCounter < 0 {
		return fmt.Errorf("reduce_lr_on_plateau: checkpoint wait %d and cooldown counter %d: want >= 0", s.Wait, s.CooldownCounter)
	}
	c.Wait, c.CooldownCounter, c.Reductions = s.Wait, s.CooldownCounter, append([]int(nil), s.Reductions...)
	c.Best, c.HasBest = math.NaN(), false
	if s.Best != nil {
		c.Best, c.HasBest = *s.Best, true
	}
	return nil
}
