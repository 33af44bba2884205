//go:build amd64 && !purego

package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestELUBackwardAVX2BitIdentical checks the AVX2 ELU backward (with its Go
// tail) against eluBackwardGeneric bit for bit on every length up to 70 and
// a few long ones, with the awkward activations kept, NaN and -0 included.
func TestELUBackwardAVX2BitIdentical(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("no AVX2")
	}
	lens := []int{1000, 1023, 4096 + 5}
	for n := range 71 {
		lens = append(lens, n)
	}
	for _, n := range lens {
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
