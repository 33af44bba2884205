package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"
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
	if !ValidRate(float64(c)) {
		return fmt.Errorf("learning_rate %g: %s", float64(c), RateWant)
	}
	return nil
}

// MinRate and MaxRate bound a learning rate: the optimizer steps with it
// in float32, where a smaller positive rate is 0 or a denormal (1e-50
// trained at rate 0) and a larger one infinite.
const (
	MinRate = 0x1p-126 // float32's smallest normal number
	MaxRate = math.MaxFloat32
)

// RateWant says what a learning rate must be.
const RateWant = "want a number > 0, from 1.1754944e-38 to 3.4028235e+38 (the optimizer steps in float32)"

// ValidRate tells whether v is a learning rate float32 holds: from
// MinRate to MaxRate.
func ValidRate(v float64) bool { return v >= MinRate && v <= MaxRate }

// rate checks a schedule's learning rate (ValidRate).
func rate(owner, name string, v float64) error {
	if !ValidRate(v) {
		return &ArgError{Owner: owner, Key: name, Value: fmt.Sprint(v), Want: RateWant}
	}
	return nil
}

// rateOrZero checks a schedule's learning rate that may also be 0.
func rateOrZero(owner, name string, v float64) error {
	if v != 0 && !ValidRate(v) {
		return &ArgError{Owner: owner, Key: name, Value: fmt.Sprint(v), Want: "want 0 or " + strings.TrimPrefix(RateWant, "want ")}
	}
	return nil
}

// ExponentialDecay is keras.optimizers.schedules.ExponentialDecay
// (keras/src/optimizers/schedules/learning_rate_schedule.py):
//
//	initial_learning_rate · decay_rate^(step / decay_steps)
//
// with the exponent floored when Staircase.
type ExponentialDecay struct {
	InitialLearningRate, DecaySteps, DecayRate float64
	Staircase                                  bool
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
	return firstError(rate("ExponentialDecay", "initial_learning_rate", s.InitialLearningRate),
		positive("ExponentialDecay", "decay_steps", s.DecaySteps), positive("ExponentialDecay", "decay_rate", s.DecayRate))
}

// PiecewiseConstantDecay is keras.optimizers.schedules.PiecewiseConstantDecay:
// Values[0] while step <= Boundaries[0], Values[i] while
// Boundaries[i-1] < step <= Boundaries[i], and the last value after the
// last boundary.
type PiecewiseConstantDecay struct {
	Boundaries []float64
	Values     []float64
}

// At implements Schedule.
func (s PiecewiseConstantDecay) At(step int64) float64 {
	x := float64(step)
	// The first boundary not below the step; the boundaries increase.
	i := sort.Search(len(s.Boundaries), func(i int) bool { return x <= s.Boundaries[i] })
	return s.Values[i]
}

// MaxBoundaries bounds a piecewise schedule's boundaries: far more than
// any schedule has, few enough that the checkpoint and metrics.json,
// which record them, stay small.
const MaxBoundaries = 10000

// Validate implements Schedule.
func (s PiecewiseConstantDecay) Validate() error {
	if len(s.Boundaries) != len(s.Values)-1 || len(s.Values) == 0 {
		return fmt.Errorf("PiecewiseConstantDecay: %d boundaries and %d values: want one value more than boundaries", len(s.Boundaries), len(s.Values))
	}
	if len(s.Boundaries) > MaxBoundaries {
		return fmt.Errorf("PiecewiseConstantDecay: %d boundaries: at most %d are supported", len(s.Boundaries), MaxBoundaries)
	}
	for i, b := range s.Boundaries {
		if i > 0 && !(b > s.Boundaries[i-1]) {
			return fmt.Errorf("PiecewiseConstantDecay: boundaries %g then %g (at %d): want them increasing", s.Boundaries[i-1], b, i)
		}
	}
	for _, v := range s.Values {
		if err := rate("PiecewiseConstantDecay", "values", v); err != nil {
			return err
		}
	}
	return nil
}

// PolynomialDecay is keras.optimizers.schedules.PolynomialDecay:
//
//	(initial - end) · (1 - step/decay_steps)^power + end
//
// with step clamped to decay_steps; with Cycle, decay_steps is instead
// multiplied by ceil(step / decay_steps) (1 at step 0).
type PolynomialDecay struct {
	InitialLearningRate, DecaySteps, EndLearningRate, Power float64
	Cycle                                                   bool
}

// At implements Schedule.
func (s PolynomialDecay) At(step int64) float64 {
	x, d := float64(step), s.DecaySteps
	if s.Cycle {
		if x != 0 {
			d *= math.Ceil(x / s.DecaySteps)
		}
	} else {
		x = min(x, d)
	}
	return (s.InitialLearningRate-s.EndLearningRate)*math.Pow(1-x/d, s.Power) + s.EndLearningRate
}

// Validate implements Schedule.
func (s PolynomialDecay) Validate() error {
	return firstError(rate("PolynomialDecay", "initial_learning_rate", s.InitialLearningRate),
		positive("PolynomialDecay", "decay_steps", s.DecaySteps), rateOrZero("PolynomialDecay", "end_learning_rate", s.EndLearningRate),
		positive("PolynomialDecay", "power", s.Power))
}

// InverseTimeDecay is keras.optimizers.schedules.InverseTimeDecay:
//
//	initial_learning_rate / (1 + decay_rate · step / decay_steps)
//
// with step / decay_steps floored when Staircase.
type InverseTimeDecay struct {
	InitialLearningRate, DecaySteps, DecayRate float64
	Staircase                                  bool
}

// At implements Schedule.
func (s InverseTimeDecay) At(step int64) float64 {
	p := float64(step) / s.DecaySteps
	if s.Staircase {
		p = math.Floor(p)
	}
	return s.InitialLearningRate / (1 + s.DecayRate*p)
}

// Validate implements Schedule.
func (s InverseTimeDecay) Validate() error {
	return firstError(rate("InverseTimeDecay", "initial_learning_rate", s.InitialLearningRate),
		positive("InverseTimeDecay", "decay_steps", s.DecaySteps), nonNegative("InverseTimeDecay", "decay_rate", s.DecayRate))
}

// CosineDecay is keras.optimizers.schedules.CosineDecay (Loshchilov and
// Hutter's SGDR without restarts), with an optional linear warmup: with a
// WarmupTarget (> 0), the rate goes linearly from initial_learning_rate
// to warmup_target over warmup_steps, then decays from warmup_target;
// without, it decays from initial_learning_rate. The decay over
// decay_steps (then constant) is
//
//	from · ((1 - alpha) · 0.5 (1 + cos(π · step/decay_steps)) + alpha)
type CosineDecay struct {
	InitialLearningRate, DecaySteps, Alpha float64
	// WarmupTarget 0 is Keras's None: no warmup.
	WarmupTarget float64
	WarmupSteps  float64
}

// At implements Schedule.
func (s CosineDecay) At(step int64) float64 {
	x := float64(step)
	decay := func(x, from float64) float64 {
		c := 0.5 * (1 + math.Cos(math.Pi*x/s.DecaySteps))
		return from * ((1-s.Alpha)*c + s.Alpha)
	}
	if s.WarmupTarget == 0 {
		return decay(min(x, s.DecaySteps), s.InitialLearningRate)
	}
	x = min(x, s.DecaySteps+s.WarmupSteps)
	if x < s.WarmupSteps {
		return (s.WarmupTarget-s.InitialLearningRate)*(x/s.WarmupSteps) + s.InitialLearningRate
	}
	return decay(x-s.WarmupSteps, s.WarmupTarget)
}

// Validate implements Schedule.
func (s CosineDecay) Validate() error {
	err := firstError(positive("CosineDecay", "decay_steps", s.DecaySteps), nonNegative("CosineDecay", "warmup_steps", s.WarmupSteps),
		rateOrZero("CosineDecay", "initial_learning_rate", s.InitialLearningRate), rateOrZero("CosineDecay", "warmup_target", s.WarmupTarget))
	if err == nil && (s.Alpha < 0 || s.Alpha > 1) {
		err = &ArgError{Owner: "CosineDecay", Key: "alpha", Value: fmt.Sprint(s.Alpha), Want: "want a fraction from 0 to 1"}
	}
	if err == nil && s.WarmupTarget == 0 && s.InitialLearningRate == 0 {
		err = fmt.Errorf("CosineDecay: initial_learning_rate 0 without a warmup_target: the rate would stay 0")
	}
	return err
}

// CosineDecayRestarts is keras.optimizers.schedules.CosineDecayRestarts
// (SGDR): cosine decays over periods of first_decay_steps, each period
// t_mul times longer than the last and starting m_mul times lower.
type CosineDecayRestarts struct {
	InitialLearningRate, FirstDecaySteps, TMul, MMul, Alpha float64
}

// At implements Schedule.
func (s CosineDecayRestarts) At(step int64) float64 {
	f := float64(step) / s.FirstDecaySteps
	var restart float64
	if s.TMul == 1 {
		restart = math.Floor(f)
		f -= restart
	} else {
		restart = math.Floor(math.Log(1-f*(1-s.TMul)) / math.Log(s.TMul))
		sum := (1 - math.Pow(s.TMul, restart)) / (1 - s.TMul)
		f = (f - sum) / math.Pow(s.TMul, restart)
	}
	c := 0.5 * math.Pow(s.MMul, restart) * (1 + math.Cos(math.Pi*f))
	return s.InitialLearningRate * ((1-s.Alpha)*c + s.Alpha)
}

// Validate implements Schedule.
func (s CosineDecayRestarts) Validate() error {
	err := firstError(rate("CosineDecayRestarts", "initial_learning_rate", s.InitialLearningRate),
		positive("CosineDecayRestarts", "first_decay_steps", s.FirstDecaySteps), positive("CosineDecayRestarts", "t_mul", s.TMul),
		positive("CosineDecayRestarts", "m_mul", s.MMul))
	if err == nil && (s.Alpha < 0 || s.Alpha > 1) {
		err = &ArgError{Owner: "CosineDecayRestarts", Key: "alpha", Value: fmt.Sprint(s.Alpha), Want: "want a fraction from 0 to 1"}
	}
	return err
}

func positive(owner, name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return &ArgError{Owner: owner, Key: name, Value: fmt.Sprint(v), Want: "want a number > 0"}
	}
	return nil
}

func nonNegative(owner, name string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return &ArgError{Owner: owner, Key: name, Value: fmt.Sprint(v), Want: "want a finite number >= 0"}
	}
	return nil
}

func firstError(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ExponentialRange grows the rate exponentially from Start at step 0 to
// End at step Steps-1 (and stays there): the sweep of a learning-rate range
// test.
type ExponentialRange struct {
	Start, End float64
	Steps      int64
}

// At implements Schedule.
func (s ExponentialRange) At(step int64) float64 {
	if s.Steps <= 1 {
		return s.Start
	}
	f := float64(min(step, s.Steps-1)) / float64(s.Steps-1)
	return s.Start * math.Pow(s.End/s.Start, f)
}

// Validate implements Schedule.
func (s ExponentialRange) Validate() error {
	if err := firstError(positive("range test", "start", s.Start), positive("range test", "end", s.End)); err != nil {
		return err
	}
	if !(s.End > s.Start) || s.Steps < 2 {
		return fmt.Errorf("range test: from %g to %g over %d steps: want end > start and at least 2 steps", s.Start, s.End, s.Steps)
	}
	return nil
}
