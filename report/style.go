package report

// The shared style of every figure and page this package makes (the run
// report, and the experiment report in experiment*.go): one sans-serif
// family (Liberation Sans in the figures, the same name first in the page's
// CSS, with its metric twin Arial after it), the Okabe-Ito palette, which
// stays distinguishable for colour-blind readers, legends drawn in a strip
// above the data where they hide nothing, and hover targets recorded from
// the same geometry the figure is drawn with.

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"strconv"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func init() {
	// gonum's default is Liberation Serif; every plot made after this,
	// and every text style built from DefaultFont, is sans-serif.
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	plotter.DefaultFont = plot.DefaultFont
}

// Okabe-Ito colours (Okabe and Ito, "Color Universal Design", 2002): the
// figures use them in this order for their series.
var (
	colBlue      = color.RGBA{0, 114, 178, 255}
	colVermilion = color.RGBA{213, 94, 0, 255}
	colGreen     = color.RGBA{0, 158, 115, 255}
	colPurple    = color.RGBA{204, 121, 167, 255}
	colOrange    = color.RGBA{230, 159, 0, 255}
	colSky       = color.RGBA{86, 180, 233, 255}
	colYellow    = color.RGBA{240, 228, 66, 255}
	colGrey      = color.RGBA{110, 110, 110, 255}
	colBlack     = color.RGBA{0, 0, 0, 255}
)

// Palette is the series colours in order, for figures with several series.
var Palette = []color.Color{colBlue, colVermilion, colGreen, colPurple, colOrange, colSky, colYellow, colBlack}

// The roles of the run report's colours.
var (
	colTrain = colBlue
	colVal   = colVermilion
	colBest  = colGreen
	colStop  = colGrey
	colF1    = colPurple
	colWrong = colVermilion
)

// fontFamilyCSS names the figures' font family first, so the page and the
// figures share one family wherever Liberation Sans is installed.
const fontFamilyCSS = `"Liberation Sans", Arial, Helvetica, sans-serif`

// fontFaceCSS embeds Liberation Sans Regular (the figures' font) in the
// page, so the page reads in the figures' family on any machine, offline;
// bold is synthesised by the browser rather than embedding a second face.
var fontFaceCSS = `@font-face { font-family: "Liberation Sans"; font-style: normal; font-weight: 400; src: url(data:font/ttf;base64,` +
	base64.StdEncoding.EncodeToString(liberationsansregular.TTF) + `) format("truetype"); }`

// pageCSS is the style of every page this package writes: the figures'
// font family, the palette's blue as the accent, figures that scale down to
// a phone's width with their hover layer over them, tables that scroll
// inside their box rather than the page, and a print style (no hover layer,
// no page-wide backgrounds, figures kept whole on a page).
var pageCSS = fontFaceCSS + `
:root { --fg: #1d2230; --muted: #5b6273; --line: #dde1ea; --accent: #0072b2; --bg: #fff; --card: #f6f8fb; --good: #009e73; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 ` + fontFamilyCSS + `; color: var(--fg); background: var(--bg); overflow-wrap: break-word; }
main { max-width: 980px; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .7rem; }
.card { background: var(--card); border-radius: 10px; padding: .7rem .9rem; }
.card .v { font-size: 1.6rem; font-weight: 650; }
.card .k { color: var(--muted); font-size: .85rem; }
.card.main .v { color: var(--accent); font-size: 2rem; }
figure { margin: 1rem 0 1.6rem; }
.fig { position: relative; line-height: 0; }
.fig img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.fig svg.hover { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
svg.hover .legend-box, svg.hover .data-area { fill: none; stroke: none; pointer-events: none; }
svg.hover .pt { fill: #000; fill-opacity: 0; cursor: crosshair; }
svg.hover .pt:hover { fill-opacity: .18; stroke: #000; stroke-width: 1; }
figcaption { color: var(--muted); font-size: .92rem; margin-top: .3rem; }
.explain { background: var(--card); border-left: 4px solid var(--accent); border-radius: 4px; padding: .5rem .9rem; margin: .6rem 0 1rem; }
.explain p { margin: .35rem 0; }
.reading { border-left-color: var(--good); }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); gap: 1rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: .92rem; font-variant-numeric: tabular-nums; width: 100%; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
tr.best td { background: #e6f5ef; font-weight: 600; }
.kv td:first-child { color: var(--muted); }
.kv td { text-align: left; white-space: normal; word-break: break-all; }
footer { color: var(--muted); font-size: .85rem; margin: 2rem 0 1rem; }
a { color: var(--accent); }
@media (max-width: 520px) {
  main { padding: .7rem; }
  th, td { padding: .25rem .35rem; }
  table { font-size: .82rem; }
}
@media print {
  body { font-size: 11pt; color: #000; }
  main { max-width: none; padding: 0; }
  svg.hover, .links { display: none; }
  .card, .explain, tr.best td { background: none; }
  .card, .explain { border: 1px solid #999; }
  figure, .explain, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  .scroll { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
`

// legendEntry is one entry of a chart's legend: a label and the thumbnails
// that draw its sample (a line, a glyph, a bar).
type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// shape is one hover target of a figure, in the figure's SVG coordinates
// (points, origin top left): a circle (R > 0) at X, Y or a rectangle.
type shape struct {
	X, Y, W, H, R float64
	Group         string // the series or role, e.g. "validation"
	Title         string // the value shown on hover
}

// geometry is where a chart put its parts, in SVG coordinates (points,
// origin top left), recorded for the hover overlay and the tests.
type geometry struct {
	W, H   float64
	Legend rect // the legend's box (zero if none)
	Data   rect // the data area
	Shapes []shape
}

type rect struct{ X, Y, W, H float64 }

// hoverFunc lists a chart's hover targets, given its data-to-canvas
// transforms (canvas coordinates: points, origin bottom left).
type hoverFunc func(tx, ty func(float64) vg.Length) []canvasShape

// canvasShape is a hover target in canvas coordinates: a circle of radius R
// around (X, Y), or the rectangle from (X, Y) to (X2, Y2).
type canvasShape struct {
	X, Y, X2, Y2 vg.Length
	R            vg.Length
	Group, Title string
}

// chart is a gonum plot drawn with its title and its legend in a strip
// above the data, so the legend never hides a point or a mark.
type chart struct {
	p      *plot.Plot
	legend []legendEntry
	hover  hoverFunc
	w, h   vg.Length
}

const (
	legendThumb = 22 // points: width of a legend sample
	legendGap   = 14 // points between legend entries
	legendPad   = 4  // points around the legend
)

func (ch *chart) addLegend(label string, thumbs ...plot.Thumbnailer) {
	ch.legend = append(ch.legend, legendEntry{label, thumbs})
}

// layout splits c into the title line, the legend strip (entries placed
// left to right, wrapping) and the plot's area.
type chartLayout struct {
	titleY  vg.Length
	legend  vg.Rectangle
	entries []vg.Point // the bottom left of each entry's sample
	rowH    vg.Length
	plotC   draw.Canvas
}

func (ch *chart) layout(c draw.Canvas) chartLayout {
	var l chartLayout
	top := c.Max.Y
	ts := ch.p.Title.TextStyle
	if ch.p.Title.Text != "" {
		l.titleY = top + ts.FontExtents().Descent // as plot.Draw places it
		top -= ts.Rectangle(ch.p.Title.Text).Size().Y
		top -= ch.p.Title.Padding
	}
	lts := ch.p.Legend.TextStyle
	l.rowH = lts.FontExtents().Height + 3
	if len(ch.legend) > 0 {
		// Entries start where the data area starts (past the y axis).
		left := ch.plotLeft(c)
		x, rows := left+legendPad, 1
		for _, e := range ch.legend {
			w := legendThumb + 4 + lts.Width(e.label)
			if x+w > c.Max.X-legendPad && x > left+legendPad {
				x, rows = left+legendPad, rows+1
			}
			l.entries = append(l.entries, vg.Point{X: x, Y: vg.Length(rows)})
			x += w + legendGap
		}
		h := vg.Length(rows)*l.rowH + 2*legendPad
		l.legend = vg.Rectangle{Min: vg.Point{X: left, Y: top - h}, Max: vg.Point{X: c.Max.X, Y: top}}
		for i := range l.entries {
			row := l.entries[i].Y
			l.entries[i].Y = top - legendPad - (row-1)*l.rowH // the row's top
		}
		top -= h + 4
	}
	l.plotC = c
	l.plotC.Max.Y = top
	return l
}

// plotLeft is the left edge of the data area, found by laying the plot
// out on the whole canvas (the y axis's width does not depend on height).
func (ch *chart) plotLeft(c draw.Canvas) vg.Length {
	title := ch.p.Title.Text
	ch.p.Title.Text = ""
	defer func() { ch.p.Title.Text = title }()
	return ch.p.DataCanvas(c).Min.X
}

func (ch *chart) draw(c draw.Canvas) {
	l := ch.layout(c)
	if t := ch.p.Title.Text; t != "" {
		c.FillText(ch.p.Title.TextStyle, vg.Point{X: c.Center().X, Y: l.titleY}, t)
	}
	lts := ch.p.Legend.TextStyle
	lts.XAlign, lts.YAlign = draw.XLeft, draw.YBottom
	for i, e := range ch.legend {
		p := l.entries[i]
		descent := lts.FontExtents().Descent
		box := draw.Crop(c, 0, 0, 0, 0)
		box.Min = vg.Point{X: p.X, Y: p.Y - l.rowH + 2}
		box.Max = vg.Point{X: p.X + legendThumb, Y: p.Y - 1}
		for _, t := range e.thumbs {
			t.Thumbnail(&box)
		}
		c.FillText(lts, vg.Point{X: p.X + legendThumb + 4, Y: p.Y - l.rowH + descent + 1}, e.label)
	}
	title, background := ch.p.Title.Text, ch.p.BackgroundColor
	ch.p.Title.Text = ""
	if onWhite(c) && white(background) {
		ch.p.BackgroundColor = nil // painting it would change no pixel
	}
	ch.p.Draw(l.plotC)
	ch.p.Title.Text, ch.p.BackgroundColor = title, background
}

// white reports opaque white.
func white(c color.Color) bool {
	if c == nil {
		return false
	}
	r, g, b, a := c.RGBA()
	return r == 0xffff && g == 0xffff && b == 0xffff && a == 0xffff
}

// onWhite reports a raster canvas, which render's vgimg.NewWith(UseWH,
// UseDPI) starts opaque white (one made with UseBackgroundColor need not
// be): a white background filled on it changes no pixel but costs a pass
// of the rasterizer over the whole figure. A vector canvas starts
// transparent, so it gets the background drawn.
func onWhite(c draw.Canvas) bool {
	_, ok := c.Canvas.(*vgimg.Canvas)
	return ok
}

// geometry records where the legend, the data area and the hover targets
// of ch are, as drawn on a canvas of ch's size.
func (ch *chart) geometry() geometry {
	// Laying out only measures text, so no backing canvas is needed.
	c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: ch.w, Y: ch.h}}}
	l := ch.layout(c)
	title := ch.p.Title.Text
	ch.p.Title.Text = ""
	dataC := ch.p.DataCanvas(l.plotC)
	ch.p.Title.Text = title
	H := float64(ch.h)
	toRect := func(r vg.Rectangle) rect {
		return rect{float64(r.Min.X), H - float64(r.Max.Y), float64(r.Max.X - r.Min.X), float64(r.Max.Y - r.Min.Y)}
	}
	g := geometry{W: float64(ch.w), H: H, Data: toRect(dataC.Rectangle)}
	if len(ch.legend) > 0 {
		g.Legend = toRect(l.legend)
	}
	if ch.hover != nil {
		tx, ty := ch.p.Transforms(&dataC)
		for _, s := range ch.hover(tx, ty) {
			if s.R > 0 {
				g.Shapes = append(g.Shapes, shape{X: float64(s.X), Y: H - float64(s.Y), R: float64(s.R), Group: s.Group, Title: s.Title})
				continue
			}
			x0, x1 := min(s.X, s.X2), max(s.X, s.X2)
			y0, y1 := min(s.Y, s.Y2), max(s.Y, s.Y2)
			g.Shapes = append(g.Shapes, shape{X: float64(x0), Y: H - float64(y1), W: float64(x1 - x0), H: float64(y1 - y0), Group: s.Group, Title: s.Title})
		}
	}
	return g
}

// overlay is the figure's hover layer: an SVG drawn over the figure's
// image at the same scale, holding one invisible target per value with the
// value as its <title>, which browsers show on hover.
func (g geometry) overlay() template.HTML {
	if len(g.Shapes) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="hover" viewBox="0 0 %.2f %.2f" preserveAspectRatio="none" aria-hidden="true">`, g.W, g.H)
	if g.Legend.W > 0 {
		fmt.Fprintf(&b, `<rect class="legend-box" x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>`, g.Legend.X, g.Legend.Y, g.Legend.W, g.Legend.H)
	}
	fmt.Fprintf(&b, `<rect class="data-area" x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>`, g.Data.X, g.Data.Y, g.Data.W, g.Data.H)
	esc := template.HTMLEscapeString
	for _, s := range g.Shapes {
		if s.R > 0 {
			fmt.Fprintf(&b, `<circle class="pt" data-group="%s" cx="%.2f" cy="%.2f" r="%.2f"><title>%s</title></circle>`, esc(s.Group), s.X, s.Y, s.R, esc(s.Title))
		} else {
			fmt.Fprintf(&b, `<rect class="pt" data-group="%s" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s</title></rect>`, esc(s.Group), s.X, s.Y, s.W, s.H, esc(s.Title))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// epochTicks labels about ten whole epochs and always the marked ones
// (the restored and the early-stopping epoch), so a mark can be read off
// the axis; a regular label right beside a marked one is dropped.
type epochTicks struct{ marked []int }

func (t epochTicks) Ticks(lo, hi float64) []plot.Tick {
	a, b := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, (b-a+1)/10)
	isMarked := func(v int) bool {
		for _, m := range t.marked {
			if m == v {
				return true
			}
		}
		return false
	}
	near := func(v int) bool {
		for _, m := range t.marked {
			if step > 1 && m != v && abs(m-v) <= step/2 {
				return true
			}
		}
		return false
	}
	var ts []plot.Tick
	for v := a; v <= b; v++ {
		tk := plot.Tick{Value: float64(v)}
		if isMarked(v) || ((v-1)%step == 0 && !near(v)) {
			tk.Label = fmt.Sprint(v)
		}
		ts = append(ts, tk)
	}
	return ts
}

// endTicks labels the ends of a range that cannot be divided: its finite
// ends, or nothing.
func endTicks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for _, v := range []float64{lo, hi} {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && (len(ts) == 0 || ts[0].Value != v) {
			ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
		}
	}
	return ts
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// niceTicks labels about n round values (steps of 1, 2, 2.5 or 5 times a
// power of ten) with as many decimals as the step needs, and puts an
// unlabelled tick halfway between them.
type niceTicks struct{ n int }

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) || hi-lo < 1e-12*max(math.Abs(lo), math.Abs(hi)) {
		// No range to divide (gonum's DefaultTicks panics on it), or too
		// narrow for its size to step through: its ends.
		return endTicks(lo, hi)
	}
	raw := (hi - lo) / float64(max(t.n, 2))
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := pow
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if step/math.Pow(10, -float64(decimals)) != math.Trunc(step/math.Pow(10, -float64(decimals))) {
		decimals++ // 2.5 x 10^-k needs one more
	}
	var ts []plot.Tick
	for k := math.Ceil(lo / step * 2); k/2*step <= hi+1e-12; k++ {
		v := k / 2 * step
		if math.Abs(v) < step*1e-9 {
			v = 0 // not "-0.0" from a zero rounded just below it
		}
		tk := plot.Tick{Value: v}
		if int(k)%2 == 0 {
			tk.Label = strconv.FormatFloat(v, 'f', decimals, 64)
		}
		ts = append(ts, tk)
	}
	return ts
}
