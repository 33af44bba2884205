package optim

import (
	"strings"
	"testing"
)

// TestPiecewiseBounded: a schedule of a million boundaries is refused (the
// checkpoint, model.json and metrics.json all record them: a 40-step run
// took 11 s and 440 MB), an unordered one names the two boundaries, not
// the whole list, and the rate at each step is the first value whose
// boundary the step does not pass, as Keras's, found by a search.
func TestPiecewiseBounded(t *testing.T) {
	n := MaxBoundaries + 1
	s := PiecewiseConstantDecay{make([]float64, n), make([]float64, n+1)}
	for i := range s.Boundaries {
		s.Boundaries[i] = float64(i + 1)
		s.Values[i] = 1
	}
	s.Values[n] = 1
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("%d boundaries: %v", n, err)
	}
	s.Boundaries, s.Values = s.Boundaries[:MaxBoundaries], s.Values[:MaxBoundaries+1]
	s.Boundaries[5000] = 3
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "boundaries 5000 then 3 (at 5000)") || len(err.Error()) > 200 {
		t.Errorf("unordered: %.300v", err)
	}
	p := PiecewiseConstantDecay{[]float64{2, 5.5, 9}, []float64{0.4, 0.3, 0.2, 0.1}}
	for step, want := range map[int64]float64{-1: 0.4, 0: 0.4, 2: 0.4, 3: 0.3, 5: 0.3, 6: 0.2, 9: 0.2, 10: 0.1, 1 << 40: 0.1} {
		if got := p.At(step); got != want {
			t.Errorf("step %d: %g, want %g", step, got, want)
		}
	}
}
