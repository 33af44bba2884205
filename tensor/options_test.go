package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// optionLengths are the lengths the base options' kernels are checked at:
// empty, shorter than a vector, every tail of the 8- and 16-lane blocks,
// and longer runs.
var optionLengths = []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 100, 1025, 4099}

// oddValues puts the values the passes must treat as Go does into x (when
// it is long enough): NaN, ±Inf, -0, +0, subnormals and values at and
// beyond the clip bounds.
func oddValues(x []float32) {
	odd := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 0.5, -0.5, 0.50000006, -0.50000006, 3e38, -3e38}
	for i, v := range odd {
		if j := 5 + 3*i; j < len(x) {
			x[j] = v
		}
	}
	if len(x) > 0 {
		x[len(x)-1] = float32(math.Copysign(0, -1)) // in a tail
	}
}

func sameBits(t *testing.T, what string, n int, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s n=%d [%d]: %#x (%g), Go twin %#x (%g)", what, n, i, math.Float32bits(got[i]), got[i], math.Float32bits(want[i]), want[i])
		}
	}
}

// TestBaseOptionKernelsBitIdentical: every base-option pass this CPU runs
// gives its Go twin's bits at every length (tails included), with NaN,
// ±Inf, -0 and subnormals among the values.
func TestBaseOptionKernelsBitIdentical(t *testing.T) {
	type pass struct {
		name string
		run  func(s simd, x, y []float32)
	}
	passes := []pass{
		{"scale", func(s simd, x, _ []float32) { s.scale(x, 0.37) }},
		{"scale-nan", func(s simd, x, _ []float32) { s.scale(x, float32(math.NaN())) }},
		{"clipByNorm", func(s simd, x, _ []float32) { s.clipByNorm(x, 1.5, 3.25) }},
		{"clipByValue", func(s simd, x, _ []float32) { s.clipByValue(x, -0.5, 0.5) }},
		{"decayWeights", func(s simd, x, _ []float32) { s.decayWeights(x, 0.004, 0.001) }},
		{"movingAverage", func(s simd, x, y []float32) { s.movingAverage(x, y, 0.99, 1-float32(0.99)) }},
		{"movingAverage-first", func(s simd, x, y []float32) { s.movingAverage(x, y, 0, 1) }},
	}
	for _, p := range passes {
		for _, s := range simds() {
			for _, n := range optionLengths {
				r := rand.New(rand.NewPCG(11, uint64(n)))
				x1, y := randSlice(r, n), randSlice(r, n)
				oddValues(x1)
				x2 := append([]float32(nil), x1...)
				for range 2 {
					p.run(genericSIMD, x1, y)
					p.run(s, x2, y)
				}
				sameBits(t, p.name, n, x1, x2)
			}
		}
	}
}

// TestClipByValueGoSemantics: the clip keeps NaN and -0 and clips ±Inf, in
// every kernel (the Go twin's comparisons, worked by hand here).
func TestClipByValueGoSemantics(t *testing.T) {
	in := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0.75, -0.75, 0.5, -0.5, 0.25, 2, -2, 1e-40, 0, 1, -1, 0.4999}
	want := []float32{float32(math.NaN()), 0.5, -0.5, float32(math.Copysign(0, -1)), 0.5, -0.5, 0.5, -0.5, 0.25, 0.5, -0.5, 1e-40, 0, 0.5, -0.5, 0.4999}
	for _, s := range simds() {
		x := append([]float32(nil), in...)
		s.clipByValue(x, -0.5, 0.5)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
				t.Fatalf("clip of %g: %g (%#x), want %g", in[i], x[i], math.Float32bits(x[i]), want[i])
			}
		}
	}
}

// TestSumSquares: the sum is exact where every partial sum is (integers),
// the kernels agree with the Go twin bit for bit on random values at every
// length, stay within rounding of a float64 sum in index order, and any
// NaN gives the one NaN.
func TestSumSquares(t *testing.T) {
	for _, s := range simds() {
		for _, n := range optionLengths {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i + 1)
				if i%3 == 1 {
					x[i] = -x[i]
				}
			}
			if got, want := s.sumSquares(x), float64(n)*float64(n+1)*float64(2*n+1)/6; got != want {
				t.Fatalf("n=%d: sum of squares of ±1..n %v, want %v", n, got, want)
			}
			r := rand.New(rand.NewPCG(13, uint64(n)))
			x = randSlice(r, n)
			got, want := s.sumSquares(x), genericSIMD.sumSquares(x)
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("n=%d: %v, Go twin %v", n, got, want)
			}
			var ordered float64
			for _, v := range x {
				ordered += float64(v) * float64(v)
			}
			if math.Abs(got-ordered) > 1e-14*ordered {
				t.Fatalf("n=%d: %v, in index order %v", n, got, ordered)
			}
			if n > 0 {
				x[n/2] = math.Float32frombits(0x7fc01234) // a NaN with a payload
				if got := s.sumSquares(x); math.Float64bits(got) != math.Float64bits(math.NaN()) {
					t.Fatalf("n=%d: a NaN gives %#x, want math.NaN()", n, math.Float64bits(got))
				}
				x[n/2] = float32(math.Inf(-1))
				if got := s.sumSquares(x); !math.IsInf(got, 1) {
					t.Fatalf("n=%d: an -Inf gives %v, want +Inf", n, got)
				}
			}
		}
	}
}

// nanValues puts NaNs of both signs (with payloads), ±0 and ±Inf into x
// (when it is long enough), for the passes whose Go twin's comparisons or
// max decide what a NaN or a zero becomes.
func nanValues(x []float32) {
	odd := []float32{math.Float32frombits(0x7fc01234), math.Float32frombits(0xffc00000), math.Float32frombits(0xffc00101),
		float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1))}
	for i, v := range odd {
		if j := 4 + 5*i; j < len(x) {
			x[j] = v
		}
	}
}

// TestSGDAndAMSGradKernelsBitIdentical: SGD (plain, momentum, Nesterov),
// Adam with AMSGrad and Adamax (whose kernels take Go's max) give their Go
// twins' bits at every length, with NaNs of both signs, ±0 and ±Inf among
// the gradients and the slots, over three steps.
func TestSGDAndAMSGradKernelsBitIdentical(t *testing.T) {
	type pass struct {
		name string
		run  func(s simd, w, g, a, b []float32)
	}
	sgdC := [8]float32{0.01, 0.9}
	adamC := [4]float32{0.00031, 0.1, 0.001, 1e-7}
	adamaxC := [8]float32{0.001, 0.1, 0.999, 0.271, 1e-7}
	passes := []pass{
		{"sgd", func(s simd, w, g, _, _ []float32) { s.sgd(w, g, nil, false, &sgdC) }},
		{"sgd-momentum", func(s simd, w, g, a, _ []float32) { s.sgd(w, g, a, false, &sgdC) }},
		{"sgd-nesterov", func(s simd, w, g, a, _ []float32) { s.sgd(w, g, a, true, &sgdC) }},
		{"adam-amsgrad", func(s simd, w, g, a, b []float32) {
			v := b[:len(b)/2]
			s.adamAMSGrad(w[:len(v)], g, a, v, b[len(b)/2:], &adamC)
		}},
		{"adamax", func(s simd, w, g, a, b []float32) { s.adamax(w, g, a, b, &adamaxC) }},
	}
	for _, p := range passes {
		for _, s := range simds() {
			for _, n := range optionLengths {
				r := rand.New(rand.NewPCG(17, uint64(n)))
				w1, g, a1, b1 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, 2*n)
				for i := range b1 { // second moments and norms are >= 0
					b1[i] = float32(math.Abs(float64(b1[i])))
				}
				nanValues(g)
				nanValues(b1[n/2:])
				w2, a2, b2 := append([]float32(nil), w1...), append([]float32(nil), a1...), append([]float32(nil), b1...)
				for range 3 {
					p.run(genericSIMD, w1, g, a1, b1)
					p.run(s, w2, g, a2, b2)
				}
				sameBits(t, p.name+" w", n, w1, w2)
				sameBits(t, p.name+" slot", n, a1, a2)
				sameBits(t, p.name+" second slot", n, b1, b2)
			}
		}
	}
}

// TestClipByNormOneIsScaleByOne: (x·1)/1 and x·1 are the same float32 for
// every x in every kernel and the Go twin (each rounds exactly, and a NaN
// comes out quieted with its payload either way), which optim uses to clip
// with clipnorm 1 without a division when the norm is at most 1. Checked
// here on a sweep of bit patterns (every exponent, both signs, signalling
// and quiet NaNs, subnormals); the session that added it also ran all 2^32.
func TestClipByNormOneIsScaleByOne(t *testing.T) {
	var x []float32
	for b := uint64(0); b < 1<<32; b += 65521 { // a prime stride: every exponent and many significands
		x = append(x, math.Float32frombits(uint32(b)))
	}
	x = append(x, math.Float32frombits(0x7f800001), math.Float32frombits(0xff800001), math.Float32frombits(0x7fa00000), // signalling NaNs
		math.Float32frombits(1), math.Float32frombits(0x807fffff), math.MaxFloat32, -math.MaxFloat32)
	for _, s := range append(simds(), genericSIMD) {
		a, b := append([]float32(nil), x...), append([]float32(nil), x...)
		s.clipByNorm(a, 1, 1)
		s.scale(b, 1)
		sameBits(t, "clipByNorm(1, 1) against scale(1)", len(x), b, a)
	}
}
