package tensor

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

// rowsSeen is an Epilogue that records, for each block Done is called on,
// C's rows as they stand then, and which rows it was called on.
type rowsSeen struct {
	mu     sync.Mutex
	c      []float32
	n, ldc int
	calls  []int       // per row: Done calls that covered it
	early  [][]float32 // per row: the row at its Done call
	blocks int         // Done calls
	widest int         // the most rows of one call
	// Done calls given other rows than C's own (c set: GemmThen was given C).
	elsewhere int
}

func (r *rowsSeen) Done(i0, i1 int, c []float32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blocks++
	r.widest = max(r.widest, i1-i0)
	if r.c != nil && r.n > 0 && &c[0] != &r.c[i0*r.ldc] {
		r.elsewhere++
	}
	for i := i0; i < i1; i++ {
		r.calls[i]++
		r.early[i] = append([]float32(nil), c[(i-i0)*r.ldc:(i-i0)*r.ldc+r.n]...)
	}
}

// TestGemmThen: GemmThen gives Gemm's bits, and calls Done once for every
// row of C, after the row is final (what Done sees is the final row), for
// every kernel at 1 and 3 threads, in shapes that take each plan: the
// exercise's dW products, ragged rows and columns, the narrow cols path,
// products small enough to run serially, k past one k block, acc, and the
// empty cases.
func TestGemmThen(t *testing.T) {
	shapes := [][3]int{{3072, 256, 128}, {256, 256, 128}, {256, 10, 128}, {257, 33, 300}, {131, 77, 64}, {7, 5, 3}, {64, 16, 1}, {100, 20, 0}, {9, 0, 4}, {0, 8, 8}}
	for _, kr := range allKernels() {
		for _, threads := range []int{1, 3} {
			e := newEngine(threads, kr, genericSIMD)
			for _, s := range shapes {
				for _, tr := range [][2]bool{{true, false}, {false, false}, {false, true}} {
					for _, acc := range []bool{false, true} {
						m, n, k := s[0], s[1], s[2]
						what := fmt.Sprintf("%s, %d threads, tA=%v tB=%v %dx%dx%d acc=%v", kr.name, threads, tr[0], tr[1], m, n, k, acc)
						want, got, seen := gemmThenCase(e, tr[0], tr[1], m, n, k, acc)
						for i := range want {
							if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
								t.Fatalf("%s: C[%d] = %v, Gemm gives %v", what, i, got[i], want[i])
							}
						}
						if seen.elsewhere > 0 {
							t.Fatalf("%s: Done was given other rows than C's %d times", what, seen.elsewhere)
						}
						for i := range m {
							if seen.calls[i] != 1 {
								t.Fatalf("%s: Done covered row %d %d times, want once", what, i, seen.calls[i])
							}
							for j, v := range seen.early[i] {
								if math.Float32bits(v) != math.Float32bits(got[i*seen.ldc+j]) {
									t.Fatalf("%s: Done saw C[%d,%d] = %v before it was final (%v)", what, i, j, v, got[i*seen.ldc+j])
								}
							}
						}
						// GemmBlocks: Done sees the rows Gemm gives (acc
						// false) in its scratch blocks.
						if !acc {
							scratch := gemmThenScratch(e, tr[0], tr[1], m, n, k)
							for i := range m {
								if scratch.calls[i] != 1 {
									t.Fatalf("%s, no C: Done covered row %d %d times, want once", what, i, scratch.calls[i])
								}
								for j, v := range scratch.early[i] {
									if math.Float32bits(v) != math.Float32bits(want[i*seen.ldc+j]) {
										t.Fatalf("%s, no C: Done saw C[%d,%d] = %v, Gemm gives %v", what, i, j, v, want[i*seen.ldc+j])
									}
								}
							}
						}
						// A wide product goes in blocks of at most 64 rows
						// (a few row panels each), several per thread.
						if m >= 256 && n > colsN && k > 0 && (seen.blocks < 2*threads || seen.widest > 64) {
							t.Fatalf("%s: %d blocks of up to %d rows, want at least %d of at most 64", what, seen.blocks, seen.widest, 2*threads)
						}
					}
				}
			}
			e.Close()
		}
	}
}

// gemmThenCase runs one product through Gemm and through GemmThen with a
// recording epilogue, on the same random operands, and returns both Cs.
func gemmThenCase(e *Engine, transA, transB bool, m, n, k int, acc bool) (want, got []float32, seen *rowsSeen) {
	a, lda, b, ldb, want, ldc := gemmOperands(transA, transB, m, n, k)
	got = append([]float32(nil), want...)
	e.Gemm(transA, transB, m, n, k, a, lda, b, ldb, want, ldc, acc)
	seen = &rowsSeen{c: got, n: n, ldc: ldc, calls: make([]int, m), early: make([][]float32, m)}
	e.GemmThen(transA, transB, m, n, k, a, lda, b, ldb, got, ldc, acc, seen)
	return want, got, seen
}

// gemmThenScratch runs one product through GemmBlocks, on gemmOperands'
// operands, and returns what the epilogue saw.
func gemmThenScratch(e *Engine, transA, transB bool, m, n, k int) *rowsSeen {
	a, lda, b, ldb, _, ldc := gemmOperands(transA, transB, m, n, k)
	seen := &rowsSeen{n: n, ldc: ldc, calls: make([]int, m), early: make([][]float32, m)}
	e.GemmBlocks(transA, transB, m, n, k, a, lda, b, ldb, ldc, seen)
	return seen
}
