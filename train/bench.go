package train

import (
	"math/rand/v2"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/nn"
)

// EpochFLOPs returns the floating-point operations of one epoch of Fit on
// m: per training sample a forward product (2·in·out per Dense layer), the
// kernel gradient (the same) and the input gradient of every Dense layer
// but the first; per validation sample a forward product. Elementwise work
// (activations, normalization, dropout) is not counted.
func EpochFLOPs(m *nn.Sequential, train, val int) float64 {
	var fwd, dx float64
	first := true
	for _, l := range m.Layers {
		d, ok := l.(*nn.Dense)
		if !ok {
			continue
		}
		fwd += 2 * float64(d.In*d.Out)
		if !first {
			dx += 2 * float64(d.In*d.Out)
		}
		first = false
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
