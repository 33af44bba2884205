package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// elementwiseInputs are awkward values for ELU: both signs of zero, tiny
// and huge magnitudes, the -87 clamp, and ordinary values.
func elementwiseInputs(n int) []float32 {
	r := rand.New(rand.NewPCG(9, 9))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, -1e-8, 1e-8, -0.3466, 0.3466, -1, 1, -5, -17, -25, -87, -88, -100, -1e30, 3e38, -3e38}
	x := make([]float32, n)
	for i := range x {
		if i < len(special) {
			x[i] = special[i]
		} else {
			x[i] = float32(r.NormFloat64() * 3)
		}
	}
	return x
}

// ulps returns the distance between a and b in units in the last place.
func ulps(a, b float32) int64 {
	if a != a || b != b { // NaN: as far as can be
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 != (ib < 0x80000000) {
		return int64(math.Abs(float64(a-b)) / 1.4e-45)
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

func TestBiasELUAgainstGeneric(t *testing.T) {
	for _, s := range simds() {
		for _, n := range []int{0, 1, 15, 16, 17, 31, 33, 256, 1000} {
			x := elementwiseInputs(n)
			bias := make([]float32, n)
			for i := range bias {
				bias[i] = float32(i%7) * 0.01
			}
			want := append([]float32(nil), x...)
			got := append([]float32(nil), x...)
			biasELUGeneric(want, bias)
			s.biasELU(got, bias)
			for i := range got {
				// The assembly's expm1 is within a few ulp of math.Expm1.
				if d := ulps(got[i], want[i]); d > 4 {
					t.Fatalf("n=%d: ELU(%g + %g) = %g, want %g (%d ulp)", n, x[i], bias[i], got[i], want[i], d)
				}
			}
		}
	}
}

func TestELUBackwardAndNadamBitIdentical(t *testing.T) {
	for _, s := range simds() {
		for _, n := range []int{0, 1, 16, 17, 100, 1025} {
			a := elementwiseInputs(n)
			for i := range a { // activations of ELU lie in (-1, inf)
				a[i] = float32(math.Max(float64(a[i]), -0.999))
				if a[i] != a[i] {
					a[i] = 0.5
				}
			}
			g1 := randSlice(rand.New(rand.NewPCG(1, uint64(n))), n)
			g2 := append([]float32(nil), g1...)
			eluBackwardGeneric(g1, a)
			s.eluBackward(g2, a)
			for i := range g1 {
				if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) {
					t.Fatalf("eluBackward n=%d [%d]: %g vs %g", n, i, g2[i], g1[i])
				}
			}

			r := rand.New(rand.NewPCG(2, uint64(n)))
			w1, g, m1, v1 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
			for i := range v1 {
				v1[i] = float32(math.Abs(float64(v1[i])))
			}
			w2, m2, v2 := append([]float32(nil), w1...), append([]float32(nil), m1...), append([]float32(nil), v1...)
			c := [9]float32{0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 0.002, 0.001, 1e-7}
			for range 3 {
				nadamGeneric(w1, g, m1, v1, &c)
				sc := nadamScalarsOf(c[:]...)
				s.nadam(w2, g, m2, v2, &sc.c)
			}
			for i := range w1 {
				if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || m1[i] != m2[i] || v1[i] != v2[i] {
					t.Fatalf("nadam n=%d [%d]: w %g vs %g", n, i, w2[i], w1[i])
				}
			}
		}
	}
}

func TestNadamThreadsBitIdentical(t *testing.T) {
	const n = 3*nadamChunk + 77
	var ws [][]float32
	for _, threads := range []int{1, 2, 3} {
		e := NewEngine(threads)
		r := rand.New(rand.NewPCG(3, 3))
		w, g, m, v := randSlice(r, n), randSlice(r, n), make([]float32, n), make([]float32, n)
		// Split into uneven tensors, as a model's kernels and biases are.
		var ts []NadamSlots
		for _, cut := range [][2]int{{0, 10}, {10, nadamChunk + 3}, {nadamChunk + 3, n}} {
			ts = append(ts, NadamSlots{w[cut[0]:cut[1]], g[cut[0]:cut[1]], m[cut[0]:cut[1]], v[cut[0]:cut[1]]})
		}
		e.Nadam(ts, NadamStep{0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 0.002, 0.001, 1e-7})
		e.Close()
		ws = append(ws, w)
	}
	ref := make([]float32, n)
	copy(ref, randSlice(rand.New(rand.NewPCG(3, 3)), n))
	g := randSlice(rand.New(rand.NewPCG(3, 3)), 2*n)[n:]
	nadamGeneric(ref, g, make([]float32, n), make([]float32, n), &[9]float32{0.1, 0.001, 0.45, 0.6, 0.55, 0.7, 0.002, 0.001, 1e-7})
	for i := range ws[0] {
		if ws[0][i] != ws[1][i] || ws[0][i] != ws[2][i] || ws[0][i] != ref[i] {
			t.Fatalf("element %d differs across thread counts", i)
		}
	}
}

// TestGatherBytes checks that every elementwise set converts every byte to
// exactly float32(v)/div, for a division by 255 and by a value whose
// quotients round differently, and that rows land in idx order at stride
// ldx with the padding untouched.
func TestGatherBytes(t *testing.T) {
	const features, ldx = 259, 275 // a tail past the vector width, a padded stride
	idx := []int{2, 0, 1, 2}
	src := make([]uint8, 3*features)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	for _, s := range simds() {
		for _, div := range []float32{255, 3.3} {
			e := newEngine(2, bestKernel(), s)
			dst := make([]float32, len(idx)*ldx)
			for i := range dst {
				dst[i] = -1
			}
			e.GatherBytes(dst, ldx, src, features, idx, div)
			e.Close()
			for r, row := range idx {
				for j := range ldx {
					want := float32(-1)
					if j < features {
						want = float32(src[row*features+j]) / div
					}
					if got := dst[r*ldx+j]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("div %g: row %d (sample %d) [%d] = %g, want %g", div, r, row, j, got, want)
					}
				}
			}
		}
	}
}

// byteDivisors are the divisors the byte conversion is checked with: the
// pixels' 255, quotients that round differently, scales at the ends of the
// float32 range (where 1/div is subnormal or infinite), zero, a negative
// one, infinity and NaN.
var byteDivisors = []float32{255, 3.3, 1, 7, 0.1, 128, 254.99998, 1e38, 3e38, 1e-38, 1e-39, 1e-45, 0, -255,
	float32(math.Inf(1)), float32(math.NaN())}

// TestBytesToFloatEveryValue checks that every elementwise set converts
// each of the 256 byte values to exactly float32(v)/div (worked here, not
// through the engine's table) for every divisor of byteDivisors, the
// values in every position of a vector block and in the tail.
func TestBytesToFloatEveryValue(t *testing.T) {
	src := make([]uint8, 3*256+13)
	for i := range src {
		src[i] = uint8(i*7 + i/256)
	}
	for _, sd := range simds() {
		for _, div := range byteDivisors {
			var s byteScale
			s.setDivisor(div, sd.bytesToFloatRecip)
			for _, lo := range []int{0, 1, 9} {
				dst := make([]float32, len(src)-lo)
				sd.bytesToFloat(dst, src[lo:], &s)
				for i, v := range src[lo:] {
					if want := float32(v) / div; math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("div %g: value %d converted to %g (%#x), want %g (%#x)", div, v, dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
					}
				}
			}
		}
	}
}

// TestColumnSums checks every elementwise set's column sums bit for bit
// against the Go loop (rows added in order), at widths around the vector
// blocks, with negative zeros, and that a short slice panics.
func TestColumnSums(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range simds() {
		e := newEngine(1, bestKernel(), s)
		for _, cols := range []int{0, 1, 8, 9, 10, 15, 16, 17, 63, 64, 65, 127, 128, 129, 256, 300} {
			for _, rows := range []int{0, 1, 5, 128} {
				g := randSlice(r, rows*cols)
				for i := 0; i < len(g); i += 7 {
					g[i] = float32(math.Copysign(0, -1))
				}
				want, got := make([]float32, cols), make([]float32, cols)
				for i := range got {
					got[i] = 99
				}
				colSumsGeneric(want, g, cols, rows)
				e.ColumnSums(got, g, rows)
				for j := range want {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%d x %d: column %d = %g, want %g", rows, cols, j, got[j], want[j])
					}
				}
			}
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("ColumnSums on a short slice did not panic")
				}
			}()
			e.ColumnSums(make([]float32, 16), make([]float32, 16*3-1), 3)
		}()
		e.Close()
	}
}

// TestParallelELUBitIdentical checks the ELU passes spread over 1 to 3
// workers against the serial loop of the same kernel, bit for bit, on
// shapes that leave partial tasks (rows not a multiple of a task's rows,
// lengths not a multiple of eluChunk).
func TestParallelELUBitIdentical(t *testing.T) {
	shapes := [][2]int{{1, 1}, {3, 7}, {17, 257}, {129, 33}, {5, eluChunk + 3}, {1, 3 * eluChunk}, {200, 31}}
	for threads := 1; threads <= 3; threads++ {
		e := NewEngine(threads)
		for _, sh := range shapes {
			rows, cols := sh[0], sh[1]
			x := elementwiseInputs(rows * cols)
			bias := elementwiseInputs(cols + 5)[5:]
			for i := range bias {
				bias[i] *= 0.1
			}
			want := append([]float32(nil), x...)
			for i := range rows {
				e.simd.biasELU(want[i*cols:(i+1)*cols], bias)
			}
			got := append([]float32(nil), x...)
			e.BiasELU(got, bias, rows)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("BiasELU %d threads %dx%d [%d]: %g, serial %g", threads, rows, cols, i, got[i], want[i])
				}
			}

			a := want
			for i := range a {
				if a[i] != a[i] {
					a[i] = 0.5
				}
			}
			g1 := randSlice(rand.New(rand.NewPCG(3, uint64(rows*cols))), rows*cols)
			g2 := append([]float32(nil), g1...)
			e.simd.eluBackward(g1, a)
			e.ELUBackward(g2, a)
			for i := range g1 {
				if math.Float32bits(g1[i]) != math.Float32bits(g2[i]) {
					t.Fatalf("ELUBackward %d threads n=%d [%d]: %g, serial %g", threads, rows*cols, i, g2[i], g1[i])
				}
			}
		}
		e.Close()
	}
}

// BenchmarkBiasELU times one 256-wide bias+ELU pass over a 128-row batch (the
// exercise's hidden layer), z ~ N(0, 1), in each kernel set, one thread.
func BenchmarkBiasELU(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	bias := randSlice(r, 256)
	x0 := randSlice(r, 128*256)
	x := make([]float32, len(x0))
	for i, s := range simds() {
		b.Run([]string{"go", "avx2", "avx512"}[i], func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for range b.N {
				copy(x, x0)
				for row := range 128 {
					s.biasELU(x[row*256:(row+1)*256], bias)
				}
			}
		})
	}
}

// BenchmarkGatherBytes times the exercise's batch gather (128 random rows
// of 3072 pixels out of 5000, converted by /255) with each elementwise set
// (the Go set converts through the table), on one and two threads.
func BenchmarkGatherBytes(b *testing.B) {
	const features, samples, batch = 3072, 5000, 128
	r := rand.New(rand.NewPCG(4, 5))
	x := make([]uint8, samples*features)
	for i := range x {
		x[i] = uint8(r.Uint32())
	}
	idx := make([]int, batch)
	dst := make([]float32, batch*features)
	for i, s := range simds() {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%d", []string{"go", "avx2", "avx512"}[i], threads), func(b *testing.B) {
				e := newEngine(threads, bestKernel(), s)
				defer e.Close()
				b.SetBytes(features * batch)
				for b.Loop() {
					for j := range idx {
						idx[j] = r.IntN(samples)
					}
					e.GatherBytes(dst, features, x, features, idx, 255)
				}
			})
		}
	}
}
