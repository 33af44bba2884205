package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kerasQuotient is Adadelta's q = sqrt(a) g / sqrt(b) in Keras's order of
// float32 operations.
func kerasQuotient(a, b, g float32) float32 {
	s := float32(math.Sqrt(float64(a)))
	return float32(s*g) / float32(math.Sqrt(float64(b)))
}

// TestAdadeltaQuotientAccuracy: where a/b and the result are normal floats
// (the exponents below keep every value far from both ends of the range),
// adadeltaQuotient is within 2.5 units of float32's roundoff (2^-24,
// relative) of the exact sqrt(a/b) g: RN(a/b) adds one unit, halved by the
// root, the root and the product one each. Keras's order, with its four
// roundings, is allowed four, and some values must need more than 2.5 (or
// the bound would not tell the two apart).
func TestAdadeltaQuotientAccuracy(t *testing.T) {
	const u = 0x1p-24
	r := rand.New(rand.NewPCG(5, 7))
	worstKeras := 0.0
	for range 1_000_000 {
		a := float32(math.Ldexp(1+r.Float64(), r.IntN(60)-40))
		b := float32(math.Ldexp(1+r.Float64(), r.IntN(60)-40))
		g := float32(math.Ldexp(1+r.Float64(), r.IntN(40)-20))
		if r.IntN(2) == 0 {
			g = -g
		}
		exact := math.Sqrt(float64(a)/float64(b)) * float64(g)
		if e := math.Abs(float64(adadeltaQuotient(a, b, g))-exact) / math.Abs(exact); e > 2.5*u*(1+1e-6) {
			t.Fatalf("adadeltaQuotient(%g, %g, %g) = %g: relative error %.3g units, want at most 2.5 (exact %g)", a, b, g, adadeltaQuotient(a, b, g), e/u, exact)
		}
		e := math.Abs(float64(kerasQuotient(a, b, g))-exact) / math.Abs(exact)
		if e > 4*u*(1+1e-6) {
			t.Fatalf("Keras's order (%g, %g, %g): relative error %.3g units, want at most 4", a, b, g, e/u)
		}
		worstKeras = math.Max(worstKeras, e)
	}
	if worstKeras <= 2.5*u {
		t.Errorf("Keras's order within %.3g units everywhere: the test cannot tell the orders apart", worstKeras/u)
	}
}

// adadeltaOdd are (a, b, g) whose quotient a/b is not a positive normal
// float, where adadeltaQuotient takes Keras's order, and what Keras's
// order gives there.
var adadeltaOdd = []struct {
	what    string
	a, b, g float32
}{
	{"a/b overflows", 3e38, 1e-7, 0.25},
	{"a/b overflows, g = 0", 3e38, 1e-7, 0},
	{"a/b is subnormal", 1e-7, 1e32, -3},
	{"a/b underflows to 0", 1e-7, 3e38, 1e-3},
	{"a = 0", 0, 0.5, 2},
	{"b = 0", 0.5, 0, 2},
	{"a = b = 0", 0, 0, 2},
	{"a = +Inf", float32(math.Inf(1)), 0.5, 2},
	{"b = +Inf", 0.5, float32(math.Inf(1)), 2},
	{"a negative", -0.5, 0.5, 2},
	{"b negative", 0.5, -0.5, 2},
	{"a NaN", math.Float32frombits(0x7fc01234), 0.5, 2},
	{"b NaN", 0.5, math.Float32frombits(0xffc00101), 2},
}

// TestAdadeltaQuotientOutsideNormal: where a/b is not a positive normal
// float, adadeltaQuotient gives Keras's order's bits: a finite step where
// the quotient overflows, an accurate one where it is subnormal or zero.
func TestAdadeltaQuotientOutsideNormal(t *testing.T) {
	for _, c := range adadeltaOdd {
		got, want := adadeltaQuotient(c.a, c.b, c.g), kerasQuotient(c.a, c.b, c.g)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("%s: adadeltaQuotient(%g, %g, %g) = %g (%#x), Keras's order %g (%#x)", c.what, c.a, c.b, c.g, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	// What the fallback is for: sqrt(a/b) g itself would be infinite or
	// lose digits here.
	for _, c := range adadeltaOdd[:4] {
		q := adadeltaQuotient(c.a, c.b, c.g)
		exact := math.Sqrt(float64(c.a)/float64(c.b)) * float64(c.g)
		if math.IsInf(float64(q), 0) || math.Abs(float64(q)-exact) > 4*0x1p-24*math.Abs(exact) {
			t.Errorf("%s: adadeltaQuotient(%g, %g, %g) = %g, exact %g", c.what, c.a, c.b, c.g, q, exact)
		}
	}
}

// TestAdadeltaKernelsOutsideNormal: every Adadelta pass this CPU runs (alone
// and with the base options) gives its Go twin's bits where a lane's
// quotient (D + epsilon)/(G + epsilon) is not a positive normal float, or
// is one of the two ends of the normal range, each case at every lane of
// one and of two vectors and a tail, the other lanes normal.
func TestAdadeltaKernelsOutsideNormal(t *testing.T) {
	const rho = 0.5
	c := [4]float32{rho, 1 - rho, 0.001, 0} // epsilon 0: a = D, b = G'
	sc := NewStepScalars(c[:]...)
	var ws WithOptions
	ws.SetOptions(Options{})
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	states := []struct {
		what      string
		ga, da, g float32
	}{
		{"a/b overflows", 0, 3e38, 1e-3},
		{"a/b overflows, g = 0", 1e-7, 3e38, 0},
		{"a/b is subnormal", 1e32, 1e-7, -3},
		{"a/b underflows to 0", 3e38, 1e-7, 1e-3},
		{"a = 0", 1, 0, 2},
		{"b = 0", 0, 0.5, 0},
		{"a = b = 0", 0, 0, 0},
		{"a = +Inf", 1, inf, 2},
		{"b = +Inf", inf, 0.5, 2},
		{"a negative", 1, -0.5, 2},
		{"b negative", -1, 0.5, 0.5},
		{"a NaN", 1, nan, 2},
		{"b NaN", nan, 0.5, 2},
		{"a/b just below 2^-126", 2, 0x1p-126 - 0x1p-149, 0},
		{"a/b just above MaxFloat32", 1.9999999, math.MaxFloat32, 0},
	}
	for _, st := range states {
		b := float32(rho*st.ga) + float32((1-rho)*float32(st.g*st.g))
		if q := st.da / b; q >= 0x1p-126 && q <= math.MaxFloat32 {
			t.Fatalf("%s: a/b = %g is a positive normal float", st.what, q)
		}
	}
	// And the normal ends, which take the quotient's root.
	edges := []struct {
		what      string
		ga, da, g float32
	}{
		{"a/b = 2^-126", 2, 0x1p-126, 0},
		{"a/b = MaxFloat32", 2, math.MaxFloat32, 0},
	}
	for _, st := range edges {
		b := float32(rho*st.ga) + float32((1-rho)*float32(st.g*st.g))
		if q := st.da / b; q != 0x1p-126 && q != math.MaxFloat32 {
			t.Fatalf("%s: a/b = %g", st.what, q)
		}
	}
	for _, st := range append(states, edges...) {
		for _, s := range simds() {
			for _, n := range []int{16, 39} {
				for lane := range n {
					r := rand.New(rand.NewPCG(uint64(n), uint64(lane)))
					w, g, ga, da := randSlice(r, n), randSlice(r, n), make([]float32, n), make([]float32, n)
					for i := range n {
						ga[i], da[i] = float32(r.Float64()), float32(r.Float64())
					}
					g[lane], ga[lane], da[lane] = st.g, st.ga, st.da
					// The pass alone and the pass with the base options (none
					// on) against the Go twin.
					var vals [3][3][]float32
					for i := range vals {
						vals[i] = [3][]float32{append([]float32(nil), w...), append([]float32(nil), ga...), append([]float32(nil), da...)}
					}
					adadeltaGeneric(vals[0][0], g, vals[0][1], vals[0][2], &c)
					s.adadelta(vals[1][0], g, vals[1][1], vals[1][2], &c)
					s.ruleWithOptions(RuleAdadelta, vals[2][0], g, [3][]float32{vals[2][1], vals[2][2]}, nil, &sc, &ws)
					for i, how := range []string{"pass", "pass with options"} {
						for j, what := range []string{"w", "G", "D"} {
							sameBits(t, st.what+": "+how+": "+what, n, vals[0][j], vals[i+1][j])
						}
					}
				}
			}
		}
	}
}
