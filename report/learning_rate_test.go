package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/train"
	"gonum.org/v1/plot"
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
	// The loss of 9 is above the axis (it ends at 2.3 + a quarter of the
	// range): marked, so that the divergence does not read as a plateau.
	if svg, err := os.ReadFile(filepath.Join(dir, "lr_find.svg")); err != nil || !strings.Contains(string(svg), "drawn at the top") {
		t.Errorf("lr_find.svg does not mark the loss cut off its axis (%v)", err)
	}
	if err := WriteLRFind(dir, LRFind{Rates: []float64{1e-3}, Losses: []float64{2}, Smoothed: []float64{2}}); err == nil {
		t.Fatal("a one-point sweep drawn")
	}
}

// The history table has a learning_rate column exactly when the rate
// changed, each epoch's rate in it (a dash where an epoch logged none).
func TestHistoryTableLearningRateColumn(t *testing.T) {
	for _, c := range []struct {
		rates []float64
		cells []string // the column's cells; nil: no column
	}{
		{[]float64{-1, -1, -1, -1, -1, -1, -1}, nil},
		{[]float64{0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001}, nil},
		{[]float64{0.01, 0.005, 0.0025, 0.00125, 0.000625, 0.0003125, 1.25e-05}, []string{"0.01", "0.005", "0.0025", "0.00125", "0.000625", "0.0003125", "1.25e-05"}},
		{[]float64{-1, 0.1, 0.1, 0.05, 0.05, 0, 0}, []string{"–", "0.1", "0.1", "0.05", "0.05", "0", "0"}},
	} {
		r := syntheticRun(t)
		for i, e := range historyWithRates(c.rates...).Epochs {
			r.History.Epochs[i].LearningRate, r.History.Epochs[i].HasLearningRate = e.LearningRate, e.HasLearningRate
		}
		b, err := HTML(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		has := strings.Contains(page, "<th>learning_rate</th>")
		if has != (c.cells != nil) {
			t.Fatalf("rates %v: learning_rate column %v, want %v", c.rates, has, c.cells != nil)
		}
		for i, cell := range c.cells {
			// the rate's cell sits between val_accuracy's and the time's
			row := regexp.MustCompile(`<td>` + strconv.Itoa(i+1) + `</td>(<td>[^<]*</td>){4}<td>([^<]*)</td><td>[0-9.]+ s</td></tr>`).FindStringSubmatch(page)
			if row == nil || row[2] != cell {
				t.Fatalf("rates %v: epoch %d's row %q, want the rate %q", c.rates, i+1, row, cell)
			}
		}
	}
}

// A rate that only falls over more than a factor of ten gets a log axis whose
// labelled ticks include the largest rate, even as float32 stores 0.01; a rate
// that rises and falls (1cycle) keeps a linear axis.
func TestLearningRateAxis(t *testing.T) {
	f32 := func(v float64) float64 { return float64(float32(v)) }
	for _, c := range []struct {
		name  string
		rates []float64
		log   bool
	}{
		{"exponential decay", []float64{f32(0.01), f32(0.001), f32(0.0001)}, true},
		{"ReduceLROnPlateau", []float64{f32(0.01), f32(0.01), f32(0.001), f32(0.0001)}, true},
		{"small decay", []float64{f32(0.01), f32(0.005)}, false},
		{"1cycle", []float64{f32(0.0004), f32(0.01), f32(0.005), f32(4e-8)}, false},
		{"warmup then decay", []float64{f32(0.001), f32(0.01), f32(0.0001)}, false},
	} {
		ch, err := learningRatePlot(historyWithRates(c.rates...))
		if err != nil {
			t.Fatal(err)
		}
		_, isLog := ch.p.Y.Scale.(plot.LogScale)
		if isLog != c.log {
			t.Errorf("%s: log axis %v, want %v", c.name, isLog, c.log)
			continue
		}
		if !isLog {
			continue
		}
		labelled := false
		for _, tk := range ch.p.Y.Tick.Marker.Ticks(ch.p.Y.Min, ch.p.Y.Max) {
			labelled = labelled || tk.Label == "0.01" && tk.Value >= ch.p.Y.Min && tk.Value <= ch.p.Y.Max
		}
		if !labelled {
			t.Errorf("%s: no tick labelled 0.01 on the axis [%g, %g]", c.name, ch.p.Y.Min, ch.p.Y.Max)
		}
	}
}

// The page shows the learning-rate figure, with its heading and note, when
// the rate changed, and its footer counts the images it shows; a run whose
// rate is constant has neither, and the same count of images as figures.
func TestReportPageShowsLearningRateFigure(t *testing.T) {
	for _, c := range []struct {
		rates []float64
		want  bool
	}{
		{[]float64{0.0004, 0.01, 0.008, 0.005, 0.002, 0.0005, 4e-8}, true}, // 1cycle
		{[]float64{0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01}, false},       // constant
	} {
		r := syntheticRun(t)
		for i, e := range historyWithRates(c.rates...).Epochs {
			r.History.Epochs[i].LearningRate, r.History.Epochs[i].HasLearningRate = e.LearningRate, e.HasLearningRate
		}
		figs, err := Write(r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(r.Dir, HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, s := range []string{`<figure id="fig-learning_rate">`, "<h2>Learning rate</h2>", `id="learning-rate"`} {
			if has := strings.Contains(page, s); has != c.want {
				t.Errorf("rates %v: page has %q: %v, want %v", c.rates, s, has, c.want)
			}
		}
		_, statErr := os.Stat(filepath.Join(r.Dir, "learning_rate.png"))
		if (statErr == nil) != c.want {
			t.Errorf("rates %v: learning_rate.png written: %v, want %v", c.rates, statErr == nil, c.want)
		}
		imgs := strings.Count(page, "<img ")
		footer := regexp.MustCompile(`id="figure-status">(\d+) figures embedded<`).FindStringSubmatch(page)
		if footer == nil || footer[1] != strconv.Itoa(imgs) || imgs != len(figs) {
			t.Errorf("rates %v: %d <img> in the page for %d figures, footer %q", c.rates, imgs, len(figs), footer)
		}
	}
}
