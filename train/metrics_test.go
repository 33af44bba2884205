package train

import (
	"math"
	"testing"
)

// TestConfusionByHand: 3 classes, 8 samples, counted on paper.
//
//	true:      0 0 0 1 1 2 2 2
//	predicted: 0 1 0 1 2 2 2 0
//
// Matrix rows (true) x columns (predicted): [2 1 0] [0 1 1] [1 0 2].
// Class 0: tp 2, predicted 3, actual 3 -> P 2/3, R 2/3, F1 2/3.
// Class 1: tp 1, predicted 2, actual 2 -> P 1/2, R 1/2, F1 1/2.
// Class 2: tp 2, predicted 3, actual 3 -> P 2/3, R 2/3, F1 2/3.
func TestConfusionByHand(t *testing.T) {
	c := NewConfusion([]int32{0, 0, 0, 1, 1, 2, 2, 2}, []int32{0, 1, 0, 1, 2, 2, 2, 0}, 3)
	want := [][]int{{2, 1, 0}, {0, 1, 1}, {1, 0, 2}}
	for i := range want {
		for j := range want[i] {
			if c.Counts[i][j] != want[i][j] {
				t.Fatalf("counts %v, want %v", c.Counts, want)
			}
		}
	}
	pc := c.PerClass()
	wantP := []float64{2.0 / 3, 0.5, 2.0 / 3}
	for k, s := range pc {
		if math.Abs(s.Precision-wantP[k]) > 1e-12 || math.Abs(s.Recall-wantP[k]) > 1e-12 || math.Abs(s.F1-wantP[k]) > 1e-12 {
			t.Errorf("class %d: %+v, want P=R=F1=%v", k, s, wantP[k])
		}
	}
	if pc[1].Support != 2 {
		t.Errorf("support %d", pc[1].Support)
	}
	if r := c.RowNormalized(); math.Abs(r[1][2]-0.5) > 1e-12 {
		t.Errorf("row-normalised %v", r)
	}
	// A class never predicted and never present scores 0, not NaN.
	empty := NewConfusion([]int32{0}, []int32{0}, 2).PerClass()[1]
	if empty.Precision != 0 || empty.F1 != 0 {
		t.Errorf("empty class %+v", empty)
	}
}
