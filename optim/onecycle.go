package optim

import (
	"fmt"
	"math"
)

// OneCycle is the 1cycle policy (Smith and Topin 2018) exactly as PyTorch's
// torch.optim.lr_scheduler.OneCycleLR defines it (torch/optim/lr_scheduler.py),
// since Keras has none built in: over TotalSteps steps the rate rises from
// max_lr/div_factor to max_lr during the first pct_start of them, then
// falls to max_lr/(div_factor·final_div_factor); with ThreePhase it first
// falls back to max_lr/div_factor symmetrically, and only the third phase
// goes down to the minimum. Each phase anneals by cosine (AnnealStrategy
// "cos") or linearly ("linear"). With CycleMomentum the optimizer's
// momentum (SGD) or beta_1 moves the opposite way, between max_momentum
// and base_momentum. Step i uses PyTorch's value for step_num i (the rate
// of the (i+1)-th optimizer.step()); after the last step the final value
// stays.
type OneCycle struct {
	MaxLR          float64
	TotalSteps     int64
	PctStart       float64 // default 0.3
	AnnealStrategy string  // "cos" (default) or "linear"
	CycleMomentum  bool    // default true
	BaseMomentum   float64 // default 0.85
	MaxMomentum    float64 // default 0.95
	DivFactor      float64 // default 25
	FinalDivFactor float64 // default 1e4
	ThreePhase     bool
}

// NewOneCycle returns 1cycle with PyTorch's defaults.
func NewOneCycle(maxLR float64, totalSteps int64) OneCycle {
	return OneCycle{MaxLR: maxLR, TotalSteps: totalSteps, PctStart: 0.3, AnnealStrategy: "cos", CycleMomentum: true,
		BaseMomentum: 0.85, MaxMomentum: 0.95, DivFactor: 25, FinalDivFactor: 1e4}
}

type phase struct {
	end                      float64
	startLR, endLR, startMom float64
	endMom                   float64
}

// phases returns OneCycleLR's phases (in an array: no allocation per step).
func (s OneCycle) phases() ([3]phase, int) {
	initial := s.MaxLR / s.DivFactor
	minLR := initial / s.FinalDivFactor
	t := float64(s.TotalSteps)
	if s.ThreePhase {
		return [3]phase{
			{s.PctStart*t - 1, initial, s.MaxLR, s.MaxMomentum, s.BaseMomentum},
			{2*s.PctStart*t - 2, s.MaxLR, initial, s.BaseMomentum, s.MaxMomentum},
			{t - 1, initial, minLR, s.MaxMomentum, s.MaxMomentum},
		}, 3
	}
	return [3]phase{
		{s.PctStart*t - 1, initial, s.MaxLR, s.MaxMomentum, s.BaseMomentum},
		{t - 1, s.MaxLR, minLR, s.BaseMomentum, s.MaxMomentum},
	}, 2
}

// at returns the rate and the momentum at step as OneCycleLR.get_lr does.
func (s OneCycle) at(step int64) (lr, mom float64) {
	x := float64(min(step, s.TotalSteps-1))
	anneal := func(a, b, pct float64) float64 {
		if s.AnnealStrategy == "linear" {
			return (b-a)*pct + a
		}
		return b + (a-b)/2*(math.Cos(math.Pi*pct)+1)
	}
	all, n := s.phases()
	ps := all[:n]
	start := 0.0
	for i, p := range ps {
		if x <= p.end || i == len(ps)-1 {
			pct := (x - start) / (p.end - start)
			return anneal(p.startLR, p.endLR, pct), anneal(p.startMom, p.endMom, pct)
		}
		start = p.end
	}
	panic("unreachable")
}

// At implements Schedule.
func (s OneCycle) At(step int64) float64 { lr, _ := s.at(step); return lr }

// CyclesMomentum implements MomentumSchedule.
func (s OneCycle) CyclesMomentum() bool { return s.CycleMomentum }

// Momentum implements MomentumSchedule.
func (s OneCycle) Momentum(step int64) float64 { _, m := s.at(step); return m }

// Validate implements Schedule.
func (s OneCycle) Validate() error {
	switch {
	case s.TotalSteps < 1:
		return fmt.Errorf("1cycle: total_steps %d: want a number > 0", s.TotalSteps)
	case !(s.PctStart >= 0 && s.PctStart <= 1):
		return fmt.Errorf("1cycle: pct_start %g: want a fraction from 0 to 1", s.PctStart)
	case s.AnnealStrategy != "cos" && s.AnnealStrategy != "linear":
		return fmt.Errorf("1cycle: anneal_strategy %q: want cos or linear", s.AnnealStrategy)
	case s.CycleMomentum && !(s.BaseMomentum >= 0 && s.BaseMomentum <= s.MaxMomentum && s.MaxMomentum <= 1):
		return fmt.Errorf("1cycle: base_momentum %g and max_momentum %g: want 0 <= base <= max <= 1", s.BaseMomentum, s.MaxMomentum)
	}
	if err := firstError(rate("1cycle", "max_lr", s.MaxLR), positive("1cycle", "div_factor", s.DivFactor),
		positive("1cycle", "final_div_factor", s.FinalDivFactor)); err != nil {
		return err
	}
	// PyTorch divides by the length of the phase a step falls in: a first
	// phase ending at step 0 (pct_start·total_steps = 1) divides by zero
	// at step 0, which PyTorch raises. A shorter one (pct_start 0, say) is
	// never the phase of any step and is skipped, as in PyTorch; a later
	// phase of no length is never chosen either (a step past the one
	// before it is past it too).
	if ps, _ := s.phases(); ps[0].end == 0 {
		return fmt.Errorf("1cycle: pct_start %g of %d steps gives the first phase no steps (PyTorch divides by zero): use more steps or another pct_start", s.PctStart, s.TotalSteps)
	}
	return nil
}
