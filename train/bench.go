package train

import (
	"math/rand/v2"
	"slices"

	"github.com/cifarnet/cifarnet/cifar10"
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

// SyntheticData returns n training and nTest test images of uniform random
// pixels and labels, for timing epochs larger than the data at hand.
func SyntheticData(n, nTest int, seed uint64) *cifar10.Data {
	r := rand.New(rand.NewPCG(seed, 0x73796e74))
	mk := func(n int) *cifar10.Set {
		s := &cifar10.Set{Pixels: make([]uint8, n*cifar10.Features), Labels: make([]uint8, n)}
		for i := range s.Pixels {
			s.Pixels[i] = uint8(r.IntN(256))
		}
		for i := range s.Labels {
			s.Labels[i] = uint8(r.IntN(cifar10.NumClasses))
		}
		return s
	}
	return &cifar10.Data{Train: mk(n), Test: mk(nTest), Source: "synthetic"}
}
