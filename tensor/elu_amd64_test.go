//go:build amd64 && !purego

package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/cpu"
)

// avx2Lengths lists the lengths the AVX2 passes are checked on: every length
// up to 70 (blocks of 8 and every tail) and a few long ones.
func avx2Lengths() []int {
	lens := []int{1000, 1023, 4096 + 5}
	for n := range 71 {
		lens = append(lens, n)
	}
	return lens
}

// TestELUBackwardAVX2BitIdentical checks the AVX2 ELU backward (with its Go
// tail) against eluBackwardGeneric bit for bit on every length up to 70 and
// a few long ones, with the awkward activations kept, NaN and -0 included.
func TestELUBackwardAVX2BitIdentical(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	for _, n := range avx2Lengths() {
		a := elementwiseInputs(n)
		for i := range a {
			if a[i] < -1 { // ELU's activations lie in (-1, inf)
				a[i] = -1 + float32(i%100)*1e-3
			}
		}
		g1 := randSlice(rand.New(rand.NewPCG(4, uint64(n))), n)
		for i := range g1 {
			if i%13 == 5 {
				g1[i] = float32(math.Copysign(0, -1))
			}
		}
		g2 := append([]float32(nil), g1...)
		eluBackwardGeneric(g1, a)
		avx2SIMD.eluBackward(g2, a)
		for i := range g1 {
			if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) {
				t.Fatalf("n=%d [%d] a=%g: AVX2 %g, Go %g", n, i, a[i], g2[i], g1[i])
			}
		}
	}
}

// TestBiasELUAVX2BitIdentical checks the AVX2 bias+ELU (with its Go tail)
// against biasELUGeneric, whose expm1 is math.Expm1, bit for bit: every
// length up to 70 and a few long ones, with the awkward inputs and
// nonzero biases (so the float32 addition is checked too).
func TestBiasELUAVX2BitIdentical(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range avx2Lengths() {
		x := elementwiseInputs(n)
		bias := make([]float32, n)
		for i := range bias {
			bias[i] = float32(r.NormFloat64() * 0.1)
			if i%11 == 3 {
				bias[i] = float32(math.Copysign(0, -1))
			}
		}
		want := append([]float32(nil), x...)
		biasELUGeneric(want, bias)
		for _, k := range biasELUKernels {
			got := append([]float32(nil), x...)
			m := n &^ 7
			k.fn(got[:m], bias[:m])
			biasELUGeneric(got[m:], bias[m:])
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s n=%d [%d]: ELU(%g + %g) = %g (%#x) in AVX2, %g (%#x) in Go", k.name, n, i, x[i], bias[i],
						got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
		got := append([]float32(nil), x...)
		avx2SIMD.biasELU(got, bias)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("avx2SIMD n=%d [%d]: ELU(%g + %g) = %g, %g in Go", n, i, x[i], bias[i], got[i], want[i])
			}
		}
	}
}

// biasELUKernels are the AVX2 bias+ELU loops: the one in use, whose lanes
// take the fast expm1 where its float32 rounding is certain, and its twin
// whose lanes all take the emulated math.Expm1 (the fast one's fallback).
var biasELUKernels = []struct {
	name string
	fn   func(x, bias []float32)
}{{"biasELUAVX2", biasELUAVX2}, {"biasELUEmulatedAVX2", biasELUEmulatedAVX2}}

// TestBiasELUAVX2Exhaustive runs every float32 bit pattern with the sign bit
// set (all negative numbers, -0, -Inf and the NaNs: everything that can
// reach math.Expm1) through the AVX2 bias+ELU and biasELUGeneric with a
// bias of -0 (x + -0 is x, -0 included) and compares the bits; the positive
// patterns, which never reach expm1, every 4099th. Each lane's result
// depends on that lane alone, so every negative value is checked on the
// path it takes in training. In parallel chunks; all 2^31 are too slow for
// every run, so only with CIFARNET_EXHAUSTIVE=1 (CI sets it); otherwise
// every 61st pattern. The emulated twin on every 61st chunk.
func TestBiasELUAVX2Exhaustive(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	const chunk = 1 << 16
	step := uint64(61)
	if os.Getenv("CIFARNET_EXHAUSTIVE") == "1" {
		step = 1
	}
	type span struct{ from, step uint64 }
	var spans []span
	for lo := uint64(0x80000000); lo < 1<<32; lo += chunk * step {
		spans = append(spans, span{lo, step})
	}
	for lo := uint64(0); lo < 0x80000000; lo += chunk * 4099 {
		spans = append(spans, span{lo, 4099})
	}
	var (
		mu   sync.Mutex
		bad  []string
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bias := make([]float32, chunk)
			for i := range bias {
				bias[i] = float32(math.Copysign(0, -1))
			}
			want, got, emulated := make([]float32, chunk), make([]float32, chunk), make([]float32, chunk)
			for {
				c := int(next.Add(1) - 1)
				if c >= len(spans) {
					return
				}
				s := spans[c]
				n := 0
				for ; n < chunk; n++ {
					b := s.from + uint64(n)*s.step
					if b >= 1<<32 || (s.from < 0x80000000) != (b < 0x80000000) {
						break
					}
					want[n] = math.Float32frombits(uint32(b))
				}
				n &^= 7 // whole blocks: the AVX2 loop only
				copy(got[:n], want[:n])
				copy(emulated[:n], want[:n])
				biasELUGeneric(want[:n], bias[:n])
				biasELUAVX2(got[:n], bias[:n])
				kernels := [][]float32{got}
				if c%61 == 0 { // the fallback alone: sampled (its expm1 is also checked in float64 below)
					biasELUEmulatedAVX2(emulated[:n], bias[:n])
					kernels = append(kernels, emulated)
				}
				for j, out := range kernels {
					for i := range n {
						if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
							mu.Lock()
							bad = append(bad, fmt.Sprintf("%s: ELU(%#x) = %#x in AVX2, %#x in Go", biasELUKernels[j].name,
								s.from+uint64(i)*s.step, math.Float32bits(out[i]), math.Float32bits(want[i])))
							mu.Unlock()
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		if len(bad) > 10 {
			bad = bad[:10]
		}
		t.Fatalf("%d chunks differ, e.g.:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// TestExpm1FastAVX2Error checks the bound that biasELUAVX2's fast expm1 is
// trusted to (2^-49 relative; its rounding check allows 2^-40, less math.Expm1's
// own error): against math.Expm1 in float64, on random numbers of every
// exponent from 2^-60 to 2^5 in [-40, 0], around every k ln2/2 (where the
// reduction changes k) and at -40 and the smallest magnitudes; and that 0
// and -0 give +0 (biasELUAVX2 keeps z = ±0 itself).
func TestExpm1FastAVX2Error(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	r := rand.New(rand.NewPCG(7, 7))
	xs := []float64{-40, -math.SmallestNonzeroFloat64, -0x1p-149, -0x1p-126}
	for range 1 << 18 {
		xs = append(xs, max(-40, -math.Ldexp(1+r.Float64(), r.IntN(66)-60)))
		xs = append(xs, -40*r.Float64())
	}
	for k := 1; k <= 116; k++ {
		x := -float64(k) * math.Ln2 / 2
		for range 5 {
			x = math.Nextafter(x, 0)
		}
		for range 11 {
			if x >= -40 {
				xs = append(xs, x)
			}
			x = math.Nextafter(x, math.Inf(-1))
		}
	}
	for len(xs)%4 != 0 {
		xs = append(xs, -1)
	}
	zeros := []float64{0, math.Copysign(0, -1), 0, math.Copysign(0, -1)}
	expm1FastAVX2(zeros)
	for i, z := range zeros {
		if math.Float64bits(z) != 0 {
			t.Errorf("fast expm1 of zero %d = %v (%#x), want +0", i, z, math.Float64bits(z))
		}
	}
	got := append([]float64(nil), xs...)
	expm1FastAVX2(got)
	worst := 0.0
	for i, x := range xs {
		want := math.Expm1(x)
		if err := math.Abs(got[i]-want) / math.Abs(want); err > worst {
			worst = err
		}
		if math.Abs(got[i]-want) > 0x1p-49*math.Abs(want) {
			t.Fatalf("fast expm1(%v) = %v, math.Expm1 %v: relative error %.3g, over 2^-49", x, got[i], want, math.Abs(got[i]-want)/math.Abs(want))
		}
	}
	t.Logf("largest relative error %.3g (2^%.1f)", worst, math.Log2(worst))
}

// inDoubt is biasELUAVX2's check in Go: whether the float32 rounding of y
// is in doubt, its low 29 mantissa bits within 2^12 of 2^28 (a midpoint).
func inDoubt(y float64) bool {
	const low29, mid, tol = 1<<29 - 1, 1 << 28, 1 << 12
	w := (math.Float64bits(y)&low29 ^ mid + tol) & low29
	return w <= 2*tol
}

// TestBiasELUAVX2Doubt checks the lanes that biasELUAVX2 sends to the
// emulated expm1: its twin biasELUDoubtAVX2 marks them NaN. On every 251st
// negative float32 and on values found in doubt, a lane is marked exactly
// where inDoubt says so of the fast expm1's value (so the check is the one
// documented), some are, and every lane not marked is already the Go loop's
// float32 (so a certain rounding is right).
func TestBiasELUAVX2Doubt(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	zs := []float32{}
	for _, b := range []uint32{0xbf0096fc, 0xbf00ebb7, 0xbf035bc5, 0xbf04b411, 0xbf04d1bf, 0xbf05c3df} {
		zs = append(zs, math.Float32frombits(b))
	}
	for b := uint64(0x80000000); b < 1<<32; b += 251 {
		zs = append(zs, math.Float32frombits(uint32(b)))
	}
	for len(zs)%8 != 0 {
		zs = append(zs, -1)
	}
	bias := make([]float32, len(zs))
	for i := range bias {
		bias[i] = float32(math.Copysign(0, -1))
	}
	marked := append([]float32(nil), zs...)
	biasELUDoubtAVX2(marked, bias)
	want := append([]float32(nil), zs...)
	biasELUGeneric(want, bias)
	fast := make([]float64, len(zs))
	for i, z := range zs {
		fast[i] = max(-40, float64(z))
		if !(z < 0) {
			fast[i] = 0
		}
	}
	expm1FastAVX2(fast)
	doubts := 0
	for i, z := range zs {
		doubt := z < 0 && inDoubt(fast[i])
		isMarked := marked[i] != marked[i] && z == z
		switch {
		case doubt != isMarked:
			t.Fatalf("ELU(%v = %#x): marked %v, but the check says in doubt %v (fast expm1 %v)", z, math.Float32bits(z), isMarked, doubt, fast[i])
		case doubt:
			doubts++
		case math.Float32bits(marked[i]) != math.Float32bits(want[i]):
			t.Fatalf("ELU(%v = %#x) = %#x by the fast expm1, certain, but %#x in Go", z, math.Float32bits(z), math.Float32bits(marked[i]), math.Float32bits(want[i]))
		}
	}
	if doubts < 6 {
		t.Fatalf("%d lanes in doubt, want at least the 6 known ones", doubts)
	}
	t.Logf("%d of %d lanes in doubt", doubts, len(zs))
}

// TestExpm1AVX2Float64 checks the AVX2 expm1 that biasELUAVX2 uses against
// math.Expm1 in float64, bit for bit, before the float32 rounding could hide
// a one-ulp difference: random negative numbers of every exponent from
// 2^-60 to 2^7, random bit patterns with the sign set, and every threshold
// of math.Expm1's branches (|x| = 2^-54, ln2/2, 1.5 ln2, 56 ln2, and each
// (k ± 1/2) ln2 where k changes) with their neighbours a few ulp either
// side, -0, -Inf and the largest negative numbers.
func TestExpm1AVX2Float64(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 and FMA")
	}
	r := rand.New(rand.NewPCG(6, 6))
	var xs []float64
	for range 1 << 18 {
		xs = append(xs, -math.Ldexp(1+r.Float64(), r.IntN(68)-60))
		xs = append(xs, math.Float64frombits(r.Uint64()|1<<63))
	}
	edges := []float64{0, 1.0 / (1 << 54), 3.46573590279972654709e-01, 1.03972077083991796413e+00,
		3.88162421113569373274e+01, 7.09782712893383973096e+02, math.MaxFloat64, math.SmallestNonzeroFloat64}
	for k := 1; k <= 57; k++ {
		edges = append(edges, (float64(k)+0.5)*math.Ln2, (float64(k)-0.5)*math.Ln2)
	}
	for _, e := range edges {
		x := -e
		for range 6 {
			x = math.Nextafter(x, 0)
		}
		for range 13 {
			xs = append(xs, x)
			x = math.Nextafter(x, math.Inf(-1))
		}
	}
	xs = append(xs, math.Inf(-1), math.Copysign(0, -1))
	for len(xs)%4 != 0 {
		xs = append(xs, -1)
	}
	got := append([]float64(nil), xs...)
	expm1NonPosAVX2(got)
	for i, x := range xs {
		if x != x || x > 0 {
			continue // only x <= 0 is promised (NaN patterns come from the random bits)
		}
		if want := math.Expm1(x); math.Float64bits(got[i]) != math.Float64bits(want) {
			t.Fatalf("expm1(%v = %#x) = %v (%#x) in AVX2, %v (%#x) in Go", x, math.Float64bits(x), got[i],
				math.Float64bits(got[i]), want, math.Float64bits(want))
		}
	}
}
