package tensor

import (
	"math/rand/v2"
	"testing"
)

// avx512Twin has the AVX-512 kernel's plan (avx512Kernel in
// kernel_amd64.go: 12x32 tiles, edge kernels of every height, the 12x16
// narrow pair with its column-masked kernels, the 32x12 cols kernel, the
// vector packing) with every micro-kernel written in Go, each element a
// chain of float32 multiplies and adds over k in order (the explicit
// conversions keep the compiler from fusing them: the twin is for the
// plan, and TestGemmFMAChain checks the assembly's arithmetic where it
// runs). Gemm's plan for AVX-512 machines (which panels are packed,
// which tiles go through which kernel, where GemmThen's blocks end) then
// runs in the tests of every machine, not only where the assembly can run.
// TestAVX512TwinPlan keeps it in step with avx512Kernel on amd64.
var avx512Twin = func() kernel {
	const mr, nr, narrowNR = 12, 32, 16
	full := func(nr int, kmajor bool) kernelFunc {
		return func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
			twinTile(mr, nr, 1<<nr-1, kmajor, k, a, lda, b, ldb, c, ldc, acc)
		}
	}
	edges := func(nr int, kmajor bool) []kernelFunc {
		var ks []kernelFunc
		for h := 1; h < mr; h++ {
			ks = append(ks, func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
				twinTile(h, nr, 1<<nr-1, kmajor, k, a, lda, b, ldb, c, ldc, acc)
			})
		}
		return ks
	}
	masked := func(rows int, kmajor bool) maskedFunc {
		return func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, mask uint64) {
			twinTile(rows, narrowNR, mask, kmajor, k, a, lda, b, ldb, c, ldc, acc)
		}
	}
	var maskedEdges []maskedFunc
	for h := 1; h < mr; h++ {
		maskedEdges = append(maskedEdges, masked(h, false))
	}
	narrow := &kernel{name: "avx512twin-narrow", mr: mr, nr: narrowNR, kmajor: full(narrowNR, true), rows: full(narrowNR, false),
		kmajorMasked: masked(mr, true), rowsMasked: masked(mr, false), rowsMaskedEdge: maskedEdges,
		transpose16: twinTranspose16, copyPanel: twinCopyPanel}
	return kernel{name: "avx512twin", mr: mr, nr: nr, kmajor: full(nr, true), rows: full(nr, false),
		kmajorEdge: edges(nr, true), rowsEdge: edges(nr, false), narrow: narrow,
		cols: twinCols, colsStore: twinColsStore, transpose16: twinTranspose16, copyPanel: twinCopyPanel}
}()

// twinTile computes rows x nr of C (the columns j set in mask) from
// A(i, p) = a[p*lda+i] (kmajor) or a[i*lda+p] and B(p, j) = b[p*ldb+j],
// starting from C when acc; each element's chain runs over p in order.
func twinTile(rows, nr int, mask uint64, kmajor bool, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	rs, cs := lda, 1
	if kmajor {
		rs, cs = 1, lda
	}
	var t [12 * 32]float32 // the tile, rows nr apart
	for i := range rows {
		for j := range nr {
			if acc && mask>>j&1 != 0 {
				t[i*nr+j] = c[i*ldc+j]
			}
		}
	}
	for p := range k {
		if mask == 1<<nr-1 { // every column: B's row read whole
			bp := b[p*ldb : p*ldb+nr]
			for i := range rows {
				ai, ti := a[i*rs+p*cs], t[i*nr:i*nr+nr]
				for j, bj := range bp {
					ti[j] += float32(ai * bj)
				}
			}
			continue
		}
		for i := range rows {
			ai := a[i*rs+p*cs]
			for j := range nr {
				if mask>>j&1 != 0 {
					t[i*nr+j] += float32(ai * b[p*ldb+j])
				}
			}
		}
	}
	for i := range rows {
		for j := range nr {
			if mask>>j&1 != 0 {
				c[i*ldc+j] = t[i*nr+j]
			}
		}
	}
}

// twinCols is a colsFunc: the colsM x colsN tile t (column-major) from a
// k-major A and a packed B.
func twinCols(k int, a []float32, lda int, b []float32, t []float32, acc bool) {
	if !acc {
		clear(t[:colsM*colsN])
	}
	for p := range k {
		for j := range colsN {
			bj := b[p*colsN+j]
			for i := range colsM {
				t[j*colsM+i] += float32(a[p*lda+i] * bj)
			}
		}
	}
}

// twinColsStore is a colsStoreFunc.
func twinColsStore(k int, a []float32, lda int, b []float32, c []float32, ldc int, mask uint64, rows int) {
	var t [colsM * colsN]float32
	twinCols(k, a, lda, b, t[:], false)
	for i := range rows {
		for j := range colsN {
			if mask>>j&1 != 0 {
				c[i*ldc+j] = t[j*colsM+i]
			}
		}
	}
}

func twinTranspose16(dst []float32, ldd int, src []float32, lds int, k int) {
	for p := range k {
		for r := range 16 {
			dst[p*ldd+r] = src[r*lds+p]
		}
	}
}

func twinCopyPanel(dst []float32, ldd int, src []float32, lds int, k int, mask uint64) {
	if mask>>32 != 0 {
		panic("tensor: copyPanel of more than 32 columns") // as the contract says; the assembly would skip them
	}
	for p := range k {
		for j := range 32 {
			if mask>>j&1 != 0 {
				dst[p*ldd+j] = src[p*lds+j]
			}
		}
	}
}

// TestGemmTightOperands runs products whose operands are exactly as long
// as their shapes and strides say (B's and C's rows exactly as wide as the
// matrix; A's too, or 1024 floats apart so that Gemm packs it), so that a
// kernel written in Go (genericKernel, avx512Twin) reading past a matrix
// panics where an assembly kernel would read past it unseen. It once
// caught AVX-512's plan reading up to 15 floats past B: a ragged last row
// panel read packed (A transposed, or rows 4 KiB apart) times a B 1 to 15
// wide, whose edge tiles took the full-width narrow kernel on B in place.
func TestGemmTightOperands(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	inPlace := func(x []float32) []float32 { return x }
	for _, kr := range allKernels() {
		e := newEngine(1, kr, genericSIMD)
		for _, m := range []int{1, 5, 13, 25, 260} {
			for n := 1; n <= 35; n++ {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
					tightGemmCase(t, e, inPlace, r, tr[0], tr[1], m, n, 1+r.IntN(40), false)
					if m <= 25 {
						tightGemmCase(t, e, inPlace, r, tr[0], tr[1], m, n, 1+r.IntN(40), true)
					}
				}
			}
		}
		e.Close()
	}
}

// tightGemmCase runs op(A)·op(B) through e with operands exactly as long
// as their shapes and strides say, A's rows 1024 floats apart if aliasing
// (so that Gemm packs it), each placed by place (kept, or copied next to a
// guard page), and compares C with refGemm.
func tightGemmCase(t *testing.T, e *Engine, place func([]float32) []float32, r *rand.Rand, transA, transB bool, m, n, k int, aliasing bool) {
	t.Helper()
	ar, ac, br, bc := m, k, k, n
	if transA {
		ar, ac = k, m
	}
	if transB {
		br, bc = n, k
	}
	lda := ac
	if aliasing {
		lda = max(ac, 1024)
	}
	a, b := randSlice(r, (ar-1)*lda+ac), randSlice(r, br*bc)
	want := refGemm(transA, transB, m, n, k, a, lda, b, bc, nil, n, false)
	c := place(make([]float32, m*n))
	e.Gemm(transA, transB, m, n, k, place(a), lda, place(b), bc, c, n, false)
	for i := range want {
		if d := float64(c[i]) - want[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("%s tA=%v tB=%v %dx%dx%d lda %d: C[%d] = %g, want %g", e.Kernel(), transA, transB, m, n, k, lda, i, c[i], want[i])
		}
	}
}
