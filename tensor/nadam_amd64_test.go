//go:build amd64 && !purego

package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// nadamOperands returns w, g, m and v of length n, each with the special
// values of elementwiseInputs (NaN, zeros of both signs, tiny, huge) at
// different places, and Inf and denormals besides.
func nadamOperands(n int, seed uint64) (w, g, m, v []float32) {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	ops := make([][]float32, 4)
	for k := range ops {
		x := elementwiseInputs(n)
		r.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
		for i := range x {
			switch r.IntN(40) {
			case 0:
				x[i] = float32(math.Inf(1 - 2*r.IntN(2)))
			case 1:
				x[i] = math.Float32frombits(uint32(r.IntN(1 << 23))) // denormal
			}
		}
		ops[k] = x
	}
	for i := range ops[3] { // the second moment is never negative
		ops[3][i] = float32(math.Abs(float64(ops[3][i])))
	}
	return ops[0], ops[1], ops[2], ops[3]
}

// TestNadamUnitAVX2 checks nadamUnitAVX2, Nadam's pass without the
// divisions by 1-Πu_t+1 and 1-Πu_t, against nadamAVX2 with both divisors
// 1, bit for bit (NaN payloads included); and that the AVX2 pass takes it
// only when both divisors are 1, against nadamGeneric.
func TestNadamUnitAVX2(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	// Nadam's scalars at its 60th step with Keras's defaults (1-Πu is 1
	// from the 49th), and others.
	keras := [9]float32{0.1, 0.001, 0.9 * (1 - 0.5*float32(math.Pow(0.96, 61))), 1, 1 - 0.9*(1-0.5*float32(math.Pow(0.96, 60))), 1, 1 - float32(math.Pow(0.999, 60)), 0.001, 1e-7}
	for _, c := range [][9]float32{keras, {0.1, 0.001, 0.45, 1, 0.55, 1, 0.002, 0.001, 1e-7}, {0.5, 0.5, 3, 1, -2, 1, 1, 1e30, 0}} {
		for _, n := range []int{8, 16, 64, 1000 &^ 7, 4096} {
			w1, g, m1, v1 := nadamOperands(n, 1)
			w2, m2, v2 := append([]float32(nil), w1...), append([]float32(nil), m1...), append([]float32(nil), v1...)
			for range 3 {
				nadamAVX2(w1, g, m1, v1, &c)
				nadamUnitAVX2(w2, g, m2, v2, &c)
			}
			sameBits(t, "nadamUnitAVX2 w", n, w1, w2)
			sameBits(t, "nadamUnitAVX2 m", n, m1, m2)
			sameBits(t, "nadamUnitAVX2 v", n, v1, v2)
		}
	}
	// Through the pass: the unit kernel only where both divisors are 1.
	for _, c := range [][9]float32{keras, {0.1, 0.001, 0.45, 1, 0.55, 0.7, 0.002, 0.001, 1e-7}, {0.1, 0.001, 0.45, 0.6, 0.55, 1, 0.002, 0.001, 1e-7}} {
		for _, n := range avx2Lengths() {
			r := rand.New(rand.NewPCG(5, uint64(n)))
			w1, g, m1, v1 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
			for i := range v1 {
				v1[i] = float32(math.Abs(float64(v1[i])))
			}
			w2, m2, v2 := append([]float32(nil), w1...), append([]float32(nil), m1...), append([]float32(nil), v1...)
			nadamGeneric(w1, g, m1, v1, &c)
			sc := nadamScalarsOf(c[:]...)
			avx2SIMD.nadam(w2, g, m2, v2, &sc.c)
			sameBits(t, fmt.Sprintf("nadam with divisors %g, %g: w", c[3], c[5]), n, w1, w2)
		}
	}
}

// BenchmarkNadamAVX2 times Nadam's AVX2 pass with its divisors and without
// them (nadamUnitAVX2), in L1 (4,096 parameters) and over the exercise's
// first kernel (786,432), in ns per parameter.
func BenchmarkNadamAVX2(b *testing.B) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		b.Skip("no AVX2 and FMA")
	}
	c := [9]float32{0.1, 0.001, 0.9, 1, 0.1, 1, 0.05, 1e-9, 1e-7}
	for _, n := range []int{4096, 3072 * 256} {
		r := rand.New(rand.NewPCG(1, 1))
		w, g, m, v := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		for _, k := range []struct {
			name string
			pass func(w, g, m, v []float32, c *[9]float32)
		}{{"divisors", nadamAVX2}, {"unit", nadamUnitAVX2}} {
			b.Run(fmt.Sprintf("%s/%d", k.name, n), func(b *testing.B) {
				for range b.N {
					k.pass(w, g, m, v, &c)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
			})
		}
	}
}
