package tensor

// The matrix product follows the GotoBLAS/BLIS plan: op(A) is packed into
// panels of MR rows and op(B) into panels of NR columns, both k-major, so the
// transposes happen inside the packing and the micro-kernel always streams
// two contiguous arrays. A micro-kernel computes one MR x NR tile of C over
// the whole k range, in a fixed order; the tiles are distributed over the
// pool's workers. No k-splitting is done, so every element of C is the same
// sum in the same order whatever the number of threads.
//
// The shapes of this project (k <= 3072) keep a packed panel pair within L2,
// so no k-blocking is needed.

// kernel computes the MR x NR tile c = a·b (or c += a·b when acc) from a
// packed A panel (k*MR values, k-major) and a packed B panel (k*NR values).
// c points at the tile's top-left element, rows ldc apart.
type kernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int, acc bool)
}

// Gemm computes C = op(A)·op(B), or C += op(A)·op(B) when acc, where op(A)
// is m x k and op(B) is k x n. With transA, A is stored k x m (row stride
// lda) and op(A) = Aᵀ; likewise transB. All matrices are row-major.
func (e *Engine) Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	kr := e.kernel
	mp := (m + kr.mr - 1) / kr.mr // row panels
	np := (n + kr.nr - 1) / kr.nr // column panels
	pa := grow(&e.packA, mp*kr.mr*k)
	pb := grow(&e.packB, np*kr.nr*k)

	// Pack both operands, a few panels per task.
	const panelsPerTask = 4
	ta := (mp + panelsPerTask - 1) / panelsPerTask
	tb := (np + panelsPerTask - 1) / panelsPerTask
	e.pool.For(ta+tb, func(t int) {
		if t < ta {
			for p := t * panelsPerTask; p < min(mp, (t+1)*panelsPerTask); p++ {
				packA(pa[p*kr.mr*k:(p+1)*kr.mr*k], transA, a, lda, p*kr.mr, min(kr.mr, m-p*kr.mr), kr.mr, k)
			}
			return
		}
		t -= ta
		for p := t * panelsPerTask; p < min(np, (t+1)*panelsPerTask); p++ {
			packB(pb[p*kr.nr*k:(p+1)*kr.nr*k], transB, b, ldb, p*kr.nr, min(kr.nr, n-p*kr.nr), kr.nr, k)
		}
	})

	// Tiles: a block of row panels against one column panel per task.
	rowBlock := max(1, 64/kr.mr)
	rb := (mp + rowBlock - 1) / rowBlock
	e.pool.For(rb*np, func(t int) {
		jp, ib := t%np, t/np
		bp := pb[jp*kr.nr*k : (jp+1)*kr.nr*k]
		j0 := jp * kr.nr
		nn := min(kr.nr, n-j0)
		for ip := ib * rowBlock; ip < min(mp, (ib+1)*rowBlock); ip++ {
			ap := pa[ip*kr.mr*k : (ip+1)*kr.mr*k]
			i0 := ip * kr.mr
			mm := min(kr.mr, m-i0)
			if mm == kr.mr && nn == kr.nr {
				kr.fn(k, ap, bp, c[i0*ldc+j0:], ldc, acc)
				continue
			}
			// Edge tile: compute the full tile aside, store the valid part.
			var tile [maxTile]float32
			kr.fn(k, ap, bp, tile[:], kr.nr, false)
			for i := range mm {
				row := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+nn]
				src := tile[i*kr.nr : i*kr.nr+nn]
				if acc {
					for j := range row {
						row[j] += src[j]
					}
				} else {
					copy(row, src)
				}
			}
		}
	})
}

// maxTile bounds MR*NR over all kernels.
const maxTile = 16 * 64

// packA writes rows [i0, i0+rows) of op(A) into dst as one k-major panel of
// mr rows, zero-padding the rows past the matrix.
func packA(dst []float32, trans bool, a []float32, lda, i0, rows, mr, k int) {
	if trans { // op(A)(i, p) = a[p*lda + i]: rows of a are contiguous in i
		for p := range k {
			d := dst[p*mr : p*mr+mr]
			copy(d, a[p*lda+i0:p*lda+i0+rows])
			clear(d[rows:])
		}
		return
	}
	for i := range rows {
		src := a[(i0+i)*lda : (i0+i)*lda+k]
		for p, v := range src {
			dst[p*mr+i] = v
		}
	}
	for i := rows; i < mr; i++ {
		for p := range k {
			dst[p*mr+i] = 0
		}
	}
}

// packB writes columns [j0, j0+cols) of op(B) into dst as one k-major panel
// of nr columns, zero-padding the columns past the matrix.
func packB(dst []float32, trans bool, b []float32, ldb, j0, cols, nr, k int) {
	if !trans { // op(B)(p, j) = b[p*ldb + j]: contiguous in j
		for p := range k {
			d := dst[p*nr : p*nr+nr]
			copy(d, b[p*ldb+j0:p*ldb+j0+cols])
			clear(d[cols:])
		}
		return
	}
	for j := range cols {
		src := b[(j0+j)*ldb : (j0+j)*ldb+k]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
	for j := cols; j < nr; j++ {
		for p := range k {
			dst[p*nr+j] = 0
		}
	}
}

// grow returns (*buf)[:n], reallocating only when the capacity is short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}
