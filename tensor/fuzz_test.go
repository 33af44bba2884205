package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzGemm runs Gemm with every kernel on fuzzed shapes, transposes,
// strides and thread counts against the float64 reference, with C inside
// a larger slice whose other elements are sentinels: the assembly kernels
// read and write unchecked, so a write outside C's m x n elements (past a
// row's end into the stride's gap, or past the last row) must show as a
// changed sentinel, and results must match.
func FuzzGemm(f *testing.F) {
	for _, s := range [][8]uint8{
		{128, 10, 255, 0, 5, 0, 1, 0}, {104, 255, 20, 1, 0, 3, 0, 1}, {32, 10, 255, 0, 0, 0, 2, 0},
		{255, 10, 128, 1, 0, 2, 0, 0}, {13, 33, 17, 3, 7, 1, 0, 2}, {0, 5, 5, 0, 0, 0, 0, 0},
		{128, 64, 40, 0, 3, 0, 1, 0}, {100, 40, 30, 4, 0, 0, 0, 1}, {7, 70, 9, 9, 1, 1, 1, 2},
		{64, 32, 20, 16, 0, 0, 0, 0},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
	}
	kernels := allKernels()
	engines := map[[2]int]*Engine{}
	f.Fuzz(func(t *testing.T, m8, n8, k8, flags, padA, padB, padC, threads8 uint8) {
		s := guardedCase{
			m: int(m8), n: int(n8), k: int(k8),
			transA: flags&1 != 0, transB: flags&2 != 0, acc: flags&4 != 0, alias: flags&16 != 0,
			padA: int(padA % 20), padB: int(padB % 20), padC: int(padC % 20),
		}
		if flags&8 != 0 { // now and then a k past one block
			s.k += 256
		}
		threads := 1 + int(threads8)%3
		for kr := range kernels {
			e := engines[[2]int{kr, threads}]
			if e == nil {
				e = newEngine(threads, kernels[kr], genericSIMD)
				engines[[2]int{kr, threads}] = e
			}
			s.run(t, e)
		}
	})
}

// guardedCase is one product of FuzzGemm.
type guardedCase struct {
	m, n, k                    int
	transA, transB, acc, alias bool // alias: A's rows 4 KiB apart (packed)
	padA, padB, padC           int  // strides past the rows' lengths
}

func (s guardedCase) run(t *testing.T, e *Engine) {
	t.Helper()
	ra, ca := s.m, s.k
	if s.transA {
		ra, ca = s.k, s.m
	}
	rb, cb := s.k, s.n
	if s.transB {
		rb, cb = s.n, s.k
	}
	// strides of at least one, as BLAS wants them
	lda, ldb, ldc := max(1, ca+s.padA), max(1, cb+s.padB), max(1, s.n+s.padC)
	if s.alias && !s.transA {
		lda = max(1, (ca+1023)/1024*1024)
	}
	const guard = 64
	r := rand.New(rand.NewPCG(uint64(s.m)<<16|uint64(s.n)<<8|uint64(s.k), uint64(lda)<<16|uint64(ldb)))
	a := randSlice(r, ra*lda)
	b := randSlice(r, rb*ldb)
	buf := make([]float32, s.m*ldc+guard)
	sentinel := float32(math.Inf(-1))
	for i := range buf {
		buf[i] = sentinel
	}
	c := buf[:s.m*ldc]
	for i := range s.m {
		for j := range s.n {
			c[i*ldc+j] = float32(r.NormFloat64())
		}
	}
	want := refGemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, b, ldb, c, ldc, s.acc)
	e.Gemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, b, ldb, c, ldc, s.acc)
	tol := 1e-5 * math.Sqrt(float64(s.k)+1) * 4
	for i, v := range buf {
		row, col := i/ldc, i%ldc
		if row < s.m && col < s.n {
			if w := want[row*s.n+col]; math.Abs(float64(v)-w) > tol*(1+math.Abs(w)) {
				t.Fatalf("%s, %d threads, %+v, lda %d ldb %d ldc %d: C[%d,%d] = %g, want %g", e.Kernel(), e.pool.Threads(), s, lda, ldb, ldc, row, col, v, w)
			}
		} else if v != sentinel {
			t.Fatalf("%s, %d threads, %+v, lda %d ldb %d ldc %d: element %d outside C written (%g)", e.Kernel(), e.pool.Threads(), s, lda, ldb, ldc, i, v)
		}
	}
}
