package report

import (
	"fmt"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cifarnet/cifarnet/train"
)

// The learning rate's figures: the rate per epoch in a run's report (when a
// schedule or ReduceLROnPlateau changed it), and the loss against the rate
// of "cifarnet lr-find".

// learningRateChanges reports whether the history logged a learning rate
// that is not constant: then the report draws it and the history table
// has its column.
func learningRateChanges(h *train.History) bool {
	var first float64
	n, changes := 0, false
	for _, e := range h.Epochs {
		if !e.HasLearningRate {
			continue
		}
		if n == 0 {
			first = e.LearningRate
		}
		changes = changes || e.LearningRate != first
		n++
	}
	return changes
}

// learningRateFigure is the report's learning-rate figure, when the history
// logged a rate that is not constant.
func learningRateFigure(h *train.History) (Figure, func() (drawing, error), bool) {
	if !learningRateChanges(h) {
		return Figure{}, nil, false
	}
	fig := Figure{Name: "learning_rate", Title: "Learning rate",
		Caption: "The optimizer's learning rate at the end of each epoch, as the schedule or ReduceLROnPlateau set it (the rate the next step uses), on a logarithmic axis when it only falls (or only rises) over more than a factor of ten."}
	return fig, func() (drawing, error) { return fromChart(learningRatePlot(h)) }, true
}

func learningRatePlot(h *train.History) (*chart, error) {
	p := plot.New()
	p.Title.Text = "Learning rate"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "learning_rate"
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 7 * vg.Inch, h: 3.6 * vg.Inch}
	var xy plotter.XYs
	for _, e := range h.Epochs {
		if e.HasLearningRate && !math.IsNaN(e.LearningRate) {
			xy = append(xy, plotter.XY{X: float64(e.Epoch), Y: e.LearningRate})
		}
	}
	logAxis(p, &p.Y, xy, func(pt plotter.XY) float64 { return pt.Y })
	line, points, err := plotter.NewLinePoints(xy)
	if err != nil {
		return nil, err
	}
	line.Color, line.Width = colTrain, vg.Points(2)
	points.Color, points.Shape, points.Radius = colTrain, draw.CircleGlyph{}, vg.Points(2.5)
	p.Add(line, points)
	ch.addLegend("learning rate at the epoch's end", line, points)
	p.X.Min, p.X.Max = 0.5, float64(max(len(h.Epochs), 1))+0.5
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, pt := range xy {
			out = append(out, canvasShape{X: tx(pt.X), Y: ty(pt.Y), R: 6, Group: "learning rate",
				Title: fmt.Sprintf("epoch %d: learning_rate %.4g", int(pt.X), pt.Y)})
		}
		return out
	}
	return ch, nil
}

// logAxis puts an axis on a logarithmic scale when its values are all
// positive, only fall or only rise (a decay, ReduceLROnPlateau's steps), and
// span more than a factor of ten. A rate that rises and falls (1cycle, a
// warmup) keeps a linear axis, where its shape is the familiar one. The log
// axis reaches a little past the values, so that a rate of 0.01 stored in
// float32 (0.00999…) still has its tick labelled.
func logAxis(p *plot.Plot, a *plot.Axis, xy plotter.XYs, v func(plotter.XY) float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	rises, falls := false, false
	for i, pt := range xy {
		lo, hi = min(lo, v(pt)), max(hi, v(pt))
		if i > 0 {
			rises = rises || v(pt) > v(xy[i-1])
			falls = falls || v(pt) < v(xy[i-1])
		}
	}
	if lo > 0 && hi > 10*lo && !(rises && falls) {
		a.Scale, a.Tick.Marker = plot.LogScale{}, factorTicks{log: true}
		a.Min, a.Max = lo/1.25, hi*1.25
	}
}

// LRFind is the result of a learning-rate range test.
type LRFind struct {
	Rates, Losses, Smoothed []float64
	// Suggested is the suggested rate; Minimum the rate of the lowest
	// smoothed loss.
	Suggested, Minimum float64
}

// WriteLRFind draws the loss against the learning rate (log axis) into
// dir as lr_find.png and lr_find.svg.
func WriteLRFind(dir string, r LRFind) error {
	p := plot.New()
	p.Title.Text = "Learning-rate range test"
	p.X.Label.Text = "learning rate"
	p.Y.Label.Text = "training loss"
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 7 * vg.Inch, h: 4.4 * vg.Inch}
	var raw, smooth plotter.XYs
	for i, lr := range r.Rates {
		if lr > 0 && !math.IsNaN(r.Losses[i]) && !math.IsInf(r.Losses[i], 0) {
			raw = append(raw, plotter.XY{X: lr, Y: r.Losses[i]})
			smooth = append(smooth, plotter.XY{X: lr, Y: r.Smoothed[i]})
		}
	}
	if len(raw) < 2 {
		return fmt.Errorf("lr-find: fewer than two finite losses to plot")
	}
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: 1}
	// The y range: from the lowest loss to a little above the first, so
	// that the divergence at the end does not flatten the curve.
	lo, hi := math.Inf(1), smooth[0].Y
	for _, pt := range smooth {
		lo = min(lo, pt.Y)
	}
	for _, pt := range raw {
		lo = min(lo, pt.Y)
	}
	p.Y.Min, p.Y.Max = lo-0.05*(hi-lo), hi+0.25*(hi-lo)
	if !(p.Y.Max > p.Y.Min) {
		p.Y.Min, p.Y.Max = lo-1, lo+1
	}
	clip := func(xy plotter.XYs) plotter.XYs {
		var out plotter.XYs
		for _, pt := range xy {
			out = append(out, plotter.XY{X: pt.X, Y: min(pt.Y, p.Y.Max)})
		}
		return out
	}
	s, err := plotter.NewScatter(clip(raw))
	if err != nil {
		return err
	}
	s.Color, s.Shape, s.Radius = withAlpha(colTrain, 0.35), draw.CircleGlyph{}, vg.Points(1.5)
	l, err := plotter.NewLine(clip(smooth))
	if err != nil {
		return err
	}
	l.Color, l.Width = colTrain, vg.Points(2)
	p.Add(s, l)
	ch.addLegend("loss of each step", s)
	ch.addLegend("smoothed loss", l)
	// The losses the axis cuts off (the divergence) are marked where they
	// are drawn, along its top, so that they do not read as a plateau.
	var above plotter.XYs
	for _, pt := range raw {
		if pt.Y > p.Y.Max {
			above = append(above, plotter.XY{X: pt.X, Y: p.Y.Max})
		}
	}
	if len(above) > 0 {
		a, err := plotter.NewScatter(above)
		if err != nil {
			return err
		}
		a.Color, a.Shape, a.Radius = colStop, draw.TriangleGlyph{}, vg.Points(3)
		p.Add(a)
		ch.addLegend(fmt.Sprintf("loss above %.3g, drawn at the top", p.Y.Max), a)
	}
	if r.Suggested > 0 {
		m, err := plotter.NewLine(plotter.XYs{{X: r.Suggested, Y: p.Y.Min}, {X: r.Suggested, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		m.Color, m.Width = colBest, vg.Points(1.5)
		p.Add(m)
		ch.addLegend(fmt.Sprintf("suggested rate %.3g", r.Suggested), m)
	}
	if r.Minimum > 0 {
		m, err := plotter.NewLine(plotter.XYs{{X: r.Minimum, Y: p.Y.Min}, {X: r.Minimum, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		m.Color, m.Width, m.Dashes = colStop, vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(m)
		ch.addLegend(fmt.Sprintf("lowest smoothed loss at %.3g", r.Minimum), m)
	}
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, pt := range smooth {
			out = append(out, canvasShape{X: tx(pt.X), Y: ty(min(pt.Y, p.Y.Max)), R: 4, Group: "smoothed loss",
				Title: fmt.Sprintf("learning rate %.3g: smoothed loss %.4f", pt.X, pt.Y)})
		}
		return out
	}
	d, err := fromChart(ch, nil)
	if err != nil {
		return err
	}
	_, err = render(d, filepath.Join(dir, "lr_find"))
	return err
}
