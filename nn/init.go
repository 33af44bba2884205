package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// An Initializer fills a kernel of shape fanIn x fanOut, following Keras 3's
// VarianceScaling family.
type Initializer func(r *rand.Rand, w []float32, fanIn, fanOut int)

// truncatedNormalScale corrects the standard deviation of a normal truncated
// at two standard deviations back to the requested one (Keras 3's constant:
// the sd of a standard normal truncated to [-2, 2]).
const truncatedNormalScale = 0.87962566103423978

var initializers = map[string]Initializer{
	"he_normal":      varianceScaling(2, fanInMode, truncatedNormal),
	"he_uniform":     varianceScaling(2, fanInMode, uniform),
	"glorot_normal":  varianceScaling(1, fanAvgMode, truncatedNormal),
	"glorot_uniform": varianceScaling(1, fanAvgMode, uniform),
	"lecun_normal":   varianceScaling(1, fanInMode, truncatedNormal),
	"lecun_uniform":  varianceScaling(1, fanInMode, uniform),
}

// InitializerNames lists the initializers LookupInitializer accepts.
func InitializerNames() []string {
	names := make([]string, 0, len(initializers))
	for n := range initializers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupInitializer returns the kernel initializer with the given Keras name.
func LookupInitializer(name string) (Initializer, error) {
	f, ok := initializers[name]
	if !ok {
		return nil, fmt.Errorf("unknown initializer %q (want one of %v)", name, InitializerNames())
	}
	return f, nil
}

type fanMode int

const (
	fanInMode fanMode = iota
	fanAvgMode
)

type distribution int

const (
	truncatedNormal distribution = iota
	uniform
)

// varianceScaling is keras.initializers.VarianceScaling: variance
// scale/n with n = fan_in or (fan_in+fan_out)/2.
func varianceScaling(scale float64, mode fanMode, dist distribution) Initializer {
	return func(r *rand.Rand, w []float32, fanIn, fanOut int) {
		n := float64(fanIn)
		if mode == fanAvgMode {
			n = float64(fanIn+fanOut) / 2
		}
		variance := scale / max(1, n)
		switch dist {
		case truncatedNormal:
			sd := math.Sqrt(variance) / truncatedNormalScale
			for i := range w {
				w[i] = float32(sd * truncNorm(r))
			}
		case uniform:
			limit := math.Sqrt(3 * variance)
			for i := range w {
				w[i] = float32(limit * (2*r.Float64() - 1))
			}
		}
	}
}

// truncNorm draws a standard normal conditioned on |x| <= 2, by rejection
// (the same distribution as tf.random.truncated_normal).
func truncNorm(r *rand.Rand) float64 {
	for {
		if x := r.NormFloat64(); math.Abs(x) <= 2 {
			return x
		}
	}
}
