// Package report turns a finished run into figures (PNG and SVG, made with
// gonum.org/v1/plot) and one self-contained report.html: the training
// curves with the best and early-stopping epochs marked, the confusion
// matrix, per-class precision/recall/F1 and a grid of test images with
// their predictions.
package report

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cifarnet/cifarnet/train"
)

// Colours shared by the figures (colour-blind safe: Okabe-Ito).
var (
	colTrain = color.RGBA{0, 114, 178, 255}   // blue
	colVal   = color.RGBA{213, 94, 0, 255}    // vermillion
	colBest  = color.RGBA{0, 158, 115, 255}   // green
	colStop  = color.RGBA{120, 120, 120, 255} // grey
	colF1    = color.RGBA{204, 121, 167, 255} // purple
	colWrong = color.RGBA{213, 0, 0, 255}
)

// curve plots a training metric and its validation twin per epoch, with the
// best (restored) epoch and the early-stopping epoch marked.
func curve(h *train.History, m *train.Metrics, metric, title string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = metric
	// The legend goes in headroom above the data (see yRange), where it
	// never hides a point.
	p.Legend.Top = true
	p.Legend.Left = metric == "accuracy"
	p.Legend.Padding = vg.Points(2)
	p.Add(plotter.NewGrid())

	series := func(name string) plotter.XYs {
		var xy plotter.XYs
		for i, v := range h.Series(name) {
			if !math.IsNaN(v) {
				xy = append(xy, plotter.XY{X: float64(i + 1), Y: v})
			}
		}
		return xy
	}
	for _, s := range []struct {
		name, label string
		col         color.Color
	}{{metric, "training", colTrain}, {"val_" + metric, "validation", colVal}} {
		xy := series(s.name)
		if len(xy) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = s.col, vg.Points(2)
		points.Color, points.Shape, points.Radius = s.col, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(line, points)
		p.Legend.Add(s.label, line, points)
	}

	// Vertical marks: the epoch whose weights the model keeps, and where
	// early stopping ended training.
	ymin, ymax := yRange(h, metric)
	mark := func(epoch int, col color.Color, dashed bool, label string) {
		l, _ := plotter.NewLine(plotter.XYs{{X: float64(epoch), Y: ymin}, {X: float64(epoch), Y: ymax}})
		l.Color, l.Width = col, vg.Points(1.5)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(label, l)
	}
	if m.BestEpoch > 0 {
		best := fmt.Sprintf("best epoch %d (val_loss %.4f)", m.BestEpoch, m.BestValLoss)
		mark(m.BestEpoch, colBest, false, best)
	}
	if m.StoppedEarly {
		mark(m.EpochsRun, colStop, true, fmt.Sprintf("early stop after epoch %d", m.EpochsRun))
	}
	p.X.Min, p.X.Max = 0.5, float64(max(len(h.Epochs), 1))+0.5
	p.X.Tick.Marker = integerTicks{}
	p.Y.Min, p.Y.Max = ymin, ymax
	return p, nil
}

// yRange spans both series of a metric with a little margin.
func yRange(h *train.History, metric string) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, name := range []string{metric, "val_" + metric} {
		for _, v := range h.Series(name) {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return 0, 1
	}
	pad := math.Max((hi-lo)*0.08, 1e-3)
	return lo - pad, hi + 0.45*(hi-lo) + pad // headroom for the legend
}

// integerTicks labels whole epochs only, about ten of them.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := int(math.Ceil(min)), int(math.Floor(max))
	step := max1((hi - lo + 1) / 10)
	var ts []plot.Tick
	for v := lo; v <= hi; v++ {
		t := plot.Tick{Value: float64(v)}
		if (v-1)%step == 0 {
			t.Label = fmt.Sprint(v)
		}
		ts = append(ts, t)
	}
	return ts
}

func max1(v int) int {
	if v < 1 {
		return 1
	}
	return v
}

// matrix adapts a square matrix to plotter.GridXYZ with row 0 at the top.
type matrix [][]float64

func (m matrix) Dims() (c, r int)   { return len(m), len(m) }
func (m matrix) X(c int) float64    { return float64(c) }
func (m matrix) Y(r int) float64    { return float64(r) }
func (m matrix) Z(c, r int) float64 { return m[len(m)-1-r][c] }

// blues is a sequential white-to-navy palette.
type blues int

func (n blues) Colors() []color.Color {
	lo, hi := [3]float64{247, 251, 255}, [3]float64{8, 48, 107}
	cs := make([]color.Color, n)
	for i := range cs {
		t := float64(i) / float64(n-1)
		cs[i] = color.RGBA{uint8(lo[0] + t*(hi[0]-lo[0])), uint8(lo[1] + t*(hi[1]-lo[1])), uint8(lo[2] + t*(hi[2]-lo[2])), 255}
	}
	return cs
}

// confusionPlot draws a confusion matrix as a heat map with every cell
// labelled, true classes down the side and predicted along the bottom.
func confusionPlot(values [][]float64, classes []string, title string, format func(float64) string, vmax float64) (*plot.Plot, error) {
	n := len(values)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	hm := plotter.NewHeatMap(matrix(values), blues(256))
	hm.Min, hm.Max = 0, vmax
	p.Add(hm)

	var xys plotter.XYs
	var labels []string
	var styles []text
	for r := range n {
		for c := range n {
			v := values[r][c]
			xys = append(xys, plotter.XY{X: float64(c), Y: float64(n - 1 - r)})
			labels = append(labels, format(v))
			col := color.Color(color.Black)
			if v > 0.55*vmax {
				col = color.White
			}
			styles = append(styles, text{col})
		}
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Color = styles[i].col
		lab.TextStyle[i].XAlign, lab.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		lab.TextStyle[i].Font.Size = vg.Points(9)
	}
	p.Add(lab)
	var xt, yt []plot.Tick
	for i, name := range classes {
		xt = append(xt, plot.Tick{Value: float64(i), Label: name})
		yt = append(yt, plot.Tick{Value: float64(n - 1 - i), Label: name})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5, -0.5, float64(n)-0.5
	return p, nil
}

type text struct{ col color.Color }

// perClassPlot draws precision, recall and F1 of every class as grouped bars.
func perClassPlot(scores []train.ClassScores, classes []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Per-class precision, recall and F1 (test set)"
	p.Y.Label.Text = "score"
	p.Y.Min, p.Y.Max = 0, 1.18 // headroom for the legend
	p.Add(plotter.NewGrid())
	w := vg.Points(9)
	for i, s := range []struct {
		name string
		col  color.Color
		get  func(train.ClassScores) float64
	}{
		{"precision", colTrain, func(c train.ClassScores) float64 { return c.Precision }},
		{"recall", colVal, func(c train.ClassScores) float64 { return c.Recall }},
		{"F1", colF1, func(c train.ClassScores) float64 { return c.F1 }},
	} {
		vals := make(plotter.Values, len(scores))
		for k, c := range scores {
			vals[k] = s.get(c)
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.Color, bars.LineStyle.Width = s.col, 0
		bars.Offset = vg.Length(i-1) * w
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Legend.Top = true
	p.NominalX(classes...)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	return p, nil
}

// sampleGrid draws test images in a grid, each captioned "true → predicted",
// misclassified ones framed and captioned in red.
type sampleGrid struct {
	images         []image.Image
	truth, guessed []string
	wrong          []bool
	cols           int
}

const (
	cell    = 1.1 * vg.Inch
	caption = 0.42 * vg.Inch
)

func (g sampleGrid) size() (vg.Length, vg.Length) {
	rows := (len(g.images) + g.cols - 1) / g.cols
	return vg.Length(g.cols) * cell, vg.Length(rows)*(cell+caption) + 0.35*vg.Inch
}

func (g sampleGrid) draw(c draw.Canvas) {
	_, h := g.size()
	c.FillPolygon(color.White, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
	title := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 12), Handler: plot.DefaultTextHandler, XAlign: draw.XLeft}
	wrong := 0
	for _, w := range g.wrong {
		if w {
			wrong++
		}
	}
	c.FillText(title, vg.Point{X: c.Min.X + 4, Y: c.Min.Y + h - 0.25*vg.Inch},
		fmt.Sprintf("First %d test images: true → predicted (%d misclassified, in red)", len(g.images), wrong))
	small := draw.TextStyle{Font: font.From(plot.DefaultFont, 8), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter}
	pad := vg.Points(5)
	for i, img := range g.images {
		col, row := i%g.cols, i/g.cols
		x0 := c.Min.X + vg.Length(col)*cell
		top := c.Min.Y + h - 0.35*vg.Inch - vg.Length(row)*(cell+caption)
		r := vg.Rectangle{Min: vg.Point{X: x0 + pad, Y: top - cell + pad}, Max: vg.Point{X: x0 + cell - pad, Y: top - pad}}
		if g.wrong[i] {
			frame := r
			frame.Min.X, frame.Min.Y, frame.Max.X, frame.Max.Y = frame.Min.X-3, frame.Min.Y-3, frame.Max.X+3, frame.Max.Y+3
			c.FillPolygon(colWrong, []vg.Point{frame.Min, {X: frame.Max.X, Y: frame.Min.Y}, frame.Max, {X: frame.Min.X, Y: frame.Max.Y}})
		}
		c.DrawImage(r, img)
		small.Color = color.Black
		if g.wrong[i] {
			small.Color = colWrong
		}
		c.FillText(small, vg.Point{X: x0 + cell/2, Y: top - cell - 0.09*vg.Inch}, g.truth[i])
		c.FillText(small, vg.Point{X: x0 + cell/2, Y: top - cell - 0.24*vg.Inch}, "→ "+g.guessed[i])
	}
}
