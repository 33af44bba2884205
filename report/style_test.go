package report

import (
	"slices"
	"testing"
)

// TestEpochTicksLabelMarks: with 50 epochs about every fifth is labelled,
// and the marked epochs (kept 13, stopped 18) always are; a regular label
// within half a step of a mark (11, 16) gives way.
func TestEpochTicksLabelMarks(t *testing.T) {
	var got []string
	for _, tk := range (epochTicks{[]int{13, 18}}).Ticks(0.5, 50.5) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	for _, want := range []string{"1", "6", "13", "18", "21", "46"} {
		if !slices.Contains(got, want) {
			t.Errorf("labels %v lack %s", got, want)
		}
	}
	if slices.Contains(got, "11") || slices.Contains(got, "16") {
		t.Errorf("labels %v keep 11 or 16 beside a mark", got)
	}
}

// TestNiceTicks: round labelled values with the decimals their step needs.
func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{1.1, 3.4, []string{"1.5", "2.0", "2.5", "3.0"}},
		{0.13, 0.61, []string{"0.2", "0.3", "0.4", "0.5", "0.6"}},
		{0.0, 1.2, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"}},
		{0.0, 1.4, []string{"0.00", "0.25", "0.50", "0.75", "1.00", "1.25"}},
		{10, 130, []string{"20", "40", "60", "80", "100", "120"}},
		// k/2 * step just below zero printed "-0.0".
		{-0.0700000001, 0.7, []string{"0.0", "0.2", "0.4", "0.6"}},
	} {
		var got []string
		for _, tk := range (niceTicks{6}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("[%v, %v]: %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}
