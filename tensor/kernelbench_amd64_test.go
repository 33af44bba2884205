//go:build amd64 && !purego

package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkKernelAVX2 times the AVX2 micro-kernels alone on operands in L1:
// a packed 6 x kc panel of A (k-major) or 6 rows in place, and a packed
// kc x 16 panel of B.
func BenchmarkKernelAVX2(b *testing.B) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		b.Skip("no AVX2")
	}
	const k = 256
	r := rand.New(rand.NewPCG(1, 1))
	a := randSlice(r, 6*(k+16))
	bb := randSlice(r, k*16)
	c := make([]float32, 6*16)
	for _, v := range []struct {
		name string
		fn   kernelFunc
		lda  int
	}{{"kmajor", kernelKMajorAVX2, 6}, {"rows", kernelRowsAVX2, k + 16}} {
		b.Run(fmt.Sprintf("%s/k%d", v.name, k), func(b *testing.B) {
			for b.Loop() {
				v.fn(k, a, v.lda, bb, 16, c, 16, true)
			}
			b.ReportMetric(2*6*16*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
