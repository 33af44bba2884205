// Command _asm generates the amd64 Gemm micro-kernels of package tensor
// (kernel_amd64.s and its Go declarations) with avo. Run it through
// "go generate" in the tensor directory; never edit the .s file by hand.
//
// Each kernel computes one MR x NR tile of C = A·B from packed panels: per k
// it loads the NR values of B into NR/lanes vector registers, broadcasts each
// of the MR values of A and issues one fused multiply-add per vector, keeping
// the whole tile in registers (AVX-512: 12x32 in 24 of the 32 zmm registers;
// AVX2: 6x16 in 12 of the 16 ymm registers).
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!purego")
	for _, v := range []struct {
		suffix        string
		mr, nv, lanes int
		vec           func() VecVirtual
	}{{"AVX512", 12, 2, 16, func() VecVirtual { return ZMM() }}, {"AVX2", 6, 2, 8, func() VecVirtual { return YMM() }}} {
		kernel("kernelKMajor"+v.suffix, false, v.mr, v.nv, v.lanes, v.vec)
		kernel("kernelRows"+v.suffix, true, v.mr, v.nv, v.lanes, v.vec)
		// One vector of columns, for narrow products (the 10-wide output layer).
		kernel("kernelKMajorNarrow"+v.suffix, false, v.mr, 1, v.lanes, v.vec)
		kernel("kernelRowsNarrow"+v.suffix, true, v.mr, 1, v.lanes, v.vec)
	}
	// Narrow AVX-512 kernels that load and store C under a column mask, so a
	// product narrower than 16 needs no scratch tile.
	masked = true
	kernel("kernelKMajorMaskedAVX512", false, 12, 1, 16, func() VecVirtual { return ZMM() })
	kernel("kernelRowsMaskedAVX512", true, 12, 1, 16, func() VecVirtual { return ZMM() })
	masked = false
	kernelCols()
	biasELU()
	eluBackward()
	nadam()
	Generate()
}

// masked makes kernel emit a variant taking a column mask (AVX-512, one
// vector): C is loaded and stored only where the mask's bits are set.
var masked bool

// kernel emits a micro-kernel of mr rows and nv vectors of lanes columns.
// B(p, j) is read at b[p*ldb + j]. A is either k-major, A(i, p) at
// a[p*lda + i] (a packed panel with lda = mr, or a transposed matrix read in
// place), or, with rows, row-major, A(i, p) at a[i*lda + p], read through
// four row pointers and scaled-index addressing. With acc the tile starts
// from C, so splitting k into blocks gives the same bits as one pass.
func kernel(name string, rows bool, mr, nv, lanes int, vec func() VecVirtual) {
	nr := nv * lanes
	layout := "A(i,p) = a[p*lda+i]"
	if rows {
		layout = "A(i,p) = a[i*lda+p]"
	}
	sig := "func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool)"
	if masked {
		sig = "func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, mask uint64)"
		layout += "; only the columns whose bit is set in mask are loaded and stored"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s computes the %dx%d tile c = A·B, or c += A·B when acc, with %s, B(p,j) = b[p*ldb+j], c's rows ldc apart.", name, mr, nr, layout))
	k := Load(Param("k"), GP64())
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda) // elements to bytes
	b := Load(Param("b").Base(), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	c := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)

	var aAt func(i int) Mem
	var bases []Register
	if rows {
		if mr%3 != 0 {
			panic("rows kernel needs mr divisible by 3")
		}
		bases = []Register{a}
		for i := 3; i < mr; i += 3 {
			r := GP64()
			MOVQ(bases[len(bases)-1], r)
			ADDQ(lda, r)
			ADDQ(lda, r)
			ADDQ(lda, r)
			bases = append(bases, r)
		}
		aAt = func(i int) Mem {
			base := bases[i/3]
			switch i % 3 {
			case 0:
				return Mem{Base: base}
			case 1:
				return Mem{Base: base, Index: lda, Scale: 1}
			default:
				return Mem{Base: base, Index: lda, Scale: 2}
			}
		}
	} else {
		aAt = func(i int) Mem { return Mem{Base: a, Disp: 4 * i} }
	}

	tile := make([][]VecVirtual, mr)
	for i := range tile {
		tile[i] = make([]VecVirtual, nv)
		for j := range tile[i] {
			tile[i][j] = vec()
		}
	}
	var kmask OpmaskVirtual
	if masked {
		kmask = K()
		m := GP64()
		Load(Param("mask"), m)
		KMOVW(m.As32(), kmask)
	}
	load := func(m Mem, v VecVirtual) {
		if masked {
			VMOVUPS_Z(m, kmask, v)
		} else {
			VMOVUPS(m, v)
		}
	}
	store := func(v VecVirtual, m Mem) {
		if masked {
			VMOVUPS(v, kmask, m)
		} else {
			VMOVUPS(v, m)
		}
	}
	row := GP64()
	accFlag := Load(Param("acc"), GP8())
	TESTB(accFlag, accFlag)
	JZ(LabelRef(name + "_zero"))
	Comment("acc: start from the tile of C")
	MOVQ(c, row)
	for i := range mr {
		for j := range nv {
			load(Mem{Base: row, Disp: 4 * lanes * j}, tile[i][j])
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	JMP(LabelRef(name + "_start"))
	Label(name + "_zero")
	for i := range tile {
		for j := range tile[i] {
			VXORPS(tile[i][j], tile[i][j], tile[i][j])
		}
	}
	Label(name + "_start")

	Comment("for p := 0; p < k; p++: tile += A(:, p) ⊗ B(p, :)")
	TESTQ(k, k)
	JZ(LabelRef(name + "_store"))
	Label(name + "_loop")
	bv := make([]VecVirtual, nv)
	for j := range bv {
		bv[j] = vec()
		VMOVUPS(Mem{Base: b, Disp: 4 * lanes * j}, bv[j])
	}
	for i := range mr {
		ai := vec()
		VBROADCASTSS(aAt(i), ai)
		for j := range nv {
			VFMADD231PS(bv[j], ai, tile[i][j])
		}
	}
	if rows {
		for _, r := range bases {
			ADDQ(Imm(4), r)
		}
	} else {
		ADDQ(lda, a)
	}
	ADDQ(ldb, b)
	DECQ(k)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_store")
	MOVQ(c, row)
	for i := range mr {
		for j := range nv {
			store(tile[i][j], Mem{Base: row, Disp: 4 * lanes * j})
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()
}

// f32 broadcasts a float32 constant from the data section into a new zmm.
// The constant is stored as its bit pattern: avo prints whole floats as
// "$(1)", which the Go assembler would store as the integer 1.
func f32(name string, v float32) VecVirtual {
	z := ZMM()
	VBROADCASTSS(ConstData(name, U32(math.Float32bits(v))), z)
	return z
}

// biasELU emits x[i] = ELU(x[i] + bias[i]) for len(x) a multiple of 16,
// with ELU(z) = max(z, 0) + expm1(min(z, 0)) and
// expm1(z) = 2^n·expm1(r) + (2^n - 1), n = round(z/ln2), r = z - n·ln2,
// expm1(r) by its degree-7 Taylor polynomial (|r| <= ln2/2: error < 2e-8
// relative), so the result is accurate to a few ulp, also near zero.
func biasELU() {
	TEXT("biasELUAVX512", NOSPLIT, "func(x, bias []float32)")
	Doc("biasELUAVX512 sets x[i] = ELU(x[i] + bias[i]), alpha 1; len(x) = len(bias), a multiple of 16.")
	x := Load(Param("x").Base(), GP64())
	b := Load(Param("bias").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	SHRQ(Imm(4), n)
	zero := ZMM()
	VXORPS(zero, zero, zero)
	one := f32("elu_one", 1)
	log2e := f32("elu_log2e", 1.44269504088896341)
	ln2hi := f32("elu_ln2hi", 0.693359375)
	ln2lo := f32("elu_ln2lo", -2.12194440e-4)
	lo := f32("elu_lo", -87.0)
	coef := []float32{1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1}
	cs := make([]VecVirtual, len(coef))
	for i, c := range coef {
		cs[i] = f32(fmt.Sprintf("elu_c%d", i), c)
	}
	TESTQ(n, n)
	JZ(LabelRef("elu_done"))
	Label("elu_loop")
	z := ZMM()
	VMOVUPS(Mem{Base: x}, z)
	VADDPS(Mem{Base: b}, z, z)
	// x86 MAX/MIN return their second source when an input is NaN; with z
	// there, NaN propagates (as math.Expm1 does), so a diverging run shows.
	pos, neg := ZMM(), ZMM()
	VMAXPS(z, zero, pos)
	VMINPS(z, zero, neg)
	VMAXPS(neg, lo, neg) // below -87 the result is -1 anyway; keeps 2^n finite
	k := ZMM()
	VMULPS(log2e, neg, k)
	VRNDSCALEPS(Imm(0), k, k) // round to nearest
	r := ZMM()
	VMOVAPS(neg, r)
	VFNMADD231PS(ln2hi, k, r) // r -= k*ln2hi
	VFNMADD231PS(ln2lo, k, r) // r -= k*ln2lo
	p := ZMM()
	VMOVAPS(cs[0], p)
	for _, c := range cs[1:] {
		VFMADD213PS(c, r, p) // p = p*r + c
	}
	VMULPS(r, p, p) // expm1(r)
	s := ZMM()
	VSCALEFPS(k, one, s) // 2^n
	t := ZMM()
	VSUBPS(one, s, t)    // 2^n - 1
	VFMADD231PS(s, p, t) // t += 2^n * expm1(r)
	VADDPS(t, pos, t)    // max(z,0) + expm1(min(z,0))
	VMOVUPS(t, Mem{Base: x})
	ADDQ(Imm(64), x)
	ADDQ(Imm(64), b)
	DECQ(n)
	JNZ(LabelRef("elu_loop"))
	Label("elu_done")
	VZEROUPPER()
	RET()
}

// eluBackward emits g[i] *= min(a[i], 0) + 1: ELU'(z) = 1 for z > 0 (a > 0)
// and exp(z) = a + 1 otherwise; bit-identical to the Go loop.
func eluBackward() {
	TEXT("eluBackwardAVX512", NOSPLIT, "func(g, a []float32)")
	Doc("eluBackwardAVX512 multiplies g by ELU'(z) given a = ELU(z); len(g) = len(a), a multiple of 16.")
	g := Load(Param("g").Base(), GP64())
	a := Load(Param("a").Base(), GP64())
	n := Load(Param("g").Len(), GP64())
	SHRQ(Imm(4), n)
	zero := ZMM()
	VXORPS(zero, zero, zero)
	one := f32("eluback_one", 1)
	TESTQ(n, n)
	JZ(LabelRef("eluback_done"))
	Label("eluback_loop")
	d := ZMM()
	VMINPS(Mem{Base: a}, zero, d)
	VADDPS(one, d, d)
	VMULPS(Mem{Base: g}, d, d)
	VMOVUPS(d, Mem{Base: g})
	ADDQ(Imm(64), g)
	ADDQ(Imm(64), a)
	DECQ(n)
	JNZ(LabelRef("eluback_loop"))
	Label("eluback_done")
	VZEROUPPER()
	RET()
}

// nadam emits one Keras 3 Nadam update over len(w) (a multiple of 16)
// parameters, with the per-step scalars in c and Keras's order of
// operations; every operation is correctly rounded, so the result is
// bit-identical to the Go loop.
func nadam() {
	TEXT("nadamAVX512", NOSPLIT, "func(w, g, m, v []float32, c *[9]float32)")
	Doc("nadamAVX512 applies one Nadam step; c holds 1-beta1, 1-beta2, u_t+1, 1-Πu_t+1, 1-u_t, 1-Πu_t, 1-beta2^t, lr, epsilon.")
	w := Load(Param("w").Base(), GP64())
	g := Load(Param("g").Base(), GP64())
	m := Load(Param("m").Base(), GP64())
	v := Load(Param("v").Base(), GP64())
	n := Load(Param("w").Len(), GP64())
	SHRQ(Imm(4), n)
	cp := Load(Param("c"), GP64())
	c := make([]VecVirtual, 9)
	for i := range c {
		c[i] = ZMM()
		VBROADCASTSS(Mem{Base: cp, Disp: 4 * i}, c[i])
	}
	b1c, b2c, uT1, d1, omUT, d2, vScale, lr, eps := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	TESTQ(n, n)
	JZ(LabelRef("nadam_done"))
	Label("nadam_loop")
	gi, mi, vi, t := ZMM(), ZMM(), ZMM(), ZMM()
	VMOVUPS(Mem{Base: g}, gi)
	VMOVUPS(Mem{Base: m}, mi)
	VMOVUPS(Mem{Base: v}, vi)
	// m += (g - m) * (1 - beta1)
	VSUBPS(mi, gi, t)
	VMULPS(b1c, t, t)
	VADDPS(t, mi, mi)
	VMOVUPS(mi, Mem{Base: m})
	// v += (g*g - v) * (1 - beta2)
	VMULPS(gi, gi, t)
	VSUBPS(vi, t, t)
	VMULPS(b2c, t, t)
	VADDPS(t, vi, vi)
	VMOVUPS(vi, Mem{Base: v})
	// mHat = (u_t+1 * m) / d1 + ((1 - u_t) * g) / d2
	mh, t2 := ZMM(), ZMM()
	VMULPS(uT1, mi, mh)
	VDIVPS(d1, mh, mh)
	VMULPS(omUT, gi, t2)
	VDIVPS(d2, t2, t2)
	VADDPS(t2, mh, mh)
	// w -= (mHat * lr) / (sqrt(v / vScale) + eps)
	VDIVPS(vScale, vi, t)
	VSQRTPS(t, t)
	VADDPS(eps, t, t)
	VMULPS(lr, mh, mh)
	VDIVPS(t, mh, mh)
	wi := ZMM()
	VMOVUPS(Mem{Base: w}, wi)
	VSUBPS(mh, wi, wi)
	VMOVUPS(wi, Mem{Base: w})
	for _, p := range []Register{w, g, m, v} {
		ADDQ(Imm(64), p)
	}
	DECQ(n)
	JNZ(LabelRef("nadam_loop"))
	Label("nadam_done")
	VZEROUPPER()
	RET()
}

// kernelCols emits the kernel for narrow products, vectorised along m:
// t[j*32 + i] (+)= sum_p A(i, p) B(p, j) for 32 rows i (two zmm) and 12
// columns j, with A(i, p) at a[p*lda + i] (k-major: packed, or a transposed
// A in place) and B(p, j) at b[p*12 + j] (a packed 12-wide panel). Every
// lane does useful work for 10-12 columns, where a 16-wide row kernel
// wastes most of its lanes; the Go side stores the column-major tile t
// into C.
func kernelCols() {
	const rows, cols = 32, 12
	TEXT("kernelColsAVX512", NOSPLIT, "func(k int, a []float32, lda int, b []float32, t []float32, acc bool)")
	Doc("kernelColsAVX512 computes the 32x12 tile t (column-major: t[j*32+i]) = A·B, or t += A·B when acc, with A(i,p) = a[p*lda+i] and B(p,j) = b[p*12+j].")
	k := Load(Param("k"), GP64())
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda)
	b := Load(Param("b").Base(), GP64())
	t := Load(Param("t").Base(), GP64())
	acc := make([][2]VecVirtual, cols)
	accFlag := Load(Param("acc"), GP8())
	for j := range acc {
		acc[j] = [2]VecVirtual{ZMM(), ZMM()}
	}
	TESTB(accFlag, accFlag)
	JZ(LabelRef("cols_zero"))
	for j := range acc {
		VMOVUPS(Mem{Base: t, Disp: 4 * (j*rows + 0)}, acc[j][0])
		VMOVUPS(Mem{Base: t, Disp: 4 * (j*rows + 16)}, acc[j][1])
	}
	JMP(LabelRef("cols_start"))
	Label("cols_zero")
	for j := range acc {
		VXORPS(acc[j][0], acc[j][0], acc[j][0])
		VXORPS(acc[j][1], acc[j][1], acc[j][1])
	}
	Label("cols_start")
	TESTQ(k, k)
	JZ(LabelRef("cols_store"))
	Label("cols_loop")
	a0, a1 := ZMM(), ZMM()
	VMOVUPS(Mem{Base: a}, a0)
	VMOVUPS(Mem{Base: a, Disp: 64}, a1)
	for j := range acc {
		bj := ZMM()
		VBROADCASTSS(Mem{Base: b, Disp: 4 * j}, bj)
		VFMADD231PS(a0, bj, acc[j][0])
		VFMADD231PS(a1, bj, acc[j][1])
	}
	ADDQ(lda, a)
	ADDQ(Imm(4*cols), b)
	DECQ(k)
	JNZ(LabelRef("cols_loop"))
	Label("cols_store")
	for j := range acc {
		VMOVUPS(acc[j][0], Mem{Base: t, Disp: 4 * (j*rows + 0)})
		VMOVUPS(acc[j][1], Mem{Base: t, Disp: 4 * (j*rows + 16)})
	}
	VZEROUPPER()
	RET()
}
