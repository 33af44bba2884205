package train

import (
	"math/rand/v2"
	"slices"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/nn"
)

// EpochFLOPs returns the floating-point operations of one epoch of Fit on
// arch: per training sample a forward product (2·in·out per layer), the
// kernel gradient (the same) and the input gradient of every layer but the
// first; per validation sample a forward product. Elementwise work is not
// counted.
func EpochFLOPs(arch nn.Architecture, train, val int) float64 {
	var fwd, dx float64
	in := arch.Inputs
	for i, out := range append(slices.Clone(arch.Hidden), arch.Classes) {
		fwd += 2 * float64(in*out)
		if i > 0 {
			dx += 2 * float64(in*out)
		}
		in = out
	}
	return float64(train)*(2*fwd+dx) + float64(val)*fwd
}

// SyntheticData returns n training and nTest test images of the shape and
// classes info describes, of uniform random pixels and labels, for timing
// epochs larger than the data at hand.
func SyntheticData(info dataset.Info, n, nTest int, seed uint64) *dataset.Data {
	r := rand.New(rand.NewPCG(seed, 0x73796e74))
	mk := func(n int) *dataset.Set {
		s := &dataset.Set{Shape: info.Shape, Pixels: make([]uint8, n*info.Features()), Labels: make([]uint8, n)}
		for i := range s.Pixels {
			s.Pixels[i] = uint8(r.IntN(256))
		}
		for i := range s.Labels {
			s.Labels[i] = uint8(r.IntN(info.NumClasses()))
		}
		return s
	}
	return &dataset.Data{Info: info, Train: mk(n), Test: mk(nTest), Source: "synthetic"}
}
