package tensor

import "testing"

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
