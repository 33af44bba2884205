package report

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CalibrationBins is the number of equal-width confidence bins of the
// reliability diagram and the expected calibration error.
const CalibrationBins = 10

// Bin is one confidence bin of a calibration.
type Bin struct {
	Lo, Hi     float64 // the bin holds confidences in (Lo, Hi] (the first also 0)
	Count      int
	Accuracy   float64 // share of its predictions that are right
	Confidence float64 // mean confidence of its predictions
}

// Calibration compares a model's confidence with how often it is right.
type Calibration struct {
	Bins []Bin
	// ECE is the expected calibration error: the mean over bins of
	// |accuracy - mean confidence|, weighted by the bin's share of samples
	// (Guo et al., "On Calibration of Modern Neural Networks", 2017).
	ECE float64
	// Confidence and Accuracy over all samples.
	Confidence, Accuracy float64
	N                    int
}

// Calibrate bins predictions by confidence (the probability the model gave
// its predicted class) into bins equal-width bins of [0, 1]; correct says
// which predictions were right.
func Calibrate(confidence []float32, correct []bool, bins int) Calibration {
	c := Calibration{Bins: make([]Bin, bins), N: len(confidence)}
	hits := make([]int, bins)
	sums := make([]float64, bins)
	for i, p := range confidence {
		v := float64(p)
		b := int(math.Ceil(v*float64(bins))) - 1 // (lo, hi] bins
		b = min(max(b, 0), bins-1)
		c.Bins[b].Count++
		sums[b] += v
		c.Confidence += v
		if correct[i] {
			hits[b]++
			c.Accuracy++
		}
	}
	for b := range c.Bins {
		bin := &c.Bins[b]
		bin.Lo, bin.Hi = float64(b)/float64(bins), float64(b+1)/float64(bins)
		if bin.Count > 0 {
			bin.Accuracy = float64(hits[b]) / float64(bin.Count)
			bin.Confidence = sums[b] / float64(bin.Count)
			c.ECE += float64(bin.Count) / float64(c.N) * math.Abs(bin.Accuracy-bin.Confidence)
		}
	}
	if c.N > 0 {
		c.Confidence /= float64(c.N)
		c.Accuracy /= float64(c.N)
	}
	return c
}

// calibrationOf is the calibration of a run's test predictions, and false
// when the run did not record their confidence (runs before it did).
func calibrationOf(labels, predicted []int32, confidence []float32) (Calibration, bool) {
	if len(confidence) == 0 || len(confidence) != len(labels) {
		return Calibration{}, false
	}
	correct := make([]bool, len(labels))
	for i := range labels {
		correct[i] = labels[i] == predicted[i]
	}
	return Calibrate(confidence, correct, CalibrationBins), true
}

// Sentence says what the calibration means, with its numbers.
func (c Calibration) Sentence() string {
	how := "It is about as sure as it is right: well calibrated"
	switch d := c.Confidence - c.Accuracy; {
	case d > 0.02:
		how = "It is overconfident, surer than it is right"
	case d < -0.02:
		how = "It is underconfident, right more often than it is sure"
	}
	return fmt.Sprintf("Expected calibration error %.4f (%d equal-width confidence bins): on average the model's confidence differs from how often it is right by %.1f points. %s (mean confidence %.1f%%, accuracy %.1f%%).",
		c.ECE, len(c.Bins), 100*c.ECE, how, 100*c.Confidence, 100*c.Accuracy)
}

// reliabilityPlot draws the accuracy of each confidence bin against the
// diagonal a perfectly calibrated model would follow.
func reliabilityPlot(c Calibration) (*chart, error) {
	p := plot.New()
	p.Title.Text = "Reliability diagram (test set)"
	p.X.Label.Text = "confidence (probability of the predicted class)"
	p.Y.Label.Text = "accuracy"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	var ticks []plot.Tick
	for i := range 11 {
		ticks = append(ticks, plot.Tick{Value: float64(i) / 10, Label: fmt.Sprintf("%.1f", float64(i)/10)})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(ticks), plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 6 * vg.Inch, h: 5 * vg.Inch}

	var bars []*plotter.Polygon
	for _, b := range c.Bins {
		if b.Count == 0 {
			continue
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: b.Lo, Y: 0}, {X: b.Hi, Y: 0}, {X: b.Hi, Y: b.Accuracy}, {X: b.Lo, Y: b.Accuracy}})
		if err != nil {
			return nil, err
		}
		poly.Color = colBlue
		poly.LineStyle.Color, poly.LineStyle.Width = colBlack, vg.Points(0.5)
		p.Add(poly)
		bars = append(bars, poly)
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Width, diag.Dashes = colVermilion, vg.Points(2), []vg.Length{vg.Points(6), vg.Points(3)}
	p.Add(diag)
	var conf plotter.XYs
	for _, b := range c.Bins {
		if b.Count > 0 {
			conf = append(conf, plotter.XY{X: b.Confidence, Y: b.Accuracy})
		}
	}
	var pts *plotter.Scatter
	if len(conf) > 0 {
		if pts, err = plotter.NewScatter(conf); err != nil {
			return nil, err
		}
		pts.Color, pts.Shape, pts.Radius = colBlack, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(pts)
	}
	if len(bars) > 0 {
		ch.addLegend("accuracy of each bin", bars[0])
	}
	ch.addLegend("perfect calibration", diag)
	if pts != nil {
		ch.addLegend("bin's mean confidence", pts)
	}
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, b := range c.Bins {
			if b.Count == 0 {
				continue
			}
			top := ty(b.Accuracy)
			if top-ty(0) < 4 {
				top = ty(0) + 4
			}
			out = append(out, canvasShape{X: tx(b.Lo), Y: ty(0), X2: tx(b.Hi), Y2: top, Group: "bin",
				Title: fmt.Sprintf("confidence %.1f to %.1f: %s, right on %.1f%%, mean confidence %.1f%%", b.Lo, b.Hi, Count(b.Count, "image"), 100*b.Accuracy, 100*b.Confidence)})
		}
		return out
	}
	return ch, nil
}
