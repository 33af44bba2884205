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

// TestAdamKernelsBitIdentical: every Adam kernel this CPU runs gives the
// Go loop's bits, tails included.
func TestAdamKernelsBitIdentical(t *testing.T) {
	for _, s := range simds() {
		for _, n := range []int{0, 1, 7, 8, 9, 100, 1025} {
			r := rand.New(rand.NewPCG(3, uint64(n)))
			w1, g, m1, v1 := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
			for i := range v1 {
				v1[i] = float32(math.Abs(float64(v1[i])))
			}
			w2, m2, v2 := append([]float32(nil), w1...), append([]float32(nil), m1...), append([]float32(nil), v1...)
			c := [4]float32{0.00031, 0.1, 0.001, 1e-7}
			for range 3 {
				adamGeneric(w1, g, m1, v1, &c)
				s.adam(w2, g, m2, v2, &c)
			}
			for i := range w1 {
				if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || m1[i] != m2[i] || v1[i] != v2[i] {
					t.Fatalf("adam n=%d [%d]: w %g vs %g", n, i, w2[i], w1[i])
				}
			}
		}
	}
}
