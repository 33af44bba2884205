package report

import (
	"math"
	"strings"
	"testing"
)

// TestCalibrateByHand checks the expected calibration error against a value
// worked by hand on six predictions in 10 bins (lo, hi]:
//
//	bin (0.9, 1.0]: 0.95 right, 0.92 right  -> accuracy 1,   confidence 0.935, |gap| 0.065, weight 2/6
//	bin (0.8, 0.9]: 0.85 wrong              -> accuracy 0,   confidence 0.85,  |gap| 0.85,  weight 1/6
//	bin (0.3, 0.4]: 0.32 wrong, 0.38 right  -> accuracy 0.5, confidence 0.35,  |gap| 0.15,  weight 2/6
//	bin [0.0, 0.1]: 0.05 wrong              -> accuracy 0,   confidence 0.05,  |gap| 0.05,  weight 1/6
//
// ECE = (2*0.065 + 0.85 + 2*0.15 + 0.05) / 6 = 1.33 / 6.
func TestCalibrateByHand(t *testing.T) {
	conf := []float32{0.95, 0.92, 0.85, 0.32, 0.38, 0.05}
	correct := []bool{true, true, false, false, true, false}
	c := Calibrate(conf, correct, 10)
	if want := 1.33 / 6; math.Abs(c.ECE-want) > 1e-6 {
		t.Errorf("ECE %.6f, want %.6f", c.ECE, want)
	}
	for b, want := range map[int]struct {
		n         int
		acc, conf float64
	}{9: {2, 1, 0.935}, 8: {1, 0, 0.85}, 3: {2, 0.5, 0.35}, 0: {1, 0, 0.05}, 5: {0, 0, 0}} {
		got := c.Bins[b]
		if got.Count != want.n || math.Abs(got.Accuracy-want.acc) > 1e-9 || math.Abs(got.Confidence-want.conf) > 1e-6 {
			t.Errorf("bin %d: %+v, want %+v", b, got, want)
		}
	}
	if math.Abs(c.Accuracy-0.5) > 1e-12 || math.Abs(c.Confidence-(0.95+0.92+0.85+0.32+0.38+0.05)/6) > 1e-6 {
		t.Errorf("overall accuracy %v, confidence %v", c.Accuracy, c.Confidence)
	}
	// Mean confidence 0.578 against accuracy 0.5: overconfident.
	if s := c.Sentence(); !strings.Contains(s, "0.2217") || !strings.Contains(s, "10 equal-width") || !strings.Contains(s, "overconfident") {
		t.Errorf("sentence: %s", s)
	}
	// The ends: 0 goes to the first bin, 1 to the last.
	c = Calibrate([]float32{0, 1}, []bool{false, true}, 10)
	if c.Bins[0].Count != 1 || c.Bins[9].Count != 1 || c.ECE != 0 {
		t.Errorf("ends: %+v, ECE %v", c.Bins, c.ECE)
	}
}
