//go:build amd64 && !purego

package tensor

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkAdadeltaAVX512 times the AVX-512 Adadelta pass in L1 (2,048
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
