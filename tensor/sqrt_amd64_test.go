//go:build amd64 && !purego

package tensor

import (
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/cifarnet/cifarnet/internal/race"
	"golang.org/x/sys/cpu"
)

// goSqrt is the correctly rounded float32 root: Go's float64 root rounded
// to float32 (float64 has more than twice float32's precision, so the two
// roundings give the one).
func goSqrt(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// TestSqrtAVX512 checks the AVX-512 square root of the optimizers' passes
// (sqrtAVX512: rsqrt14, then sqrtFrom in _asm/gen.go) against Go's, bit
// for bit, over every float32 bit pattern in vectors of consecutive
// patterns: the range its FMA sequence serves, its ends, and everything
// sent to VSQRTPS (NaN wanted for NaN). Under the race detector, one
// vector in 61.
func TestSqrtAVX512(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512")
	}
	const chunk = 1 << 20
	step := uint64(chunk)
	if race.Enabled {
		step = 61 * 16
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []uint32
	workers := 2
	for wk := range workers {
		wg.Go(func() {
			x := make([]float32, chunk)
			for lo := uint64(wk) * step; lo < 1<<32; lo += uint64(workers) * step {
				n := uint64(chunk)
				if race.Enabled {
					n = 16
				}
				for i := range n {
					x[i] = math.Float32frombits(uint32(lo + i))
				}
				sqrtAVX512(x[:n])
				for i := range n {
					want := goSqrt(math.Float32frombits(uint32(lo + i)))
					if got := x[i]; math.Float32bits(got) != math.Float32bits(want) && !(want != want && got != got) {
						mu.Lock()
						bad = append(bad, uint32(lo+i))
						mu.Unlock()
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, b := range bad {
		in := math.Float32frombits(b)
		t.Errorf("sqrt(%g) (bits %#08x): not Go's %g", in, b, goSqrt(in))
	}
}

// TestSqrtFromAVX512 checks that sqrtFrom's result does not depend on the
// approximation of 1/sqrt(x) it starts from, as its argument says, from
// approximations sixteen times worse than rsqrt14's specification allows
// (relative errors up to 2^-10, drawn at random): from these, Markstein's
// correction alone rounds some roots the wrong way (from rsqrt14's it has
// not been seen to), so that the test after it is exercised; without that
// test this one fails. The x are drawn over the sequence's range, with the
// largest float below each power of 4 (whose root lies just below a
// midpoint, where the spacing of the floats halves) and its neighbours.
func TestSqrtFromAVX512(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512")
	}
	n := 1 << 22
	if race.Enabled {
		n = 1 << 12
	}
	r := rand.New(rand.NewPCG(3, 5))
	x := make([]float32, 0, n+16*256)
	for e := -80; e < 100; e += 2 {
		p := math.Float32bits(float32(math.Ldexp(1, e)))
		for d := range uint32(16) {
			x = append(x, math.Float32frombits(p-8+d))
		}
	}
	const lo, hi = (127 - 80) << 23, (127 + 100) << 23
	for len(x) < cap(x) {
		x = append(x, math.Float32frombits(lo+r.Uint32N(hi-lo)))
	}
	in := append([]float32(nil), x...)
	y := make([]float32, len(x))
	for i, v := range x {
		d := (2*r.Float64() - 1) * 0x1p-10
		y[i] = float32(1 / math.Sqrt(float64(v)) * (1 + d))
	}
	sqrtFromAVX512(x, y)
	bad := 0
	for i, v := range in {
		if want := goSqrt(v); x[i] != want {
			if bad++; bad <= 10 {
				t.Errorf("sqrt(%g) (bits %#08x) from y = %g: got %g, want %g", v, math.Float32bits(v), y[i], x[i], want)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d roots of %d wrong", bad, len(in))
	}
}

// BenchmarkAdadeltaAVX512 times the AVX-512 Adadelta pass (its first root
// through sqrt's FMA sequence, the second through VSQRTPS) in L1 (2,048
// parameters) and over the exercise's first kernel (786,432), in ns per
// parameter.
func BenchmarkAdadeltaAVX512(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	c := [4]float32{0.95, 0.05, 0.001, 1e-7}
	for _, n := range []int{2048, 3072 * 256} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			w, g, ga, da := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
			for i := range ga {
				ga[i], da[i] = float32(math.Abs(float64(ga[i]))), float32(math.Abs(float64(da[i])))
			}
			b.ResetTimer()
			for range b.N {
				adadeltaAVX512(w, g, ga, da, &c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
		})
	}
}
