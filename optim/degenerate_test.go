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
		_, err := Build(c.name, Constant(0.001), Args{c.key: 1.0})
		if c.refused != (err != nil) || (err != nil && !strings.Contains(err.Error(), c.key)) {
			t.Errorf("%s with %s 1: %v, refused %v", c.name, c.key, err, c.refused)
		}
	}
}
