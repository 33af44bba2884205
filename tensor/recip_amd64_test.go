//go:build amd64 && !purego

package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestReciprocal checks reciprocal against the definition of rounding to
// nearest over every float32 significand (at one exponent; the others
// scale exactly) and at the ends of its range: 1/d - y is compared with
// 1/d - y' for y's neighbours y', all as d·y products exact in float64.
func TestReciprocal(t *testing.T) {
	nearest := func(d, y float32) bool {
		dist := func(y float32) float64 { return math.Abs(1 - float64(d)*float64(y)) }
		return dist(y) < dist(math.Nextafter32(y, 0)) && dist(y) < dist(math.Nextafter32(y, 2*y))
	}
	for s := range uint32(1 << 23) {
		d := math.Float32frombits(127<<23 | s)
		if y := reciprocal(d); !nearest(d, y) {
			t.Fatalf("reciprocal(%g) = %g, not 1/d rounded to nearest", d, y)
		}
	}
	for _, d := range []float32{0x1p-30, 0x1p30, 0.001, 1 - 0.999*0.999} {
		if y := reciprocal(d); !nearest(d, y) {
			t.Fatalf("reciprocal(%g) = %g, not 1/d rounded to nearest", d, y)
		}
	}
	for _, d := range []float32{0, -1, 0x1p-31, 0x1p31, float32(math.Inf(1)), float32(math.NaN())} {
		if y := reciprocal(d); y != 0 {
			t.Errorf("reciprocal(%g) = %g, want 0 (out of range)", d, y)
		}
	}
}

// TestDivideScalar checks the AVX-512 division through the reciprocal
// (divScalarAVX512, the Nadam passes' divideScalar) against Go's division,
// bit for bit: for divisors at the ends of [2^-30, 2^30], with an all-ones
// significand, Nadam's first 1-beta2^t and random ones, every dividend
// significand (in [1, 2), both signs: the others scale exactly while the
// check lets them through), the ends of the check's range and zeros in
// vectors of their own, then dividends of every exponent, subnormals,
// infinities and NaNs, which the check sends to VDIVPS.
// CIFARNET_DIVISORS=N adds N random divisors.
func TestDivideScalar(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512")
	}
	divisors := []float32{1, 1 + 0x1p-23, 2 - 0x1p-23, 0.75, 0.001, 1 - 0.999*0.999, 0.1, 3, 0x1p-30, 0x1p30, 0x1.fffffep29}
	r := rand.New(rand.NewPCG(11, 12))
	extra := 4
	if n, err := strconv.Atoi(os.Getenv("CIFARNET_DIVISORS")); err == nil {
		extra = n
	}
	for range extra {
		divisors = append(divisors, math.Float32frombits(uint32(127-30+r.IntN(60))<<23|r.Uint32N(1<<23)))
	}
	every := make([]float32, 1<<24)
	for s := range uint32(1 << 23) {
		every[2*s], every[2*s+1] = math.Float32frombits(127<<23|s), -math.Float32frombits(127<<23|s)
	}
	odd := []float32{0, float32(math.Copysign(0, -1)), 0x1p-149, -0x1p-130, 0x1p-126, 0x1p-61, 0x1p-60, -0x1.fffffep-61, 0x1.fffffep60, 0x1p61,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0xffc00001)}
	for range 1 << 16 {
		odd = append(odd, math.Float32frombits(r.Uint32()))
	}
	for len(odd)%16 != 0 {
		odd = append(odd, 1)
	}
	// The ends of the range the check passes, and zeros, in vectors of
	// nothing else: through the reciprocal, not VDIVPS.
	edges := []float32{0x1p-60, -0x1p-60, 0x1.fffffep60, -0x1.fffffep60, 0, float32(math.Copysign(0, -1)), 0x1.000002p-60, 0x1.fffffep-60,
		0x1p60, -0x1.000002p60, 1, -1, 0x1.fffffep-1, 0x1p-59, 3, -0x1.234568p-33}
	for _, d := range divisors {
		c := [2]float32{d, reciprocal(d)}
		for _, xs := range [][]float32{every, odd, edges} {
			got := append([]float32(nil), xs...)
			divScalarAVX512(got, &c)
			for i, x := range xs {
				if want := x / d; math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("%g / %g: %g (%#x), want %g (%#x)", x, d, got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
				}
			}
		}
	}
}

// TestNadamRecipAVX512 checks the AVX-512 Nadam pass, which divides by its
// scalar divisors through their reciprocals (nadamRecipAVX512 and
// nadamRecipUnitAVX512) or, with a divisor out of their range, by VDIVPS
// (nadamAVX512), against nadamGeneric bit for bit over operands with every
// special value (NaN, infinities, zeros of both signs, denormals, tiny and
// huge), three steps in a row.
func TestNadamRecipAVX512(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512")
	}
	keras := func(step float64) [9]float32 { // Keras's defaults at a step, as optim makes them
		uT := 0.9 * (1 - 0.5*float32(math.Pow(0.96, step)))
		uT1 := 0.9 * (1 - 0.5*float32(math.Pow(0.96, step+1)))
		prod := float32(1)
		for s := 1.0; s <= step; s++ {
			prod *= 0.9 * (1 - 0.5*float32(math.Pow(0.96, s)))
		}
		return [9]float32{0.1, 0.001, uT1, 1 - prod*uT1, 1 - uT, 1 - prod, 1 - float32(math.Pow(0.999, step)), 0.001, 1e-7}
	}
	for _, c := range [][9]float32{keras(1), keras(7), keras(60), {0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 0.002, 0.001, 1e-7},
		{0.1, 0.001, 0.45, 1, 0.55, 0.7, 0.002, 0.001, 1e-7}, {0.5, 0.5, 3, 1, -2, 1, 1, 1e30, 0},
		{0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 1e-12, 0.001, 1e-7}, {0.1, 0.001, 0.45, 2e9, 0.55, 0.7, 0.002, 0.001, 1e-7}} {
		for _, n := range []int{16, 64, 1000, 4096 + 5} {
			w1, g, m1, v1 := nadamOperands(n, 2)
			w2, m2, v2 := append([]float32(nil), w1...), append([]float32(nil), m1...), append([]float32(nil), v1...)
			sc := nadamScalarsOf(c[:]...)
			for range 3 {
				nadamGeneric(w1, g, m1, v1, &c)
				avx512SIMD.nadam(w2, g, m2, v2, &sc.c)
			}
			what := fmt.Sprintf("nadam with divisors %g, %g, %g", c[3], c[5], c[6])
			sameBits(t, what+": w", n, w1, w2)
			sameBits(t, what+": m", n, m1, m2)
			sameBits(t, what+": v", n, v1, v2)
		}
	}
}

// BenchmarkNadamAVX512 times the AVX-512 Nadam pass dividing by its scalar
// divisors (nadamAVX512) and through their reciprocals (nadamRecipAVX512;
// unit: nadamRecipUnitAVX512, both divisors 1), in L1 (4,096 parameters)
// and over the exercise's first kernel (786,432), in ns per parameter.
func BenchmarkNadamAVX512(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	c := nadamScalarsOf(0.1, 0.001, 0.9, 0.7, 0.1, 0.6, 0.05, 1e-9, 1e-7)
	unit := nadamScalarsOf(0.1, 0.001, 0.9, 1, 0.1, 1, 0.05, 1e-9, 1e-7)
	for _, n := range []int{4096, 3072 * 256} {
		for _, k := range []struct {
			name string
			pass func(w, g, m, v []float32)
		}{
			{"divide", func(w, g, m, v []float32) { nadamAVX512(w, g, m, v, (*[9]float32)(c.c[:9])) }},
			{"reciprocal", func(w, g, m, v []float32) { nadamRecipAVX512(w, g, m, v, &c.c) }},
			{"reciprocal-unit", func(w, g, m, v []float32) { nadamRecipUnitAVX512(w, g, m, v, &unit.c) }},
		} {
			b.Run(fmt.Sprintf("%s/%d", k.name, n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1)) // the same operands for each pass
				w, g, m, v := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
				for i := range v {
					v[i] = float32(math.Abs(float64(v[i])))
				}
				b.ResetTimer()
				for range b.N {
					k.pass(w, g, m, v)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
			})
		}
	}
}
