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
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/cifarnet/cifarnet/train"
)

// curve plots a training metric and its validation twin per epoch, with the
// epoch whose weights the model keeps and the early-stopping epoch marked,
// labelled on the epoch axis and named in the legend above the data.
func curve(h *train.History, m *train.Metrics, metric, title string) (*chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = metric
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 7 * vg.Inch, h: 4.4 * vg.Inch}

	type series struct {
		label string
		xy    plotter.XYs
	}
	var all []series
	for _, s := range []struct {
		name, label string
		col         color.Color
		glyph       draw.GlyphDrawer
	}{{metric, "training", colTrain, draw.CircleGlyph{}}, {"val_" + metric, "validation", colVal, draw.BoxGlyph{}}} {
		var xy plotter.XYs
		for i, v := range h.Series(s.name) {
			if plottable(v) {
				xy = append(xy, plotter.XY{X: float64(i + 1), Y: v})
			}
		}
		if len(xy) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = s.col, vg.Points(2)
		points.Color, points.Shape, points.Radius = s.col, s.glyph, vg.Points(2.5)
		p.Add(line, points)
		ch.addLegend(s.label, line, points)
		all = append(all, series{s.label, xy})
	}

	// Vertical marks: the epoch whose weights the model keeps, and where
	// early stopping ended training.
	ymin, ymax := yRange(h, metric)
	var marked []int
	mark := func(epoch int, col color.Color, dashed bool, label string) {
		l, err := plotter.NewLine(plotter.XYs{{X: float64(epoch), Y: ymin}, {X: float64(epoch), Y: ymax}})
		if err != nil {
			return
		}
		l.Color, l.Width = col, vg.Points(1.5)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		ch.addLegend(label, l)
		marked = append(marked, epoch)
	}
	if m.BestEpoch > 0 && m.BestEpoch <= len(h.Epochs) {
		mark(m.BestEpoch, colBest, false, keptLabel(h, m))
	}
	if m.StoppedEarly && m.EpochsRun != m.BestEpoch {
		mark(m.EpochsRun, colStop, true, fmt.Sprintf("epoch %d: early stopping ended training", m.EpochsRun))
	}
	p.X.Min, p.X.Max = 0.5, float64(max(len(h.Epochs), 1))+0.5
	p.X.Tick.Marker = epochTicks{marked}
	p.Y.Tick.Marker = niceTicks{6}
	p.Y.Min, p.Y.Max = ymin, ymax
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, s := range all {
			for _, pt := range s.xy {
				out = append(out, canvasShape{X: tx(pt.X), Y: ty(pt.Y), R: 6, Group: s.label,
					Title: fmt.Sprintf("epoch %d, %s %s: %.4f", int(pt.X), s.label, metric, pt.Y)})
			}
		}
		return out
	}
	return ch, nil
}

// keptLabel names the marked epoch whose weights the model keeps.
func keptLabel(h *train.History, m *train.Metrics) string {
	e := h.Epochs[m.BestEpoch-1]
	if e.ValLoss == m.BestValLoss {
		return fmt.Sprintf("epoch %d: lowest val_loss %.4f, weights kept", m.BestEpoch, m.BestValLoss)
	}
	return fmt.Sprintf("epoch %d: weights kept", m.BestEpoch)
}

// yRange spans both series of a metric with a little margin.
// plottable tells whether a figure can place v: a number, at most 1e300
// in size, so that a range and its padding stay finite (a history.json
// may hold 1e308). Beyond it, as NaN and infinities, a value is left out.
func plottable(v float64) bool { return math.Abs(v) <= 1e300 }

func yRange(h *train.History, metric string) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, name := range []string{metric, "val_" + metric} {
		for _, v := range h.Series(name) {
			if plottable(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return 0, 1
	}
	// At least a millionth of the values' size: a pad of 1e-3 is lost to
	// rounding on a diverging run's loss of 1e23, which left an empty
	// range.
	pad := math.Max((hi-lo)*0.06, math.Max(1e-3, 1e-6*math.Max(math.Abs(lo), math.Abs(hi))))
	return lo - pad, hi + pad
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

// manyClasses is the most classes whose figures name every class on their
// axes and write its value in every cell of a confusion matrix; with more
// (CIFAR-100's 100) the numbers would run together and the names overlap,
// so the cells carry no numbers (the page's hover layer gives each) and the
// axes name only some classes (classTicks).
const manyClasses = 20

// classTicks are the ticks naming classes on an axis, class i at pos(i):
// every class, or with more than manyClasses every k-th class from the
// first (at most manyClasses named), in a smaller font (set by
// classTickFont).
func classTicks(classes []string, pos func(i int) float64) []plot.Tick {
	k := (len(classes) + manyClasses - 1) / manyClasses // 1 up to manyClasses
	var ticks []plot.Tick
	for i, name := range classes {
		if i%k == 0 {
			ticks = append(ticks, plot.Tick{Value: pos(i), Label: name})
		}
	}
	return ticks
}

// classTickFont is the size of the class names on an axis whose ticks
// classTicks thinned (it leaves gonum's default, 10 points, for fewer
// classes).
func classTickFont(a *plot.Axis, classes int) {
	if classes > manyClasses {
		a.Tick.Label.Font.Size = vg.Points(8)
	}
}

// confusionPlot draws a confusion matrix as a heat map with every cell
// labelled (up to manyClasses classes), true classes down the side and
// predicted along the bottom. hover names each cell: the true and
// predicted classes and the value.
func confusionPlot(values [][]float64, classes []string, title string, format func(float64) string, vmax float64, hover func(r, c int) string) (*chart, error) {
	n := len(values)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	hm := plotter.NewHeatMap(matrix(values), blues(256))
	hm.Min, hm.Max = 0, vmax
	p.Add(hm)
	if n <= manyClasses {
		if err := cellLabels(p, values, format, vmax); err != nil {
			return nil, err
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(classTicks(classes, func(i int) float64 { return float64(i) }))
	p.Y.Tick.Marker = plot.ConstantTicks(classTicks(classes, func(i int) float64 { return float64(n - 1 - i) }))
	classTickFont(&p.X, n)
	classTickFont(&p.Y, n)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5, -0.5, float64(n)-0.5
	ch := &chart{p: p, w: 6.5 * vg.Inch, h: 6 * vg.Inch}
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for r := range n {
			for c := range n {
				y := float64(n - 1 - r)
				out = append(out, canvasShape{X: tx(float64(c) - 0.5), Y: ty(y - 0.5), X2: tx(float64(c) + 0.5), Y2: ty(y + 0.5),
					Group: "cell", Title: hover(r, c)})
			}
		}
		return out
	}
	return ch, nil
}

// cellLabels writes each cell's value in a confusion matrix, in white on
// the darker cells.
func cellLabels(p *plot.Plot, values [][]float64, format func(float64) string, vmax float64) error {
	n := len(values)
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
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Color = styles[i].col
		lab.TextStyle[i].XAlign, lab.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		lab.TextStyle[i].Font.Size = vg.Points(9)
	}
	p.Add(lab)
	return nil
}

type text struct{ col color.Color }

// perClassPlot draws precision, recall and F1 of every class as grouped
// bars, 9 points wide, narrower where the classes are too many for that
// (more than manyClasses), whose names it then thins as classTicks does.
func perClassPlot(scores []train.ClassScores, classes []string) (*chart, error) {
	p := plot.New()
	p.Title.Text = "Per-class precision, recall and F1 (test set)"
	p.Y.Label.Text = "score"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 7 * vg.Inch, h: 4.2 * vg.Inch}
	w := vg.Points(9)
	type bar struct {
		class  int
		series int // 0, 1, 2: drawn (series-1)*w right of the class
		name   string
		v      float64
	}
	var bars []bar
	var charts []*plotter.BarChart
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
			bars = append(bars, bar{k, i, s.name, vals[k]})
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width = s.col, 0
		b.Offset = vg.Length(i-1) * w
		p.Add(b)
		ch.addLegend(s.name, b)
		charts = append(charts, b)
	}
	p.NominalX(classes...)
	p.X.Min, p.X.Max = -0.5, float64(len(classes))-0.5
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	if n := len(classes); n > manyClasses {
		p.X.Tick.Marker = plot.ConstantTicks(classTicks(classes, func(i int) float64 { return float64(i) }))
		classTickFont(&p.X, n)
		// Each class's three bars fill at most 80% of its share of the
		// data area, which the bars' widths do not change.
		if fit := vg.Length(ch.geometry().Data.W) / vg.Length(n) * 0.8 / 3; fit < w {
			w = fit
			for i, b := range charts {
				b.Width, b.Offset = w, vg.Length(i-1)*w
			}
		}
	}
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, b := range bars {
			x := tx(float64(b.class)) + vg.Length(b.series-1)*w
			top := ty(b.v)
			if top-ty(0) < 4 { // a bar too short to point at
				top = ty(0) + 4
			}
			out = append(out, canvasShape{X: x - w/2, Y: ty(0), X2: x + w/2, Y2: top, Group: b.name,
				Title: fmt.Sprintf("%s %s: %.4f", classes[b.class], b.name, b.v)})
		}
		return out
	}
	return ch, nil
}

// sampleGrid draws test images in a grid, each captioned "true → predicted",
// misclassified ones framed and captioned in vermilion.
type sampleGrid struct {
	images         []image.Image
	truth, guessed []string
	wrong          []bool
	confidence     []float32 // of each prediction (empty in older runs)
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
	if !onWhite(c) {
		c.FillPolygon(color.White, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
	}
	title := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 12), Handler: plot.DefaultTextHandler, XAlign: draw.XLeft}
	wrong := 0
	for _, w := range g.wrong {
		if w {
			wrong++
		}
	}
	c.FillText(title, vg.Point{X: c.Min.X + 4, Y: c.Min.Y + h - 0.25*vg.Inch},
		fmt.Sprintf("First %s: true → predicted (%d misclassified, framed)", Count(len(g.images), "test image"), wrong))
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
		drawPixels(c, r, img)
		small.Color = color.Black
		if g.wrong[i] {
			small.Color = colWrong
		}
		c.FillText(small, vg.Point{X: x0 + cell/2, Y: top - cell - 0.09*vg.Inch}, g.truth[i])
		c.FillText(small, vg.Point{X: x0 + cell/2, Y: top - cell - 0.24*vg.Inch}, "→ "+g.guessed[i])
	}
}

// drawPixels draws img into r with every source pixel a crisp block. On a
// raster canvas the blocks are copied straight into its image (nearest
// neighbour): no interpolation to pay for on 40 images, and a PNG with far
// fewer colours to encode. A vector canvas gets the image itself, which
// render marks to be shown pixelated rather than smoothed (pixelatedSVG).
// The raster copy ignores the canvas's transform (Push, Translate,
// Scale): it is right only on a top-level canvas, where the grid is
// drawn.
func drawPixels(c draw.Canvas, r vg.Rectangle, img image.Image) {
	raster, ok := c.Canvas.(*vgimg.Canvas)
	if !ok {
		c.DrawImage(r, img)
		return
	}
	dst, ok := raster.Image().(*image.RGBA)
	if !ok {
		c.DrawImage(r, img)
		return
	}
	// The canvas's y axis points up from the image's bottom edge.
	dpi, h := raster.DPI(), dst.Rect.Dy()
	x0, x1 := int(math.Round(r.Min.X.Dots(dpi))), int(math.Round(r.Max.X.Dots(dpi)))
	y0, y1 := h-int(math.Round(r.Max.Y.Dots(dpi))), h-int(math.Round(r.Min.Y.Dots(dpi)))
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if x1 <= x0 || y1 <= y0 || sw == 0 || sh == 0 {
		return
	}
	src := make([]color.RGBA, sw*sh) // each source pixel converted once
	for y := range sh {
		for x := range sw {
			src[y*sw+x] = color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
		}
	}
	cx0, cx1 := max(x0, dst.Rect.Min.X), min(x1, dst.Rect.Max.X)
	if cx1 <= cx0 {
		return
	}
	last := -1 // the source row of the destination row above
	for y := max(y0, dst.Rect.Min.Y); y < min(y1, dst.Rect.Max.Y); y++ {
		out := dst.Pix[dst.PixOffset(cx0, y):][:4*(cx1-cx0)]
		sy := (y - y0) * sh / (y1 - y0)
		if sy == last {
			copy(out, dst.Pix[dst.PixOffset(cx0, y-1):][:len(out)])
			continue
		}
		last = sy
		row := src[sy*sw:][:sw]
		for x := cx0; x < cx1; x++ {
			p := row[(x-x0)*sw/(x1-x0)]
			i := 4 * (x - cx0)
			out[i], out[i+1], out[i+2], out[i+3] = p.R, p.G, p.B, p.A
		}
	}
}

// geometry holds one hover target per image, saying its true and
// predicted class and the model's confidence.
func (g sampleGrid) geometry() geometry {
	w, h := g.size()
	geo := geometry{W: float64(w), H: float64(h), Data: rect{0, 0, float64(w), float64(h)}}
	for i := range g.images {
		col, row := i%g.cols, i/g.cols
		top := 0.35*vg.Inch + vg.Length(row)*(cell+caption) // from the top
		t := fmt.Sprintf("test image %d: a %s, predicted %s", i+1, g.truth[i], g.guessed[i])
		if g.wrong[i] {
			t += " (wrong)"
		}
		if i < len(g.confidence) {
			t += fmt.Sprintf(", with probability %.2f", g.confidence[i])
		}
		geo.Shapes = append(geo.Shapes, shape{X: float64(vg.Length(col) * cell), Y: float64(top), W: float64(cell), H: float64(cell + caption), Group: "image", Title: t})
	}
	return geo
}
