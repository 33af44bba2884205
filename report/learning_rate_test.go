package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cifarnet/cifarnet/train"
)

func historyWithRates(rates ...float64) *train.History {
	h := &train.History{}
	for i, r := range rates {
		e := train.Epoch{Epoch: i + 1}
		e.Loss, e.Accuracy = 1, 0.5
		if r >= 0 {
			e.LearningRate, e.HasLearningRate = r, true
		}
		h.Epochs = append(h.Epochs, e)
	}
	return h
}

func TestLearningRateFigureOnlyWhenTheRateChanges(t *testing.T) {
	for _, c := range []struct {
		rates []float64
		want  bool
	}{
		{[]float64{-1, -1, -1}, false},          // not logged
		{[]float64{0.001, 0.001, 0.001}, false}, // logged, constant
		{[]float64{0.1, 0.01, 0.001}, true},     // a schedule (log axis)
		{[]float64{0.1, 0.1, 0.05, 0}, true},    // ReduceLROnPlateau, down to 0
	} {
		fig, mk, ok := learningRateFigure(historyWithRates(c.rates...))
		if ok != c.want {
			t.Fatalf("rates %v: figure %v, want %v", c.rates, ok, c.want)
		}
		if !ok {
			continue
		}
		d, err := mk()
		if err != nil || fig.Name != "learning_rate" {
			t.Fatalf("rates %v: %v", c.rates, err)
		}
		if _, err := render(d, filepath.Join(t.TempDir(), fig.Name)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteLRFind(t *testing.T) {
	dir := t.TempDir()
	r := LRFind{Rates: []float64{1e-5, 1e-4, 1e-3, 1e-2, 1e-1}, Losses: []float64{2.3, 2.2, 1.9, 2.5, 9}, Smoothed: []float64{2.3, 2.25, 2.1, 2.2, 4}, Minimum: 1e-3, Suggested: 1e-4}
	if err := WriteLRFind(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lr_find.png", "lr_find.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if err := WriteLRFind(dir, LRFind{Rates: []float64{1e-3}, Losses: []float64{2}, Smoothed: []float64{2}}); err == nil {
		t.Fatal("a one-point sweep drawn")
	}
}
