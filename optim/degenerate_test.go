package optim

import (
	"strings"
	"testing"
)

// TestDegenerateBetas: a beta at 1 that divides a step by a bias
// correction of 0 (Adam's, AdamW's and Adamax's beta_1, Nadam's beta_2),
// or makes every step 0 (Adam's beta_2), is refused naming it; one that
// does neither is taken (Nadam's beta_1, Adamax's beta_2, Lion's).
func TestDegenerateBetas(t *testing.T) {
	for _, c := range []struct {
		name, key string
		refused   bool
	}{
		{"adam", "beta_1", true}, {"adam", "beta_2", true}, {"adamw", "beta_1", true}, {"adamw", "beta_2", true},
		{"adamax", "beta_1", true}, {"adamax", "beta_2", false}, {"nadam", "beta_2", true}, {"nadam", "beta_1", false},
		{"lion", "beta_1", false}, {"lion", "beta_2", false},
	} {
		// 0.99999999 is 1 in float32, in which the step runs.
		for _, v := range []float64{1, 0.99999999} {
			_, err := Build(c.name, Constant(0.001), Args{c.key: v})
			if c.refused != (err != nil) || (err != nil && !strings.Contains(err.Error(), c.key)) {
				t.Errorf("%s with %s %g: %v, refused %v", c.name, c.key, v, err, c.refused)
			}
		}
		if _, err := Build(c.name, Constant(0.001), Args{c.key: 0.9999}); err != nil {
			t.Errorf("%s with %s 0.9999: %v", c.name, c.key, err)
		}
	}
}
