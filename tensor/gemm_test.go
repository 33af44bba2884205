package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refGemm is the textbook triple loop in float64, the independent reference.
func refGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			if acc {
				s += float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// refs keeps refGemm's products of gemmOperands by shape: every kernel
// is checked against the same ones. (Tests that use it do not run in
// parallel.)
var refs = map[refKey][]float64{}

type refKey struct {
	transA, transB bool
	m, n, k        int
	acc            bool
}

// gemmCase runs one shape through engine e and compares with refGemm.
func gemmCase(t *testing.T, e *Engine, transA, transB bool, m, n, k int, acc bool) []float32 {
	t.Helper()
	a, lda, b, ldb, c, ldc := gemmOperands(transA, transB, m, n, k)
	key := refKey{transA, transB, m, n, k, acc}
	want, ok := refs[key]
	if !ok {
		want = refGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, acc)
		refs[key] = want
	}
	e.Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, acc)
	tol := 1e-5 * math.Sqrt(float64(k)+1) * 4
	for i := range m {
		for j := range n {
			got, w := float64(c[i*ldc+j]), want[i*n+j]
			if math.Abs(got-w) > tol*(1+math.Abs(w)) {
				t.Fatalf("%s tA=%v tB=%v %dx%dx%d acc=%v: C[%d,%d] = %g, want %g", e.Kernel(), transA, transB, m, n, k, acc, i, j, got, w)
			}
		}
	}
	return c
}

// gemmOperands returns random operands of an m x n x k product, seeded by
// the shape, with leading dimensions a little larger than needed, to catch
// stride bugs.
func gemmOperands(transA, transB bool, m, n, k int) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	r := rand.New(rand.NewPCG(uint64(m*1000003+n*1009+k), 7))
	lda, ldb, ldc = k+3, n+5, n+2
	ar := m
	if transA {
		ar, lda = k, m+3
	}
	br := k
	if transB {
		br, ldb = n, k+5
	}
	return randSlice(r, ar*lda), lda, randSlice(r, br*ldb), ldb, randSlice(r, m*ldc), ldc
}

var gemmSizes = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 97, 128, 129, 255, 256, 257, 513}

// testKernels lists every kernel this CPU can run and avx512Twin, which
// runs anywhere.
func testKernels() []kernel { return append(kernels(), avx512Twin) }

// allKernels lists testKernels, narrow ones as kernels of their own.
func allKernels() []kernel {
	var ks []kernel
	for _, k := range testKernels() {
		ks = append(ks, k)
		if k.narrow != nil {
			n := *k.narrow
			ks = append(ks, n)
		}
	}
	return ks
}

func TestGemmAgainstReference(t *testing.T) {
	for _, kr := range allKernels() {
		e := newEngine(2, kr, genericSIMD)
		defer e.Close()
		r := rand.New(rand.NewPCG(1, 2))
		for range 300 {
			m := gemmSizes[r.IntN(len(gemmSizes))]
			n := gemmSizes[r.IntN(len(gemmSizes))]
			k := gemmSizes[r.IntN(len(gemmSizes))]
			gemmCase(t, e, r.IntN(2) == 0, r.IntN(2) == 0, m, n, k, r.IntN(2) == 0)
		}
		// The cols path with packed A panels (transposed A whose rows alias
		// at 4 KiB), ragged and not.
		gemmCase(t, e, true, false, 70, 10, 33, false)
		gemmCaseLDA(t, e, 64, 10, 20, 1024)
		// The exercise's own shapes, including the 10-wide output layer.
		for _, s := range [][3]int{{128, 256, 3072}, {3072, 256, 128}, {128, 10, 256}, {256, 10, 128}, {128, 256, 10}, {32, 256, 3072}, {104, 10, 256}, {32, 10, 256}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
				gemmCase(t, e, tr[0], tr[1], s[0], s[1], s[2], false)
			}
		}
	}
}

// TestGemmThreadsBitIdentical checks that the thread count never changes a bit.
func TestGemmThreadsBitIdentical(t *testing.T) {
	// k = 1100 is past kOuter, where one thread plans otherwise
	// (kOuterRows) than several.
	for _, s := range [][3]int{{131, 77, 300}, {140, 40, 1100}} {
		for _, kr := range allKernels() {
			var outs [][]float32
			for _, threads := range []int{1, 2, 3} {
				e := newEngine(threads, kr, genericSIMD)
				outs = append(outs, gemmCase(t, e, false, false, s[0], s[1], s[2], true))
				e.Close()
			}
			for i := 1; i < len(outs); i++ {
				for j := range outs[0] {
					if math.Float32bits(outs[0][j]) != math.Float32bits(outs[i][j]) {
						t.Fatalf("%s %dx%dx%d: element %d differs between thread counts: %g vs %g", kr.name, s[0], s[1], s[2], j, outs[0][j], outs[i][j])
					}
				}
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"fwd/128x256x3072", false, false, 128, 256, 3072},
		{"dW/3072x256x128", true, false, 3072, 256, 128},
		{"fwd/128x256x256", false, false, 128, 256, 256},
		{"dX/128x256x256", false, true, 128, 256, 256},
		{"dW/256x256x128", true, false, 256, 256, 128},
		{"fwd/128x10x256", false, false, 128, 10, 256},
		{"dW/256x10x128", true, false, 256, 10, 128},
		{"dX/128x256x10", false, true, 128, 256, 10},
		{"val/104x256x3072", false, false, 104, 256, 3072},
		{"eval/32x256x3072", false, false, 32, 256, 3072},
		{"eval/32x10x256", false, false, 32, 10, 256},
	}
	for _, kr := range kernels() {
		for _, threads := range []int{1, 2} {
			e := newEngine(threads, kr, genericSIMD)
			for _, s := range shapes {
				b.Run(fmt.Sprintf("%s/t%d/%s", kr.name, threads, s.name), func(b *testing.B) {
					r := rand.New(rand.NewPCG(1, 1))
					a := randSlice(r, s.m*s.k)
					bb := randSlice(r, s.k*s.n)
					c := make([]float32, s.m*s.n)
					lda, ldb := s.k, s.n
					if s.tA {
						lda = s.m
					}
					if s.tB {
						ldb = s.k
					}
					b.ResetTimer()
					for b.Loop() {
						e.Gemm(s.tA, s.tB, s.m, s.n, s.k, a, lda, bb, ldb, c, s.n, false)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
				})
			}
			e.Close()
		}
	}
}

// gemmCaseLDA runs a transposed-A product whose A rows are lda apart.
func gemmCaseLDA(t *testing.T, e *Engine, m, n, k, lda int) {
	t.Helper()
	r := rand.New(rand.NewPCG(9, uint64(lda)))
	a, b, c := randSlice(r, k*lda), randSlice(r, k*n), make([]float32, m*n)
	want := refGemm(true, false, m, n, k, a, lda, b, n, c, n, false)
	e.Gemm(true, false, m, n, k, a, lda, b, n, c, n, false)
	for i := range want {
		if d := float64(c[i]) - want[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("%s lda=%d: C[%d] = %g, want %g", e.Kernel(), lda, i, c[i], want[i])
		}
	}
}

// TestGemmChecksOperands checks that a matrix that does not fit its slice,
// a stride shorter than a row and a negative dimension panic, naming the
// operand, before any kernel reads or writes out of bounds.
func TestGemmChecksOperands(t *testing.T) {
	e := NewEngine(1)
	defer e.Close()
	full := func(n int) []float32 { return make([]float32, n) }
	for _, c := range []struct {
		name string
		call func()
		want string
	}{
		{"short a", func() { e.Gemm(false, false, 4, 3, 5, full(19), 5, full(15), 3, full(12), 3, false) }, "a is 4x5"},
		{"short transposed a", func() { e.Gemm(true, false, 4, 3, 5, full(19), 4, full(15), 3, full(12), 3, false) }, "a is 5x4"},
		{"short b", func() { e.Gemm(false, true, 4, 3, 5, full(20), 5, full(14), 5, full(12), 3, false) }, "b is 3x5"},
		{"short c", func() { e.Gemm(false, false, 4, 3, 5, full(20), 5, full(15), 3, full(11), 3, false) }, "c is 4x3"},
		{"stride", func() { e.Gemm(false, false, 4, 3, 5, full(20), 4, full(15), 3, full(12), 3, false) }, "row stride of 4"},
		{"negative", func() { e.Gemm(false, false, -1, 3, 5, full(20), 5, full(15), 3, full(12), 3, false) }, "negative"},
	} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, c.want) {
					t.Errorf("%s: panic %v, want one naming %q", c.name, r, c.want)
				}
			}()
			c.call()
		}()
	}
	// The exact fit passes.
	e.Gemm(false, false, 4, 3, 5, full(20), 5, full(15), 3, full(12), 3, false)
}

// TestGemmEdgeRowsInPlace checks the plan, not the numbers: with kernels of
// every height, the ragged last row panel of each of the exercise's
// products is computed in place, neither packed nor through scratch tiles
// (a slower path that gives the same results, so only the plan shows it).
func TestGemmEdgeRowsInPlace(t *testing.T) {
	kr := bestKernel()
	if kr.rowsEdge == nil || kr.narrow == nil || kr.narrow.rowsMaskedEdge == nil {
		t.Skip("no edge kernels on this CPU or build")
	}
	e := newEngine(2, kr, genericSIMD)
	defer e.Close()
	for _, s := range []struct {
		transA, transB bool
		m, n, k        int
	}{
		{false, false, 128, 256, 3072}, {false, false, 104, 256, 3072}, {false, false, 32, 10, 256},
		{false, false, 128, 10, 256}, {false, false, 104, 10, 256}, {false, true, 128, 256, 256},
		{true, false, 256, 256, 128}, {false, false, 128, 256, 256},
	} {
		lda := s.k + 16
		if s.transA {
			lda = s.m
		}
		r := rand.New(rand.NewPCG(1, 1))
		a, b, c := randSlice(r, (s.m+s.k)*lda), randSlice(r, s.k*s.n+s.n*s.k), make([]float32, s.m*s.n)
		ldb := s.n
		if s.transB {
			ldb = s.k
		}
		e.Gemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, b, ldb, c, s.n, false)
		if g := &e.gemm; !g.edgeRows || g.edgeA {
			t.Errorf("%+v: edgeRows %v, edgeA %v: the ragged row panel is not computed in place", s, g.edgeRows, g.edgeA)
		}
	}
}

// TestGemmEdgeKernelsBitIdentical checks that computing a ragged last row
// panel in place with a kernel of its height gives the same bits as the
// path without such kernels (a packed panel into a scratch tile): every
// element is the same chain of fused multiply-adds over k in order, so the
// kernels of smaller heights change no result, the exercise's and MNIST's
// products included.
func TestGemmEdgeKernelsBitIdentical(t *testing.T) {
	for _, kr := range testKernels() {
		if kr.rowsEdge == nil {
			continue
		}
		without := kr
		without.rowsEdge, without.kmajorEdge, without.rowsMaskedEdge = nil, nil, nil
		if without.narrow != nil {
			n := *without.narrow
			n.rowsMaskedEdge = nil
			without.narrow = &n
		}
		e1, e2 := newEngine(2, kr, genericSIMD), newEngine(2, without, genericSIMD)
		for _, s := range []struct {
			transA  bool
			m, n, k int
			acc     bool
		}{
			{false, 128, 256, 784, false}, {false, 32, 256, 784, false}, {false, 16, 256, 784, true},
			{false, 128, 256, 3072, false}, {false, 104, 256, 256, true}, {true, 131, 77, 300, false},
			{true, 5, 256, 128, true}, {false, 1, 16, 9, false}, {false, 125, 32, 513, true},
		} {
			r := rand.New(rand.NewPCG(3, uint64(s.m)))
			lda := PaddedStride(s.k)
			ar := s.m
			if s.transA {
				lda, ar = s.m, s.k
			}
			a, b, c0 := randSlice(r, ar*lda), randSlice(r, s.k*s.n), randSlice(r, s.m*s.n)
			c1, c2 := append([]float32(nil), c0...), append([]float32(nil), c0...)
			e1.Gemm(s.transA, false, s.m, s.n, s.k, a, lda, b, s.n, c1, s.n, s.acc)
			e2.Gemm(s.transA, false, s.m, s.n, s.k, a, lda, b, s.n, c2, s.n, s.acc)
			if s.m%kr.mr != 0 && s.n%kr.nr == 0 && !e1.gemm.edgeRows {
				t.Errorf("%s %+v: the edge kernels were not used", kr.name, s)
			}
			for i := range c1 {
				if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("%s %+v: element %d: %g with edge kernels, %g without", kr.name, s, i, c1[i], c2[i])
				}
			}
		}
		e1.Close()
		e2.Close()
	}
}
