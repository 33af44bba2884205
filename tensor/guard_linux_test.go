package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"
)

// guard hands out slices that touch a page which can be neither read nor
// written: a slice ends right before such a page (end) or begins right
// after one. A kernel that reads or writes one element past the end (or
// before the start) then faults and the test binary dies, where on
// ordinary memory the assembly would go on unseen.
type guard struct {
	t   *testing.T
	end bool
}

func (g guard) bytes(n int) []byte {
	page := os.Getpagesize()
	size := (n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		g.t.Fatalf("mmap: %v", err)
	}
	g.t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		g.t.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[page+size:], syscall.PROT_NONE); err != nil {
		g.t.Fatalf("mprotect: %v", err)
	}
	if g.end {
		return mem[page+size-n : page+size : page+size]
	}
	return mem[page : page+n : page+n]
}

// f32 returns a guarded copy of x.
func (g guard) f32(x []float32) []float32 {
	b := g.bytes(4 * len(x))
	if len(x) == 0 {
		return []float32{}
	}
	s := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(x))
	copy(s, x)
	return s
}

// TestKernelsStayInBounds runs this CPU's elementwise kernels (every
// optimizer rule, fused with every option and alone; the option passes;
// bias+ELU, ELU backward, column sums, the pixel conversion) and Gemm at
// ragged lengths on guarded memory, each slice ending at an unreadable
// page and then beginning at one, and compares their results with the Go
// twins' on ordinary memory.
func TestKernelsStayInBounds(t *testing.T) {
	lengths := []int{1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 100, 257}
	for _, end := range []bool{true, false} {
		where := map[bool]string{true: "ending at", false: "beginning at"}[end]
		for si, s := range simds() {
			for _, n := range lengths {
				// Each case a subtest: its pages are unmapped when it ends
				// (tens of thousands at once would near the kernel's limit
				// of mappings).
				t.Run(fmt.Sprintf("set%d/%d/%s", si, n, where), func(t *testing.T) {
					defer faultsFail(t)()
					elementwiseInBounds(t, guard{t, end}, s, n, where)
				})
			}
		}
		for _, kr := range allKernels() {
			t.Run(fmt.Sprintf("gemm/%s/%s", kr.name, where), func(t *testing.T) {
				defer faultsFail(t)()
				gemmInBounds(t, guard{t, end}, kr)
			})
		}
	}
}

// faultsFail makes a fault of the calling goroutine (an assembly kernel
// touching a guard page) a panic, which the returned function, deferred,
// turns into the test's failure, naming the case.
func faultsFail(t *testing.T) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			t.Fatalf("fault: %v", r)
		}
	}
}

// elementwiseInBounds checks the kernels of set s at length n on guarded
// memory against the Go twins on ordinary memory.
func elementwiseInBounds(t *testing.T, g guard, s simd, n int, where string) {
	rnd := rand.New(rand.NewPCG(31, uint64(n)))
	what := func(f string) string { return fmt.Sprintf("%s, %d values %s a guard page", f, n, where) }
	for _, r := range withOptionsRules() {
		for _, o := range []Options{{}, {Clip: ClipNorm, C: 1.5, D: 3.25, Decay: true, WD: 0.004, LR: 0.001, EMA: true, M: 0.99, OM: 1 - float32(0.99)}} {
			vals := make([][]float32, 3+r.slots) // w, g, the average, the slots
			for i := range vals {
				vals[i] = randSlice(rnd, n)
			}
			for _, x := range vals[3:] {
				for i := range x {
					x[i] = float32(math.Abs(float64(x[i])))
				}
			}
			var ws WithOptions
			r.set(&ws, o)
			run := func(set simd, copyOf func([]float32) []float32) [][]float32 {
				out := make([][]float32, len(vals))
				for i, x := range vals {
					out[i] = copyOf(x)
				}
				var slots [3][]float32
				copy(slots[:], out[3:])
				a := out[2]
				if !o.EMA {
					a = nil
				}
				r.fused(set, out[0], out[1], slots, a, &ws)
				r.pass(set, out[0], out[1], slots)
				return out
			}
			want, got := run(genericSIMD, func(x []float32) []float32 { return append([]float32(nil), x...) }), run(s, g.f32)
			for i := range want {
				sameBits(t, what(fmt.Sprintf("%s (options %v) slice %d", r.name, o.Clip != 0, i)), n, want[i], got[i])
			}
		}
	}
	x, y := randSlice(rnd, n), randSlice(rnd, n)
	type pass struct {
		name string
		fn   func(set simd, x, y []float32)
	}
	for _, p := range []pass{
		{"bias+ELU", func(set simd, x, y []float32) { set.biasELU(x, y) }},
		{"ELU backward", func(set simd, x, y []float32) {
			for i := range y {
				y[i] = float32(math.Max(float64(y[i]), -0.999))
			}
			set.eluBackward(x, y)
		}},
		{"scale", func(set simd, x, _ []float32) { set.scale(x, 0.37) }},
		{"clip by norm", func(set simd, x, _ []float32) { set.clipByNorm(x, 1.5, 3.25) }},
		{"clip by value", func(set simd, x, _ []float32) { set.clipByValue(x, -0.5, 0.5) }},
		{"decay", func(set simd, x, _ []float32) { set.decayWeights(x, 0.004, 0.001) }},
		{"moving average", func(set simd, x, y []float32) { set.movingAverage(x, y, 0.99, 1-float32(0.99)) }},
		{"squares' sum", func(set simd, x, _ []float32) { x[0] = float32(set.sumSquares(x)) }},
		{"column sums", func(set simd, x, y []float32) { // y as 1 row, and as rows of 1
			set.colSums(x, y, n, 1)
			set.colSums(x[:1], y, 1, n)
		}},
	} {
		wx, wy := append([]float32(nil), x...), append([]float32(nil), y...)
		gx, gy := g.f32(x), g.f32(y)
		p.fn(genericSIMD, wx, wy)
		p.fn(s, gx, gy)
		if p.name == "bias+ELU" { // the AVX-512 expm1 is a few ulp from math.Expm1's
			for i := range wx {
				if d := ulps(gx[i], wx[i]); d > 4 {
					t.Fatalf("%s: [%d] = %g, want %g", what(p.name), i, gx[i], wx[i])
				}
			}
			continue
		}
		sameBits(t, what(p.name), n, wx, gx)
		sameBits(t, what(p.name), n, wy, gy)
	}
	src := g.bytes(n)
	for i := range src {
		src[i] = uint8(rnd.IntN(256))
	}
	var bs byteScale
	bs.setDivisor(255, s.bytesToFloatRecip)
	want, got := make([]float32, n), g.f32(make([]float32, n))
	bytesToFloatGeneric(want, src, &bs)
	s.bytesToFloat(got, src, &bs)
	sameBits(t, what("pixel conversion"), n, want, got)
}

// gemmInBounds runs Gemm with every operand guarded, in the shapes whose
// panels and tiles end ragged, and whole ones (so the last tile of AVX2's
// loop over row panels ends at the guard, one k block and several), A's
// rows also 1024 floats apart (packed).
func gemmInBounds(t *testing.T, g guard, kr kernel) {
	e := newEngine(1, kr, genericSIMD)
	defer e.Close()
	r := rand.New(rand.NewPCG(9, 9))
	for _, sh := range [][3]int{{5, 13, 7}, {13, 14, 9}, {25, 33, 17}, {7, 10, 300}, {260, 15, 37}, {128, 10, 256}, {33, 256, 20}, {36, 32, 20}, {12, 16, 300}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			m, n, k := sh[0], sh[1], sh[2]
			tightGemmCase(t, e, g.f32, r, tr[0], tr[1], m, n, k, false)
			if m <= 64 && (!tr[0] || k <= 64) {
				tightGemmCase(t, e, g.f32, r, tr[0], tr[1], m, n, k, true)
			}
		}
	}
}
