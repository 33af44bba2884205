package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"git.sr.ht/~sbinet/gg"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/train"
)

// HTMLFile is the report's file name in a run directory.
const HTMLFile = "report.html"

// Input is what a run's report is made from: its run directory's saved files, and
// optionally the test images for the sample grid.
type Input struct {
	Dir     string
	History *train.History
	Metrics *train.Metrics
	Classes []string
	// Test holds the test images the run was evaluated on (nil: no grid).
	Test *dataset.Set
	// Experiment places the run among the others of its experiment, for
	// the reading (nil: not part of one).
	Experiment *ExperimentPlace
	// Threads is the most goroutines that draw the figures at once (0:
	// GOMAXPROCS): a run of an experiment draws on its own share of the
	// CPUs while the other runs train on theirs.
	Threads int
}

// Figure is one figure of a report, written as name.png and name.svg.
type Figure struct {
	Name    string
	Title   string
	Caption string
	png     []byte
	geom    geometry // where its parts and hover targets are (charts only)
}

// maxGrid is the number of test images shown in the sample grid.
const maxGrid = 40

// Write draws every figure of r into r.Dir as PNG and SVG and writes
// report.html; it returns the figures in report order.
func Write(r Input) ([]Figure, error) {
	figs, err := Figures(r)
	if err != nil {
		return nil, err
	}
	html, err := HTML(r, figs)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(r.Dir, HTMLFile), html, 0o644); err != nil {
		return nil, err
	}
	return figs, nil
}

// drawing is anything that can be rendered at a size onto a canvas.
type drawing struct {
	w, h  vg.Length
	draw  func(draw.Canvas)
	chart *chart // nil for drawings that are not charts
	// pixelated: the drawing's images are small, to be shown with crisp
	// pixels when enlarged (drawPixels).
	pixelated bool
}

func fromChart(ch *chart, err error) (drawing, error) {
	if err != nil {
		return drawing{}, err
	}
	return drawing{w: ch.w, h: ch.h, draw: ch.draw, chart: ch}, nil
}

// check refuses a run's test results no run can have (edited since): as
// many predictions as labels, each a class of the data set.
func (r Input) check() error {
	m := r.Metrics
	if len(m.TestLabels) != len(m.TestPredictions) {
		return fmt.Errorf("report %s: %d test labels but %d predictions in %s", r.Dir, len(m.TestLabels), len(m.TestPredictions), train.MetricsJSON)
	}
	for _, v := range append(append([]int32(nil), m.TestLabels...), m.TestPredictions...) {
		if v < 0 || int(v) >= len(r.Classes) {
			return fmt.Errorf("report %s: class %d in %s outside the %d classes", r.Dir, v, train.MetricsJSON, len(r.Classes))
		}
	}
	return nil
}

// Figures renders the figures of r and writes their PNG and SVG files.
func Figures(r Input) ([]Figure, error) {
	m, h := r.Metrics, r.History
	if err := r.check(); err != nil {
		return nil, err
	}
	conf := train.NewConfusion(m.TestLabels, m.TestPredictions, len(r.Classes))
	stop := "training ran all its epochs"
	switch {
	case m.Terminated != "":
		stop = m.Terminated // "loss became NaN at epoch 1, step 4: training stopped"
	case m.StoppedEarly:
		stop = fmt.Sprintf("early stopping ended training after epoch %d", m.EpochsRun)
	}
	type spec struct {
		fig  Figure
		make func() (drawing, error)
	}
	// hover gives the hover targets of the figures that are not charts.
	hover := map[string]func() geometry{}
	// With many classes the figures name only every k-th (classTicks).
	manyMatrix, manyBars := "", ""
	if n := len(r.Classes); n > manyClasses {
		k := ordinal((n + manyClasses - 1) / manyClasses)
		manyMatrix = fmt.Sprintf(" With %d classes the cells carry no numbers and the axes name every %s class from the first; point at a cell for its classes and value.", n, k)
		manyBars = fmt.Sprintf(" With %d classes the axis names every %s class from the first; point at a bar for its class and value.", n, k)
	}
	specs := []spec{
		{Figure{Name: "loss", Title: "Loss", Caption: lossCaption(h, m, stop)},
			func() (drawing, error) { return fromChart(curve(h, m, "loss", "Loss")) }},
		{Figure{Name: "accuracy", Title: "Accuracy", Caption: "Training and validation accuracy per epoch, with the same marks. A widening gap between the two curves is overfitting."},
			func() (drawing, error) { return fromChart(curve(h, m, "accuracy", "Accuracy")) }},
		{Figure{Name: "confusion_counts", Title: "Confusion matrix (counts)", Caption: fmt.Sprintf("Test images by true class (rows) and predicted class (columns), %d in all; the diagonal is correct.%s", len(m.TestLabels), manyMatrix)},
			func() (drawing, error) {
				vals, vmax := counts(conf)
				return fromChart(confusionPlot(vals, r.Classes, "Confusion matrix: counts", func(v float64) string { return fmt.Sprintf("%.0f", v) }, vmax,
					func(i, j int) string {
						return fmt.Sprintf("true %s, predicted %s: %s", r.Classes[i], r.Classes[j], Count(conf.Counts[i][j], "image"))
					}))
			}},
		{Figure{Name: "confusion_normalized", Title: "Confusion matrix (row-normalised)", Caption: "Each row divided by its total: the diagonal is each class's recall, the rest where its images went." + manyMatrix},
			func() (drawing, error) {
				norm := conf.RowNormalized()
				return fromChart(confusionPlot(norm, r.Classes, "Confusion matrix: fraction of each true class", func(v float64) string { return fmt.Sprintf("%.2f", v) }, 1,
					func(i, j int) string {
						return fmt.Sprintf("true %s, predicted %s: %.1f%% of the %s images", r.Classes[i], r.Classes[j], 100*norm[i][j], r.Classes[i])
					}))
			}},
		{Figure{Name: "per_class", Title: "Per-class precision, recall and F1", Caption: "Precision: of the images predicted as a class, the share that are. Recall: of a class's images, the share found. F1: their harmonic mean." + manyBars},
			func() (drawing, error) {
				return fromChart(perClassPlot(conf.PerClass(), r.Classes))
			}},
	}
	if fig, mk, ok := learningRateFigure(h); ok { // learning_rate.go
		specs = append(specs, spec{fig, mk})
	}
	if c, ok := calibrationOf(m.TestLabels, m.TestPredictions, m.TestConfidence); ok {
		specs = append(specs, spec{Figure{Name: "calibration", Title: "Reliability diagram",
			Caption: fmt.Sprintf("Accuracy of the test predictions in %d equal-width bins of confidence, against the diagonal of a perfectly calibrated model; ECE %.4f.", CalibrationBins, c.ECE)},
			func() (drawing, error) { return fromChart(reliabilityPlot(c)) }})
	}
	if r.Test != nil && r.Test.Len() > 0 {
		g := grid(r, min(maxGrid, r.Test.Len(), len(m.TestPredictions)))
		specs = append(specs, spec{Figure{Name: "samples", Title: "Test images and predictions", Caption: "The first test images with their true and predicted classes; misclassified ones are framed and captioned in the palette's vermilion."},
			func() (drawing, error) {
				w, h := g.size()
				return drawing{w: w, h: h, draw: g.draw, pixelated: true}, nil
			}})
		hover["samples"] = g.geometry
	}
	figs := make([]Figure, len(specs))
	err := each(len(specs), r.Threads, func(i int) error {
		s := specs[i]
		d, err := s.make()
		if err != nil {
			return fmt.Errorf("report: %s: %v", s.fig.Name, err)
		}
		fig := s.fig
		if d.chart != nil {
			fig.geom = d.chart.geometry()
		} else if targets := hover[fig.Name]; targets != nil {
			fig.geom = targets()
		}
		if fig.png, err = render(d, filepath.Join(r.Dir, fig.Name)); err != nil {
			return err
		}
		figs[i] = fig
		return nil
	})
	if err != nil {
		return nil, err
	}
	return figs, nil
}

// lossCaption is the Loss figure's caption: the epoch its green line marks
// (the one whose weights the model keeps) with that epoch's own val_loss,
// and, when another epoch's val_loss was lower (the model keeps the last
// epoch's weights without early stopping's restore), where val_loss was
// lowest. stop says how training ended.
func lossCaption(h *train.History, m *train.Metrics, stop string) string {
	const base = "Training and validation loss per epoch."
	if m.BestEpoch < 1 || m.BestEpoch > len(h.Epochs) { // no green line (curve)
		return fmt.Sprintf("%s %s%s.", base, strings.ToUpper(stop[:1]), stop[1:])
	}
	valLoss := func(e train.Epoch) (float64, bool) {
		v, ok := e.Get("val_loss")
		return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	lowest, lowestVal := 0, 0.0 // 1-based epoch of the lowest val_loss (0: none)
	for _, e := range h.Epochs {
		if v, ok := valLoss(e); ok && (lowest == 0 || v < lowestVal) {
			lowest, lowestVal = e.Epoch, v
		}
	}
	which := ""
	if m.BestEpoch == len(h.Epochs) {
		which = "the last, "
	}
	kept, ok := valLoss(h.Epochs[m.BestEpoch-1])
	switch {
	case !ok || lowest == 0:
		return fmt.Sprintf("%s The green line marks epoch %d, %swhose weights the model keeps; %s.", base, m.BestEpoch, which, stop)
	case kept == lowestVal:
		return fmt.Sprintf("%s The green line marks epoch %d, whose weights the model keeps (lowest val_loss %.4f); %s.", base, m.BestEpoch, kept, stop)
	default:
		return fmt.Sprintf("%s The green line marks epoch %d, %swhose weights the model keeps (val_loss %.4f); val_loss was lowest at epoch %d (%.4f); %s.",
			base, m.BestEpoch, which, kept, lowest, lowestVal, stop)
	}
}

// each runs f(0), ..., f(n-1) on up to limit goroutines (0: GOMAXPROCS;
// a report's figures are independent: a lone train run draws them on
// every CPU, a run of an experiment on its share) and returns the error
// of the lowest i that failed.
func each(n, limit int, f func(i int) error) error {
	if limit <= 0 {
		limit = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, limit) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func counts(c train.Confusion) ([][]float64, float64) {
	out := make([][]float64, len(c.Counts))
	vmax := 1.0
	for i, row := range c.Counts {
		out[i] = make([]float64, len(row))
		for j, v := range row {
			out[i][j] = float64(v)
			vmax = max(vmax, float64(v))
		}
	}
	return out, vmax
}

func grid(r Input, n int) sampleGrid {
	g := sampleGrid{cols: 8}
	for i := range n {
		g.images = append(g.images, r.Test.Image(i))
		y, p := r.Metrics.TestLabels[i], r.Metrics.TestPredictions[i]
		g.truth = append(g.truth, r.Classes[y])
		g.guessed = append(g.guessed, r.Classes[p])
		g.wrong = append(g.wrong, y != p)
		if len(r.Metrics.TestConfidence) > i {
			g.confidence = append(g.confidence, r.Metrics.TestConfidence[i])
		}
	}
	return g
}

// render writes base.png (at 150 dpi) and base.svg, and returns the PNG.
func render(d drawing, base string) ([]byte, error) {
	img, raster := newRaster(d.w, d.h)
	defer rasters.put(raster)
	d.draw(draw.New(img))
	svg := newSVG(d.w, d.h)
	d.draw(draw.New(svg))
	var pngBuf bytes.Buffer
	for _, f := range []struct {
		ext string
		w   io.WriterTo
		buf *bytes.Buffer
	}{{".png", fastPNG{img.Image()}, &pngBuf}, {".svg", svg, nil}} {
		var b bytes.Buffer
		if _, err := f.w.WriteTo(&b); err != nil {
			return nil, fmt.Errorf("report: %s%s: %v", base, f.ext, err)
		}
		out := b.Bytes()
		if f.ext == ".svg" && d.pixelated {
			out = pixelatedSVG(out)
		}
		if err := atomicfile.WriteFile(base+f.ext, out, 0o644); err != nil {
			return nil, err
		}
		if f.buf != nil {
			*f.buf = b
		}
	}
	return pngBuf.Bytes(), nil
}

// rasterDPI is the resolution of the PNG figures.
const rasterDPI = 150

// newRaster returns a raster canvas of w x h at rasterDPI, white, drawing
// into an image from rasters, which it also returns for rasters.put.
// vgimg.NewWith(UseWH) would allocate an image and gg would copy it into
// another, for every figure of every run's report: a fifth of a report's
// time (BENCHMARKS.md).
func newRaster(w, h vg.Length) (*vgimg.Canvas, *image.RGBA) {
	px := func(l vg.Length) int { return int(l/vg.Inch*rasterDPI + 0.5) } // as NewWith rounds
	img := rasters.get(image.Pt(px(w), px(h)))
	return rasterOn(img), img
}

// rasterOn returns a raster canvas at rasterDPI drawing into img, which
// it first paints white, whatever img held.
func rasterOn(img *image.RGBA) *vgimg.Canvas {
	ctx := gg.NewContextForRGBA(img)
	ctx.SetLineCapButt() // as NewWith sets up its own context
	ctx.InvertY()
	ctx.SetInterpolator(glyphInterp{}) // draw.BiLinear's pixels, faster for text
	return vgimg.NewWith(vgimg.UseImageWithContext(img, ctx), vgimg.UseDPI(rasterDPI))
}

// rasters keeps figures' images for the next figure of their size (the
// reports of an experiment's runs are drawn at the same time), up to
// rasterBytes in all: a bounded cache, which a sync.Pool would not be here
// (a report allocates enough for the collector to empty the pool between
// its figures).
var rasters = rasterPool{free: map[image.Point][]*image.RGBA{}}

// rasterBytes bounds the images rasters keeps: about ten figures.
const rasterBytes = 32 << 20

type rasterPool struct {
	mu    sync.Mutex
	free  map[image.Point][]*image.RGBA
	bytes int // of the images in free
}

// get returns an image of the size, its contents undefined.
func (p *rasterPool) get(size image.Point) *image.RGBA {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.free[size]; len(l) > 0 {
		img := l[len(l)-1]
		p.free[size] = l[:len(l)-1]
		p.bytes -= len(img.Pix)
		return img
	}
	return image.NewRGBA(image.Rectangle{Max: size})
}

// put keeps img for get, unless that would keep more than rasterBytes.
func (p *rasterPool) put(img *image.RGBA) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+len(img.Pix) <= rasterBytes {
		size := img.Rect.Size()
		p.free[size] = append(p.free[size], img)
		p.bytes += len(img.Pix)
	}
}

// pixelatedSVG marks every image of an SVG from vgsvg to be enlarged with
// crisp pixels, as the PNG draws them, so that the SVG can hold the 32x32
// images themselves: CSS image-rendering for browsers, and SVG's
// presentation attribute for renderers that ignore CSS (librsvg, older
// Inkscape).
func pixelatedSVG(svg []byte) []byte {
	return bytes.ReplaceAll(svg, []byte("<image "), []byte(`<image style="image-rendering:pixelated" image-rendering="optimizeSpeed" `))
}

// fastPNG writes an image as PNG with zlib's fastest compression
// (encodePNG): an experiment draws every run's figures, and the default
// compression took most of a report's time for files barely smaller
// (BENCHMARKS.md).
type fastPNG struct{ img image.Image }

func (p fastPNG) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	if err := encodePNG(&b, p.img); err != nil {
		return 0, err
	}
	return b.WriteTo(w)
}

// dataURI embeds a PNG in the page.
func dataURI(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// Load reads a run directory's history and metrics, and the test images
// from the data the run used (or dataOverride), for a report without
// training. A run whose data cannot be found gets a report without the
// image grid, and the returned warning says why.
func Load(dir, dataOverride string) (Input, string, error) {
	h, m, err := train.ReadRun(dir)
	if err != nil {
		return Input{}, "", err
	}
	info, err := m.Config.Info()
	if err != nil {
		return Input{}, "", fmt.Errorf("run %s: %s: %v", dir, train.MetricsJSON, err)
	}
	r := Input{Dir: dir, History: h, Metrics: m, Classes: info.Classes}
	if r.Experiment, err = readPlace(dir); err != nil {
		return Input{}, "", err
	}
	src := m.Env.Data
	if dataOverride != "" {
		src = dataOverride
	}
	var warning string
	if src == "" {
		warning = "no data location recorded: the report has no image grid (pass --data)"
	} else if _, err := os.Stat(src); err != nil {
		warning = fmt.Sprintf("data %s not found: the report has no image grid (pass --data)", src)
	} else if d, err := datasets.Load(info, src, 0, len(m.TestLabels)); err != nil {
		warning = fmt.Sprintf("%v: the report has no image grid", err)
	} else if !sameLabels(d.Test.Labels, m.TestLabels) {
		warning = fmt.Sprintf("data %s is not the data the run was evaluated on (test labels differ): the report has no image grid", src)
	} else {
		r.Test = d.Test
		r.Classes = d.Classes
	}
	return r, warning, nil
}

func sameLabels(a []uint8, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if int32(a[i]) != b[i] {
			return false
		}
	}
	return true
}
