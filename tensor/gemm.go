package tensor

import (
	"fmt"
	"sync"
)

// The matrix product follows the GotoBLAS/BLIS plan, with register-blocked
// micro-kernels that compute one MR x NR tile of C from a panel of MR rows
// of op(A) and a panel of NR columns of op(B), over k in blocks of kc. Where
// the layout allows, the kernels read the operands where they lie; the rest
// is packed into k-major panels (the transposes happen in the packing).
// Each tile is computed by one task, k blocks in order, with the
// accumulators seeded from C between blocks: every element of C is the same
// sum in the same order whatever the number of threads.

// kernel is a pair of micro-kernels computing one MR x NR tile of C,
// c = A·B or c += A·B when acc, over k in order; with acc the accumulators
// start from C, so a product split into k blocks has the same bits as one
// pass. B(p, j) is read at b[p*ldb+j]: a column panel of a non-transposed B
// is used where it lies, and a packed panel has ldb = NR. kmajor reads
// A(i, p) at a[p*lda+i]: a packed panel (lda = MR) or a transposed A in
// place. rows reads A(i, p) at a[i*lda+p]: a non-transposed A in place.
type kernel struct {
	name         string
	mr, nr       int
	kmajor, rows func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool)
	// kmajorPanels and rowsPanels, if set, compute the tiles of a run of
	// row panels (as many as panels, at least one) against one column
	// panel in one call, panel i's A at a[i*astep:] and its C mr rows
	// below the one before: a call from Go costs about as much as a
	// small tile's arithmetic.
	kmajorPanels, rowsPanels panelsFunc
	// narrow, if set, is a pair with fewer columns for products at most
	// that wide (the 10-wide output layer), which would waste most of a
	// full panel.
	narrow *kernel
	// kmajorEdge[h-1] and rowsEdge[h-1], if set, are the pair for h < mr
	// rows, so a ragged last row panel is computed in place.
	kmajorEdge, rowsEdge []kernelFunc
	// kmajorMasked and rowsMasked, if set, read B and C and write C only
	// in the columns set in a mask, so a ragged column panel is read in
	// place and needs no scratch tile; rowsMaskedEdge[h-1], if set, is
	// rowsMasked for h < mr rows.
	kmajorMasked, rowsMasked maskedFunc
	rowsMaskedEdge           []maskedFunc
	// packBRows, if set, has B packed whenever op(A) has at least that
	// many rows: a panel read in place, rows ldb apart, would not stay in
	// a small L1 (AVX2 on Zen 3: 32 KiB, 8 ways, so rows 1 KiB apart
	// share 4 of its 64 sets), and a product of that many rows repays the
	// copy. One thread only: with two, the packing phase and its barrier
	// cost more than they save (BENCHMARKS.md, the night's quiet section).
	packBRows int
	// kOuter, if set, is the least k at which a task computes its block of
	// row panels against a group of kOuterPanels column panels with k
	// blocks outermost, so the block of A's rows stays in L2 while the
	// group's B blocks pass (AVX2 on Zen 3: a block of 60 rows of k =
	// 3072 is 720 KiB, past the 512 KiB L2, and was read again from L3 for
	// every column panel).
	kOuter, kOuterPanels int
	// kOuterRows, if set, is the height of a task's block of op(A) at k >=
	// kOuter on one thread (all of a batch of 128 on AVX2), against all
	// the column panels: each block of B, read in place from memory, then
	// serves every row panel before the next, rather than being read
	// again for each block of 60 rows, and the block's k-slice of A (128
	// x 256 floats) stays in L2 while every column panel passes, rather
	// than being read again for each group of kOuterPanels.
	kOuterRows int
	// kmajorMaskedEdge[h-1], if set, is kmajorMasked for h < mr rows.
	// maskedMin, if set, is the narrowest ragged column panel the masked
	// kernels serve (they read and write the columns below it whole).
	// maskedEdgeTiles, if set, makes the edge tiles of a ragged column
	// panel (computed aside) go through the masked kernels too, so B's
	// last panel is never read past its columns.
	kmajorMaskedEdge []maskedFunc
	maskedMin        int
	maskedEdgeTiles  bool
	// cols, if set, serves products at most colsN wide (the 10-wide output
	// layer), vectorised along m instead of n: see gemmCols. colsStore, if
	// set, is cols storing straight into a row-major C.
	cols      colsFunc
	colsStore colsStoreFunc
	// transpose16 and copyPanel, if set, are vector forms of the packing:
	// dst[p*ldd+r] = src[r*lds+p] for 16 rows r, and dst[p*ldd+j] =
	// src[p*lds+j] for the columns j set in mask (at most 32).
	transpose16 func(dst []float32, ldd int, src []float32, lds int, k int)
	// packPanelsT, if set, packs panels whole panels of a transposed A at
	// once, dst[q*mr*k+p*mr+i] = src[p*lds+q*mr+i], reading each row of
	// src once (a transposed A whose rows alias at 4 KiB: panel by panel,
	// each line of A is fetched again for each panel it spans).
	packPanelsT func(dst []float32, src []float32, lds int, k int, panels int)
	// transposeRows, if set, packs the kernel's mr rows of a row-major A
	// into a k-major panel, dst[p*mr+r] = src[r*lds+p], for k a multiple
	// of 8.
	transposeRows func(dst []float32, src []float32, lds int, k int)
	copyPanel     func(dst []float32, ldd int, src []float32, lds int, k int, mask uint64)
}

// colsStoreFunc computes the colsM x colsN tile C = A·B as colsFunc does and
// stores its first rows rows and the columns set in mask into C, rows ldc
// apart.
type colsStoreFunc = func(k int, a []float32, lda int, b []float32, c []float32, ldc int, mask uint64, rows int)

// colsFunc computes a colsM x colsN tile t, column-major (t[j*colsM+i]),
// from A(i, p) = a[p*lda+i] and B(p, j) = b[p*colsN+j]; with acc t is added to.
type colsFunc = func(k int, a []float32, lda int, b []float32, t []float32, acc bool)

// The tile of a cols kernel.
const colsM, colsN = 32, 12

type maskedFunc = func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, mask uint64)

// kc is the k block: a block of a B panel (kc x NR floats, 32 KiB) stays in
// L1 while the row panels of a task stream past it, and the rows of an
// in-place B panel stay within reach of the TLB and the prefetchers.
const kc = 256

// Gemm computes C = op(A)·op(B), or C += op(A)·op(B) when acc, where op(A)
// is m x k and op(B) is k x n. With transA, A is stored k x m (row stride
// lda) and op(A) = Aᵀ; likewise transB. All matrices are row-major. Which
// operands are packed is decided per call, by rules measured on the
// exercise's shapes (commented below). Gemm panics if a dimension is
// negative or a matrix does not fit its slice and stride, before any
// kernel runs: the assembly kernels read and write unchecked.
func (e *Engine) Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	e.gemmThen(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, acc, nil)
}

// An Epilogue is work on rows of a product's C that GemmThen runs as soon
// as they are complete, while they are still in the caches (e.g. an
// update of the rows just computed).
type Epilogue interface {
	// Done is called once for each of a set of disjoint blocks of rows
	// [i0, i1) that cover C's m rows, concurrently for different blocks,
	// inside one of the engine's loops, with c holding the block: row i0
	// at c[0], the rows ldc apart: C's own rows (GemmThen), or a scratch
	// block that Done may overwrite, valid only during the call
	// (GemmBlocks). Done must not use the engine (its products, passes
	// or pool).
	Done(i0, i1 int, c []float32)
}

// GemmThen is Gemm (the same bits) followed by then.Done on every block of
// C's rows, each called as soon as its rows are complete, on the thread
// that computed them; a narrow or empty product's Done covers all of C,
// once it is complete. It panics if then is nil.
func (e *Engine) GemmThen(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, then Epilogue) {
	if then == nil {
		panic("tensor: GemmThen without an epilogue")
	}
	e.gemmThen(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, acc, then)
}

// GemmBlocks is GemmThen without C: each block of the product (Gemm's
// bits) is computed into a scratch block, rows ldc apart, and handed to
// then.Done, which may overwrite it; nothing is stored, so the product's
// bytes never go to memory. It panics if then is nil or ldc < n.
func (e *Engine) GemmBlocks(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, ldc int, then Epilogue) {
	if then == nil {
		panic("tensor: GemmBlocks without an epilogue")
	}
	if ldc < max(n, 1) {
		panic(fmt.Sprintf("tensor: GemmBlocks: %d columns with a row stride of %d", n, ldc))
	}
	e.gemmThen(transA, transB, m, n, k, a, lda, b, ldb, nil, ldc, false, then)
}

// gemmThen is Gemm, then then.Done on blocks of C's rows if then is set;
// with then set and c nil, GemmBlocks.
func (e *Engine) gemmThen(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, then Epilogue) {
	e.pool.apply() // the plans below read the helpers of the loops they run on
	ra, ca, rb, cb := m, k, k, n
	if transA {
		ra, ca = k, m
	}
	if transB {
		rb, cb = n, k
	}
	checkMatrix("a", ra, ca, a, lda)
	checkMatrix("b", rb, cb, b, ldb)
	// Without C (GemmBlocks), a plan below that computes the product at
	// once computes it into one scratch block.
	scratch := then != nil && c == nil
	if !scratch {
		checkMatrix("c", m, n, c, ldc)
	}
	// The cols kernel wants A k-major, as a transposed A already is; a
	// non-transposed A would need a strided transposing copy that costs more
	// than the kernel saves (BENCHMARKS.md, "Figures behind Gemm's plan").
	cols := e.kernel.cols != nil && n <= colsN && transA
	if scratch && (m == 0 || n == 0 || k == 0 || cols) {
		// A plan below computes all of C at once (small, or empty).
		c = e.blocks.get(max(m*ldc, 1))
		defer e.blocks.put(c)
	}
	if m == 0 || n == 0 || k == 0 {
		if !acc && k == 0 {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		doneWhole(then, m, c)
		return
	}
	kr := e.kernel
	if cols {
		e.gemmCols(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, acc)
		doneWhole(then, m, c) // a narrow C: small
		return
	}
	if kr.narrow != nil && n <= kr.narrow.nr {
		kr = *kr.narrow
	}
	g := &e.gemm
	*g = gemmCall{transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, acc: acc, kr: kr}
	g.mp = (m + kr.mr - 1) / kr.mr // row panels
	g.np = (n + kr.nr - 1) / kr.nr // column panels
	// A is packed only when its rows (or, transposed, its k-rows) lie a
	// multiple of 4 KiB apart, whose MR streams would all map to the same L1
	// sets and evict each other. A transposed A is otherwise read in place
	// by the k-major kernel, which beats a packed copy at the exercise's
	// weight gradients (BENCHMARKS.md, "Figures behind Gemm's plan").
	g.packAllA = (lda*4)%4096 == 0
	// B is packed when transposed, or when a panel in place would span more
	// than 512 KiB. Column panels reused by many row panels are read in
	// place as well: as fast or faster than packed, at the exercise's
	// shapes (same section).
	g.packAllB = transB || min(k, kc)*ldb*4 > 512<<10 || kr.packBRows > 0 && len(e.pool.workers) == 0 && m >= kr.packBRows && n >= kr.nr && (kr.kOuter == 0 || k < kr.kOuter)
	g.pa = grow(&e.packA, g.mp*kr.mr*k)
	g.pb = grow(&e.packB, g.np*kr.nr*k)

	// Tasks: with few row panels (a batch of 128), one task per column
	// panel, which packs its own B panel if needed (one barrier per call);
	// otherwise blocks of row panels against one column panel, B packed
	// beforehand.
	g.rowBlock = max(1, 64/kr.mr)
	g.ownB = g.mp <= 16 && then == nil
	if g.ownB {
		g.rowBlock = g.mp
	}
	run := e.pool.For
	if 2*m*n*k < 1<<21 { // under 2 MFLOP a barrier costs more than it saves
		run = serial
	}
	if then != nil {
		// Tasks are blocks of row panels against every column panel, at
		// least four per thread, so that each block's epilogue follows its
		// rows while they are in the caches.
		threads := e.pool.Threads()
		g.rowBlock = max(1, min(g.rowBlock, (g.mp+4*threads-1)/(4*threads)))
	}
	const panelsPerTask = 4
	g.aPerTask = panelsPerTask
	if transA && kr.packPanelsT != nil {
		g.aPerTask = 16
	}
	if g.packAllA {
		g.ta = (g.mp + g.aPerTask - 1) / g.aPerTask
	}
	if g.packAllB && !g.ownB {
		g.tb = (g.np + panelsPerTask - 1) / panelsPerTask
	}
	if g.ta+g.tb > 0 {
		run(g.ta+g.tb, e.gemmPackTask)
	}
	// Ragged last panels of in-place operands: small, packed here, unless
	// kernels read them in place: B wherever a masked kernel serves the
	// ragged column panel, A where kernels of the ragged height serve every
	// column panel.
	masked := n%kr.nr != 0 && kr.rowsMasked != nil && n%kr.nr >= kr.maskedMin
	edgeKernels, maskedEdge := kr.rowsEdge, kr.rowsMaskedEdge
	if transA {
		edgeKernels, maskedEdge = kr.kmajorEdge, kr.kmajorMaskedEdge
	}
	// A masked kernel of the ragged row panel's height serves the ragged
	// column panel; AVX-512 has none k-major.
	wholeServed := n < kr.nr || edgeKernels != nil                                                         // the whole column panels
	raggedServed := n%kr.nr == 0 || masked && (!transA || kr.kmajorMaskedEdge != nil) && maskedEdge != nil // the ragged one
	g.edgeRows = m%kr.mr != 0 && !g.packAllA && wholeServed && raggedServed
	g.edgeA = !g.packAllA && m%kr.mr != 0 && !g.edgeRows
	// The ragged column panel is packed unless every tile on it reads B
	// through the masked kernels: the edge tiles of a ragged last row
	// panel (computed aside) take the full-width kernel, which reads the
	// panel's nr columns, unless the kernel has maskedEdgeTiles.
	g.edgeB = !g.packAllB && n%kr.nr != 0 && (!masked || !kr.maskedEdgeTiles && m%kr.mr != 0 && !g.edgeRows)
	if g.edgeA {
		kr.packA(g.aPanel(g.mp-1), transA, a, lda, (g.mp-1)*kr.mr, m-(g.mp-1)*kr.mr, kr.mr, k)
	}
	if g.edgeB {
		kr.packB(g.bPanel(g.np-1), transB, b, ldb, (g.np-1)*kr.nr, n-(g.np-1)*kr.nr, kr.nr, k)
	}
	if then != nil {
		g.then, g.colGroup, g.ng = then, g.np, 1
		g.rb = (g.mp + g.rowBlock - 1) / g.rowBlock
		run(g.rb, e.gemmThenTask)
		g.a, g.b, g.c, g.then = nil, nil, nil, nil
		return
	}
	g.colGroup = 1
	if kr.kOuter > 0 && k >= kr.kOuter && !g.ownB {
		g.colGroup = kr.kOuterPanels
		if kr.kOuterRows > 0 && len(e.pool.workers) == 0 {
			g.rowBlock = min(g.mp, (kr.kOuterRows+kr.mr-1)/kr.mr)
			g.colGroup = g.np
		}
	}
	g.rb = (g.mp + g.rowBlock - 1) / g.rowBlock
	g.ng = (g.np + g.colGroup - 1) / g.colGroup
	run(g.rb*g.ng, e.gemmTileTask)
	g.a, g.b, g.c = nil, nil, nil
}

// checkMatrix panics unless a rows x cols matrix with row stride ld fits s.
func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	switch {
	case rows < 0 || cols < 0:
		panic(fmt.Sprintf("tensor: Gemm: %s is %dx%d: negative dimension", name, rows, cols))
	case ld < max(cols, 1):
		panic(fmt.Sprintf("tensor: Gemm: %s has %d columns but a row stride of %d", name, cols, ld))
	case rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols:
		panic(fmt.Sprintf("tensor: Gemm: %s is %dx%d with row stride %d, which needs %d elements; the slice has %d", name, rows, cols, ld, (rows-1)*ld+cols, len(s)))
	}
}

// gemmCols computes a product at most colsN wide with the cols kernel: for
// each panel of colsM rows of C, every lane of the kernel works on one of
// them, and each of the n columns of B is broadcast in turn, so a 10-wide
// product wastes 2 columns of 12 rather than 6 lanes of 16 (the output
// layer's weight gradient; BENCHMARKS.md, "Figures behind Gemm's plan"). A is read
// k-major: a transposed A in place, otherwise (aliasing rows, or the ragged
// last panel) packed panel by panel by the task that uses it; B is packed
// once into a colsN-wide panel.
func (e *Engine) gemmCols(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	g := &e.cols
	*g = colsCall{transA: transA, m: m, n: n, k: k, a: a, lda: lda, c: c, ldc: ldc, acc: acc, fn: e.kernel.cols}
	g.inPlace = transA && (lda*4)%4096 != 0
	if !acc {
		g.store = e.kernel.colsStore
	}
	g.pb = grow(&e.packB, k*colsN)
	e.kernel.packB(g.pb, transB, b, ldb, 0, n, colsN, k)
	mp := (m + colsM - 1) / colsM
	g.pa = grow(&e.packA, mp*colsM*k)
	if 2*m*n*k < 1<<21 {
		serial(mp, e.colsTask)
	} else {
		e.pool.For(mp, e.colsTask)
	}
	g.a, g.c = nil, nil
}

// colsCall holds the operands of the gemmCols in flight.
type colsCall struct {
	transA, inPlace, acc bool
	m, n, k, lda, ldc    int
	a, c, pa, pb         []float32
	fn                   colsFunc
	store                colsStoreFunc
}

// colsPanel computes the rows [ip*colsM, ...) of C.
func (e *Engine) colsPanel(ip int) {
	g := &e.cols
	i0 := ip * colsM
	mm := min(colsM, g.m-i0)
	ap, as := g.a[i0:], g.lda
	if !g.inPlace || mm < colsM {
		ap, as = g.pa[ip*colsM*g.k:(ip+1)*colsM*g.k], colsM
		e.kernel.packA(ap, g.transA, g.a, g.lda, i0, mm, colsM, g.k)
	}
	if g.store != nil {
		_ = g.c[(i0+mm-1)*g.ldc+g.n-1] // the kernel writes C unchecked
		g.store(g.k, ap, as, g.pb, g.c[i0*g.ldc:], g.ldc, uint64(1)<<g.n-1, mm)
		return
	}
	tp := tiles.Get().(*[maxTile]float32)
	defer tiles.Put(tp)
	t := tp[:colsM*colsN]
	if g.acc {
		clear(t)
		for i := range mm {
			for j, v := range g.c[(i0+i)*g.ldc : (i0+i)*g.ldc+g.n] {
				t[j*colsM+i] = v
			}
		}
	}
	g.fn(g.k, ap, as, g.pb, t, g.acc)
	for i := range mm {
		row := g.c[(i0+i)*g.ldc : (i0+i)*g.ldc+g.n]
		for j := range row {
			row[j] = t[j*colsM+i]
		}
	}
}

// gemmCall holds the operands and plan of the Gemm in flight. Its tasks
// are methods bound once per Engine, so a call allocates nothing.
type gemmCall struct {
	transA, transB       bool
	m, n, k              int
	a, b, c              []float32
	lda, ldb, ldc        int
	acc                  bool
	kr                   kernel
	mp, np               int
	packAllA, packAllB   bool
	edgeA, edgeB, ownB   bool
	edgeRows             bool // the ragged last row panel in place, by kernels of its height
	rowBlock, rb, ta, tb int
	aPerTask             int // A panels packed per task
	colGroup, ng         int // column panels per task, and tasks per row block
	pa, pb               []float32
	then                 Epilogue // GemmThen's
}

func (g *gemmCall) aPanel(p int) []float32 { return g.pa[p*g.kr.mr*g.k : (p+1)*g.kr.mr*g.k] }
func (g *gemmCall) bPanel(p int) []float32 { return g.pb[p*g.kr.nr*g.k : (p+1)*g.kr.nr*g.k] }

type kernelFunc = func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool)

type panelsFunc = func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, panels, astep int)

// aAt returns A's row panel ip from k offset p0 (and the panels after it,
// up to ip+panels-1, for a kernel's loop over panels), its stride, the
// distance in floats from one panel to the next, and whether it is read
// k-major (packed, or transposed in place) rather than row-major.
func (g *gemmCall) aAt(ip, p0, panels int) (kmajor bool, a []float32, lda, step int) {
	mr := g.kr.mr
	if g.packAllA || (g.edgeA && ip == g.mp-1) {
		return true, g.pa[ip*mr*g.k+p0*mr : (ip+panels)*mr*g.k], mr, mr * g.k
	}
	if g.transA { // A(i, p) = a[p*lda + i]: k-major in place
		return true, g.a[p0*g.lda+ip*mr:], g.lda, mr
	}
	return false, g.a[ip*mr*g.lda+p0:], g.lda, mr * g.lda
}

// kernelFor returns the kernel of kr that reads A as aAt says.
func (kr *kernel) kernelFor(kmajor bool) kernelFunc {
	if kmajor {
		return kr.kmajor
	}
	return kr.rows
}

// bAt returns B's column panel jp from k offset p0 and its row stride.
func (g *gemmCall) bAt(jp, p0 int) ([]float32, int) {
	if g.packAllB || (g.edgeB && jp == g.np-1) {
		return g.bPanel(jp)[p0*g.kr.nr:], g.kr.nr
	}
	return g.b[p0*g.ldb+jp*g.kr.nr:], g.ldb
}

// gemmPack packs a few panels of a transposed (or aliasing) operand.
func (e *Engine) gemmPack(t int) {
	g := &e.gemm
	const panelsPerTask = 4
	if t < g.ta {
		mr := g.kr.mr
		p0, p1 := t*g.aPerTask, min(g.mp, (t+1)*g.aPerTask)
		if full := min(p1, g.m/mr); g.transA && g.kr.packPanelsT != nil && full > p0 {
			_, _ = g.pa[full*mr*g.k-1], g.a[(g.k-1)*g.lda+full*mr-1] // packPanelsT is unchecked
			g.kr.packPanelsT(g.pa[p0*mr*g.k:], g.a[p0*mr:], g.lda, g.k, full-p0)
			p0 = full
		}
		for p := p0; p < p1; p++ {
			g.kr.packA(g.aPanel(p), g.transA, g.a, g.lda, p*mr, min(mr, g.m-p*mr), mr, g.k)
		}
		return
	}
	t -= g.ta
	for p := t * panelsPerTask; p < min(g.np, (t+1)*panelsPerTask); p++ {
		g.kr.packB(g.bPanel(p), g.transB, g.b, g.ldb, p*g.kr.nr, min(g.kr.nr, g.n-p*g.kr.nr), g.kr.nr, g.k)
	}
}

// gemmTile computes the tiles of one task: a block of row panels against
// one column panel, k in blocks of kc, each block of the B panel reused by
// every row panel of the task; or, with kernels that ask for it at large k
// (kOuter), against a group of column panels, k blocks outermost, so a
// block of A's rows is reused across them, for the kernels whose L2 is too
// small to keep the block otherwise (AVX2 on Zen 3).
func (e *Engine) gemmTile(t int) {
	g := &e.gemm
	jg, ib := t%g.ng, t/g.ng
	ip0, ip1 := ib*g.rowBlock, min(g.mp, (ib+1)*g.rowBlock)
	if g.colGroup > 1 {
		g.group(ip0, ip1, jg*g.colGroup, min(g.np, (jg+1)*g.colGroup), g.c, 0)
		return
	}
	jp := jg
	if g.ownB && g.packAllB {
		j0 := jp * g.kr.nr
		g.kr.packB(g.bPanel(jp), g.transB, g.b, g.ldb, j0, min(g.kr.nr, g.n-j0), g.kr.nr, g.k)
	}
	whole, masked := g.whole(jp, ip0, ip1)
	for p0 := 0; p0 < g.k; p0 += kc {
		g.tileBlock(jp, ip0, whole, p0, masked, g.c, 0)
	}
	g.edgeTiles(jp, whole, ip1, g.c, 0)
}

// group computes the tiles of row panels [ip0, ip1) against column panels
// [jp0, jp1), k blocks outermost, into c, whose first row is C's row row0
// (C itself, or a scratch block of GemmThen's).
func (g *gemmCall) group(ip0, ip1, jp0, jp1 int, c []float32, row0 int) {
	for p0 := 0; p0 < g.k; p0 += kc {
		for jp := jp0; jp < jp1; jp++ {
			whole, masked := g.whole(jp, ip0, ip1)
			g.tileBlock(jp, ip0, whole, p0, masked, c, row0)
		}
	}
	for jp := jp0; jp < jp1; jp++ {
		whole, _ := g.whole(jp, ip0, ip1)
		g.edgeTiles(jp, whole, ip1, c, row0)
	}
}

// scratchBlocks hands out the blocks GemmThen computes a product into
// when it stores no C: one per block in flight, each handed back after its
// epilogue, so that the few in use are reused (and stay in the caches)
// and, once they have grown to the largest block, nothing is allocated.
type scratchBlocks struct {
	mu   sync.Mutex
	free [][]float32
}

// get returns a block of n floats.
func (s *scratchBlocks) get(n int) []float32 {
	s.mu.Lock()
	var b []float32
	if k := len(s.free); k > 0 {
		b, s.free = s.free[k-1], s.free[:k-1]
	}
	s.mu.Unlock()
	if cap(b) < n {
		b = make([]float32, n)
	}
	return b[:n]
}

// put hands back a block from get.
func (s *scratchBlocks) put(b []float32) {
	s.mu.Lock()
	s.free = append(s.free, b)
	s.mu.Unlock()
}

// doneWhole runs the epilogue then, if any, on all of C's m rows at once.
func doneWhole(then Epilogue, m int, c []float32) {
	if then != nil && m > 0 {
		then.Done(0, m, c)
	}
}

// gemmThenBlock computes block t of row panels against every column
// panel, then runs the epilogue on the block's rows.
func (e *Engine) gemmThenBlock(t int) {
	g := &e.gemm
	ip0, ip1 := t*g.rowBlock, min(g.mp, (t+1)*g.rowBlock)
	i0, i1 := ip0*g.kr.mr, min(g.m, ip1*g.kr.mr)
	if g.c != nil {
		g.group(ip0, ip1, 0, g.np, g.c, 0)
		g.then.Done(i0, i1, g.c[i0*g.ldc:])
		return
	}
	// No C: the block is computed into a scratch block of its own,
	// whole row panels of it (the kernels write all mr rows of a tile).
	c := e.blocks.get((ip1 - ip0) * g.kr.mr * g.ldc)
	g.group(ip0, ip1, 0, g.np, c, i0)
	g.then.Done(i0, i1, c)
	e.blocks.put(c)
}

// whole returns the end of the row panels in [ip0, ip1) whose tiles against
// column panel jp are written to C directly; the rest are edge tiles. A
// ragged column panel is written through a column mask where the kernel
// has one, else through scratch tiles; a ragged last row panel through a
// kernel of its height where there is one, else through a scratch tile.
func (g *gemmCall) whole(jp, ip0, ip1 int) (whole int, masked bool) {
	kr := &g.kr
	nn := min(kr.nr, g.n-jp*kr.nr)
	masked = nn < kr.nr && kr.rowsMasked != nil && nn >= kr.maskedMin
	switch {
	case nn < kr.nr && !masked:
		return ip0, false
	case ip1 == g.mp && g.m%kr.mr != 0 && !g.edgeRows:
		return g.mp - 1, masked
	}
	return ip1, masked
}

// tileBlock computes k block p0 of the direct tiles of row panels [ip0,
// whole) against column panel jp, through the masked kernels if masked.
func (g *gemmCall) tileBlock(jp, ip0, whole, p0 int, masked bool, cm []float32, row0 int) {
	kr := &g.kr
	j0 := jp * kr.nr
	nn := min(kr.nr, g.n-j0)
	kk := min(kc, g.k-p0)
	bp, bs := g.bAt(jp, p0)
	for ip := ip0; ip < whole; ip++ {
		run := g.panelRun(ip, whole, masked)
		kmajor, ap, as, step := g.aAt(ip, p0, max(run, 1))
		c, acc := cm[(ip*kr.mr-row0)*g.ldc+j0:], g.acc || p0 > 0
		if run > 1 {
			// The kernels read and write unchecked: the last panel's last
			// elements of A and C.
			if kmajor {
				_ = ap[(run-1)*step+(kk-1)*as+kr.mr-1]
			} else {
				_ = ap[(run-1)*step+(kr.mr-1)*as+kk-1]
			}
			_ = c[(run*kr.mr-1)*g.ldc+kr.nr-1]
			f := kr.rowsPanels
			if kmajor {
				f = kr.kmajorPanels
			}
			f(kk, ap, as, bp, bs, c, g.ldc, acc, run, step)
			ip += run - 1
			continue
		}
		switch {
		case ip == g.mp-1 && g.edgeRows:
			mm := g.m - ip*kr.mr
			_ = c[(mm-1)*g.ldc+nn-1] // the kernels read and write unchecked
			switch {
			case kmajor && masked:
				_ = ap[(kk-1)*as+mm-1]
				kr.kmajorMaskedEdge[mm-1](kk, ap, as, bp, bs, c, g.ldc, acc, uint64(1)<<nn-1)
			case kmajor:
				_ = ap[(kk-1)*as+mm-1]
				kr.kmajorEdge[mm-1](kk, ap, as, bp, bs, c, g.ldc, acc)
			case masked:
				_ = ap[(mm-1)*as+kk-1]
				kr.rowsMaskedEdge[mm-1](kk, ap, as, bp, bs, c, g.ldc, acc, uint64(1)<<nn-1)
			default:
				_ = ap[(mm-1)*as+kk-1]
				kr.rowsEdge[mm-1](kk, ap, as, bp, bs, c, g.ldc, acc)
			}
		case !masked:
			kr.kernelFor(kmajor)(kk, ap, as, bp, bs, c, g.ldc, acc)
		case kmajor:
			kr.kmajorMasked(kk, ap, as, bp, bs, c, g.ldc, acc, uint64(1)<<nn-1)
		default:
			kr.rowsMasked(kk, ap, as, bp, bs, c, g.ldc, acc, uint64(1)<<nn-1)
		}
	}
}

// panelRun returns how many row panels from ip on (before whole) the
// kernel's panel loop computes in one call; 0 where the kernel has no
// panel loop, or for a masked column panel. The last row panel, when
// ragged or packed apart from the rest, is left to the tile-by-tile path.
func (g *gemmCall) panelRun(ip, whole int, masked bool) int {
	kr := &g.kr
	if masked || kr.rowsPanels == nil || kr.kmajorPanels == nil {
		return 0
	}
	end := whole
	if end == g.mp && (g.edgeRows || g.edgeA) {
		end--
	}
	return end - ip
}

// edgeTiles computes the edge tiles of row panels [whole, ip1) against
// column panel jp: each accumulated in a whole tile aside, from C's values
// when acc, the valid part stored when k is done.
func (g *gemmCall) edgeTiles(jp, whole, ip1 int, c []float32, row0 int) {
	if whole == ip1 {
		return
	}
	kr := &g.kr
	j0 := jp * kr.nr
	nn := min(kr.nr, g.n-j0)
	tp := tiles.Get().(*[maxTile]float32)
	defer tiles.Put(tp)
	tile := tp[:]
	masked := nn < kr.nr && kr.maskedEdgeTiles && nn >= kr.maskedMin
	for ip := whole; ip < ip1; ip++ {
		i0 := ip * kr.mr
		mm := min(kr.mr, g.m-i0)
		clear(tile[:kr.mr*kr.nr])
		if g.acc {
			for i := range mm {
				copy(tile[i*kr.nr:i*kr.nr+nn], c[(i0+i-row0)*g.ldc+j0:])
			}
		}
		for p0 := 0; p0 < g.k; p0 += kc {
			kmajor, ap, as, _ := g.aAt(ip, p0, 1)
			bp, bs := g.bAt(jp, p0)
			switch {
			case masked && kmajor:
				kr.kmajorMasked(min(kc, g.k-p0), ap, as, bp, bs, tile, kr.nr, true, uint64(1)<<nn-1)
			case masked:
				kr.rowsMasked(min(kc, g.k-p0), ap, as, bp, bs, tile, kr.nr, true, uint64(1)<<nn-1)
			default:
				kr.kernelFor(kmajor)(min(kc, g.k-p0), ap, as, bp, bs, tile, kr.nr, true)
			}
		}
		for i := range mm {
			copy(c[(i0+i-row0)*g.ldc+j0:(i0+i-row0)*g.ldc+j0+nn], tile[i*kr.nr:i*kr.nr+nn])
		}
	}
}

// PaddedStride returns a row stride of at least n floats for a matrix that
// Gemm will read as a non-transposed A: n itself, or n+16 when rows n floats
// apart would lie a multiple of 4 KiB apart and force a packed copy (see
// Gemm). CIFAR-10's 3072 features are such a case.
func PaddedStride(n int) int {
	if (n*4)%4096 == 0 {
		return n + 16
	}
	return n
}

// maxTile bounds MR*NR over all kernels.
const maxTile = 16 * 64

// tiles holds the scratch tiles of edge tiles: a tile handed to a kernel
// through a function value escapes, and must not be allocated per call.
var tiles = sync.Pool{New: func() any { return new([maxTile]float32) }}

// packA writes rows [i0, i0+rows) of op(A) into dst as one k-major panel of
// mr rows, zero-padding the rows past the matrix.
func (kr *kernel) packA(dst []float32, trans bool, a []float32, lda, i0, rows, mr, k int) {
	if trans { // op(A)(i, p) = a[p*lda + i]: rows of a are contiguous in i
		if rows == mr && mr <= 32 && k > 0 && kr.copyPanel != nil {
			_, _ = dst[k*mr-1], a[(k-1)*lda+i0+mr-1] // copyPanel is unchecked
			kr.copyPanel(dst, mr, a[i0:], lda, k, uint64(1)<<mr-1)
			return
		}
		for p := range k {
			d := dst[p*mr : p*mr+mr]
			copy(d, a[p*lda+i0:p*lda+i0+rows])
			clear(d[rows:])
		}
		return
	}
	k8 := 0
	if rows == mr && mr == kr.mr && k >= 8 && kr.transposeRows != nil {
		k8 = k &^ 7
		_, _ = dst[k8*mr-1], a[(i0+mr-1)*lda+k8-1] // transposeRows is unchecked
		kr.transposeRows(dst, a[i0*lda:], lda, k8)
	}
	for p := k8; p < k; p++ {
		d := dst[p*mr : p*mr+mr]
		for i := range rows {
			d[i] = a[(i0+i)*lda+p]
		}
		clear(d[rows:])
	}
}

// packB writes columns [j0, j0+cols) of op(B) into dst as one k-major panel
// of nr columns, zero-padding the columns past the matrix.
func (kr *kernel) packB(dst []float32, trans bool, b []float32, ldb, j0, cols, nr, k int) {
	if !trans { // op(B)(p, j) = b[p*ldb + j]: contiguous in j
		if cols == nr && nr <= 32 && k > 0 && kr.copyPanel != nil {
			_, _ = dst[k*nr-1], b[(k-1)*ldb+j0+nr-1] // copyPanel is unchecked
			kr.copyPanel(dst, nr, b[j0:], ldb, k, uint64(1)<<nr-1)
			return
		}
		for p := range k {
			d := dst[p*nr : p*nr+nr]
			copy(d, b[p*ldb+j0:p*ldb+j0+cols])
			clear(d[cols:])
		}
		return
	}
	// op(B)(p, j) = b[j*ldb + p]: a transpose, 16 columns at a time where
	// there is a vector one.
	if cols == nr && nr%16 == 0 && k > 0 && kr.transpose16 != nil {
		_, _ = dst[k*nr-1], b[(j0+nr-1)*ldb+k-1] // transpose16 is unchecked
		for j := 0; j < nr; j += 16 {
			kr.transpose16(dst[j:], nr, b[(j0+j)*ldb:], ldb, k)
		}
		return
	}
	for p := range k {
		d := dst[p*nr : p*nr+nr]
		for j := range cols {
			d[j] = b[(j0+j)*ldb+p]
		}
		clear(d[cols:])
	}
}

// serial runs fn(0), ..., fn(n-1) in the calling goroutine.
func serial(n int, fn func(int)) {
	for t := range n {
		fn(t)
	}
}

// grow returns (*buf)[:n], reallocating only when the capacity is short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}
