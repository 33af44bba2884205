package tensor

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// fma32 returns a·b + c rounded once to float32, as VFMADD231PS computes
// it. The product of two float32 is exact in float64; the sum's rounding
// error t is recovered exactly (TwoSum), and decides the one case where
// rounding the float64 sum to float32 would round twice: a sum exactly
// halfway between two float32.
//
// s, the exact sum rounded to float64 (math.FMA), rounds to the float32 of
// the exact sum unless it is itself halfway between two float32: no such
// halfway value (a float64) lies strictly between the exact sum and its
// nearest float64. Only then is t needed.
func fma32(a, b, c float32) float32 {
	s := math.FMA(float64(a), float64(b), float64(c))
	r := float32(s)
	if math.Float64bits(s)&(1<<29-1) != 1<<28 && (s >= 0x1p-126 || s <= -0x1p-126) {
		return r // not halfway: a float32-normal s halfway has 1 and 28 zeros past float32's bits
	}
	if float64(r) == s || math.IsInf(s, 0) || math.IsNaN(s) {
		return r
	}
	rf := float64(r)
	if math.IsInf(rf, 0) { // s on the overflow threshold: the tie is between MaxFloat32 and 2^128
		rf = math.Copysign(0x1p128, s)
	}
	o := math.Nextafter32(r, float32(math.Copysign(math.Inf(1), s-rf)))
	if s != (rf+float64(o))/2 {
		return r
	}
	p := float64(a) * float64(b)
	bv := s - p
	t := (p - (s - bv)) + (float64(c) - bv)
	if t == 0 {
		return r
	}
	if (t > 0) == (o > r) {
		return o
	}
	return r
}

// refGemmFMA is the product as the FMA kernels must compute it: every
// element of C one chain of float32 fused multiply-adds over p = 0..k-1 in
// order, from C when acc, else from zero.
func refGemmFMA(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) []float32 {
	out := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var s float32
			if acc {
				s = c[i*ldc+j]
			}
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				s = fma32(a[ai], b[bi], s)
			}
			out[i*n+j] = s
		}
	}
	return out
}

func TestFMA32(t *testing.T) {
	for _, c := range []struct{ a, b, c, want float32 }{
		{2, 3, 4, 10},
		{1, 1, 0x1p-24, 1},                     // exactly halfway, ties to even
		{1 + 0x1p-23, 1, 0x1p-24, 1 + 0x1p-22}, // halfway, to even upwards
		// 1·(1+2^-23) + 2^-24 + 2^-60 is just above halfway: rounding the
		// float64 sum (which drops 2^-60) to float32 would tie to even.
		{1 + 0x1p-23, 1 + 0x1p-36, 0x1p-24, 1 + 0x1p-22},
		// 1774001 · 38737 = 2^36 + 1: a·b = 2^-24 + 2^-60 and a·b + 1 is
		// just above halfway between 1 and 1+2^-23, but the float64 sum
		// drops 2^-60 and would tie to even, down to 1.
		{1774001 * 0x1p-30, 38737 * 0x1p-30, 1, 1 + 0x1p-23},
		{-1774001 * 0x1p-30, 38737 * 0x1p-30, -1, -1 - 0x1p-23},
		{1774001 * 0x1p-30, -38737 * 0x1p-30, 1 + 0x1p-22, 1 + 0x1p-23}, // just below halfway, down
		// The same tail past the tie between MaxFloat32 and 2^128 (the
		// overflow threshold, 2^128 - 2^103 = 1082401·31·2^103), and past a
		// tie between two subnormals.
		{1082401 * 0x1p80, 31 * 0x1p23, -0x1p-149, math.MaxFloat32},
		{-1082401 * 0x1p80, 31 * 0x1p23, 0x1p-149, -math.MaxFloat32},
		{1774001 * 0x1p-93, 38737 * 0x1p-93, 0x1p-127, 0x1p-127 + 0x1p-149},
	} {
		if got := fma32(c.a, c.b, c.c); got != c.want {
			t.Errorf("fma32(%g, %g, %g) = %g, want %g", c.a, c.b, c.c, got, c.want)
		}
	}
	// Against the exact sum rounded once (big.Float), for random operands
	// and for sums made to fall on, or next to, a halfway point between
	// two float32 (c cancels a·b's high part, leaving a tail near half an
	// ulp of the result).
	exact := func(a, b, c float32) float32 {
		f := new(big.Float).SetPrec(256).SetFloat64(float64(a))
		f.Mul(f, new(big.Float).SetFloat64(float64(b)))
		f.Add(f, new(big.Float).SetFloat64(float64(c)))
		r, _ := f.Float32()
		return r
	}
	rb := rand.New(rand.NewPCG(6, 6))
	for i := range 300000 {
		a := float32(rb.NormFloat64() * math.Exp2(float64(rb.IntN(30)-15)))
		b := float32(rb.NormFloat64() * math.Exp2(float64(rb.IntN(30)-15)))
		var c float32
		switch i % 3 {
		case 0:
			c = float32(rb.NormFloat64() * math.Exp2(float64(rb.IntN(60)-30)))
		case 1: // a·b's float32 part removed: the sum is the tail alone
			c = -float32(float64(a) * float64(b))
		default: // a halfway point of a larger value, plus a·b
			big := float32(1+rb.Float64()) * float32(math.Exp2(float64(rb.IntN(20))))
			c = big
			a = float32(math.Exp2(float64(rb.IntN(8)-30))) * float32(1+rb.IntN(8))
			b = 1 + float32(rb.IntN(4))/4
		}
		want := exact(a, b, c)
		if want == 0 {
			continue // zero sums are skipped: x + (-x) is +0 in big.Float, whatever the FMA's sign
		}
		if got := fma32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	// Against math.FMA where float64 rounding is exact in float32: small
	// integers.
	r := rand.New(rand.NewPCG(5, 5))
	for range 10000 {
		a, b, c := float32(r.IntN(4096)-2048), float32(r.IntN(4096)-2048), float32(r.IntN(1<<20)-1<<19)
		if got, want := fma32(a, b, c), float32(math.FMA(float64(a), float64(b), float64(c))); got != want {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
}

// TestGemmFMAChain checks the FMA kernels (AVX2, AVX-512) bit for bit
// against refGemmFMA: ragged shapes in every edge height and width,
// operands in place and packed (rows 4 KiB apart, or B for 96 rows and
// more), k across the k block and past kOuter (on one thread, in one block
// of rows and in two: 140 rows is past kOuterRows),
// with and without acc, one and two threads.
func TestGemmFMAChain(t *testing.T) {
	for _, kr := range allKernels() {
		if kr.name == "generic" || strings.HasPrefix(kr.name, avx512Twin.name) {
			continue // plain multiply and add
		}
		for _, threads := range []int{1, 2} {
			e := newEngine(threads, kr, genericSIMD)
			r := rand.New(rand.NewPCG(11, uint64(threads)))
			shapes := [][3]int{{128, 256, 100}, {104, 256, 40}, {32, 10, 300}, {13, 33, 257}, {1, 1, 1}, {7, 16, 9}, {96, 48, 784}, {16, 40, 513}, {100, 40, 1030}, {140, 40, 1030}}
			for h := 1; h <= kr.mr+1; h++ {
				shapes = append(shapes, [3]int{h, 2*kr.nr + 3, 37}, [3]int{kr.mr + h, kr.nr, 5}, [3]int{h, 8, 260})
			}
			for range 20 {
				shapes = append(shapes, [3]int{1 + r.IntN(70), 1 + r.IntN(70), 1 + r.IntN(300)})
			}
			for _, s := range shapes {
				m, n, k := s[0], s[1], s[2]
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					for _, ld := range []string{"tight", "aliasing"} {
						acc := r.IntN(2) == 0
						ar, ac, br, bc := m, k, k, n
						if tr[0] {
							ar, ac = k, m
						}
						if tr[1] {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+1, bc+3, n+2
						if ld == "aliasing" { // rows a multiple of 4 KiB apart: packed
							lda, ldb = (ac+1023)/1024*1024, (bc+1023)/1024*1024
						}
						a, b, c := randSlice(r, ar*lda), randSlice(r, br*ldb), randSlice(r, m*ldc)
						want := refGemmFMA(tr[0], tr[1], m, n, k, a, lda, b, ldb, c, ldc, acc)
						e.Gemm(tr[0], tr[1], m, n, k, a, lda, b, ldb, c, ldc, acc)
						for i := range m {
							for j := range n {
								if got, w := c[i*ldc+j], want[i*n+j]; math.Float32bits(got) != math.Float32bits(w) {
									t.Fatalf("%s threads=%d %dx%dx%d trans=%v %s acc=%v: C[%d,%d] = %g, want %g",
										kr.name, threads, m, n, k, tr, ld, acc, i, j, got, w)
								}
							}
						}
					}
				}
			}
			e.Close()
		}
	}
}
