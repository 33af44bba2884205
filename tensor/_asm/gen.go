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

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!purego")
	kernel("kernelAVX512", 12, 2, 16, func() VecVirtual { return ZMM() })
	kernel("kernelAVX2", 6, 2, 8, func() VecVirtual { return YMM() })
	Generate()
}

// kernel emits a micro-kernel of mr rows and nv vectors of lanes columns.
func kernel(name string, mr, nv, lanes int, vec func() VecVirtual) {
	TEXT(name, NOSPLIT, "func(k int, a, b, c []float32, ldc int, acc bool)")
	Doc(fmt.Sprintf("%s computes the %dx%d tile c = a·b (c += a·b when acc) from packed panels a (k*%d) and b (k*%d); c rows are ldc apart.",
		name, mr, nv*lanes, mr, nv*lanes))
	k := Load(Param("k"), GP64())
	a := Load(Param("a").Base(), GP64())
	b := Load(Param("b").Base(), GP64())

	tile := make([][]VecVirtual, mr)
	for i := range tile {
		tile[i] = make([]VecVirtual, nv)
		for j := range tile[i] {
			tile[i][j] = vec()
			VXORPS(tile[i][j], tile[i][j], tile[i][j])
		}
	}

	Comment("for p := 0; p < k; p++: tile += a[p*MR:][:MR] ⊗ b[p*NR:][:NR]")
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
		VBROADCASTSS(Mem{Base: a, Disp: 4 * i}, ai)
		for j := range nv {
			VFMADD231PS(bv[j], ai, tile[i][j])
		}
	}
	ADDQ(Imm(uint64(4*mr)), a)
	ADDQ(Imm(uint64(4*lanes*nv)), b)
	DECQ(k)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_store")
	c := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc) // elements to bytes
	accFlag := Load(Param("acc"), GP8())
	row := GP64()
	TESTB(accFlag, accFlag)
	JZ(LabelRef(name + "_write"))
	Comment("acc: add the existing tile of C")
	MOVQ(c, row)
	for i := range mr {
		for j := range nv {
			VADDPS(Mem{Base: row, Disp: 4 * lanes * j}, tile[i][j], tile[i][j])
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	Label(name + "_write")
	MOVQ(c, row)
	for i := range mr {
		for j := range nv {
			VMOVUPS(tile[i][j], Mem{Base: row, Disp: 4 * lanes * j})
		}
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}
	VZEROUPPER()
	RET()
}
