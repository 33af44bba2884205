package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWithOptionsBitIdentical: every fused pass (Nadam and Adam, every
// clip mode, with and without the decay and the average) gives, over three
// steps, the bits of the option passes and the rule one after the other,
// both as the Go twins and as this CPU's own passes: weights, clipped
// gradients, both moments and the average, at every length (tails
// included), with NaNs of both signs and payloads (a NaN weight meeting a
// NaN average too), ±0, ±Inf and subnormals among the values.
func TestWithOptionsBitIdentical(t *testing.T) {
	nadamC := nadamScalarsOf(0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 0.002, 0.001, 1e-7)
	adamC := NewStepScalars(0.00031, 0.1, 0.001, 1e-7)
	type rule struct {
		name  string
		set   func(s *WithOptions, o Options)
		fused func(s simd) func(w, g, m, v, a []float32, ws *WithOptions)
		pass  func(s simd, w, g, m, v []float32)
	}
	rules := []rule{
		{"nadam", func(s *WithOptions, o Options) { s.SetNadam(&nadamC, o) },
			func(s simd) func(w, g, m, v, a []float32, ws *WithOptions) { return s.nadamWithOptions },
			func(s simd, w, g, m, v []float32) { s.nadam(w, g, m, v, &nadamC.c) }},
		{"adam", func(s *WithOptions, o Options) { s.SetAdam(&adamC, o) },
			func(s simd) func(w, g, m, v, a []float32, ws *WithOptions) { return s.adamWithOptions },
			func(s simd, w, g, m, v []float32) { s.adam(w, g, m, v, adamC.four()) }},
	}
	clips := []Options{{}, {Clip: ClipNorm, C: 1.5, D: 3.25}, {Clip: ClipScale, C: 0.37}, {Clip: ClipValue, C: -0.5, D: 0.5}}
	for _, r := range rules {
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
							checkWithOptions(t, name, n, r.set, o, r.fused(s), r.fused(genericSIMD), func(w, g, m, v, a []float32, o *Options) {
								switch o.Clip { // this CPU's passes, one after the other
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
								r.pass(s, w, g, m, v)
								if o.EMA {
									s.movingAverage(a, w, o.M, o.OM)
								}
							})
						}
					}
				}
			}
		}
	}
}

// nadamScalarsOf returns Nadam's nine scalars in NadamPass's form.
func nadamScalarsOf(c ...float32) NadamScalars {
	var s NadamScalars
	copy(s.c[:], c)
	return s
}

// checkWithOptions runs three steps (the average's first, m = 0, then
// m = 0.99) of fused, twin (the Go twin) and staged on copies of the same
// values of length n and compares every slice bit for bit.
func checkWithOptions(t *testing.T, name string, n int, set func(*WithOptions, Options), o Options,
	fused, twin func(w, g, m, v, a []float32, s *WithOptions), staged func(w, g, m, v, a []float32, o *Options)) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(19, uint64(n)))
	w, g, m, v, a := randSlice(rnd, n), randSlice(rnd, n), randSlice(rnd, n), randSlice(rnd, n), randSlice(rnd, n)
	for i := range v {
		v[i] = float32(math.Abs(float64(v[i])))
	}
	oddValues(g)
	nanValues(w)
	oddValues(m)
	if n > 4 {
		a[4] = math.Float32frombits(0xffc00101) // meets w's NaN 0x7fc01234
	}
	type run struct{ w, g, m, v, a []float32 }
	clone := func() run {
		c := func(x []float32) []float32 { return append([]float32(nil), x...) }
		return run{c(w), c(g), c(m), c(v), c(a)}
	}
	runs := [3]run{clone(), clone(), clone()}
	var ws WithOptions
	for step := range 3 {
		o.M, o.OM = 0, 1
		if step > 0 {
			o.M, o.OM = 0.99, 1-float32(0.99)
		}
		set(&ws, o)
		for i, f := range []func(w, g, m, v, a []float32, s *WithOptions){fused, twin} {
			x := runs[i]
			av := x.a
			if !o.EMA {
				av = nil
			}
			f(x.w, x.g, x.m, x.v, av, &ws)
		}
		x := runs[2]
		staged(x.w, x.g, x.m, x.v, x.a, &o)
	}
	for i, what := range []string{"Go twin", "passes one after the other"} {
		want, got := runs[i+1], runs[0]
		for j, p := range [][2][]float32{{want.w, got.w}, {want.g, got.g}, {want.m, got.m}, {want.v, got.v}, {want.a, got.a}} {
			sameBits(t, fmt.Sprintf("%s (%s) slice %d", name, what, j), n, p[0], p[1])
		}
	}
}
