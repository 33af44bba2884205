// Command _asm generates the amd64 Gemm micro-kernels of package tensor
// (kernel_amd64.s and its Go declarations) with avo. Run it through
// "go generate" in the tensor directory; never edit the .s file by hand.
//
// Each kernel computes one MR x NR tile of C = A·B from packed panels: per k
// it loads the NR values of B into NR/lanes vector registers, broadcasts each
// of the MR values of A and issues one fused multiply-add per vector, keeping
// the whole tile in registers (AVX-512: 12x32 in 24 of the 32 zmm registers;
// AVX2: 6x16 in 12 of the 16 ymm registers, k unrolled four times), and the
// same kernels for every smaller height (a ragged last row panel). AVX2
// also has kernels whose last vector of columns is read and written under
// a mask (a ragged column panel in place) and its packing (8x8 register
// transposes, copies, the k-major panels of a transposed A). AVX-512 also has narrow and
// column-masked ones for the 10-wide output layer, an m-vectorised one for
// its weight gradient, the packing (16x16 register transposes, masked
// copies), and the elementwise passes of training (bias+ELU, ELU backward,
// Nadam, also dividing by its scalar divisors through their reciprocals, column sums, pixel conversion); AVX2 also has bias+ELU (math.Expm1's float64 arithmetic, bit for bit), Nadam, the pixel conversion
// and the base options' passes (clipping, weight decay, the moving average); both have Adam (and AMSGrad), SGD (every form), RMSprop (every form), Adagrad, Adadelta, Lion and Adamax,
// each also with the base options run around it, and Nadam and Adam with the options fused in (see wide).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/mmcloughlin/avo/x86"
)

func main() {
	ConstraintExpr("amd64,!purego")
	for _, v := range []struct {
		suffix        string
		mr, nv, lanes int
		vec           func() VecVirtual
	}{{"AVX512", 12, 2, 16, func() VecVirtual { return ZMM() }}, {"AVX2", 6, 2, 8, func() VecVirtual { return YMM() }}} {
		emit := kernel
		if v.suffix == "AVX2" {
			emit = kernelUnrolled
		}
		emit("kernelKMajor"+v.suffix, false, v.mr, v.nv, v.lanes, v.vec)
		emit("kernelRows"+v.suffix, true, v.mr, v.nv, v.lanes, v.vec)
		if v.suffix == "AVX2" {
			// The same over a run of row panels in one call.
			panelLoop = true
			emit("kernelKMajorPanels"+v.suffix, false, v.mr, v.nv, v.lanes, v.vec)
			emit("kernelRowsPanels"+v.suffix, true, v.mr, v.nv, v.lanes, v.vec)
			panelLoop = false
		}
		{
			// Every smaller height, so a ragged last row panel is computed
			// in place, without a packed copy or a scratch tile.
			for h := 1; h < v.mr; h++ {
				emit(fmt.Sprintf("kernelKMajor%d%s", h, v.suffix), false, h, v.nv, v.lanes, v.vec)
				emit(fmt.Sprintf("kernelRows%d%s", h, v.suffix), true, h, v.nv, v.lanes, v.vec)
			}
		}
		// One vector of columns, for narrow products (the 10-wide output layer).
		kernel("kernelKMajorNarrow"+v.suffix, false, v.mr, 1, v.lanes, v.vec)
		kernel("kernelRowsNarrow"+v.suffix, true, v.mr, 1, v.lanes, v.vec)
	}
	// Narrow AVX-512 kernels that load B and load and store C under a column
	// mask, so a product narrower than 16 needs no packing and no scratch
	// tile; the row-major ones in every height from 1 to 12, so a ragged
	// last row panel is read in place too.
	masked = true
	kernel("kernelKMajorMaskedAVX512", false, 12, 1, 16, func() VecVirtual { return ZMM() })
	kernel("kernelRowsMaskedAVX512", true, 12, 1, 16, func() VecVirtual { return ZMM() })
	for h := 1; h < 12; h++ {
		kernel(fmt.Sprintf("kernelRowsMasked%dAVX512", h), true, h, 1, 16, func() VecVirtual { return ZMM() })
	}
	masked = false
	// AVX2 kernels that load B and load and store C's last vector of
	// columns under a mask, in every height, k-major and row-major: a
	// ragged column panel (the 10-wide output layer) read in place.
	maskLast = true
	for _, h := range []int{6, 1, 2, 3, 4, 5} {
		suffix := ""
		if h < 6 {
			suffix = fmt.Sprint(h)
		}
		for _, nv := range []int{2, 1} {
			narrow := map[int]string{1: "Narrow", 2: ""}[nv]
			kernelUnrolled(fmt.Sprintf("kernelKMajor%sMasked%sAVX2", narrow, suffix), false, h, nv, 8, func() VecVirtual { return YMM() })
			kernelUnrolled(fmt.Sprintf("kernelRows%sMasked%sAVX2", narrow, suffix), true, h, nv, 8, func() VecVirtual { return YMM() })
		}
	}
	maskLast = false
	transposeAVX2()
	copy16AVX2()
	copy8AVX2()
	packPanels6AVX2()
	transpose6AVX2()
	kernelCols()
	kernelColsStore()
	transpose()
	copyPanel()
	bytesToFloat()
	colSums(8, 16, "AVX512", func() VecVirtual { return ZMM() })
	colSums(1, 16, "AVX512", func() VecVirtual { return ZMM() })
	biasELU()
	eluBackward()
	eluBackwardAVX2()
	biasELUAVX2()
	colSums(8, 8, "AVX2", func() VecVirtual { return YMM() })
	colSums(1, 8, "AVX2", func() VecVirtual { return YMM() })
	nadam("AVX512", 4, func() VecVirtual { return ZMM() }, false)
	// Its passes dividing by the scalar divisors through their
	// reciprocals (see nadamRecip), with them and for 1-Πu_t+1 = 1-Πu_t = 1.
	nadamRecip(false)
	nadamRecip(true)
	divScalar()
	// AVX2 machines run the exercise's optimizer step with it too, and
	// its form for 1-Πu_t+1 = 1-Πu_t = 1 (see nadam).
	nadam("AVX2", 3, func() VecVirtual { return YMM() }, false)
	nadam("AVX2", 3, func() VecVirtual { return YMM() }, true)
	// Each rule's pass, and (but Adam's, which withOptions fuses below)
	// the same with the base options run around it, in AVX2 and AVX-512.
	for _, w := range []bool{false, true} {
		wide = w
		for _, options := range []bool{false, true} {
			if !options {
				adam("adam", false, false)
			}
			adam("adamAMSGrad", true, options)
			sgd("sgd", false, false, options)
			sgd("sgdMomentum", true, false, options)
			sgd("sgdNesterov", true, true, options)
			rmsprop(options)
			adagrad(options)
			adadelta(options)
			lion(options)
			adamax(options)
			rmspropFull("rmspropCentered", true, false, options)
			rmspropFull("rmspropMomentum", false, true, options)
			rmspropFull("rmspropCenteredMomentum", true, true, options)
		}
	}
	wide = false
	sumSquares()
	scale()
	clipByNorm()
	clipByValue()
	decayWeights()
	movingAverage()
	bytesToFloatAVX2(false)
	bytesToFloatAVX2(true)
	for _, w := range []bool{false, true} {
		wide = w
		for _, rule := range []string{"nadam", "nadamUnit", "adam"} {
			for clip := range 4 {
				for _, decay := range []bool{false, true} {
					for _, ema := range []bool{false, true} {
						if clip != 0 || decay || ema {
							withOptions(rule, clip, decay, ema)
						}
					}
				}
			}
		}
	}
	wide = false
	flag.Parse() // avo's flags: -out, the file written
	out := flag.Lookup("out").Value.String()
	if out == "" {
		// Without -out, avo would write the PREFETCHW placeholders unrewritten.
		fmt.Fprintln(os.Stderr, "gen: give -out FILE: the assembly is rewritten in place after avo writes it (see prefetchW)")
		os.Exit(2)
	}
	Generate()
	if err := prefetchW(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// wide makes the optimizers' passes (rulePass and the rules on it,
// withOptions) AVX-512 ones, over 16 elements an iteration in zmm
// registers, the scalars broadcast into registers; else AVX2, 8 elements in
// ymm registers. Every lane's operations are the same in both, so are the
// bits.
var wide bool

// vreg returns a vector register of the passes' width.
func vreg() VecVirtual {
	if wide {
		return ZMM()
	}
	return YMM()
}

// suffix names the passes' instruction set.
func suffix() string {
	if wide {
		return "AVX512"
	}
	return "AVX2"
}

// laneShift is log2 of the passes' lanes.
func laneShift() int {
	if wide {
		return 4
	}
	return 3
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
		layout += "; B and C are read, and C written, only in the columns whose bit is set in mask"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s computes the %dx%d tile c = A·B, or c += A·B when acc, with %s, B(p,j) = b[p*ldb+j], c's rows ldc apart.", name, mr, nr, layout))
	k := Load(Param("k"), GP64())
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda) // elements to bytes
	b := Load(Param("b").Base(), GP64())
	ldb := stride("ldb")
	c := Load(Param("c").Base(), GP64())
	ldc := stride("ldc")

	var aAt func(i int) Mem
	var bases []Register
	if rows {
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
	countdown(name, k, func() {
		bv := make([]VecVirtual, nv)
		for j := range bv {
			bv[j] = vec()
			load(Mem{Base: b, Disp: 4 * lanes * j}, bv[j])
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
	})
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

// unroll is the number of k steps per iteration of kernelUnrolled's loop.
const unroll = 4

// kernelUnrolled emits the same micro-kernel as kernel (same operands, the
// same fused multiply-add chain per element of C, k in order), for AVX2:
// the k loop runs unroll steps per iteration, addressing the steps by
// displacement and scaled index rather than by pointer updates, the rest
// (k mod unroll) one step at a time; and C's tile is fetched while the
// products run, so its store does not wait for the line (PREFETCHT0: the
// first AVX2 CPUs, Haswell, have no PREFETCHW).
func kernelUnrolled(name string, rows bool, mr, nv, lanes int, vec func() VecVirtual) {
	nr := nv * lanes
	layout := "A(i,p) = a[p*lda+i]"
	if rows {
		layout = "A(i,p) = a[i*lda+p]"
	}
	sig := "func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool)"
	if maskLast {
		sig = "func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, mask uint64)"
		layout += fmt.Sprintf("; B and C are read, and C written, only in the columns whose bit is set in mask, which must have the first %d set", nr-lanes)
	}
	if panelLoop {
		sig = "func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool, panels int, astep int)"
	}
	TEXT(name, NOSPLIT, sig)
	if panelLoop {
		Doc(fmt.Sprintf("%s computes panels tiles %dx%d as kernel%s does, tile i with A at a[i*astep:] and c at c[i*%d*ldc:].", name, mr, nr, strings.Replace(strings.TrimPrefix(name, "kernel"), "Panels", "", 1), mr))
	} else {
		Doc(fmt.Sprintf("%s computes the %dx%d tile c = A·B, or c += A·B when acc, with %s, B(p,j) = b[p*ldb+j], c's rows ldc apart.", name, mr, nr, layout))
	}
	// With maskLast, the last vector of columns is loaded and stored under
	// a vector mask (VMASKMOVPS; a sixteenth register is all AVX2 has
	// left for one), built from the mask's bits for its columns.
	var vmask VecVirtual
	if maskLast {
		vmask = vec()
		m := GP64()
		Load(Param("mask"), m)
		SHRQ(Imm(uint64(nr-lanes)), m)
		MOVQ(m, vmask.AsX())
		VPBROADCASTD(vmask.AsX(), vmask)
		VPAND(laneBits, vmask, vmask)
		VPCMPEQD(laneBits, vmask, vmask)
	}
	load := func(m Mem, j int, v VecVirtual) {
		if maskLast && j == nv-1 {
			VMASKMOVPS(m, vmask, v)
		} else {
			VMOVUPS(m, v)
		}
	}
	store := func(v VecVirtual, j int, m Mem) {
		if maskLast && j == nv-1 {
			VMASKMOVPS(v, vmask, m)
		} else {
			VMOVUPS(v, m)
		}
	}
	k := Load(Param("k"), GP64())
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda) // elements to bytes
	b := Load(Param("b").Base(), GP64())
	ldb := stride("ldb")
	c := Load(Param("c").Base(), GP64())
	ldc := stride("ldc")
	// With panelLoop, a0 is the current panel's A and everything below
	// runs once per panel, k and b loaded again for the next.
	var a0, panels Register
	if panelLoop {
		panels = Load(Param("panels"), GP64())
		TESTQ(panels, panels)
		JZ(LabelRef(name + "_none"))
		a0 = a
		Label(name + "_panel")
		a = GP64()
		MOVQ(a0, a)
	}

	// B(p+u, :) for u < 4 at b, b+ldb, b2, b2+ldb, with b2 = b + 2 ldb.
	b2 := GP64()
	LEAQ(Mem{Base: b, Index: ldb, Scale: 2}, b2)
	bAt := func(u, j int) Mem {
		base := b
		if u >= 2 {
			base = b2
		}
		m := Mem{Base: base, Disp: 4 * lanes * j}
		if u%2 == 1 {
			m.Index, m.Scale = ldb, 1
		}
		return m
	}
	// A(i, p+u): row-major, rows i at bases[i/3] + (i%3) lda, step u at
	// displacement 4u; k-major, A(i, p+u) at a + 4i, a + lda + 4i, a2 + 4i,
	// a2 + lda + 4i, with a2 = a + 2 lda.
	var aAt func(i, u int) Mem
	var bases []Register
	if rows {
		bases = []Register{a}
		for i := 3; i < mr; i += 3 {
			r := GP64()
			LEAQ(Mem{Base: bases[len(bases)-1], Index: lda, Scale: 2}, r)
			ADDQ(lda, r)
			bases = append(bases, r)
		}
		aAt = func(i, u int) Mem {
			m := Mem{Base: bases[i/3], Disp: 4 * u}
			if i%3 > 0 {
				m.Index, m.Scale = lda, uint8(i%3)
			}
			return m
		}
	} else {
		a2 := GP64()
		LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a2)
		bases = []Register{a, a2}
		aAt = func(i, u int) Mem {
			m := Mem{Base: bases[u/2], Disp: 4 * i}
			if u%2 == 1 {
				m.Index, m.Scale = lda, 1
			}
			return m
		}
	}

	tile := make([][]VecVirtual, mr)
	for i := range tile {
		tile[i] = make([]VecVirtual, nv)
		for j := range tile[i] {
			tile[i][j] = vec()
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
			load(Mem{Base: row, Disp: 4 * lanes * j}, j, tile[i][j])
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	JMP(LabelRef(name + "_start"))
	Label(name + "_zero")
	Comment("prefetch C's tile for the store at the end")
	MOVQ(c, row)
	for i := range mr {
		for j := 0; j < 4*nr; j += 64 {
			PREFETCHT0(Mem{Base: row, Disp: j})
		}
		if nr*4%64 != 0 {
			PREFETCHT0(Mem{Base: row, Disp: 4*nr - 1})
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	for i := range tile {
		for j := range tile[i] {
			VXORPS(tile[i][j], tile[i][j], tile[i][j])
		}
	}
	Label(name + "_start")

	step := func(u int) {
		bv := make([]VecVirtual, nv)
		for j := range bv {
			bv[j] = vec()
			load(bAt(u, j), j, bv[j])
		}
		for i := range mr {
			ai := vec()
			VBROADCASTSS(aAt(i, u), ai)
			for j := range nv {
				VFMADD231PS(bv[j], ai, tile[i][j])
			}
		}
	}
	// The pointers advance by one step (lda, ldb) or by unroll steps
	// (lda4, ldb4; with panelLoop, short of registers, 4·lda and 4·ldb
	// by LEAQ).
	var ldb4, lda4 Register
	if !panelLoop {
		ldb4 = GP64()
		MOVQ(ldb, ldb4)
		SHLQ(Imm(2), ldb4)
		if !rows {
			lda4 = GP64()
			MOVQ(lda, lda4)
			SHLQ(Imm(2), lda4)
		}
	}
	add4 := func(stride, step, r Register) {
		if panelLoop {
			LEAQ(Mem{Base: r, Index: stride, Scale: 4}, r)
		} else {
			ADDQ(step, r)
		}
	}
	advance := func(steps int) {
		for _, r := range bases {
			switch {
			case rows:
				ADDQ(Imm(uint64(4*steps)), r)
			case steps == 1:
				ADDQ(lda, r)
			default:
				add4(lda, lda4, r)
			}
		}
		for _, r := range []Register{b, b2} {
			if steps == 1 {
				ADDQ(ldb, r)
			} else {
				add4(ldb, ldb4, r)
			}
		}
	}
	Comment(fmt.Sprintf("for p := 0; p+%d <= k; p += %d: tile += A(:, p:p+%d) · B(p:p+%d, :)", unroll, unroll, unroll, unroll))
	n := GP64()
	MOVQ(k, n)
	SHRQ(Imm(2), n)
	countdown(name+"_by4", n, func() {
		for u := range unroll {
			step(u)
		}
		advance(unroll)
	})
	Comment("the last k mod 4 steps")
	ANDQ(Imm(unroll-1), k)
	countdown(name, k, func() {
		step(0)
		advance(1)
	})
	MOVQ(c, row)
	for i := range mr {
		for j := range nv {
			store(tile[i][j], j, Mem{Base: row, Disp: 4 * lanes * j})
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	if panelLoop {
		Comment("the next panel: A astep floats on, C mr rows down, B and k from the start")
		ADDQ(ldc, row)
		MOVQ(row, c)
		t := Load(Param("astep"), GP64())
		LEAQ(Mem{Base: a0, Index: t, Scale: 4}, a0)
		Load(Param("b").Base(), b)
		Load(Param("k"), k)
		DECQ(panels)
		JNZ(LabelRef(name + "_panel"))
		Label(name + "_none")
	}
	VZEROUPPER()
	RET()
}

// panelLoop makes kernelUnrolled emit a variant that computes a run of
// row panels' tiles in one call (each tile as the plain kernel does),
// which saves a call from Go per tile.
var panelLoop bool

// maskLast makes kernelUnrolled emit a variant taking a column mask whose
// last vector of columns is loaded and stored under it.
var maskLast bool

// laneBits holds 1 << i in lane i of eight: a lane's bit of a column mask,
// for building vector masks.
var laneBits = func() Mem {
	m := GLOBL("lanebits", RODATA|NOPTR)
	for i := range 8 {
		DATA(4*i, U32(1<<i))
	}
	return m
}()

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
	ptrs, n := stream("x", "bias")
	x, b := ptrs[0], ptrs[1]
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
	streamLoop("elu", n, ptrs, []uint64{64, 64}, func() {
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
	})
}

// f64x4 declares a 32-byte read-only constant holding v in each of its four
// float64 lanes (a ymm memory operand).
func f64x4(name string, v float64) Mem { return u64x4(name, math.Float64bits(v)) }

// u64x4 emits four copies of v as read-only data named name.
func u64x4(name string, v uint64) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := range 4 {
		DATA(8*i, U64(v))
	}
	return m
}

// biasELUAVX2 emits x[i] = ELU(x[i] + bias[i]), alpha 1, 8 lanes, giving
// the Go loop's float32(math.Expm1(z)) for every z < 0. Each lane takes a
// fast float64 expm1 (FMAs, 2^-49 relative) whose float32 rounding is
// checked to be certain; a lane where it is not takes expm1 computed as
// Go's math.Expm1 (expm1.go, FreeBSD's s_expm1.c) does it in float64: the
// same correctly rounded operations in the same order, no fused
// multiply-add, its branches done as blends. A float32 z <= 0 takes one of
// math.Expm1's paths for x < 0: |x| >= 56 ln2 gives -1; |x| < 2^-54 gives
// x; |x| <= ln2/2 the k = 0 polynomial; else the reduction by k ln2 with
// k = -1 below 1.5 ln2 and trunc(x/ln2 - 0.5) above (x + ln2hi is x -
// (-1)·ln2hi, so one reduction serves both), then its k = -1 or k <= -2
// reconstruction (2^k applied by adding k<<52 to the bits). Each lane's
// result depends on that lane alone, and the tests go through every
// negative float32.
func biasELUAVX2() {
	const (
		ln2X56    = 3.88162421113569373274e+01
		ln2HalfX3 = 1.03972077083991796413e+00
		ln2Half   = 3.46573590279972654709e-01
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		invLn2    = 1.44269504088896338700e+00
		tiny      = 1.0 / (1 << 54)
		q1        = -3.33333333333331316428e-02
		q2        = 1.58730158725481460165e-03
		q3        = -7.93650757867487942473e-05
		q4        = 4.00821782732936239552e-06
		q5        = -2.01099218183624371326e-07
	)
	absMask := u64x4("expm1_absmask", 1<<63-1)
	c := map[string]Mem{}
	for _, k := range []struct {
		name string
		v    float64
	}{{"ln2x56", ln2X56}, {"ln2halfx3", ln2HalfX3}, {"ln2half", ln2Half}, {"ln2hi", ln2Hi}, {"ln2lo", ln2Lo},
		{"invln2", invLn2}, {"tiny", tiny}, {"q1", q1}, {"q2", q2}, {"q3", q3}, {"q4", q4}, {"q5", q5},
		{"half", 0.5}, {"one", 1}, {"three", 3}, {"six", 6}, {"minusone", -1}, {"magic", 3 << 51},
		{"fast_ln2hi", math.Ln2}, {"fast_ln2lo", 2.319046813846299558e-17}, {"fast_min", -40}} {
		c[k.name] = f64x4("expm1_"+k.name, k.v)
	}
	fact := 1.0 // the Taylor coefficients 1/j! of fast
	for j := 2; j <= 12; j++ {
		fact *= float64(j)
		c[fmt.Sprintf("fast_c%d", j)] = f64x4(fmt.Sprintf("expm1_fast_c%d", j), 1/fact)
	}
	// The predicates of VCMPPD/VCMPPS: ordered and quiet (false on NaN, as Go's comparisons).
	const ltOQ, leOQ, eqOQ, geOQ = 0x11, 0x12, 0x00, 0x1d

	var zero VecVirtual // the function's zero register

	// expm1 returns math.Expm1 of the four float64 lanes of xd where they
	// are <= 0 (other lanes: anything).
	expm1 := func(xd VecVirtual) VecVirtual {
		absx := YMM()
		VANDPD(absMask, xd, absx)
		// k as math.Expm1 chooses it, as a float64 t.
		t := YMM()
		VMULPD(c["invln2"], xd, t)
		VSUBPD(c["half"], t, t) // InvLn2*x - 0.5
		ki := XMM()
		VCVTTPD2DQY(t, ki) // int(...) truncates
		VCVTDQ2PD(ki, t)
		m := YMM()
		VCMPPD(Imm(ltOQ), c["ln2halfx3"], absx, m) // |x| < 1.5 ln2: k = -1
		VBLENDVPD(m, c["minusone"], t, t)
		VCMPPD(Imm(leOQ), c["ln2half"], absx, m) // |x| <= ln2/2: k = 0
		VBLENDVPD(m, zero, t, t)
		// hi = x - t*Ln2Hi, lo = t*Ln2Lo, x = hi - lo, c = (hi - x) - lo.
		hi, lo, xr, cc := YMM(), YMM(), YMM(), YMM()
		VMULPD(c["ln2hi"], t, hi)
		VSUBPD(hi, xd, hi)
		VMULPD(c["ln2lo"], t, lo)
		VSUBPD(lo, hi, xr)
		VSUBPD(xr, hi, cc)
		VSUBPD(lo, cc, cc)
		// hfx = 0.5*x, hxs = x*hfx, r1 = 1 + hxs*(Q1+hxs*(Q2+hxs*(Q3+hxs*(Q4+hxs*Q5)))).
		hfx, hxs, r1 := YMM(), YMM(), YMM()
		VMULPD(c["half"], xr, hfx)
		VMULPD(hfx, xr, hxs)
		VMULPD(c["q5"], hxs, r1)
		for _, q := range []string{"q4", "q3", "q2", "q1"} {
			VADDPD(c[q], r1, r1)
			VMULPD(hxs, r1, r1)
		}
		VADDPD(c["one"], r1, r1)
		// t = 3 - r1*hfx; e = hxs*((r1 - t) / (6.0 - x*t)).
		tt, num, den := YMM(), YMM(), YMM()
		VMULPD(hfx, r1, tt)
		VMOVUPD(c["three"], num)
		VSUBPD(tt, num, tt)
		VSUBPD(tt, r1, num)
		VMULPD(tt, xr, den)
		VMOVUPD(c["six"], tt)
		VSUBPD(den, tt, den)
		e := YMM()
		VDIVPD(den, num, e)
		VMULPD(hxs, e, e)
		// k == 0: x - (x*e - hxs).
		f0 := YMM()
		VMULPD(e, xr, f0)
		VSUBPD(hxs, f0, f0)
		VSUBPD(f0, xr, f0)
		// e = (x*(e-c) - c) - hxs.
		VSUBPD(cc, e, e)
		VMULPD(xr, e, e)
		VSUBPD(cc, e, e)
		VSUBPD(hxs, e, e)
		// k == -1: 0.5*(x-e) - 0.5.
		fm1 := YMM()
		VSUBPD(e, xr, fm1)
		VMULPD(c["half"], fm1, fm1)
		VSUBPD(c["half"], fm1, fm1)
		// k <= -2: y = 1 - (e - x), k added to y's exponent, minus 1. t + 1.5·2^52
		// holds the integer k in its low bits, so shifting those bits up by 52
		// gives k<<52 (two's complement).
		y := YMM()
		VSUBPD(xr, e, e)
		VMOVUPD(c["one"], y)
		VSUBPD(e, y, y)
		kb := YMM()
		VADDPD(c["magic"], t, kb)
		VPSLLQ(Imm(52), kb, kb)
		VPADDQ(kb, y, y)
		VSUBPD(c["one"], y, y)
		// Choose the path: k, then tiny, then huge.
		VCMPPD(Imm(eqOQ), c["minusone"], t, m)
		VBLENDVPD(m, fm1, y, y)
		VCMPPD(Imm(eqOQ), zero, t, m)
		VBLENDVPD(m, f0, y, y)
		VCMPPD(Imm(ltOQ), c["tiny"], absx, m) // |x| < 2^-54: x
		VBLENDVPD(m, xd, y, y)
		VCMPPD(Imm(geOQ), c["ln2x56"], absx, m) // |x| >= 56 ln2: -1
		VBLENDVPD(m, c["minusone"], y, y)
		return y
	}

	// fast returns expm1 of the four float64 lanes of xd, all in [-40, 0],
	// to within 2^-49 of its value (relative): k = round(x/ln2), r = x -
	// k ln2 (ln2 in two parts, by FMAs), expm1(r) = r + r²·Q(r) with Q the
	// Taylor polynomial of (expm1(r) - r)/r² of degree 10 (|r| <= ln2/2:
	// the rest is under 2^-50 relative), then 2^k·expm1(r) + (2^k - 1) by an
	// FMA. x = -0 gives +0: callers keep z where z = 0. xd is overwritten.
	fast := func(xd VecVirtual) VecVirtual {
		k := YMM()
		VMULPD(c["invln2"], xd, k)
		VROUNDPD(Imm(8), k, k) // nearest, no exceptions
		r := xd
		VFNMADD231PD(c["fast_ln2hi"], k, r) // r = x - k ln2hi
		VFNMADD231PD(c["fast_ln2lo"], k, r) // r -= k ln2lo
		// Q(r) = Σ r^j/(j+2)!, j = 0..10, by Estrin's scheme (a short
		// chain of dependent operations, so that more blocks are in
		// flight), in an order that keeps few registers live.
		pair := func(j int) VecVirtual { // 1/j! + r/(j+1)!
			p := YMM()
			VMOVUPD(c[fmt.Sprintf("fast_c%d", j+1)], p)
			VFMADD213PD(c[fmt.Sprintf("fast_c%d", j)], r, p)
			return p
		}
		r2, r4 := YMM(), YMM()
		VMULPD(r, r, r2)
		q := pair(2)
		VFMADD231PD(pair(4), r2, q) // terms 0-3
		from4 := pair(6)
		VFMADD231PD(pair(8), r2, from4) // terms 4-7
		VMULPD(r2, r2, r4)
		VFMADD231PD(from4, r4, q) // terms 0-7
		from8 := pair(10)
		VFMADD231PD(c["fast_c12"], r2, from8) // terms 8-10
		VMULPD(r4, r4, r4)                    // r^8
		VFMADD231PD(from8, r4, q)             // Q(r)
		VFMADD213PD(r, r2, q)                 // q = r² Q(r) + r = expm1(r)
		// s = 2^k: k + 1.5·2^52 holds the integer k in its low bits;
		// shifted up by 52 and added to 1.0's bits, it is 2^k's exponent.
		s := YMM()
		VADDPD(c["magic"], k, s)
		VPSLLQ(Imm(52), s, s)
		VPADDQ(c["one"], s, s)
		y := YMM()
		VSUBPD(c["one"], s, y)
		VFMADD231PD(q, s, y) // y = s·expm1(r) + (s - 1)
		return y
	}

	// eluBody emits the loop of x[i] = ELU(x[i] + bias[i]): fast on the
	// lanes z < 0 (others: 0), then a check that the float32 rounding of
	// each lane's result y is certain: that y does not lie within 2^tolLog2
	// float64 ulps of a float32 rounding midpoint (its low 29 mantissa
	// bits within 2^tolLog2 of 2^28). Those ulps are far more than fast's
	// error (2^-49 relative: about 16 ulps) plus math.Expm1's (under 1), so
	// where the check holds, y, math.Expm1's value and expm1's true value
	// all round to the same float32. (Near a power of two y lies next to a
	// float32, not a midpoint; a float32-subnormal result is z itself, with
	// low bits 0.) The lanes where it fails take expm1, math.Expm1 bit for
	// bit, computed for the block when one of its lanes needs it; with
	// doubt, they take NaN instead (a test's marker of the lanes in doubt).
	// So every lane gives float32(math.Expm1(z)), the Go loop's result.
	low29, mid := u64x4("expm1_low29", 1<<29-1), u64x4("expm1_mid", 1<<28)
	doubtful := GLOBL("expm1_doubt", RODATA|NOPTR)
	for i := range 8 {
		DATA(4*i, U32(0x7fc00000))
	}
	eluBody := func(name string, tolLog2 int, doubt bool) {
		ptrs, n := streamShift(3, "x", "bias")
		x, b := ptrs[0], ptrs[1]
		zero = YMM()
		VXORPS(zero, zero, zero)
		tol, twoTol := u64x4(name+"_tol", 1<<tolLog2), u64x4(name+"_twotol", 2<<tolLog2)
		// The lanes z < 0 as float64 (others 0), at least -40 (at -40 or
		// below, every path gives -1): lo then hi.
		halves := func(z VecVirtual) (lo, hi VecVirtual) {
			neg, zn := YMM(), YMM()
			VCMPPS(Imm(ltOQ), zero, z, neg) // z < 0 (NaN, ±0: false, z kept)
			VBLENDVPS(neg, z, zero, zn)
			lo, hi = YMM(), YMM()
			VCVTPS2PD(zn.AsX(), lo)
			VEXTRACTF128(Imm(1), zn, hi.AsX())
			VCVTPS2PD(hi.AsX(), hi)
			VMAXPD(c["fast_min"], lo, lo)
			VMAXPD(c["fast_min"], hi, hi)
			return lo, hi
		}
		// narrow rounds the float64 halves lo and hi to the float32s of dst.
		narrow := func(lo, hi, dst VecVirtual) {
			VCVTPD2PSY(lo, dst.AsX())
			t := XMM()
			VCVTPD2PSY(hi, t)
			VINSERTF128(Imm(1), t, dst, dst)
		}
		streamLoop(name, n, ptrs, []uint64{32, 32}, func() {
			z := YMM()
			VMOVUPS(Mem{Base: x}, z)
			VADDPS(Mem{Base: b}, z, z)
			lo, hi := halves(z)
			yl, yh := fast(lo), fast(hi)
			// certain: w = ((low 29 bits) xor 2^28) + tol, mod 2^29, is
			// above 2 tol exactly where the low bits are not within tol
			// of 2^28.
			certain := [2]VecVirtual{YMM(), YMM()}
			for i, y := range []VecVirtual{yl, yh} {
				VPAND(low29, y, certain[i])
				VPXOR(mid, certain[i], certain[i])
				VPADDQ(tol, certain[i], certain[i])
				VPAND(low29, certain[i], certain[i])
				VPCMPGTQ(twoTol, certain[i], certain[i])
			}
			res := YMM()
			narrow(yl, yh, res)
			all, both := GP32(), YMM()
			VPAND(certain[0], certain[1], both)
			VMOVMSKPD(both, all)
			CMPL(all, U8(0xf))
			JE(LabelRef(name + "_rounded"))
			// Some lane is in doubt: expm1 (or the marker) for those.
			other := YMM()
			if doubt {
				VMOVUPS(doubtful, other)
			} else {
				lo, hi = halves(z)
				narrow(expm1(lo), expm1(hi), other)
			}
			// The halves' 64-bit masks as one of 32-bit lanes, in order.
			mask := YMM()
			VSHUFPS(Imm(0x88), certain[1], certain[0], mask) // lo 0 1, hi 0 1 | lo 2 3, hi 2 3
			VPERMPD(Imm(0xd8), mask, mask)                   // lo 0-3, hi 0-3
			VBLENDVPS(mask, res, other, res)
			Label(name + "_rounded")
			neg := YMM()
			VCMPPS(Imm(ltOQ), zero, z, neg)
			VBLENDVPS(neg, res, z, z)
			VMOVUPS(z, Mem{Base: x})
		})
	}

	TEXT("biasELUAVX2", NOSPLIT, "func(x, bias []float32)")
	Doc("biasELUAVX2 sets x[i] = ELU(x[i] + bias[i]), alpha 1, bit-identical to biasELUGeneric (math.Expm1); len(x) = len(bias), a multiple of 8.")
	eluBody("eluavx2", 12, false)

	// For the tests: the same with the lanes in doubt marked, and with a
	// tolerance so wide that every lane takes the emulated expm1.
	TEXT("biasELUDoubtAVX2", NOSPLIT, "func(x, bias []float32)")
	Doc("biasELUDoubtAVX2 is biasELUAVX2 with NaN in the lanes z < 0 whose rounding is in doubt. For the tests.")
	eluBody("eludoubtavx2", 12, true)
	TEXT("biasELUEmulatedAVX2", NOSPLIT, "func(x, bias []float32)")
	Doc("biasELUEmulatedAVX2 is biasELUAVX2 with every lane's expm1 computed as math.Expm1 computes it. For the tests.")
	eluBody("eluemulatedavx2", 28, false)

	// The fast float64 expm1 alone, for the tests of its error bound.
	TEXT("expm1FastAVX2", NOSPLIT, "func(x []float64)")
	Doc("expm1FastAVX2 sets x[i] = expm1(x[i]) to within 2^-49 relative where -40 <= x[i] <= 0; len(x) a multiple of 4. For the tests.")
	ptrs, n := streamShift(2, "x")
	streamLoop("expm1fastavx2", n, ptrs, []uint64{32}, func() {
		d := YMM()
		VMOVUPD(Mem{Base: ptrs[0]}, d)
		VMOVUPD(fast(d), Mem{Base: ptrs[0]})
	})

	// The float64 expm1 alone, for the tests: they compare it with
	// math.Expm1 before float32 rounding can hide a difference.
	TEXT("expm1NonPosAVX2", NOSPLIT, "func(x []float64)")
	Doc("expm1NonPosAVX2 sets x[i] = math.Expm1(x[i]) where x[i] <= 0 (elsewhere: anything); len(x) a multiple of 4. For the tests.")
	ptrs, n = streamShift(2, "x")
	zero = YMM()
	VXORPS(zero, zero, zero)
	streamLoop("expm1avx2", n, ptrs, []uint64{32}, func() {
		d := YMM()
		VMOVUPD(Mem{Base: ptrs[0]}, d)
		VMOVUPD(expm1(d), Mem{Base: ptrs[0]})
	})
}

// eluBackward emits g[i] *= min(a[i], 0) + 1: ELU'(z) = 1 for z > 0 (a > 0)
// and exp(z) = a + 1 otherwise; bit-identical to the Go loop.
func eluBackward() {
	TEXT("eluBackwardAVX512", NOSPLIT, "func(g, a []float32)")
	Doc("eluBackwardAVX512 multiplies g by ELU'(z) given a = ELU(z); len(g) = len(a), a multiple of 16.")
	ptrs, n := stream("g", "a")
	g, a := ptrs[0], ptrs[1]
	zero := ZMM()
	VXORPS(zero, zero, zero)
	one := f32("eluback_one", 1)
	streamLoop("eluback", n, ptrs, []uint64{64, 64}, func() {
		d := ZMM()
		VMINPS(Mem{Base: a}, zero, d)
		VADDPS(one, d, d)
		VMULPS(Mem{Base: g}, d, d)
		VMOVUPS(d, Mem{Base: g})
	})
}

// eluBackwardAVX2 emits g[i] *= min(a[i], 0) + 1 in AVX2, 8 lanes; a is
// MINPS's first source, so a NaN a gives 0 (g unchanged), as the Go loop's
// a <= 0 test does: bit-identical to it for every a.
func eluBackwardAVX2() {
	TEXT("eluBackwardAVX2", NOSPLIT, "func(g, a []float32)")
	Doc("eluBackwardAVX2 multiplies g by ELU'(z) given a = ELU(z); len(g) = len(a), a multiple of 8.")
	ptrs, n := streamShift(3, "g", "a")
	g, a := ptrs[0], ptrs[1]
	zero, one := YMM(), YMM()
	VXORPS(zero, zero, zero)
	VBROADCASTSS(ConstData("elubackavx2_one", U32(math.Float32bits(1))), one)
	streamLoop("elubackavx2", n, ptrs, []uint64{32, 32}, func() {
		d := YMM()
		VMOVUPS(Mem{Base: a}, d)
		VMINPS(zero, d, d) // min(a, 0); a NaN gives the second source, 0
		VADDPS(one, d, d)
		VMULPS(Mem{Base: g}, d, d)
		VMOVUPS(d, Mem{Base: g})
	})
}

// nadam emits one Keras 3 Nadam update over len(w) (a multiple of the
// vector's lanes, 2^shift) parameters, with the per-step scalars in c and
// Keras's order of operations; every operation is correctly rounded, so
// the result is bit-identical to the Go loop.
//
// With unit it emits nadamUnit, the same pass for divisors 1-Πu_t+1 and
// 1-Πu_t that are exactly 1 (Πu_t falls below 2^-25 within tens of steps,
// the 49th with Keras's defaults, after which both round to 1): it leaves
// out the two divisions by them, each the identity then (the dividends
// are products, so never a signaling NaN), and keeps every other
// operation. Those two of its five divider operations are most of what
// the pass waits on.
func nadam(suffix string, shift int, vec func() VecVirtual, unit bool) {
	name := "nadam" + suffix
	if unit {
		name = "nadamUnit" + suffix
	}
	TEXT(name, NOSPLIT, "func(w, g, m, v []float32, c *[9]float32)")
	where := ""
	if unit {
		where = " where 1-Πu_t+1 = 1-Πu_t = 1"
	}
	Doc(name + " applies one Nadam step" + where + "; c holds 1-beta1, 1-beta2, u_t+1, 1-Πu_t+1, 1-u_t, 1-Πu_t, 1-beta2^t, lr, epsilon.")
	ptrs, n := streamShift(shift, "w", "g", "m", "v")
	w, g, m, v := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	cp := Load(Param("c"), GP64())
	c := make([]VecVirtual, 9)
	for i := range c {
		if unit && (i == 3 || i == 5) {
			continue // the divisors, unused
		}
		c[i] = vec()
		VBROADCASTSS(Mem{Base: cp, Disp: 4 * i}, c[i])
	}
	b1c, b2c, uT1, d1, omUT, d2, vScale, lr, eps := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	size := uint64(4 << shift)
	loop := "nadam"
	if suffix != "AVX512" {
		loop = name
	}
	div := func(d, x VecVirtual) {
		if !unit {
			VDIVPS(d, x, x)
		}
	}
	streamLoop(loop, n, ptrs, []uint64{size, size, size, size}, func() {
		gi, mi, vi, t := nadamMoments(g, m, v, b1c, b2c, vec)
		// mHat = (u_t+1 * m) / d1 + ((1 - u_t) * g) / d2
		mh, t2 := vec(), vec()
		VMULPS(uT1, mi, mh)
		div(d1, mh)
		VMULPS(omUT, gi, t2)
		div(d2, t2)
		VADDPS(t2, mh, mh)
		// w -= (mHat * lr) / (sqrt(v / vScale) + eps)
		VDIVPS(vScale, vi, t)
		VSQRTPS(t, t)
		VADDPS(eps, t, t)
		VMULPS(lr, mh, mh)
		VDIVPS(t, mh, mh)
		subtractFrom(w, mh, vec())
	})
}

// nadamRecip emits Nadam's AVX-512 pass that divides by the step's scalar
// divisors (1-Πu_t+1, 1-Πu_t and 1-beta2^t) through their reciprocals
// c[9], c[10] and c[11], made in Go (see divideScalar); with unit,
// nadamRecipUnitAVX512 for 1-Πu_t+1 = 1-Πu_t = 1, without those two
// divisions (see nadam). Everything else is nadamAVX512's arithmetic in
// its order. The divider, the pass's bottleneck, is left with the square
// root and the last division, whose divisor differs per element (an FMA
// sequence for the root, tried, made the pass slower: the other ports are
// nearly as busy; see BENCHMARKS.md).
func nadamRecip(unit bool) {
	name := "nadamRecipAVX512"
	if unit {
		name = "nadamRecipUnitAVX512"
	}
	TEXT(name, NOSPLIT, "func(w, g, m, v []float32, c *[12]float32)")
	Doc(name + " is nadamAVX512 (nadamUnitAVX2's arithmetic with unit) dividing by the scalar divisors through their reciprocals RN(1/d) in c[9], c[10], c[11]; each d in [2^-30, 2^30].")
	ptrs, n := streamShift(4, "w", "g", "m", "v")
	w, g, m, v := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	cp := Load(Param("c"), GP64())
	c := make([]VecVirtual, 12)
	for i := range c {
		if unit && (i == 3 || i == 5 || i == 9 || i == 10) {
			continue // the divisors 1, unused
		}
		c[i] = ZMM()
		VBROADCASTSS(Mem{Base: cp, Disp: 4 * i}, c[i])
	}
	b1c, b2c, uT1, d1, omUT, d2, vScale, lr, eps := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	r1, r2, rv := c[9], c[10], c[11]
	k := newDivConsts(name)
	streamLoop(name, n, ptrs, []uint64{64, 64, 64, 64}, func() {
		prefetchAhead(ptrs, g)
		gi, mi, vi, t := nadamMoments(g, m, v, b1c, b2c, func() VecVirtual { return ZMM() })
		// mHat = (u_t+1 * m) / d1 + ((1 - u_t) * g) / d2
		mh, t2 := ZMM(), ZMM()
		VMULPS(uT1, mi, mh)
		VMULPS(omUT, gi, t2)
		if !unit {
			mh = k.divideScalar(name+"_d1", mh, d1, r1)
			t2 = k.divideScalar(name+"_d2", t2, d2, r2)
		}
		VADDPS(t2, mh, mh)
		// w -= (mHat * lr) / (sqrt(v / vScale) + eps)
		t = k.divideScalar(name+"_vs", vi, vScale, rv)
		VSQRTPS(t, t)
		VADDPS(eps, t, t)
		VMULPS(lr, mh, mh)
		VDIVPS(t, mh, mh)
		subtractFrom(w, mh, ZMM())
	})
}

// divScalar emits divScalarAVX512(x []float32, c *[2]float32), x[i] =
// x[i]/c[0] through divideScalar with c[1] = RN(1/c[0]): the division
// alone, for the test that checks it against Go's over every significand.
func divScalar() {
	TEXT("divScalarAVX512", NOSPLIT, "func(x []float32, c *[2]float32)")
	Doc("divScalarAVX512 sets x[i] = x[i]/c[0], correctly rounded, through c[1] = RN(1/c[0]), c[0] in [2^-30, 2^30]; len(x) a multiple of 16.")
	ptrs, n := stream("x")
	x := ptrs[0]
	c := scalars(2, func() VecVirtual { return ZMM() })
	k := newDivConsts("divScalarAVX512")
	streamLoop("divScalarAVX512", n, ptrs, []uint64{64}, func() {
		xi := ZMM()
		VMOVUPS(Mem{Base: x}, xi)
		q := k.divideScalar("divScalarAVX512_q", xi, c[0], c[1])
		VMOVUPS(q, Mem{Base: x})
	})
}

// divConsts are the integer constants divideScalar's check compares with,
// in registers for a whole pass.
type divConsts struct{ abs, lo, span VecVirtual }

// Dividends x with x = ±0 or 2^-60 <= |x| < 2^61 are divided through the
// reciprocal (see divideScalar): with a divisor in [2^-30, 2^30], neither
// the quotient nor the residual then leaves float32's normal range.
const (
	divLo = (127 - 60) << 23
	divHi = (127+61)<<23 - 1
)

func newDivConsts(name string) divConsts {
	k := divConsts{ZMM(), ZMM(), ZMM()}
	VPBROADCASTD(ConstData(name+"_abs", U32(0x7fffffff)), k.abs)
	VPBROADCASTD(ConstData(name+"_lo", U32(divLo)), k.lo)
	VPBROADCASTD(ConstData(name+"_span", U32(divHi-divLo)), k.span)
	return k
}

// divideScalar emits x/d, correctly rounded, into a new register from the
// broadcast divisor d and its reciprocal y = RN(1/d) (made in Go, with d in
// [2^-30, 2^30]), without the divider: q = RN(x·y), r = q·d - x (exact
// by the FMA), q' = RN(q - r·y). Markstein's theorem (Muller et al.,
// Handbook of Floating-Point Arithmetic, on division with an FMA: y
// within 2^-24 relative of 1/d, q within an ulp of x/d) makes q' the correctly
// rounded x/d as long as nothing underflows or overflows, which holds for
// the dividends the check passes (see divLo); a vector with any other lane
// (tiny, huge, infinite or NaN) is divided by VDIVPS instead. With x = ±0,
// q = ±0, r = +0 and q' = -(+0) + q keeps q's sign, as the division's.
func (k divConsts) divideScalar(label string, x, d, y VecVirtual) VecVirtual {
	q, r, t := ZMM(), ZMM(), ZMM()
	VMULPS(y, x, q)
	VMOVAPS(x, r)
	VFMSUB231PS(d, q, r)  // r = q·d - x
	VFNMADD231PS(y, r, q) // q -= r·y
	ok, zero := K(), K()
	VPANDD(k.abs, x, t)
	VPSUBD(k.lo, t, t)
	VPCMPUD(Imm(2), k.span, t, ok) // |x| - lo <= span, unsigned
	VPTESTNMD(k.abs, x, zero)      // x = ±0
	KORW(zero, ok, ok)
	KORTESTW(ok, ok) // CF: every lane passed
	JCS(LabelRef(label))
	VDIVPS(d, x, q)
	Label(label)
	return q
}

// nadamMoments emits the start of a Nadam element: it loads g, m and v,
// updates and stores the moments, and returns g, m and v in registers
// with a scratch register.
func nadamMoments(g, m, v Register, b1c, b2c VecVirtual, vec func() VecVirtual) (gi, mi, vi, t VecVirtual) {
	gi, mi, vi, t = vec(), vec(), vec(), vec()
	VMOVUPS(Mem{Base: g}, gi)
	VMOVUPS(Mem{Base: m}, mi)
	VMOVUPS(Mem{Base: v}, vi)
	firstMoment(mi, gi, b1c, t) // m += (g - m) * (1 - beta1)
	VMOVUPS(mi, Mem{Base: m})
	secondMoment(vi, gi, b2c, t) // v += (g*g - v) * (1 - beta2)
	VMOVUPS(vi, Mem{Base: v})
	return gi, mi, vi, t
}

// scalars broadcasts the n float32 values *c (the parameter "c") into n
// vector registers.
func scalars(n int, vec func() VecVirtual) []VecVirtual {
	cp := Load(Param("c"), GP64())
	c := make([]VecVirtual, n)
	for i := range c {
		c[i] = vec()
		VBROADCASTSS(Mem{Base: cp, Disp: 4 * i}, c[i])
	}
	return c
}

// rulePass emits name(names []float32, c *[carr]float32) (name followed by
// the suffix of the width, see wide), the pass of an optimizer over the
// slices named (w and g first; 8 elements an iteration, AVX-512 16): after setup (the caller's constants), per iteration it loads
// g and w into registers, runs body (the rule's update, given the slices'
// pointers, the first ns scalars of *c broadcast, g and w: it leaves the
// new weight in w and may overwrite g) and stores w. With options it emits
// the same rule with the base options around it, as withOptions does but
// chosen at run time: nameWithOptions (before the suffix) takes also
// avg []float32 (the average), o *[6][8]float32 (rows of eight copies of
// C, D, WD, LR, M and OM, tensor's Options; AVX-512 *[7][8]float32, the
// seventh RN(1/D)) and mode (Options.mode: clip << 2 | decay << 1 |
// average), whose bits are tested per iteration.
func rulePass(name, doc string, names []string, carr, ns int, options bool, setup func(), body func(p []Register, c []VecVirtual, g, w VecVirtual)) {
	all, sig := names, fmt.Sprintf("func(%s []float32, c *[%d]float32)", strings.Join(names, ", "), carr)
	if options {
		name += "WithOptions"
		all = append(append([]string(nil), names...), "avg")
		rows := 6
		if wide { // and RN(1/D), for the clip by norm's division
			rows = 7
		}
		sig = fmt.Sprintf("func(%s []float32, c *[%d]float32, o *[%d][8]float32, mode int)", strings.Join(all, ", "), carr, rows)
		doc += " The base options run around it as mode says (see rulePass in _asm/gen.go)."
	}
	name += suffix()
	TEXT(name, NOSPLIT, sig)
	Doc(name + " applies one " + doc)
	p, n := streamShift(laneShift(), all...)
	c := scalars(ns, vreg)
	var o optionStages
	if options {
		o = optionStages{name: name, o: Load(Param("o"), GP64()), mode: Load(Param("mode"), GP64())}
		if wide { // the rows broadcast into registers once
			for i := range o.rows {
				o.rows[i] = vreg()
				VBROADCASTSS(Mem{Base: o.o, Disp: 32 * i}, o.rows[i])
			}
			o.div = newDivConsts(name)
		}
	}
	if setup != nil {
		setup()
	}
	w, g := p[0], p[1]
	streamLoop(name, n, p, blockSizes(len(p)), func() {
		if wide {
			prefetchAhead(p, g)
		}
		gi, wi := vreg(), vreg()
		VMOVUPS(Mem{Base: g}, gi)
		if options {
			o.clip(gi, g)
		}
		VMOVUPS(Mem{Base: w}, wi)
		if options {
			o.decay(wi)
		}
		body(p, c, gi, wi)
		if options {
			o.average(p[len(p)-1], wi)
		}
		VMOVUPS(wi, Mem{Base: w})
	})
}

// optionStages emits the base options' stages of a rulePass with options,
// each the operations of its own pass (clipByNorm, scale, clipByValue,
// decayWeights, movingAverage) with the same operands in the same places
// (in AVX-512 the clip by norm divides through RN(1/D), the same bits: see
// divideScalar), run where the mode register's bits say.
type optionStages struct {
	name    string
	o, mode Register
	rows    [7]VecVirtual // AVX-512: the rows broadcast, the 7th RN(1/D)
	div     divConsts     // AVX-512: for the clip by norm's division
}

// row is row i of *o as an operand: in memory (AVX2), or its register
// (AVX-512).
func (s optionStages) row(i int) Op {
	if wide {
		return s.rows[i]
	}
	return Mem{Base: s.o, Disp: 32 * i}
}

// clip clips g (in the register gi) and stores it at *g: mode's clip bits
// 1 (norm), 2 (scale), 3 (value).
func (s optionStages) clip(gi VecVirtual, g Register) {
	done, store, notNorm, value := s.name+"_clipped", s.name+"_clipstore", s.name+"_clipnotnorm", s.name+"_clipvalue"
	TESTQ(U32(12), s.mode)
	JZ(LabelRef(done))
	TESTQ(U32(8), s.mode)
	JNZ(LabelRef(notNorm))
	VMULPS(s.row(0), gi, gi)
	if wide { // through RN(1/D), the same bits (see divideScalar)
		VMOVAPS(s.div.divideScalar(s.name+"_clipdiv", gi, s.rows[1], s.rows[6]), gi)
	} else {
		VDIVPS(s.row(1), gi, gi)
	}
	JMP(LabelRef(store))
	Label(notNorm)
	TESTQ(U32(4), s.mode)
	JNZ(LabelRef(value))
	VMULPS(s.row(0), gi, gi)
	JMP(LabelRef(store))
	Label(value)
	lo, hi := s.row(0), s.row(1)
	if !wide {
		lo, hi = vreg(), vreg()
		VMOVUPS(s.row(0), lo)
		VMOVUPS(s.row(1), hi)
	}
	VMINPS(gi, hi, gi)
	VMAXPS(gi, lo, gi)
	Label(store)
	VMOVUPS(gi, Mem{Base: g})
	Label(done)
}

// decay sets wi = wi - (wi WD) LR when mode's bit 1 is set.
func (s optionStages) decay(wi VecVirtual) {
	done := s.name + "_decayed"
	TESTQ(U32(2), s.mode)
	JZ(LabelRef(done))
	t := vreg()
	VMULPS(s.row(2), wi, t)
	VMULPS(s.row(3), t, t)
	VSUBPS(t, wi, wi)
	Label(done)
}

// average sets *avg = M *avg + OM wi when mode's bit 0 is set.
func (s optionStages) average(avg Register, wi VecVirtual) {
	done := s.name + "_averaged"
	TESTQ(U32(1), s.mode)
	JZ(LabelRef(done))
	m, om, t, u := s.row(4), s.row(5), vreg(), vreg()
	if !wide {
		m, om = vreg(), vreg()
		VMOVUPS(s.row(4), m)
		VMOVUPS(s.row(5), om)
	}
	VMULPS(Mem{Base: avg}, m, t)
	VMULPS(wi, om, u)
	VADDPS(u, t, t)
	VMOVUPS(t, Mem{Base: avg})
	Label(done)
}

// firstMoment emits m += (g - m) c1 (t a temporary).
func firstMoment(m, g VecVirtual, c1 Op, t VecVirtual) {
	VSUBPS(m, g, t)
	VMULPS(c1, t, t)
	VADDPS(t, m, m)
}

// secondMoment emits v += (g² - v) c2 (t a temporary).
func secondMoment(v, g VecVirtual, c2 Op, t VecVirtual) {
	VMULPS(g, g, t)
	VSUBPS(v, t, t)
	VMULPS(c2, t, t)
	VADDPS(t, v, v)
}

// decayedSquares emits v = rho *src + (1 - rho) g² (t a temporary): the
// running average of the squared gradient of RMSprop and Adadelta.
func decayedSquares(src Op, v, g, rho, omr, t VecVirtual) {
	VMULPS(src, rho, v)
	VMULPS(g, g, t)
	VMULPS(omr, t, t)
	VADDPS(t, v, v)
}

// subtractFrom emits *w -= x through the temporary t.
func subtractFrom(w Register, x, t VecVirtual) {
	VMOVUPS(Mem{Base: w}, t)
	VSUBPS(x, t, t)
	VMOVUPS(t, Mem{Base: w})
}

// stepOverRoot emits w -= lr g / sqrt(x + eps), overwriting x and g: the
// last step of RMSprop and Adagrad.
func stepOverRoot(w, g, x, lr, eps VecVirtual) {
	VADDPS(eps, x, x)
	VSQRTPS(x, x)
	VMULPS(lr, g, g)
	VDIVPS(x, g, g)
	VSUBPS(g, w, w)
}

// The optimizers' passes over len(w) (a multiple of 8; AVX-512 16) parameters,
// with Keras's order of operations: every operation is correctly rounded
// and in the order of the Go twin (elementwise.go), so the bits are the
// same.

// adam: c = alpha, 1-beta1, 1-beta2, epsilon;
// m += (g - m)(1 - beta1);  v += (g² - v)(1 - beta2);  w -= m alpha / (sqrt(v) + epsilon);
// with amsgrad, v̂ = max(v̂, v) (Go's max) replaces v in the last step.
func adam(name string, amsgrad, options bool) {
	names := []string{"w", "g", "m", "v"}
	if amsgrad {
		names = append(names, "vh")
	}
	var sign VecVirtual
	setup := func() {
		if amsgrad {
			sign = signBit()
		}
	}
	rulePass(name, "Adam step; c holds alpha, 1-beta1, 1-beta2, epsilon.", names, 4, 4, options, setup, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		m, v := p[2], p[3]
		alpha, b1c, b2c, eps := c[0], c[1], c[2], c[3]
		mi, vi, t := vreg(), vreg(), vreg()
		VMOVUPS(Mem{Base: m}, mi)
		VMOVUPS(Mem{Base: v}, vi)
		firstMoment(mi, gi, b1c, t)
		VMOVUPS(mi, Mem{Base: m})
		secondMoment(vi, gi, b2c, t)
		VMOVUPS(vi, Mem{Base: v})
		if amsgrad {
			vh := vreg()
			VMOVUPS(Mem{Base: p[4]}, vh)
			vi = goMax(vh, vi, sign)
			VMOVUPS(vi, Mem{Base: p[4]})
		}
		VSQRTPS(vi, vi)
		VADDPS(eps, vi, vi)
		VMULPS(alpha, mi, mi)
		VDIVPS(vi, mi, mi)
		VSUBPS(mi, wi, wi)
	})
}

// blockSizes is n blocks of one vector (8 float32, 32 bytes; AVX-512 16,
// 64 bytes), for streamLoop.
func blockSizes(n int) []uint64 {
	sizes := make([]uint64, n)
	for i := range sizes {
		sizes[i] = 4 << laneShift()
	}
	return sizes
}

// signBit returns a vector with only the sign bit of every lane set.
func signBit() VecVirtual {
	sign := vreg()
	if wide {
		VPTERNLOGD(U8(0xff), sign, sign, sign) // all ones
	} else {
		VPCMPEQD(sign, sign, sign)
	}
	VPSLLD(U8(31), sign, sign)
	return sign
}

// compare returns the lanes where x imm y holds (VCMPPS's predicate imm):
// a vector of all-ones lanes (AVX2) or an opmask (AVX-512).
func compare(imm uint8, y, x VecVirtual) Register {
	if wide {
		k := K()
		VCMPPS(U8(imm), y, x, k)
		return k
	}
	k := vreg()
	VCMPPS(U8(imm), y, x, k)
	return k
}

// blend sets dst to a in the lanes of mask (from compare), else to b.
func blend(mask Register, a, b, dst VecVirtual) {
	if wide {
		VBLENDMPS(a, b, mask, dst)
	} else {
		VBLENDVPS(mask, a, b, dst)
	}
}

// goMax returns Go's max(x, y) for float32 on amd64 in every lane: the
// larger where the two are ordered and differ; else (equal, or either one
// NaN) the two's bits or'ed with their signs and'ed, i.e. -((-x) | (-y))
// bitwise (max(+0, -0) = +0, a NaN's payload kept; found by probing
// go1.26's max over NaNs of both signs, signalling ones, ±0 and ±Inf).
func goMax(x, y, sign VecVirtual) VecVirtual {
	r, a, b := vreg(), vreg(), vreg()
	VMAXPS(y, x, r)          // x > y ? x : y
	k := compare(0x08, y, x) // x == y or unordered
	VXORPS(sign, x, a)
	VXORPS(sign, y, b)
	VORPS(b, a, a)
	VXORPS(sign, a, a)
	blend(k, a, r, r)
	return r
}

// sgd: c = lr, momentum;  without momentum w -= g lr; with it
// m = m momentum - g lr and w += m, or, nesterov, w += m momentum - g lr.
func sgd(name string, momentum, nesterov, options bool) {
	names := []string{"w", "g"}
	if momentum {
		names = append(names, "m")
	}
	rulePass(name, "SGD step; c holds lr, momentum.", names, 8, 2, options, nil, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		lr, mom := c[0], c[1]
		gl := vreg()
		VMULPS(gi, lr, gl) // g lr
		if !momentum {
			VSUBPS(gl, wi, wi)
			return
		}
		mi := vreg()
		VMULPS(Mem{Base: p[2]}, mom, mi)
		VSUBPS(gl, mi, mi)
		VMOVUPS(mi, Mem{Base: p[2]})
		if nesterov {
			VMULPS(mom, mi, mi)
			VSUBPS(gl, mi, mi)
		}
		VADDPS(mi, wi, wi)
	})
}

// rmsprop (not centered, no momentum): c = rho, 1-rho, lr, epsilon;
// v = rho v + (1-rho) g²;  w -= lr g / sqrt(v + epsilon).
func rmsprop(options bool) {
	rulePass("rmsprop", "RMSprop step; c holds rho, 1-rho, lr, epsilon.", []string{"w", "g", "v"}, 4, 4, options, nil, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		rho, omr, lr, eps := c[0], c[1], c[2], c[3]
		vi, t := vreg(), vreg()
		decayedSquares(Mem{Base: p[2]}, vi, gi, rho, omr, t)
		VMOVUPS(vi, Mem{Base: p[2]})
		stepOverRoot(wi, gi, vi, lr, eps)
	})
}

// adagrad: c = lr, epsilon; a += g²;  w -= lr g / sqrt(a + epsilon).
func adagrad(options bool) {
	rulePass("adagrad", "Adagrad step; c holds lr, epsilon.", []string{"w", "g", "a"}, 4, 2, options, nil, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		lr, eps := c[0], c[1]
		ai, t := vreg(), vreg()
		VMULPS(gi, gi, t)
		VADDPS(Mem{Base: p[2]}, t, ai)
		VMOVUPS(ai, Mem{Base: p[2]})
		stepOverRoot(wi, gi, ai, lr, eps)
	})
}

// adadelta: c = rho, 1-rho, lr, epsilon;
// G = rho G + (1-rho) g²;  q = sqrt((D + eps) / (G + eps)) g, or Keras's
// sqrt(D + eps) g / sqrt(G + eps) where the quotient is not a positive
// normal float (see adadeltaGeneric);  D = rho D + (1-rho) q²;  w -= lr q
// (Keras's dw is -q).
func adadelta(options bool) {
	var lo, hi VecVirtual // AVX2: the normal floats' bounds
	setup := func() {
		if wide {
			return
		}
		lo, hi = vreg(), vreg()
		b := normalBounds()
		VBROADCASTSS(b[0], lo)
		VBROADCASTSS(b[1], hi)
	}
	rulePass("adadelta", "Adadelta step; c holds rho, 1-rho, lr, epsilon.", []string{"w", "g", "ga", "da"}, 4, 4, options, setup, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		ga, da := p[2], p[3]
		rho, omr, lr, eps := c[0], c[1], c[2], c[3]
		gs, ds, a, r, q := vreg(), vreg(), vreg(), vreg(), vreg()
		decayedSquares(Mem{Base: ga}, gs, gi, rho, omr, q)
		VMOVUPS(gs, Mem{Base: ga})
		VADDPS(eps, gs, gs) // b = G + eps
		VMOVUPS(Mem{Base: da}, ds)
		VADDPS(eps, ds, a) // a = D + eps
		VDIVPS(gs, a, r)
		VSQRTPS(r, q)
		VMULPS(gi, q, q)
		// Lanes whose quotient is not a positive normal float take
		// Keras's order.
		const label = "adadelta_normal" // labels are the function's own
		var odd, normal Register        // AVX-512 the one, AVX2 the other
		if wide {
			odd = K()
			VFPCLASSPSZ(U8(0xff), r, odd) // NaN, ±0, ±Inf, subnormal or negative
			KORTESTW(odd, odd)            // ZF: no such lane
			JZ(LabelRef(label))
		} else {
			normal = compare(0x1d, lo, r)                // r >= 2^-126 (GE_OQ)
			VANDPS(compare(0x12, hi, r), normal, normal) // and r <= MaxFloat32 (LE_OQ)
			all := GP32()
			VMOVMSKPS(normal, all)
			CMPL(all, U8(0xff))
			JE(LabelRef(label))
		}
		VSQRTPS(a, a)
		VMULPS(gi, a, a)
		VSQRTPS(gs, gs)
		VDIVPS(gs, a, a)
		if wide {
			blend(odd, a, q, q)
		} else {
			blend(normal, q, a, q)
		}
		Label(label)
		VMULPS(rho, ds, ds)
		VMULPS(q, q, gs)
		VMULPS(omr, gs, gs)
		VADDPS(gs, ds, ds)
		VMOVUPS(ds, Mem{Base: da})
		VMULPS(lr, q, q)
		VSUBPS(q, wi, wi)
	})
}

// normalBounds are the least and the largest positive normal float32,
// for the AVX2 Adadelta passes (AVX-512 tests the class with VFPCLASSPS).
var normalBounds = sync.OnceValue(func() [2]Mem {
	return [2]Mem{ConstData("normal_lo", U32(math.Float32bits(0x1p-126))), ConstData("normal_hi", U32(math.Float32bits(math.MaxFloat32)))}
})

// lion: c = lr, beta1, 1-beta1, beta2, 1-beta2;
// d = beta1 m + (1-beta1) g;  w = w - lr if d > 0, w + lr if d < 0, d if d
// is NaN, else w;  m = beta2 m + (1-beta2) g.
func lion(options bool) {
	var zero VecVirtual
	setup := func() {
		zero = vreg()
		VXORPS(zero, zero, zero)
	}
	rulePass("lion", "Lion step; c holds lr, beta1, 1-beta1, beta2, 1-beta2.", []string{"w", "g", "m"}, 8, 5, options, setup, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		m := p[2]
		lr, b1, c1, b2, c2 := c[0], c[1], c[2], c[3], c[4]
		mi, d, t, u := vreg(), vreg(), vreg(), vreg()
		VMOVUPS(Mem{Base: m}, mi)
		VMULPS(b1, mi, d)
		VMULPS(c1, gi, t)
		VADDPS(t, d, d)
		VMULPS(b2, mi, mi)
		VMULPS(c2, gi, gi)
		VADDPS(gi, mi, mi)
		VMOVUPS(mi, Mem{Base: m})
		VSUBPS(lr, wi, t)                        // w - lr
		VADDPS(lr, wi, u)                        // w + lr
		blend(compare(0x1e, zero, d), t, wi, wi) // d > 0 (ordered)
		blend(compare(0x11, zero, d), u, wi, wi) // d < 0 (ordered)
		blend(compare(0x03, d, d), d, wi, wi)    // d unordered: NaN
	})
}

// adamax: c = lr, 1-beta1, beta2, 1-beta1^t, epsilon;
// m += (g - m)(1-beta1);  u = max(beta2 u, |g|);  w -= lr m / ((1-beta1^t)(u + epsilon)),
// with Go's |g| (-g only where g < 0) and Go's max (goMax).
func adamax(options bool) {
	var zero, sign VecVirtual
	setup := func() {
		zero, sign = vreg(), signBit()
		VXORPS(zero, zero, zero)
	}
	rulePass("adamax", "Adamax step; c holds lr, 1-beta1, beta2, 1-beta1^t, epsilon.", []string{"w", "g", "m", "u"}, 8, 5, options, setup, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		m, u := p[2], p[3]
		lr, c1, b2, corr, eps := c[0], c[1], c[2], c[3], c[4]
		mi, t, a := vreg(), vreg(), vreg()
		VMOVUPS(Mem{Base: m}, mi)
		firstMoment(mi, gi, c1, t)
		VMOVUPS(mi, Mem{Base: m})
		VXORPS(sign, gi, a)
		blend(compare(0x11, zero, gi), a, gi, a) // |g| as Go's: -g where g < 0 (ordered)
		VMULPS(Mem{Base: u}, b2, t)
		t = goMax(t, a, sign)
		VMOVUPS(t, Mem{Base: u})
		VADDPS(eps, t, t)
		VMULPS(corr, t, t)
		VMULPS(lr, mi, mi)
		VDIVPS(t, mi, mi)
		VSUBPS(mi, wi, wi)
	})
}

// rmspropFull (centered, or with momentum, or both): c = rho, 1-rho, lr,
// epsilon, momentum;  v = rho v + (1-rho) g²;  d = v + epsilon;
// centered: a = rho a + (1-rho) g, d = (v - a²) + epsilon;
// inc = lr g / sqrt(d);  momentum: b = momentum b + inc, w -= b;  else w -= inc.
func rmspropFull(name string, centered, momentum, options bool) {
	names := []string{"w", "g", "v"}
	if centered {
		names = append(names, "a")
	}
	if momentum {
		names = append(names, "b")
	}
	rulePass(name, "RMSprop step; c holds rho, 1-rho, lr, epsilon, momentum.", names, 8, 5, options, nil, func(p []Register, c []VecVirtual, gi, wi VecVirtual) {
		v := p[2]
		rho, omr, lr, eps, mom := c[0], c[1], c[2], c[3], c[4]
		vi, t, d := vreg(), vreg(), vreg()
		decayedSquares(Mem{Base: v}, vi, gi, rho, omr, t)
		VMOVUPS(vi, Mem{Base: v})
		if centered {
			a, ai := p[3], vreg()
			VMULPS(Mem{Base: a}, rho, ai)
			VMULPS(omr, gi, t)
			VADDPS(t, ai, ai)
			VMOVUPS(ai, Mem{Base: a})
			VMULPS(ai, ai, t)
			VSUBPS(t, vi, d)
			VADDPS(eps, d, d)
		} else {
			VADDPS(eps, vi, d)
		}
		VSQRTPS(d, d)
		VMULPS(lr, gi, gi)
		VDIVPS(d, gi, gi) // inc
		if momentum {
			b := p[len(names)-1]
			VMULPS(Mem{Base: b}, mom, t)
			VADDPS(gi, t, gi)
			VMOVUPS(gi, Mem{Base: b})
		}
		VSUBPS(gi, wi, wi)
	})
}

// The passes of the options every optimizer takes (Keras 3's BaseOptimizer,
// keras/src/optimizers/base_optimizer.py), in AVX2 over len(x) (a multiple
// of 8; sumSquares: of 16) elements, each in the order of its Go twin
// (elementwise.go), so the bits are the same.

// sumSquares: the sum of float64(x)², element 16i + 4j + l added to lane l
// of accumulator j, the four combined as (a0 + a1) + (a2 + a3), then its
// lanes as (l0 + l2) + (l1 + l3). float64(x)² is exact, so the order of the
// additions is the only choice, and an FMA (a + x·x rounded once) adds it
// with the bits of a product and a sum.
func sumSquares() {
	TEXT("sumSquaresAVX2", NOSPLIT, "func(x []float32) float64")
	Doc("sumSquaresAVX2 returns the sum of the squares of x in float64, in 16 lanes.")
	ptrs, n := streamShift(4, "x")
	x := ptrs[0]
	acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, a := range acc {
		VXORPD(a, a, a)
	}
	countdown("sumSquaresAVX2", n, func() {
		for j, a := range acc {
			t := YMM()
			VCVTPS2PD(Mem{Base: x, Disp: 16 * j}, t)
			VFMADD231PD(t, t, a) // a + t², t² exact: a + RN(t²)
		}
		ADDQ(Imm(64), x)
	})
	VADDPD(acc[1], acc[0], acc[0])
	VADDPD(acc[3], acc[2], acc[2])
	VADDPD(acc[2], acc[0], acc[0])
	hi, lo, h := XMM(), acc[0].AsX(), XMM()
	VEXTRACTF128(Imm(1), acc[0], hi)
	VADDPD(hi, lo, lo) // l0 + l2, l1 + l3
	VUNPCKHPD(lo, lo, h)
	VADDSD(h, lo, lo)
	Store(lo, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// broadcast loads the float32 parameter name into every lane of a ymm.
func broadcast(name string) VecVirtual {
	x, y := XMM(), YMM()
	Load(Param(name), x)
	VBROADCASTSS(x, y)
	return y
}

// inPlace emits name(sig): a pass loading 8 elements of the slice
// parameter x at a time into t, applying op to t with the float32
// parameters named in scalars broadcast, and storing t back.
func inPlace(name, sig, doc, x string, scalars []string, op func(t VecVirtual, s []VecVirtual)) {
	TEXT(name, NOSPLIT, sig)
	Doc(doc)
	ptrs, n := streamShift(3, x)
	s := make([]VecVirtual, len(scalars))
	for i, nm := range scalars {
		s[i] = broadcast(nm)
	}
	streamLoop(name, n, ptrs, []uint64{32}, func() {
		t := YMM()
		VMOVUPS(Mem{Base: ptrs[0]}, t)
		op(t, s)
		VMOVUPS(t, Mem{Base: ptrs[0]})
	})
}

// scale: x *= s (x the first operand, as in Go's x * s).
func scale() {
	inPlace("scaleAVX2", "func(x []float32, s float32)", "scaleAVX2 multiplies x by s.", "x", []string{"s"},
		func(t VecVirtual, s []VecVirtual) { VMULPS(s[0], t, t) })
}

// clipByNorm: x = (x c) / d.
func clipByNorm() {
	inPlace("clipByNormAVX2", "func(x []float32, c, d float32)", "clipByNormAVX2 sets x to (x c) / d.", "x", []string{"c", "d"},
		func(t VecVirtual, s []VecVirtual) {
			VMULPS(s[0], t, t)
			VDIVPS(s[1], t, t)
		})
}

// clipByValue: x = hi if x > hi, lo if x < lo, else x (a NaN x stays).
// MINPS and MAXPS return their second source where the comparison fails
// or is unordered, and x is that source.
func clipByValue() {
	inPlace("clipByValueAVX2", "func(x []float32, lo, hi float32)", "clipByValueAVX2 clips x to [lo, hi], NaN staying NaN.", "x", []string{"lo", "hi"},
		func(t VecVirtual, s []VecVirtual) {
			VMINPS(t, s[1], t) // hi < x ? hi : x
			VMAXPS(t, s[0], t) // lo > x ? lo : x
		})
}

// decayWeights: w = w - (w wd) lr.
func decayWeights() {
	inPlace("decayWeightsAVX2", "func(w []float32, wd, lr float32)", "decayWeightsAVX2 sets w to w - (w wd) lr.", "w", []string{"wd", "lr"},
		func(t VecVirtual, s []VecVirtual) {
			u := YMM()
			VMULPS(s[0], t, u)
			VMULPS(s[1], u, u)
			VSUBPS(u, t, t)
		})
}

// movingAverage: a = m a + om w.
func movingAverage() {
	TEXT("movingAverageAVX2", NOSPLIT, "func(a, w []float32, m, om float32)")
	Doc("movingAverageAVX2 sets a to m a + om w.")
	ptrs, n := streamShift(3, "a", "w")
	a, w, m, om := ptrs[0], ptrs[1], broadcast("m"), broadcast("om")
	streamLoop("movingAverageAVX2", n, ptrs, []uint64{32, 32}, func() {
		t, u := YMM(), YMM()
		VMULPS(Mem{Base: a}, m, t)
		VMULPS(Mem{Base: w}, om, u)
		VADDPS(u, t, t)
		VMOVUPS(t, Mem{Base: a})
	})
}

// clipNames are the clip modes of withOptions, in the order of tensor's
// ClipNone, ClipNorm, ClipScale and ClipValue.
var clipNames = []string{"", "ClipNorm", "ClipScale", "ClipValue"}

// withOptions emits the pass (AVX2, or AVX-512 if wide) of rule (nadam,
// nadamUnit or adam) with base options fused in: per vector (8 elements;
// AVX-512 16), in Keras's order, the gradient clipped (clip: 1 norm, g =
// (g c) / d; 2 scale, g = g s; 3 value, g = min(max(g, lo), hi) as
// clipByValue) and stored back, the weight decayed (w = w - (w wd) lr),
// the rule's update, and the moving average a = m a + om w (ema). Each
// stage is its own pass's operations with the same operands in the same
// places (a NaN's payload included), so the result is the passes' one
// after the other, bit for bit, in one trip through memory (in AVX-512
// the divisions by the clip's d and by Nadam's 1-beta2^t go through their
// reciprocals, the same bits: see divideScalar). The scalars are rows of
// eight copies in c (memory operands in AVX2, broadcast into registers once
// in AVX-512): the rule's (nadam's nine or adam's four) from row 0, then
// from row 9 the clip's c (or s, or lo) and d (or hi), wd, lr, m and om,
// then RN(1/d) for the clip by norm (row 15) and Nadam's RN(1/(1-beta2^t))
// (row 16), which only AVX-512 reads.
func withOptions(rule string, clip int, decay, ema bool) {
	name := rule + "With" + clipNames[clip]
	if decay {
		name += "Decay"
	}
	if ema {
		name += "EMA"
	}
	name += suffix()
	TEXT(name, NOSPLIT, "func(w, g, m, v, a []float32, c *[17][8]float32)")
	Doc(name + " applies one " + rule + " step with base options fused in (see withOptions in _asm/gen.go); c holds the scalars in rows of eight copies.")
	names := []string{"w", "g", "m", "v"}
	if ema {
		names = append(names, "a")
	}
	ptrs, n := streamShift(laneShift(), names...)
	w, g, m, v := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	cp := Load(Param("c"), GP64())
	// row(i) is row i as an operand: in memory (AVX2), or broadcast into
	// a register once (AVX-512, whose 32 registers hold every row).
	var rows [17]VecVirtual
	row := func(i int) Op {
		if !wide {
			return Mem{Base: cp, Disp: 32 * i}
		}
		if rows[i] == nil {
			panic(fmt.Sprintf("%s: row %d not broadcast", name, i))
		}
		return rows[i]
	}
	if wide {
		used := []int{0, 1, 2, 3}
		if rule != "adam" {
			used = []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
		}
		if clip != 0 {
			used = append(used, 9, 10)
		}
		if decay {
			used = append(used, 11, 12)
		}
		if ema {
			used = append(used, 13, 14)
		}
		if clip == 1 {
			used = append(used, 15) // RN(1/D)
		}
		if rule != "adam" {
			used = append(used, 16) // RN(1/(1-beta2^t))
		}
		for _, i := range used {
			rows[i] = vreg()
			VBROADCASTSS(Mem{Base: cp, Disp: 32 * i}, rows[i])
		}
	}
	var div divConsts
	if wide && (clip == 1 || rule != "adam") {
		div = newDivConsts(name)
	}
	// inReg is row i in a register for the whole pass: loaded (AVX2), or
	// the broadcast one (AVX-512).
	inReg := func(i int) Op {
		if wide {
			return row(i)
		}
		r := vreg()
		VMOVUPS(row(i), r)
		return r
	}
	var lo, hi, em, om Op
	if clip == 3 {
		lo, hi = inReg(9), inReg(10)
	}
	if ema {
		em, om = inReg(13), inReg(14)
	}
	streamLoop(name, n, ptrs, blockSizes(len(ptrs)), func() {
		if wide {
			prefetchAhead(ptrs, g)
		}
		gi, wi, mi, vi, t := vreg(), vreg(), vreg(), vreg(), vreg()
		VMOVUPS(Mem{Base: g}, gi)
		switch clip { // as clipByNorm, scale, clipByValue
		case 1:
			VMULPS(row(9), gi, gi)
			if wide { // through RN(1/D) in row 15, the same bits (see divideScalar)
				VMOVAPS(div.divideScalar(name+"_clipdiv", gi, rows[10], rows[15]), gi)
			} else {
				VDIVPS(row(10), gi, gi)
			}
		case 2:
			VMULPS(row(9), gi, gi)
		case 3:
			VMINPS(gi, hi, gi)
			VMAXPS(gi, lo, gi)
		}
		if clip != 0 {
			VMOVUPS(gi, Mem{Base: g})
		}
		VMOVUPS(Mem{Base: w}, wi)
		if decay { // as decayWeights
			VMULPS(row(11), wi, t)
			VMULPS(row(12), t, t)
			VSUBPS(t, wi, wi)
		}
		VMOVUPS(Mem{Base: m}, mi)
		VMOVUPS(Mem{Base: v}, vi)
		switch rule {
		case "nadam", "nadamUnit": // as nadam (nadamUnit: 1-Πu_t+1 = 1-Πu_t = 1, see nadam)
			firstMoment(mi, gi, row(0), t)
			VMOVUPS(mi, Mem{Base: m})
			secondMoment(vi, gi, row(1), t)
			VMOVUPS(vi, Mem{Base: v})
			mh := vreg()
			VMULPS(row(2), mi, mh)
			if rule == "nadam" {
				VDIVPS(row(3), mh, mh)
			}
			VMULPS(row(4), gi, gi)
			if rule == "nadam" {
				VDIVPS(row(5), gi, gi)
			}
			VADDPS(gi, mh, mh)
			if wide { // through RN(1/(1-beta2^t)) in row 16, as nadamRecip
				VMOVAPS(div.divideScalar(name+"_vs", vi, rows[6], rows[16]), t)
			} else {
				VDIVPS(row(6), vi, t)
			}
			VSQRTPS(t, t)
			VADDPS(row(8), t, t)
			VMULPS(row(7), mh, mh)
			VDIVPS(t, mh, mh)
			VSUBPS(mh, wi, wi)
		case "adam": // as adam
			firstMoment(mi, gi, row(1), t)
			VMOVUPS(mi, Mem{Base: m})
			secondMoment(vi, gi, row(2), t)
			VMOVUPS(vi, Mem{Base: v})
			VSQRTPS(vi, vi)
			VADDPS(row(3), vi, vi)
			VMULPS(row(0), mi, mi)
			VDIVPS(vi, mi, mi)
			VSUBPS(mi, wi, wi)
		}
		if ema { // as movingAverage
			u := vreg()
			VMULPS(Mem{Base: ptrs[4]}, em, t)
			VMULPS(wi, om, u)
			VADDPS(u, t, t)
			VMOVUPS(t, Mem{Base: ptrs[4]})
		}
		VMOVUPS(wi, Mem{Base: w})
	})
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
	lda := stride("lda")
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
	colsLoop("cols", k, a, lda, b, acc)
	for j := range acc {
		VMOVUPS(acc[j][0], Mem{Base: t, Disp: 4 * (j*rows + 0)})
		VMOVUPS(acc[j][1], Mem{Base: t, Disp: 4 * (j*rows + 16)})
	}
	VZEROUPPER()
	RET()
}

// transpose16 transposes the 16x16 block held in r (r[i] lane j is element
// (i, j)) and returns the rows of its transpose: out[j] lane i = r[i] lane j.
// Four rounds of shuffles, 64 instructions; the registers of each round die
// as the next is built.
func transpose16(r []VecVirtual) []VecVirtual {
	t := make([]VecVirtual, 16)
	// Round 1: interleave the 32-bit elements of row pairs.
	for q := 0; q < 16; q += 2 {
		t[q], t[q+1] = ZMM(), ZMM()
		VUNPCKLPS(r[q+1], r[q], t[q])
		VUNPCKHPS(r[q+1], r[q], t[q+1])
	}
	// Round 2: interleave 64-bit pairs of rows two apart.
	u := make([]VecVirtual, 16)
	for q := 0; q < 16; q += 4 {
		u[q], u[q+1], u[q+2], u[q+3] = ZMM(), ZMM(), ZMM(), ZMM()
		VUNPCKLPD(t[q+2], t[q], u[q])
		VUNPCKHPD(t[q+2], t[q], u[q+1])
		VUNPCKLPD(t[q+3], t[q+1], u[q+2])
		VUNPCKHPD(t[q+3], t[q+1], u[q+3])
	}
	// Round 3: gather the even and odd 128-bit lanes of rows four apart.
	v := make([]VecVirtual, 16)
	for g := 0; g < 16; g += 8 {
		for q := range 4 {
			v[g+q], v[g+q+4] = ZMM(), ZMM()
			VSHUFF32X4(Imm(0x88), u[g+q+4], u[g+q], v[g+q])
			VSHUFF32X4(Imm(0xdd), u[g+q+4], u[g+q], v[g+q+4])
		}
	}
	// Round 4: the same across the two halves.
	out := make([]VecVirtual, 16)
	for q := range 8 {
		out[q], out[q+8] = ZMM(), ZMM()
		VSHUFF32X4(Imm(0x88), v[q+8], v[q], out[q])
		VSHUFF32X4(Imm(0xdd), v[q+8], v[q], out[q+8])
	}
	return out
}

// transpose emits the packing of a transposed operand: 16 rows of src,
// lds apart, become 16 columns of dst, ldd apart, k elements long.
func transpose() {
	TEXT("transposeAVX512", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds int, k int)")
	Doc("transposeAVX512 sets dst[p*ldd+r] = src[r*lds+p] for r < 16 and p < k.")
	dst := Load(Param("dst").Base(), GP64())
	ldd := stride("ldd")
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	lds3 := GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	// Four row pointers, rows 4g .. 4g+3 at +0, +lds, +2lds, +3lds.
	base := []Register{src}
	for range 3 {
		r := GP64()
		LEAQ(Mem{Base: base[len(base)-1], Index: lds, Scale: 4}, r)
		base = append(base, r)
	}
	rowAt := func(i int) Mem {
		b := base[i/4]
		switch i % 4 {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: lds, Scale: 1}
		case 2:
			return Mem{Base: b, Index: lds, Scale: 2}
		default:
			return Mem{Base: b, Index: lds3, Scale: 1}
		}
	}
	d := GP64()
	block := func(tail bool) {
		var km OpmaskVirtual
		if tail {
			// mask of the k%16 remaining columns
			km = K()
			one := GP64()
			MOVQ(U32(1), one)
			SHLXQ(k, one, one)
			DECQ(one)
			KMOVW(one.As32(), km)
		}
		r := make([]VecVirtual, 16)
		for i := range r {
			r[i] = ZMM()
			if tail {
				VMOVUPS_Z(rowAt(i), km, r[i])
			} else {
				VMOVUPS(rowAt(i), r[i])
			}
		}
		out := transpose16(r)
		MOVQ(dst, d)
		for q := range out {
			if tail {
				CMPQ(k, U32(q))
				JLE(LabelRef("transpose_done"))
			}
			VMOVUPS(out[q], Mem{Base: d})
			ADDQ(ldd, d)
		}
	}
	CMPQ(k, U32(16))
	JL(LabelRef("transpose_tail"))
	Label("transpose_loop")
	block(false)
	MOVQ(d, dst)
	for _, b := range base {
		ADDQ(U32(64), b)
	}
	SUBQ(U32(16), k)
	CMPQ(k, U32(16))
	JGE(LabelRef("transpose_loop"))
	Label("transpose_tail")
	TESTQ(k, k)
	JZ(LabelRef("transpose_done"))
	block(true)
	Label("transpose_done")
	VZEROUPPER()
	RET()
}

// copy8AVX2 emits the AVX2 packing of a panel at most 8 columns wide
// that needs no transpose (a k-major panel of A's 6 rows), under a mask.
func copy8AVX2() {
	TEXT("copy8AVX2", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds int, k int, mask uint64)")
	Doc("copy8AVX2 sets dst[p*ldd+j] = src[p*lds+j] for p < k and the columns j < 8 set in mask.")
	vmask := YMM()
	m := GP64()
	Load(Param("mask"), m)
	MOVQ(m, vmask.AsX())
	VPBROADCASTD(vmask.AsX(), vmask)
	VPAND(laneBits, vmask, vmask)
	VPCMPEQD(laneBits, vmask, vmask)
	dst := Load(Param("dst").Base(), GP64())
	ldd := stride("ldd")
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	countdown("copy8AVX2", k, func() {
		x := YMM()
		VMASKMOVPS(Mem{Base: src}, vmask, x)
		VMASKMOVPS(x, vmask, Mem{Base: dst})
		ADDQ(lds, src)
		ADDQ(ldd, dst)
	})
	VZEROUPPER()
	RET()
}

// packPanels6AVX2 emits the AVX2 packing of a transposed A into several
// k-major panels of 6 rows at once, walking each row of src once: per
// row p, 6 floats (a 16-byte and an 8-byte move, never past them) into
// each panel, the panels 6k floats apart.
func packPanels6AVX2() {
	TEXT("packPanels6AVX2", NOSPLIT, "func(dst []float32, src []float32, lds int, k int, panels int)")
	Doc("packPanels6AVX2 sets dst[q*6*k+p*6+i] = src[p*lds+q*6+i] for q < panels, p < k and i < 6.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	panels := Load(Param("panels"), GP64())
	pstride := GP64() // a panel's size in bytes, 24k
	LEAQ(Mem{Base: k, Index: k, Scale: 2}, pstride)
	SHLQ(Imm(3), pstride)
	countdown("packPanels6AVX2_rows", k, func() {
		s, d, q := GP64(), GP64(), GP64()
		MOVQ(src, s)
		MOVQ(dst, d)
		MOVQ(panels, q)
		countdown("packPanels6AVX2_panels", q, func() {
			x, y := XMM(), XMM()
			VMOVUPS(Mem{Base: s}, x)
			VMOVSD(Mem{Base: s, Disp: 16}, y)
			VMOVUPS(x, Mem{Base: d})
			VMOVSD(y, Mem{Base: d, Disp: 16})
			ADDQ(Imm(24), s)
			ADDQ(pstride, d)
		})
		ADDQ(lds, src)
		ADDQ(Imm(24), dst)
	})
	RET()
}

// transpose8 transposes the 8x8 block held in r (r[i] lane j is element
// (i, j)) and returns the columns: out[j] lane i = r[i] lane j. Three rounds
// of shuffles.
func transpose8(r []VecVirtual) []VecVirtual {
	// Round 1: interleave the elements of row pairs.
	t := make([]VecVirtual, 8)
	for q := 0; q < 8; q += 2 {
		t[q], t[q+1] = YMM(), YMM()
		VUNPCKLPS(r[q+1], r[q], t[q])
		VUNPCKHPS(r[q+1], r[q], t[q+1])
	}
	// Round 2: columns of four rows in each 128-bit lane.
	u := make([]VecVirtual, 8)
	for g := 0; g < 8; g += 4 {
		for h := range 2 {
			u[g+2*h], u[g+2*h+1] = YMM(), YMM()
			VSHUFPS(Imm(0x44), t[g+h+2], t[g+h], u[g+2*h])
			VSHUFPS(Imm(0xee), t[g+h+2], t[g+h], u[g+2*h+1])
		}
	}
	// Round 3: the lanes of rows 0-3 and 4-7 together.
	out := make([]VecVirtual, 8)
	for q := range 4 {
		out[q], out[q+4] = YMM(), YMM()
		VPERM2F128(Imm(0x20), u[q+4], u[q], out[q])
		VPERM2F128(Imm(0x31), u[q+4], u[q], out[q+4])
	}
	return out
}

// transpose6AVX2 emits the AVX2 packing of 6 rows of a row-major A into
// one k-major panel: the 8x8 transpose of transposeAVX2 with two zero
// rows, each column's 6 floats stored by a 16-byte and an 8-byte move (a
// whole vector would write into the next panel, another task's).
func transpose6AVX2() {
	TEXT("transpose6AVX2", NOSPLIT, "func(dst []float32, src []float32, lds int, k int)")
	Doc("transpose6AVX2 sets dst[p*6+r] = src[r*lds+p] for r < 6 and p < k, k a multiple of 8.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	SHRQ(Imm(3), k)
	src3 := GP64()
	LEAQ(Mem{Base: src, Index: lds, Scale: 2}, src3)
	ADDQ(lds, src3)
	rowAt := func(i int) Mem {
		m := Mem{Base: []Register{src, src3}[i/3]}
		if i%3 > 0 {
			m.Index, m.Scale = lds, uint8(i%3)
		}
		return m
	}
	countdown("transpose6AVX2", k, func() {
		r := make([]VecVirtual, 8)
		for i := range r {
			r[i] = YMM()
			if i < 6 {
				VMOVUPS(rowAt(i), r[i])
			} else {
				VXORPS(r[i], r[i], r[i])
			}
		}
		for j, col := range transpose8(r) {
			// Column j holds rows 0-5 (and two zeros): 24 bytes.
			hi := XMM()
			VEXTRACTF128(Imm(1), col, hi)
			VMOVUPS(col.AsX(), Mem{Base: dst, Disp: 24 * j})
			VMOVSD(hi, Mem{Base: dst, Disp: 24*j + 16})
		}
		ADDQ(Imm(8*24), dst)
		ADDQ(Imm(32), src)
		ADDQ(Imm(32), src3)
	})
	VZEROUPPER()
	RET()
}

// transposeAVX2 emits the AVX2 packing of a transposed operand: 8 rows of
// src, lds apart, become 8 columns of dst, ldd apart, k (a multiple of 8)
// elements long, an 8x8 block at a time (three rounds of shuffles).
func transposeAVX2() {
	TEXT("transposeAVX2", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds int, k int)")
	Doc("transposeAVX2 sets dst[p*ldd+r] = src[r*lds+p] for r < 8 and p < k, k a multiple of 8.")
	dst := Load(Param("dst").Base(), GP64())
	ldd := stride("ldd")
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	SHRQ(Imm(3), k)
	lds3 := GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	src4 := GP64()
	LEAQ(Mem{Base: src, Index: lds, Scale: 4}, src4)
	rowAt := func(i int) Mem {
		b := []Register{src, src4}[i/4]
		switch i % 4 {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: lds, Scale: 1}
		case 2:
			return Mem{Base: b, Index: lds, Scale: 2}
		default:
			return Mem{Base: b, Index: lds3, Scale: 1}
		}
	}
	countdown("transposeAVX2", k, func() {
		r := make([]VecVirtual, 8)
		for i := range r {
			r[i] = YMM()
			VMOVUPS(rowAt(i), r[i])
		}
		cols := transpose8(r)
		for q := range 4 {
			VMOVUPS(cols[q], Mem{Base: dst})
			VMOVUPS(cols[q+4], Mem{Base: dst, Index: ldd, Scale: 4})
			ADDQ(ldd, dst)
		}
		LEAQ(Mem{Base: dst, Index: ldd, Scale: 4}, dst)
		ADDQ(Imm(32), src)
		ADDQ(Imm(32), src4)
	})
	VZEROUPPER()
	RET()
}

// copy16AVX2 emits the AVX2 packing of a 16-column panel that needs no
// transpose.
func copy16AVX2() {
	TEXT("copy16AVX2", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds int, k int)")
	Doc("copy16AVX2 sets dst[p*ldd+j] = src[p*lds+j] for p < k and j < 16.")
	dst := Load(Param("dst").Base(), GP64())
	ldd := stride("ldd")
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	countdown("copy16AVX2", k, func() {
		x, y := YMM(), YMM()
		VMOVUPS(Mem{Base: src}, x)
		VMOVUPS(Mem{Base: src, Disp: 32}, y)
		VMOVUPS(x, Mem{Base: dst})
		VMOVUPS(y, Mem{Base: dst, Disp: 32})
		ADDQ(lds, src)
		ADDQ(ldd, dst)
	})
	VZEROUPPER()
	RET()
}

// colsLoop emits the k loop of the cols kernels: per p, the 32 values of
// A(:, p) in two registers, each of B(p, :)'s columns broadcast in turn,
// two fused multiply-adds per column.
func colsLoop(name string, k, a, lda, b Register, acc [][2]VecVirtual) {
	countdown(name, k, func() {
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
		ADDQ(Imm(uint64(4*len(acc))), b)
	})
}

// kernelColsStore emits kernelCols's product stored straight into a
// row-major C: the column-major tile goes through the stack, each half of
// 16 rows is transposed in registers, and the first rows rows are stored
// under the column mask.
func kernelColsStore() {
	const rows, cols = 32, 12
	TEXT("kernelColsStoreAVX512", 0, "func(k int, a []float32, lda int, b []float32, c []float32, ldc int, mask uint64, rows int)")
	Doc("kernelColsStoreAVX512 computes the 32x12 tile C = A·B with A(i,p) = a[p*lda+i] and B(p,j) = b[p*12+j], storing rows i < rows and the columns set in mask of C (rows ldc apart).")
	tile := AllocLocal(4 * rows * 16)
	k := Load(Param("k"), GP64())
	a := Load(Param("a").Base(), GP64())
	lda := stride("lda")
	b := Load(Param("b").Base(), GP64())
	acc := make([][2]VecVirtual, cols)
	for j := range acc {
		acc[j] = [2]VecVirtual{ZMM(), ZMM()}
		VXORPS(acc[j][0], acc[j][0], acc[j][0])
		VXORPS(acc[j][1], acc[j][1], acc[j][1])
	}
	colsLoop("colsst", k, a, lda, b, acc)
	// The tile, column-major with 16 columns (the last four zero).
	zero := ZMM()
	VXORPS(zero, zero, zero)
	for j := range 16 {
		for h := range 2 {
			v := zero
			if j < cols {
				v = acc[j][h]
			}
			VMOVUPS(v, tile.Offset(4*(j*rows+16*h)))
		}
	}
	c := Load(Param("c").Base(), GP64())
	ldc := stride("ldc")
	n := Load(Param("rows"), GP64())
	km := K()
	m := GP64()
	Load(Param("mask"), m)
	KMOVW(m.As32(), km)
	for h := range 2 {
		r := make([]VecVirtual, 16)
		for j := range r {
			r[j] = ZMM()
			VMOVUPS(tile.Offset(4*(j*rows+16*h)), r[j])
		}
		out := transpose16(r)
		for i := range out {
			CMPQ(n, U32(16*h+i))
			JLE(LabelRef("colsst_end"))
			VMOVUPS(out[i], km, Mem{Base: c})
			ADDQ(ldc, c)
		}
	}
	Label("colsst_end")
	VZEROUPPER()
	RET()
}

// copyPanel emits a copy of a panel up to 32 columns wide, rows apart by
// different strides in source and destination: the packing of an operand
// that needs no transpose.
func copyPanel() {
	TEXT("copyPanelAVX512", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds int, k int, mask uint64)")
	Doc("copyPanelAVX512 sets dst[p*ldd+j] = src[p*lds+j] for p < k and the columns j < 32 set in mask.")
	dst := Load(Param("dst").Base(), GP64())
	ldd := stride("ldd")
	src := Load(Param("src").Base(), GP64())
	lds := stride("lds")
	k := Load(Param("k"), GP64())
	m := GP64()
	Load(Param("mask"), m)
	lo, hi := K(), K()
	KMOVW(m.As32(), lo)
	SHRQ(Imm(16), m)
	KMOVW(m.As32(), hi)
	countdown("copy", k, func() {
		x, y := ZMM(), ZMM()
		VMOVUPS_Z(Mem{Base: src}, lo, x)
		VMOVUPS_Z(Mem{Base: src, Disp: 64}, hi, y)
		VMOVUPS(x, lo, Mem{Base: dst})
		VMOVUPS(y, hi, Mem{Base: dst, Disp: 64})
		ADDQ(lds, src)
		ADDQ(ldd, dst)
	})
	VZEROUPPER()
	RET()
}

// bytesToFloat emits dst[i] = float32(src[i]) / div: the pixels of a batch.
// The division is IEEE's, so the bits are those of the Go expression.
func bytesToFloat() {
	TEXT("bytesToFloatAVX512", NOSPLIT, "func(dst []float32, src []uint8, div float32)")
	Doc("bytesToFloatAVX512 sets dst[i] = float32(src[i]) / div; len(dst) = len(src), a multiple of 16.")
	ptrs, n := stream("dst", "src")
	dst, src := ptrs[0], ptrs[1]
	d := XMM()
	Load(Param("div"), d)
	div := ZMM()
	VBROADCASTSS(d, div)
	streamLoop("b2f", n, ptrs, []uint64{64, 16}, func() {
		x := ZMM()
		VPMOVZXBD(Mem{Base: src}, x)
		VCVTDQ2PS(x, x)
		VDIVPS(div, x, x)
		VMOVUPS(x, Mem{Base: dst})
	})
}

// bytesToFloatAVX2 emits dst[i] = float32(src[i]) / div in AVX2, 16 values
// an iteration. Without recip (bytesToFloatAVX2) by IEEE's division, so the
// bits are those of the Go expression (and of tensor's table of the 256
// quotients); with it (bytesToFloatFMAAVX2) as q + (x - q div) r with x =
// float32(src[i]), r = c[1] (1/div rounded), q = x r and both fused
// multiply-adds rounding once: the product corrected by its exact
// remainder, which is the quotient for nearly every x and div (tensor uses
// it only where it gives the table's bits for all 256 values).
func bytesToFloatAVX2(recip bool) {
	name, sig, doc := "bytesToFloatAVX2", "func(dst []float32, src []uint8, div float32)", "sets dst[i] = float32(src[i]) / div"
	if recip {
		name, sig, doc = "bytesToFloatFMAAVX2", "func(dst []float32, src []uint8, c *[2]float32)", "sets dst[i] to float32(src[i]) / c[0] through the reciprocal c[1] and one correction"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(name + " " + doc + "; len(dst) = len(src), a multiple of 16.")
	ptrs, n := stream("dst", "src")
	dst, src := ptrs[0], ptrs[1]
	var div, r VecVirtual
	if recip {
		c := scalars(2, func() VecVirtual { return YMM() })
		div, r = c[0], c[1]
	} else {
		d := XMM()
		Load(Param("div"), d)
		div = YMM()
		VBROADCASTSS(d, div)
	}
	streamLoop(strings.ToLower(name), n, ptrs, []uint64{64, 16}, func() {
		for i := range 2 {
			x := YMM()
			VPMOVZXBD(Mem{Base: src, Disp: 8 * i}, x)
			VCVTDQ2PS(x, x)
			if !recip {
				VDIVPS(div, x, x)
				VMOVUPS(x, Mem{Base: dst, Disp: 32 * i})
				continue
			}
			q := YMM()
			VMULPS(r, x, q)
			VFNMADD231PS(div, q, x) // x - q div
			VFMADD231PS(x, r, q)
			VMOVUPS(q, Mem{Base: dst, Disp: 32 * i})
		}
	})
}

// colSums emits the column sums of nv*16 columns: dst[j] = sum of
// g[i*ldg+j] over rows i, added in order from zero, so the bits are those
// of the Go loop; nv accumulators make nv independent chains of additions.
// colSums emits colSums<width><suffix>: nv vectors of lanes columns each,
// summed over the rows in order (the Go loop's additions).
func colSums(nv, lanes int, suffix string, vec func() VecVirtual) {
	name := fmt.Sprintf("colSums%d%s", lanes*nv, suffix)
	TEXT(name, NOSPLIT, "func(dst []float32, g []float32, ldg int, rows int)")
	Doc(fmt.Sprintf("%s sets dst[j] = the sum over i < rows of g[i*ldg+j], in order of i, for j < %d.", name, lanes*nv))
	dst := Load(Param("dst").Base(), GP64())
	g := Load(Param("g").Base(), GP64())
	ldg := stride("ldg")
	rows := Load(Param("rows"), GP64())
	acc := make([]VecVirtual, nv)
	for j := range acc {
		acc[j] = vec()
		VXORPS(acc[j], acc[j], acc[j])
	}
	countdown(name, rows, func() {
		for j := range acc {
			VADDPS(Mem{Base: g, Disp: 4 * lanes * j}, acc[j], acc[j])
		}
		ADDQ(ldg, g)
	})
	for j := range acc {
		VMOVUPS(acc[j], Mem{Base: dst, Disp: 4 * lanes * j})
	}
	VZEROUPPER()
	RET()
}

// countdown emits body n times, n a register counted down to zero (not at
// all when n is zero), between the labels name_loop and name_done.
func countdown(name string, n Register, body func()) {
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	body()
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
}

// stream loads the base pointers of the named slice parameters of an
// elementwise pass and the number of 16-element blocks of the first.
func stream(names ...string) (ptrs []Register, blocks Register) {
	return streamShift(4, names...)
}

// streamShift is stream with blocks of 2^shift elements.
func streamShift(shift int, names ...string) (ptrs []Register, blocks Register) {
	for _, nm := range names {
		ptrs = append(ptrs, Load(Param(nm).Base(), GP64()))
	}
	blocks = Load(Param(names[0]).Len(), GP64())
	SHRQ(Imm(uint64(shift)), blocks)
	return ptrs, blocks
}

// streamLoop emits body once per block, each pointer then advanced by its
// block's size in bytes, and ends the function.
func streamLoop(name string, blocks Register, ptrs []Register, sizes []uint64, body func()) {
	countdown(name, blocks, func() {
		body()
		for i, p := range ptrs {
			ADDQ(Imm(sizes[i]), p)
		}
	})
	VZEROUPPER()
	RET()
}

// prefetchAhead emits a PREFETCHW of the line 512 bytes ahead in each
// stream but the gradient's (which the backward pass hands over in the
// caches), for the AVX-512 passes: the weights and slots come from L3 (the
// step's 12 MB and more do not stay in L2 between steps) and are written
// back, and the L2 streamer stops at every 4 KiB page. Fetched for writing,
// a line comes in the state the pass's store wants; fetched for reading
// (PREFETCHT0), in most passes it cost more than it saved. Measured in
// BENCHMARKS.md (the share of the update, and the distance). Every CPU
// with AVX-512 has PREFETCHW.
func prefetchAhead(ptrs []Register, grad Register) {
	for _, p := range ptrs {
		if p != grad {
			prefetchWPlaceholder(Mem{Base: p, Disp: 512})
		}
	}
}

// prefetchWPlaceholder emits a PREFETCHT2 of m, which prefetchW rewrites
// into PREFETCHW's bytes (Go's assembler, and so avo, has no PREFETCHW
// mnemonic): nothing else emits PREFETCHT2. It requires PRFCHW, as the
// function's "Requires:" line says.
func prefetchWPlaceholder(m Mem) {
	i, err := x86.PREFETCHT2(m)
	if err != nil {
		panic(err)
	}
	i.ISA = []string{"PRFCHW"}
	Instruction(i)
}

// placeholder is a PREFETCHT2 line as avo writes it.
var placeholder = regexp.MustCompile(`(?m)^(\t)PREFETCHT2 +(-?\d*)\(([A-Z0-9]+)\)$`)

// prefetchW rewrites, in the assembly file at path, every PREFETCHT2
// placeholder into PREFETCHW's bytes, and fails if one is left.
func prefetchW(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var bad error
	b = placeholder.ReplaceAllFunc(b, func(line []byte) []byte {
		m := placeholder.FindSubmatch(line)
		var disp int64
		if len(m[2]) > 0 {
			if disp, err = strconv.ParseInt(string(m[2]), 10, 32); err != nil {
				bad = err
				return line
			}
		}
		enc, err := prefetchWBytes(string(m[3]), disp)
		if err != nil {
			bad = err
			return line
		}
		words := make([]string, len(enc))
		for i, x := range enc {
			words[i] = fmt.Sprintf("BYTE $0x%02x", x)
		}
		return []byte(fmt.Sprintf("%s%s // PREFETCHW %s(%s)", m[1], strings.Join(words, "; "), m[2], m[3]))
	})
	if bad != nil {
		return bad
	}
	if i := bytes.Index(b, []byte("PREFETCHT2")); i >= 0 {
		line := bytes.Count(b[:i], []byte("\n")) + 1
		return fmt.Errorf("prefetchW: %s:%d: a PREFETCHT2 placeholder of a form not rewritten", path, line)
	}
	return os.WriteFile(path, b, 0o644)
}

// prefetchWBytes encodes PREFETCHW disp(base), 0F 0D /1, for a 64-bit
// general register of Go's names.
func prefetchWBytes(base string, disp int64) ([]byte, error) {
	regs := []string{"AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"}
	r := -1
	for i, n := range regs {
		if n == base {
			r = i
		}
	}
	if r < 0 || disp < math.MinInt32 || disp > math.MaxInt32 {
		return nil, fmt.Errorf("prefetchW: cannot encode PREFETCHW %d(%s)", disp, base)
	}
	var enc []byte
	if r >= 8 {
		enc = append(enc, 0x41) // REX.B
	}
	mod := byte(0x80) // disp32
	if disp >= -128 && disp <= 127 {
		mod = 0x40 // disp8
	}
	enc = append(enc, 0x0f, 0x0d, mod|1<<3|byte(r&7))
	if r&7 == 4 { // SP, R12: a SIB byte, no index
		enc = append(enc, 0x24)
	}
	if mod == 0x40 {
		return append(enc, byte(int8(disp))), nil
	}
	return append(enc, byte(disp), byte(disp>>8), byte(disp>>16), byte(disp>>24)), nil
}

// stride loads the row stride parameter name, in floats, as bytes.
func stride(name string) Register {
	r := Load(Param(name), GP64())
	SHLQ(Imm(2), r)
	return r
}
