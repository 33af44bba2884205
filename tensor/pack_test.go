package tensor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackers checks every kernel's packing of A and B, transposed and not,
// against the scalar loops of a kernel without vector packers, on shapes
// around the vector widths; the panels must match bit for bit, padding
// included.
func TestPackers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, kr := range allKernels() {
		plain := kernel{name: "scalar"}
		for _, k := range []int{0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 128, 257} {
			for _, trans := range []bool{false, true} {
				for _, w := range []int{1, 6, 8, 10, 12, 16, 32} {
					if w > 32 {
						continue
					}
					for _, used := range []int{w, w - 1} {
						if used < 1 {
							continue
						}
						ld := k + w + 5
						src := randSlice(r, (k+w+40)*ld)
						off := 3
						got, want := make([]float32, k*w), make([]float32, k*w)
						for i := range got {
							got[i], want[i] = -7, -7
						}
						kr.packA(got, trans, src, ld, off, used, w, k)
						plain.packA(want, trans, src, ld, off, used, w, k)
						if !slices.Equal(got, want) {
							t.Fatalf("%s packA trans=%v k=%d mr=%d rows=%d: %v, want %v", kr.name, trans, k, w, used, got, want)
						}
						kr.packB(got, trans, src, ld, off, used, w, k)
						plain.packB(want, trans, src, ld, off, used, w, k)
						if !slices.Equal(got, want) {
							t.Fatalf("%s packB trans=%v k=%d nr=%d cols=%d: %v, want %v", kr.name, trans, k, w, used, got, want)
						}
					}
				}
			}
		}
	}
}
