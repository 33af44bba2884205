package tensor

// genericKernel is the portable micro-kernel pair: a 4x4 tile held in
// sixteen scalar accumulators, which is what the Go compiler keeps in
// registers.
var genericKernel = kernel{
	name: "generic", mr: 4, nr: 4,
	kmajor: func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
		kernel4x4(k, a, 1, lda, b, ldb, c, ldc, acc)
	},
	rows: func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
		kernel4x4(k, a, lda, 1, b, ldb, c, ldc, acc)
	},
}

// kernel4x4 computes the 4x4 tile from A(i, p) = a[i*rs + p*cs] and
// B(p, j) = b[p*ldb + j].
func kernel4x4(k int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	r2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := c[3*ldc : 3*ldc+4 : 3*ldc+4]
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	if acc { // start from C, so k blocks chain exactly like one pass
		c00, c01, c02, c03 = r0[0], r0[1], r0[2], r0[3]
		c10, c11, c12, c13 = r1[0], r1[1], r1[2], r1[3]
		c20, c21, c22, c23 = r2[0], r2[1], r2[2], r2[3]
		c30, c31, c32, c33 = r3[0], r3[1], r3[2], r3[3]
	}
	for p := range k {
		ap := p * cs
		a0, a1, a2, a3 := a[ap], a[ap+rs], a[ap+2*rs], a[ap+3*rs]
		bv := b[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}
