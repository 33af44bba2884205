//go:build amd64 && !purego

package tensor

import (
	"math"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestBytesToFloatAVX2Paths checks both AVX2 conversions on the 256 byte
// values against float32(v)/div: the division's always, and the
// reciprocal's corrected product exactly where setDivisor accepts it; that
// it accepts it for 255 (the pixels' divisor) and for the divisors in
// [1, 2) at a stride of 997 through its 2^23 (the correction is exact for
// 8-bit numerators away from the range's ends; TestBytesToFloatFMAEveryDivisor
// takes every one), and that it falls back to the
// division for a zero or subnormal divisor (the quotients overflow, or the
// reciprocal).
func TestBytesToFloatAVX2Paths(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2")
	}
	divs := append([]float32(nil), byteDivisors...)
	for bits := uint32(0x3f800000); bits < 0x40000000; bits += 997 {
		divs = append(divs, math.Float32frombits(bits))
	}
	dst := make([]float32, 256)
	for _, div := range divs {
		var s byteScale
		s.setDivisor(div, bytesToFloatFMAAVX2)
		bytesToFloatAVX2(dst, everyByte[:], div)
		for v, q := range dst {
			if want := float32(v) / div; math.Float32bits(q) != math.Float32bits(want) {
				t.Fatalf("division by %g: value %d gives %g, want %g", div, v, q, want)
			}
		}
		bytesToFloatFMAAVX2(dst, everyByte[:], &s.c)
		exact := true
		for v, q := range dst {
			exact = exact && math.Float32bits(q) == math.Float32bits(float32(v)/div)
		}
		// setDivisor's own comparison: this checks that it is wired to
		// the kernel; the assertions below carry the claims.
		if exact != s.recip {
			t.Fatalf("div %g: the corrected product is exact for every value: %v, but setDivisor says %v", div, exact, s.recip)
		}
		if finite := div >= 1 && div < 2 || div == 255; finite && !s.recip {
			t.Errorf("div %g: the reciprocal's corrected product is not exact", div)
		}
		if tiny := div == 0 || math.Abs(float64(div)) < 0x1p-126; tiny && s.recip {
			t.Errorf("div %g: the quotients or the reciprocal overflow, yet setDivisor accepts the corrected product", div)
		}
	}
}

// TestBytesToFloatFMAEveryDivisor checks the reciprocal's corrected
// product against the division (checked above against Go's quotients) on
// the 256 byte values for every divisor in [1, 2), all 2^23 of them: the
// claim that setDivisor accepts every one.
func TestBytesToFloatFMAEveryDivisor(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2")
	}
	if testing.Short() {
		t.Skip("2^23 divisors (a few seconds)")
	}
	var q, want [256]float32
	for bits := uint32(0x3f800000); bits < 0x40000000; bits++ {
		div := math.Float32frombits(bits)
		c := [2]float32{div, 1 / div}
		bytesToFloatFMAAVX2(q[:], everyByte[:], &c)
		bytesToFloatAVX2(want[:], everyByte[:], div)
		if q != want {
			t.Fatalf("div %g: the corrected product differs from the quotient", div)
		}
	}
}
