package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withOptionsRule is one optimizer pass for TestWithOptionsBitIdentical:
// its number of slots, how a WithOptions is set for it, the fused pass of
// an elementwise set and the rule's own pass.
type withOptionsRule struct {
	name  string
	slots int
	set   func(s *WithOptions, o Options)
	fused func(s simd, w, g []float32, x [3][]float32, a []float32, ws *WithOptions)
	pass  func(s simd, w, g []float32, x [3][]float32)
}

func withOptionsRules() []withOptionsRule {
	nadamC := nadamScalarsOf(0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 0.002, 0.001, 1e-7)
	// Nadam after its first tens of steps: both divisors 1 (its AVX2
	// passes without those divisions).
	nadamUnitC := nadamScalarsOf(0.1, 0.001, 0.45, 1, 0.55, 1, 0.002, 0.001, 1e-7)
	// 1-beta2^t beyond the reciprocal's range (the AVX-512 fused passes
	// divide by it through RN(1/d): this one goes to the AVX2 passes).
	nadamFarC := nadamScalarsOf(0.1, 0.001, 0.45, 1, 0.55, 1, 0x1p-31, 0.001, 1e-7)
	adamC := NewStepScalars(0.00031, 0.1, 0.001, 1e-7)
	rules := []withOptionsRule{
		{"nadam-unit-far", 2, func(s *WithOptions, o Options) { s.SetNadam(&nadamFarC, o) },
			func(s simd, w, g []float32, x [3][]float32, a []float32, ws *WithOptions) {
				s.nadamWithOptions(w, g, x[0], x[1], a, ws)
			},
			func(s simd, w, g []float32, x [3][]float32) { s.nadam(w, g, x[0], x[1], &nadamFarC.c) }},
		{"nadam", 2, func(s *WithOptions, o Options) { s.SetNadam(&nadamC, o) },
			func(s simd, w, g []float32, x [3][]float32, a []float32, ws *WithOptions) {
				s.nadamWithOptions(w, g, x[0], x[1], a, ws)
			},
			func(s simd, w, g []float32, x [3][]float32) { s.nadam(w, g, x[0], x[1], &nadamC.c) }},
		{"nadam-unit", 2, func(s *WithOptions, o Options) { s.SetNadam(&nadamUnitC, o) },
			func(s simd, w, g []float32, x [3][]float32, a []float32, ws *WithOptions) {
				s.nadamWithOptions(w, g, x[0], x[1], a, ws)
			},
			func(s simd, w, g []float32, x [3][]float32) { s.nadam(w, g, x[0], x[1], &nadamUnitC.c) }},
		{"adam", 2, func(s *WithOptions, o Options) { s.SetAdam(&adamC, o) },
			func(s simd, w, g []float32, x [3][]float32, a []float32, ws *WithOptions) {
				s.adamWithOptions(w, g, x[0], x[1], a, ws)
			},
			func(s simd, w, g []float32, x [3][]float32) { s.adam(w, g, x[0], x[1], adamC.four()) }},
	}
	// Every other rule through RuleWithOptions, with its scalars, slots
	// and own pass.
	for _, r := range []struct {
		rule  Rule
		name  string
		slots int
		c     StepScalars
		pass  func(s simd, w, g []float32, x [3][]float32, c *StepScalars)
	}{
		{RuleSGD, "sgd", 0, NewStepScalars(0.01, 0.9), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.sgd(w, g, nil, false, &c.c) }},
		{RuleSGDMomentum, "sgd-momentum", 1, NewStepScalars(0.01, 0.9), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.sgd(w, g, x[0], false, &c.c) }},
		{RuleSGDNesterov, "sgd-nesterov", 1, NewStepScalars(0.01, 0.9), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.sgd(w, g, x[0], true, &c.c) }},
		{RuleRMSprop, "rmsprop", 1, NewStepScalars(0.9, 0.1, 0.001, 1e-7), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.rmsprop(w, g, x[0], c.four()) }},
		{RuleRMSpropCentered, "rmsprop-centered", 2, NewStepScalars(0.9, 0.1, 0.001, 1e-7, 0.9), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) {
			s.rmspropFull(w, g, x[0], x[1], nil, &c.c)
		}},
		{RuleRMSpropMomentum, "rmsprop-momentum", 2, NewStepScalars(0.9, 0.1, 0.001, 1e-7, 0.9), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) {
			s.rmspropFull(w, g, x[0], nil, x[1], &c.c)
		}},
		{RuleRMSpropCenteredMomentum, "rmsprop-centered-momentum", 3, NewStepScalars(0.9, 0.1, 0.001, 1e-7, 0.9), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) {
			s.rmspropFull(w, g, x[0], x[1], x[2], &c.c)
		}},
		{RuleAdagrad, "adagrad", 1, NewStepScalars(0.01, 1e-7), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.adagrad(w, g, x[0], c.four()) }},
		{RuleAdadelta, "adadelta", 2, NewStepScalars(0.95, 0.05, 1, 1e-7), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.adadelta(w, g, x[0], x[1], c.four()) }},
		{RuleLion, "lion", 1, NewStepScalars(0.0001, 0.9, 0.1, 0.99, 0.01), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.lion(w, g, x[0], &c.c) }},
		{RuleAdamax, "adamax", 2, NewStepScalars(0.001, 0.1, 0.999, 0.271, 1e-7), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) { s.adamax(w, g, x[0], x[1], &c.c) }},
		{RuleAdamAMSGrad, "adam-amsgrad", 3, NewStepScalars(0.00031, 0.1, 0.001, 1e-7), func(s simd, w, g []float32, x [3][]float32, c *StepScalars) {
			s.adamAMSGrad(w, g, x[0], x[1], x[2], c.four())
		}},
	} {
		r := r
		rules = append(rules, withOptionsRule{r.name, r.slots, func(s *WithOptions, o Options) { s.SetOptions(o) },
			func(s simd, w, g []float32, x [3][]float32, a []float32, ws *WithOptions) {
				s.ruleWithOptions(r.rule, w, g, x, a, &r.c, ws)
			},
			func(s simd, w, g []float32, x [3][]float32) { r.pass(s, w, g, x, &r.c) }})
	}
	return rules
}

// TestWithOptionsBitIdentical: every fused pass (every rule, every clip
// mode, with and without the decay and the average) gives, over three
// steps, the bits of the option passes and the rule's pass one after the
// other, both as the Go twins and as this CPU's own passes: weights,
// clipped gradients, every slot and the average, at every length (tails
// included), with NaNs of both signs and payloads (a NaN weight meeting a
// NaN average too), ±0, ±Inf and subnormals among the values.
func TestWithOptionsBitIdentical(t *testing.T) {
	// A norm D beyond [2^-30, 2^30] has no reciprocal for the AVX-512
	// passes' division (see reciprocal): those calls go to the AVX2 ones.
	clips := []Options{{}, {Clip: ClipNorm, C: 1.5, D: 3.25}, {Clip: ClipNorm, C: 1, D: 0x1p31}, {Clip: ClipScale, C: 0.37}, {Clip: ClipValue, C: -0.5, D: 0.5}}
	for _, r := range withOptionsRules() {
		for _, clip := range clips {
			for _, decay := range []bool{false, true} {
				for _, ema := range []bool{false, true} {
					o := clip
					if decay {
						o.Decay, o.WD, o.LR = true, 0.004, 0.001
					}
					o.EMA = ema
					name := fmt.Sprintf("%s clip %d decay %v ema %v", r.name, o.Clip, decay, ema)
					for _, s := range simds() {
						for _, n := range optionLengths {
							checkWithOptions(t, name, n, r, s, o)
						}
					}
				}
			}
		}
	}
}

// nadamScalarsOf returns Nadam's nine scalars in NadamPass's form.
func nadamScalarsOf(c ...float32) NadamScalars { return nadamScalars([9]float32(c)) }

// checkWithOptions runs three steps (the average's first, m = 0, then
// m = 0.99) of rule r's fused pass in s, of its Go twin, and of s's option
// passes and rule pass one after the other, on copies of the same values
// of length n, and compares every slice bit for bit.
func checkWithOptions(t *testing.T, name string, n int, r withOptionsRule, s simd, o Options) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(19, uint64(n)))
	vals := make([][]float32, 2+r.slots+1) // w, g, the slots, the average
	for i := range vals {
		vals[i] = randSlice(rnd, n)
	}
	for _, x := range vals[2 : 2+r.slots] { // second moments, norms: >= 0; NaNs of both signs
		for i := range x {
			x[i] = float32(math.Abs(float64(x[i])))
		}
		nanValues(x[n/2:])
	}
	oddValues(vals[1])
	nanValues(vals[0])
	if n > 4 {
		vals[len(vals)-1][4] = math.Float32frombits(0xffc00101) // meets w's NaN 0x7fc01234
	}
	var runs [3][][]float32
	for i := range runs {
		for _, x := range vals {
			runs[i] = append(runs[i], append([]float32(nil), x...))
		}
	}
	parts := func(x [][]float32) (w, g []float32, slots [3][]float32, a []float32) {
		copy(slots[:], x[2:2+r.slots])
		return x[0], x[1], slots, x[len(x)-1]
	}
	var ws WithOptions
	for step := range 3 {
		o.M, o.OM = 0, 1
		if step > 0 {
			o.M, o.OM = 0.99, 1-float32(0.99)
		}
		r.set(&ws, o)
		for i, set := range []simd{s, genericSIMD} {
			w, g, x, a := parts(runs[i])
			if !o.EMA {
				a = nil
			}
			r.fused(set, w, g, x, a, &ws)
		}
		w, g, x, a := parts(runs[2]) // s's passes, one after the other
		switch o.Clip {
		case ClipNorm:
			s.clipByNorm(g, o.C, o.D)
		case ClipScale:
			s.scale(g, o.C)
		case ClipValue:
			s.clipByValue(g, o.C, o.D)
		}
		if o.Decay {
			s.decayWeights(w, o.WD, o.LR)
		}
		r.pass(s, w, g, x)
		if o.EMA {
			s.movingAverage(a, w, o.M, o.OM)
		}
	}
	for i, what := range []string{"Go twin", "passes one after the other"} {
		for j := range vals {
			sameBits(t, fmt.Sprintf("%s (%s) slice %d", name, what, j), n, runs[i+1][j], runs[0][j])
		}
	}
}
