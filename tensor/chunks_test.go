package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestForChunksCoversEveryElementOnce: every element of every tensor is
// visited exactly once, in chunks of at most ChunkSize, at any thread count.
func TestForChunksCoversEveryElementOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 5} {
		e := NewEngine(threads)
		lens := []int{0, 1, ChunkSize, ChunkSize + 1, 3*ChunkSize - 7}
		seen := make([][]int32, len(lens))
		for k, n := range lens {
			seen[k] = make([]int32, n)
		}
		e.ForChunks(lens, func(k, lo, hi int) {
			if hi-lo > ChunkSize || lo >= hi {
				t.Errorf("chunk [%d, %d) of tensor %d", lo, hi, k)
			}
			for i := lo; i < hi; i++ {
				seen[k][i]++
			}
		})
		e.Close()
		for k := range seen {
			for i, c := range seen[k] {
				if c != 1 {
					t.Fatalf("%d threads: tensor %d element %d visited %d times", threads, k, i, c)
				}
			}
		}
	}
}

// TestOptimizerKernelsBitIdentical: every optimizer pass this CPU runs
// gives its Go twin's bits, tails included, over three steps.
func TestOptimizerKernelsBitIdentical(t *testing.T) {
	type pass struct {
		name string
		run  func(s simd, w, g, a, b []float32, c *[4]float32)
		c    [4]float32
		odd  bool // also a zero and a NaN direction (Lion's sign)
	}
	passes := []pass{
		{"adam", func(s simd, w, g, a, b []float32, c *[4]float32) { s.adam(w, g, a, b, c) }, [4]float32{0.00031, 0.1, 0.001, 1e-7}, false},
		{"rmsprop", func(s simd, w, g, a, _ []float32, c *[4]float32) { s.rmsprop(w, g, a, c) }, [4]float32{0.9, 0.1, 0.001, 1e-7}, false},
		{"adagrad", func(s simd, w, g, a, _ []float32, c *[4]float32) { s.adagrad(w, g, a, c) }, [4]float32{0.001, 1e-7}, false},
		{"adadelta", func(s simd, w, g, a, b []float32, c *[4]float32) { s.adadelta(w, g, a, b, c) }, [4]float32{0.95, 0.05, 0.001, 1e-7}, false},
		{"lion", func(s simd, w, g, a, _ []float32, c *[4]float32) {
			s.lion(w, g, a, &[8]float32{c[0], c[1], 1 - c[1], c[2], 1 - c[2]})
		}, [4]float32{0.001, 0.9, 0.99}, true},
		{"adamax", func(s simd, w, g, a, b []float32, c *[4]float32) {
			s.adamax(w, g, a, b, &[8]float32{c[0], c[1], c[2], c[3], 1e-7})
		}, [4]float32{0.001, 0.1, 0.999, 0.271}, true},
	}
	for _, p := range passes {
		for _, s := range simds() {
			for _, n := range []int{0, 1, 7, 8, 9, 100, 1025} {
				r := rand.New(rand.NewPCG(3, uint64(n)))
				w1, g, a1, b1 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
				for i := range a1 { // second moments and accumulators are >= 0
					a1[i], b1[i] = float32(math.Abs(float64(a1[i]))), float32(math.Abs(float64(b1[i])))
				}
				if p.odd && n > 20 {
					g[3], a1[3] = 0, 0
					g[17] = float32(math.NaN())
				}
				w2, a2, b2 := append([]float32(nil), w1...), append([]float32(nil), a1...), append([]float32(nil), b1...)
				c := p.c
				for range 3 {
					p.run(genericSIMD, w1, g, a1, b1, &c)
					p.run(s, w2, g, a2, b2, &c)
				}
				for i := range w1 {
					if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || math.Float32bits(a1[i]) != math.Float32bits(a2[i]) || math.Float32bits(b1[i]) != math.Float32bits(b2[i]) {
						t.Fatalf("%s n=%d [%d]: w %x vs %x, a %x vs %x, b %x vs %x", p.name, n, i, math.Float32bits(w2[i]), math.Float32bits(w1[i]), math.Float32bits(a2[i]), math.Float32bits(a1[i]), math.Float32bits(b2[i]), math.Float32bits(b1[i]))
					}
				}
			}
		}
	}
}

// TestRMSpropFullKernelsBitIdentical: RMSprop centered, with momentum and
// both, in every kernel this CPU runs, gives its Go twin's bits, tails
// included, over three steps.
func TestRMSpropFullKernelsBitIdentical(t *testing.T) {
	c := [8]float32{0.9, 0.1, 0.001, 1e-7, 0.9}
	for _, form := range [][2]bool{{true, false}, {false, true}, {true, true}} {
		for _, s := range simds() {
			for _, n := range []int{0, 1, 7, 8, 9, 100, 1025} {
				r := rand.New(rand.NewPCG(5, uint64(n)))
				w1, g, v1, a1, b1 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
				for i := range v1 { // v >= a² keeps the root real
					v1[i] = float32(math.Abs(float64(v1[i]))) + a1[i]*a1[i]
				}
				w2, v2 := append([]float32(nil), w1...), append([]float32(nil), v1...)
				a2, b2 := append([]float32(nil), a1...), append([]float32(nil), b1...)
				if !form[0] {
					a1, a2 = nil, nil
				}
				if !form[1] {
					b1, b2 = nil, nil
				}
				for range 3 {
					genericSIMD.rmspropFull(w1, g, v1, a1, b1, &c)
					s.rmspropFull(w2, g, v2, a2, b2, &c)
				}
				for i := range w1 {
					same := math.Float32bits(w1[i]) == math.Float32bits(w2[i]) && v1[i] == v2[i]
					if a1 != nil {
						same = same && a1[i] == a2[i]
					}
					if b1 != nil {
						same = same && b1[i] == b2[i]
					}
					if !same {
						t.Fatalf("rmsprop %v n=%d [%d]: w %g vs %g", form, n, i, w2[i], w1[i])
					}
				}
			}
		}
	}
}
