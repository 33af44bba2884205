package optim

import (
	"fmt"
	"math"
)

// Schedule is a learning rate as a function of the optimizer's iteration
// count (the number of steps already applied), as Keras's
// LearningRateSchedule.__call__(step) (keras/src/optimizers/schedules/
// learning_rate_schedule.py). Values are computed in float64; the
// optimizer rounds the rate to float32 for its step.
type Schedule interface {
	At(step int64) float64
	// Validate reports the first argument out of range.
	Validate() error
}

// MomentumSchedule is a Schedule that also sets the optimizer's momentum
// (SGD) or beta_1 (the Adam family, Lion) before each step, as PyTorch's
// OneCycleLR cycles them.
type MomentumSchedule interface {
	Schedule
	CyclesMomentum() bool
	Momentum(step int64) float64
}

// Constant is a learning rate that no schedule changes (callbacks may).
type Constant float64

// At implements Schedule.
func (c Constant) At(int64) float64 { return float64(c) }

// Validate implements Schedule.
func (c Constant) Validate() error {
	if !(c > 0) || math.IsInf(float64(c), 0) {
		return fmt.Errorf("learning rate %g must be positive", float64(c))
	}
	return nil
}

// ExponentialDecay is keras.optimizers.schedules.ExponentialDecay:
// initial_learning_rate · decay_rate^(step / decay_steps), the exponent
// floored when Staircase.
type ExponentialDecay struct {
	InitialLearningRate float64
	DecaySteps          float64
	DecayRate           float64
	Staircase           bool
}

// At implements Schedule.
func (s ExponentialDecay) At(step int64) float64 {
	p := float64(step) / s.DecaySteps
	if s.Staircase {
		p = math.Floor(p)
	}
	return s.InitialLearningRate * math.Pow(s.DecayRate, p)
}

// Validate implements Schedule.
func (s ExponentialDecay) Validate() error {
	if !(s.DecaySteps > 0) {
		return fmt.Errorf("ExponentialDecay: decay_steps %g must be positive", s.DecaySteps)
	}
	return nil
}
