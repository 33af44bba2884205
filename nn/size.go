package nn

import (
	"fmt"

	"github.com/cifarnet/cifarnet/internal/memlimit"
)

// Size is what a model description asks for, read from its input shape
// and its layers' configs without building anything, and counted in
// float64 so that no description can overflow it: a description of
// billions of units is refused before any of it is allocated.
type Size struct {
	// Inputs is the number of values of one input sample.
	Inputs float64
	// Variables counts the values of every variable: kernels, biases,
	// normalization statistics.
	Variables float64
	// Units counts the values of one sample's activations: the sum of the
	// layers' output widths.
	Units float64
}

// Size reads c's size. A layer field it cannot read counts as nothing
// (Build reports it).
func (c ModelConfig) Size() Size {
	s := Size{Inputs: 1}
	for _, d := range c.InputShape {
		s.Inputs *= max(float64(d), 1)
	}
	w := s.Inputs
	for _, l := range c.Layers {
		switch l.ClassName {
		case "Dense":
			u, ok := toFloat(l.Config["units"])
			if !ok || u < 1 {
				continue
			}
			s.Variables += w * u
			if b, ok := l.Config["use_bias"].(bool); !ok || b {
				s.Variables += u
			}
			w = u
		case "BatchNormalization":
			s.Variables += 4 * w // gamma, beta, moving mean and variance
		case "Normalization":
			s.Variables += 2*w + 1 // mean, variance, count
		}
		s.Units += w
	}
	return s
}

// BuildBytes is the memory building a model of size s may take: every
// variable's values and its gradient, twice over, since a model built may
// not be collected before the next is (a run's model and its restored
// best, a model loaded to replace another).
func (s Size) BuildBytes() float64 { return 2 * 2 * 4 * s.Variables }

// checkBuild refuses to build a model that cannot fit in the avail bytes
// this process may still use.
func (s Size) checkBuild(avail int64) error {
	if need := s.BuildBytes(); need > float64(avail) {
		return fmt.Errorf("the model's %.0f weights need about %s of memory to build (values and gradients, and room for a second model), more than the %s available",
			s.Variables, memlimit.Words(need), memlimit.Words(float64(avail)))
	}
	return nil
}
