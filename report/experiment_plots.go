package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cifarnet/cifarnet/stats"
)

// expConfig is one configuration as the figures draw it.
type expConfig struct {
	ConfigStats
	runs []*ExperimentRun // its finished runs
	col  color.Color
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// withAlpha is c at opacity a (0..1), premultiplied as image/color wants.
func withAlpha(c color.Color, a float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.RGBA64{uint16(float64(r) * a), uint16(float64(g) * a), uint16(float64(b) * a), uint16(0xffff * a)}
}

// swarm places the runs of one configuration as dots around x (canvas
// coordinates), a beeswarm: each dot, in order of value, goes to the
// nearest free place beside the centre line, so that runs with equal or
// close values stay apart and visible. Runs without a finite value get no
// place (their point is NaN).
func swarm(runs []*ExperimentRun, x vg.Length, ty func(float64) vg.Length) []vg.Point {
	const gap = vg.Length(6.8) // points between dot centres
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(runs[a].testAccuracy(), runs[b].testAccuracy()) })
	pts := make([]vg.Point, len(runs))
	var placed []vg.Point
	for _, i := range order {
		v := runs[i].testAccuracy()
		if !finite(v) {
			pts[i] = vg.Point{X: vg.Length(math.NaN()), Y: vg.Length(math.NaN())}
			continue
		}
		y := ty(v)
		for k := 0; ; k++ {
			off := gap * vg.Length((k+1)/2)
			if k%2 == 1 {
				off = -off
			}
			p := vg.Point{X: x + off, Y: y}
			free := true
			for _, q := range placed {
				if dx, dy := p.X-q.X, p.Y-q.Y; dx*dx+dy*dy < gap*gap {
					free = false
					break
				}
			}
			if free {
				pts[i] = p
				placed = append(placed, p)
				break
			}
		}
	}
	return pts
}

// boxDots draws, for each configuration at x = 0, 1, ...: a box from the
// first to the third quartile with the median across it and whiskers to the
// lowest and highest run, every run as a dot beside it (the named seed's
// ringed), and the mean with its confidence interval as a diamond on a bar.
type boxDots struct {
	configs []*expConfig
	named   uint64
}

const (
	boxHalf = 0.16 // half the box's width, in configuration units
	meanX   = 0.3  // where the mean and its interval are drawn
)

func (b boxDots) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	thin := draw.LineStyle{Color: colBlack, Width: vg.Points(1)}
	for i, cf := range b.configs {
		x := float64(i)
		s := cf.TestAccuracy
		if s.N > 0 {
			// Whiskers, box and median.
			left, right := tx(x-boxHalf), tx(x+boxHalf)
			c.StrokeLine2(thin, tx(x), ty(s.Min), tx(x), ty(s.Q1))
			c.StrokeLine2(thin, tx(x), ty(s.Q3), tx(x), ty(s.Max))
			c.StrokeLine2(thin, tx(x-boxHalf/2), ty(s.Min), tx(x+boxHalf/2), ty(s.Min))
			c.StrokeLine2(thin, tx(x-boxHalf/2), ty(s.Max), tx(x+boxHalf/2), ty(s.Max))
			box := []vg.Point{{X: left, Y: ty(s.Q1)}, {X: right, Y: ty(s.Q1)}, {X: right, Y: ty(s.Q3)}, {X: left, Y: ty(s.Q3)}}
			c.FillPolygon(withAlpha(cf.col, 0.18), box)
			c.StrokeLines(thin, append(box, box[0]))
			c.StrokeLine2(draw.LineStyle{Color: colBlack, Width: vg.Points(2.2)}, left, ty(s.Median), right, ty(s.Median))
		}
		// Every run.
		for k, pt := range swarm(cf.runs, tx(x), ty) {
			r := cf.runs[k]
			if !finite(r.testAccuracy()) {
				continue
			}
			c.DrawGlyph(draw.GlyphStyle{Color: cf.col, Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}, pt)
			if r.Seed == b.named {
				c.DrawGlyph(draw.GlyphStyle{Color: colBlack, Radius: vg.Points(5.5), Shape: draw.RingGlyph{}}, pt)
			}
		}
		// Runs without a dot are said where they would be: an empty column
		// would read as a configuration never run.
		if note := leftOutNote(cf); note != "" {
			ts := draw.TextStyle{Color: colGrey, Font: font.From(plot.DefaultFont, 9), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YBottom}
			if colW := tx(1) - tx(0); ts.Width(note) > 0.95*colW {
				note = strings.Replace(note, " left out", "\nleft out", 1)
			}
			pt := vg.Point{X: tx(x), Y: c.Min.Y + 4} // below the lowest run (DataRange leaves room)
			if s.N == 0 {
				ts.YAlign = draw.YCenter
				pt.Y = (c.Min.Y + c.Max.Y) / 2
			}
			c.FillText(ts, pt, note)
		}
		// The mean and its interval.
		if finite(s.Mean) {
			mx := tx(x + meanX)
			if finite(s.CILow) {
				c.StrokeLine2(draw.LineStyle{Color: colBlack, Width: vg.Points(1.5)}, mx, ty(s.CILow), mx, ty(s.CIHigh))
				c.StrokeLine2(thin, mx-4, ty(s.CILow), mx+4, ty(s.CILow))
				c.StrokeLine2(thin, mx-4, ty(s.CIHigh), mx+4, ty(s.CIHigh))
			}
			c.DrawGlyph(draw.GlyphStyle{Color: colBlack, Radius: vg.Points(4), Shape: draw.PyramidGlyph{}}, vg.Point{X: mx, Y: ty(s.Mean)})
		}
	}
}

func (b boxDots) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, cf := range b.configs {
		for _, v := range []float64{cf.TestAccuracy.Min, cf.TestAccuracy.Max, cf.TestAccuracy.CILow, cf.TestAccuracy.CIHigh} {
			if finite(v) {
				ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
			}
		}
	}
	if math.IsInf(ymin, 0) {
		ymin, ymax = 0, 1
	}
	pad := math.Max((ymax-ymin)*0.08, 0.002)
	below := pad
	for _, cf := range b.configs {
		if cf.TestAccuracy.N > 0 && leftOutNote(cf) != "" {
			below = 2.5 * pad // room for the note under the lowest run
		}
	}
	return -0.5, float64(len(b.configs)) - 0.5, ymin - below, ymax + pad
}

// diverged reports whether a finished run diverged (see Diverged): the
// statistics leave it out, and so do the figures.
func (r *ExperimentRun) diverged() bool {
	_, ok := Diverged(*r.Metrics)
	return ok
}

// countDiverged is the number of runs of runs that diverged.
func countDiverged(runs []*ExperimentRun) int {
	n := 0
	for _, r := range runs {
		if r.diverged() {
			n++
		}
	}
	return n
}

// leftOutNote says which runs of a configuration the box plot has no dot
// for: "3 diverged" (or "2 diverged, 1 not finished") in a column with
// none, "1 diverged run left out" under the others; "" when every run
// is drawn or only unfinished ones beside drawn ones are missing (the
// caption counts those).
func leftOutNote(cf *expConfig) string {
	d := countDiverged(cf.runs)
	if cf.TestAccuracy.N > 0 {
		if d == 0 {
			return ""
		}
		return Count(d, "diverged run") + " left out"
	}
	var parts []string
	if d > 0 {
		parts = append(parts, fmt.Sprintf("%d diverged", d))
	}
	if m := cf.Runs - cf.Finished; m > 0 {
		parts = append(parts, fmt.Sprintf("%d not finished", m))
	}
	return strings.Join(parts, ", ")
}

// configAxis labels the x axis with the configurations, tilted when they
// would not fit side by side.
func configAxis(p *plot.Plot, configs []*expConfig, width vg.Length) {
	var names []string
	long := 0
	for _, cf := range configs {
		names = append(names, cf.Config)
		long = max(long, len(cf.Config))
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(configs))-0.5
	if vg.Length(long*6*len(configs)) > width*0.8 {
		p.X.Tick.Label.Rotation = math.Pi / 7
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
}

// accuracyBoxPlot is test accuracy per configuration: box, every run and
// the mean with its interval.
// ranSeed reports whether some configuration has a finished run of seed.
func ranSeed(configs []*expConfig, seed uint64) bool {
	for _, cf := range configs {
		for _, r := range cf.runs {
			if r.Seed == seed {
				return true
			}
		}
	}
	return false
}

func accuracyBoxPlot(configs []*expConfig, named uint64, level float64) (*chart, error) {
	p := plot.New()
	p.Title.Text = "Test accuracy per configuration"
	p.Y.Label.Text = "test accuracy"
	p.Add(plotter.NewGrid())
	w := vg.Length(max(7, min(11, 2.5+1.6*float64(len(configs))))) * vg.Inch
	ch := &chart{p: p, w: w, h: 4.6 * vg.Inch}
	bd := boxDots{configs: configs, named: named}
	p.Add(bd)
	configAxis(p, configs, w)
	// The legend explains the marks, not the configurations (the axis
	// names those).
	runDot := glyphThumb{draw.GlyphStyle{Color: colGrey, Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}}
	ch.addLegend("one run", runDot)
	if ranSeed(configs, named) {
		ch.addLegend(fmt.Sprintf("seed %d", named), runDot, glyphThumb{draw.GlyphStyle{Color: colBlack, Radius: vg.Points(5.5), Shape: draw.RingGlyph{}}})
	}
	ch.addLegend("box: middle half and median; whiskers: extremes", lineThumb{draw.LineStyle{Color: colBlack, Width: vg.Points(2.2)}})
	ch.addLegend(fmt.Sprintf("mean and its %.0f%% CI", 100*level), glyphThumb{draw.GlyphStyle{Color: colBlack, Radius: vg.Points(4), Shape: draw.PyramidGlyph{}}})
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for i, cf := range configs {
			x, s := float64(i), cf.TestAccuracy
			if s.N > 0 {
				out = append(out, canvasShape{X: tx(x - boxHalf), Y: ty(s.Q1), X2: tx(x + boxHalf), Y2: ty(s.Q3), Group: "box",
					Title: fmt.Sprintf("%s: median %.4f, quartiles %.4f to %.4f, runs %.4f to %.4f (n = %d)", cf.Config, s.Median, s.Q1, s.Q3, s.Min, s.Max, s.N)})
			}
			for k, pt := range swarm(cf.runs, tx(x), ty) {
				r := cf.runs[k]
				if v := r.testAccuracy(); finite(v) {
					out = append(out, canvasShape{X: pt.X, Y: pt.Y, R: 4, Group: "run",
						Title: fmt.Sprintf("%s, seed %d: test accuracy %.4f", cf.Config, r.Seed, v)})
				}
			}
			if finite(s.CILow) {
				out = append(out, canvasShape{X: tx(x+meanX) - 5, Y: ty(s.CILow), X2: tx(x+meanX) + 5, Y2: ty(s.CIHigh), Group: "mean",
					Title: fmt.Sprintf("%s: mean %.4f, %.0f%% CI %.4f to %.4f", cf.Config, s.Mean, 100*level, s.CILow, s.CIHigh)})
			}
		}
		return out
	}
	return ch, nil
}

// glyphThumb and lineThumb draw a legend sample for marks drawn by hand.
type glyphThumb struct{ s draw.GlyphStyle }

func (g glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(g.s, c.Center()) }

type lineThumb struct{ s draw.LineStyle }

func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.s, c.Min.X, y, c.Max.X, y)
}

// epochBand is one configuration's mean of a per-epoch metric with one
// standard deviation either side (sd), over the runs still training; the
// band (lo to hi) is cut at the metric's range.
type epochBand struct {
	epochs, mean, sd, lo, hi []float64
	n                        []int
}

// metricRange is the range a per-epoch metric can take: a loss (cross-
// entropy plus non-negative penalties) is at least 0, an accuracy from 0
// to 1.
func metricRange(metric string) (lo, hi float64) {
	switch {
	case strings.HasSuffix(metric, "accuracy"):
		return 0, 1
	case strings.HasSuffix(metric, "loss"):
		return 0, math.Inf(1)
	}
	return math.Inf(-1), math.Inf(1)
}

// meanCurve averages metric over the runs epoch by epoch, for as long as at
// least half of the runs (and at least one) are still training: after
// that the mean would describe only the runs that early stopping had not
// yet ended, a biased few. Diverged runs are left out, as the statistics
// leave them out: the losses of a run on its way to NaN (10^5 and more)
// would make the mean theirs and flatten every other curve. The band is
// cut at the metric's range (metricRange) rather than drawn where no run
// can be, e.g. below a loss of 0 where the runs are skewed: it stays one
// standard deviation wherever it can, as the caption says, and the
// hover gives the standard deviation itself.
func meanCurve(runs []*ExperimentRun, metric string) epochBand {
	var b epochBand
	runs = slices.DeleteFunc(slices.Clone(runs), (*ExperimentRun).diverged)
	need := max(1, (len(runs)+1)/2)
	lo, hi := metricRange(metric)
	for e := 0; ; e++ {
		var vals []float64
		for _, r := range runs {
			s := r.History.Series(metric)
			if e < len(s) && finite(s[e]) {
				vals = append(vals, s[e])
			}
		}
		if len(vals) < need {
			return b
		}
		m, sd := stats.Mean(vals), stats.SD(vals)
		if !finite(sd) {
			sd = 0
		}
		b.epochs = append(b.epochs, float64(e+1))
		b.mean, b.sd = append(b.mean, m), append(b.sd, sd)
		b.lo, b.hi = append(b.lo, math.Max(m-sd, lo)), append(b.hi, math.Min(m+sd, hi))
		b.n = append(b.n, len(vals))
	}
}

// curvesPlot draws the mean validation curve of metric per configuration
// with its band.
func curvesPlot(configs []*expConfig, metric, title string) (*chart, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = metric
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 7 * vg.Inch, h: 4.4 * vg.Inch}
	type drawn struct {
		cf   *expConfig
		band epochBand
	}
	var all []drawn
	maxEpoch := 1.0
	for _, cf := range configs {
		band := meanCurve(cf.runs, metric)
		// The legend says whose diverged runs the means leave out, and
		// names a configuration without a curve because all diverged.
		left := ""
		if d := countDiverged(cf.runs); d > 0 {
			left = Count(d, "diverged run") + " left out"
		}
		if len(band.epochs) == 0 {
			if left != "" {
				ch.addLegend(cf.Config + ": " + left)
			}
			continue
		}
		var poly, line plotter.XYs
		for i := range band.epochs {
			poly = append(poly, plotter.XY{X: band.epochs[i], Y: band.lo[i]})
			line = append(line, plotter.XY{X: band.epochs[i], Y: band.mean[i]})
		}
		for i := len(band.epochs) - 1; i >= 0; i-- {
			poly = append(poly, plotter.XY{X: band.epochs[i], Y: band.hi[i]})
		}
		if len(band.epochs) > 1 {
			pg, err := plotter.NewPolygon(poly)
			if err != nil {
				return nil, err
			}
			pg.Color, pg.LineStyle.Width = withAlpha(cf.col, 0.16), 0
			p.Add(pg)
		}
		l, pts, err := plotter.NewLinePoints(line)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = cf.col, vg.Points(2)
		pts.Color, pts.Radius = cf.col, vg.Points(2)
		p.Add(l, pts)
		label := cf.Config
		if left != "" {
			label += " (" + left + ")"
		}
		ch.addLegend(label, l, pts)
		all = append(all, drawn{cf, band})
		maxEpoch = math.Max(maxEpoch, band.epochs[len(band.epochs)-1])
	}
	p.X.Min, p.X.Max = 0.5, maxEpoch+0.5
	p.X.Tick.Marker = epochTicks{}
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, d := range all {
			for i, e := range d.band.epochs {
				out = append(out, canvasShape{X: tx(e), Y: ty(d.band.mean[i]), R: 5, Group: d.cf.Config,
					Title: fmt.Sprintf("%s, epoch %d: mean %s %.4f, SD %.4f (%s)", d.cf.Config, int(e), metric, d.band.mean[i], d.band.sd[i], Count(d.band.n[i], "run"))})
			}
		}
		return out
	}
	return ch, nil
}

// numericFactors are the varied factors whose every value is a number, with
// at least two distinct values: those an accuracy-against-factor plot can
// put on an axis.
func numericFactors(configs []*expConfig) []string {
	if len(configs) == 0 {
		return nil
	}
	var out []string
	for fi, f := range configs[0].Factors {
		distinct := map[float64]bool{}
		ok := true
		for _, cf := range configs {
			if fi >= len(cf.Factors) || cf.Factors[fi].Name != f.Name {
				ok = false
				break
			}
			v, err := strconv.ParseFloat(cf.Factors[fi].Value, 64)
			if err != nil || !finite(v) {
				ok = false
				break
			}
			distinct[v] = true
		}
		if ok && len(distinct) > 1 {
			out = append(out, f.Name)
		}
	}
	return out
}

// factorPlot draws test accuracy against a numeric factor: every run as a
// dot and the mean with its interval, a line per combination of the other
// factors. A factor spanning a factor of ten or more of positive values
// (a learning rate) gets a logarithmic axis.
func factorPlot(configs []*expConfig, factor string, level float64) (*chart, error) {
	p := plot.New()
	p.Title.Text = "Test accuracy against " + factor
	p.X.Label.Text = factor
	p.Y.Label.Text = "test accuracy"
	p.Add(plotter.NewGrid())
	ch := &chart{p: p, w: 7 * vg.Inch, h: 4.4 * vg.Inch}
	value := func(cf *expConfig) float64 {
		for _, f := range cf.Factors {
			if f.Name == factor {
				v, _ := strconv.ParseFloat(f.Value, 64)
				return v
			}
		}
		return math.NaN()
	}
	others := func(cf *expConfig) string {
		var parts []string
		for _, f := range cf.Factors {
			if f.Name != factor {
				parts = append(parts, f.Name+"="+f.Value)
			}
		}
		if len(parts) == 0 {
			return "mean"
		}
		return strings.Join(parts, " ")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, cf := range configs {
		lo, hi = math.Min(lo, value(cf)), math.Max(hi, value(cf))
	}
	// The series at one value are drawn side by side (dodged) by a small
	// shift, and the axis is padded so that no dot sits on its edge.
	logX := lo > 0 && hi/lo >= 10
	var shift func(x float64, k int) float64
	if logX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, factorTicks{log: true}
		f := math.Pow(hi/lo, 0.015)
		shift = func(x float64, k int) float64 { return x * math.Pow(f, float64(k)) }
		p.X.Min, p.X.Max = lo/math.Pow(hi/lo, 0.08), hi*math.Pow(hi/lo, 0.08)
	} else {
		p.X.Tick.Marker = factorTicks{}
		d := (hi - lo) * 0.015
		shift = func(x float64, k int) float64 { return x + d*float64(k) }
		p.X.Min, p.X.Max = lo-(hi-lo)*0.08, hi+(hi-lo)*0.08
	}
	var series []string
	byOther := map[string][]*expConfig{}
	for _, cf := range configs {
		k := others(cf)
		if byOther[k] == nil {
			series = append(series, k)
		}
		byOther[k] = append(byOther[k], cf)
	}
	type dot struct {
		x, y         float64
		group, title string
	}
	var dots []dot
	for si, k := range series {
		col := Palette[si%len(Palette)]
		dodge := 2*si - (len(series) - 1) // in half steps, centred
		cfs := byOther[k]
		slices.SortStableFunc(cfs, func(a, b *expConfig) int { return cmpFloat(value(a), value(b)) })
		var means plotter.XYs
		var errs plotter.YErrors
		for _, cf := range cfs {
			x := shift(value(cf), dodge)
			var xy plotter.XYs
			for _, r := range cf.runs {
				if v := r.testAccuracy(); finite(v) {
					xy = append(xy, plotter.XY{X: x, Y: v})
					dots = append(dots, dot{x, v, "run", fmt.Sprintf("%s, seed %d: test accuracy %.4f", cf.Config, r.Seed, v)})
				}
			}
			if len(xy) > 0 {
				sc, err := plotter.NewScatter(xy)
				if err != nil {
					return nil, err
				}
				sc.Color, sc.Radius, sc.Shape = withAlpha(col, 0.45), vg.Points(2.6), draw.CircleGlyph{}
				p.Add(sc)
			}
			if s := cf.TestAccuracy; finite(s.Mean) {
				means = append(means, plotter.XY{X: x, Y: s.Mean})
				e := struct{ Low, High float64 }{0, 0}
				if finite(s.CILow) {
					e.Low, e.High = s.Mean-s.CILow, s.CIHigh-s.Mean
				}
				errs = append(errs, e)
				dots = append(dots, dot{x, s.Mean, "mean", fmt.Sprintf("%s: mean %.4f, %.0f%% CI %.4f to %.4f (n = %d)", cf.Config, s.Mean, 100*level, s.CILow, s.CIHigh, s.N)})
			}
		}
		if len(means) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(means)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = col, vg.Points(2)
		pts.Color, pts.Radius, pts.Shape = col, vg.Points(4), draw.PyramidGlyph{}
		eb := &plotter.YErrorBars{XYs: means, YErrors: errs, LineStyle: draw.LineStyle{Color: col, Width: vg.Points(1.5)}, CapWidth: vg.Points(8)}
		p.Add(l, eb, pts)
		label := k
		if k != "mean" {
			label += ": mean"
		}
		ch.addLegend(fmt.Sprintf("%s and %.0f%% CI", label, 100*level), l, pts)
	}
	ch.addLegend("one run", glyphThumb{draw.GlyphStyle{Color: withAlpha(colGrey, 0.6), Radius: vg.Points(2.6), Shape: draw.CircleGlyph{}}})
	ch.hover = func(tx, ty func(float64) vg.Length) []canvasShape {
		var out []canvasShape
		for _, d := range dots {
			out = append(out, canvasShape{X: tx(d.x), Y: ty(d.y), R: 4, Group: d.group, Title: d.title})
		}
		return out
	}
	return ch, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// factorTicks labels a factor axis at the powers of ten (log) or at
// gonum's default places, with labels short enough to read (0.001, not
// 1e-03).
type factorTicks struct{ log bool }

func (t factorTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) || (t.log && !(lo > 0)) {
		return endTicks(lo, hi) // gonum's tickers panic on these
	}
	var ts []plot.Tick
	if t.log {
		ts = plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	} else {
		ts = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', -1, 64)
		}
	}
	return ts
}
