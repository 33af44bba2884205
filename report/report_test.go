package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/train"
)

// syntheticRun is a small made-up run: 7 epochs, best at 4, stopped early,
// 3 classes, 6 test images of which 2 are wrong.
func syntheticRun(t *testing.T) Input {
	t.Helper()
	h := &train.History{}
	val := []float64{1.0, 0.9, 0.85, 0.8, 0.82, 0.9, 0.95}
	for i, v := range val {
		h.Epochs = append(h.Epochs, train.Epoch{Epoch: i + 1, Seconds: 0.1, Logs: train.Logs{
			Loss: 1.1 - 0.1*float64(i), Accuracy: 0.3 + 0.05*float64(i), ValLoss: v, ValAccuracy: 0.3 + 0.02*float64(i), HasVal: true}})
	}
	test := &dataset.Set{Shape: dataset.Shape{Height: 32, Width: 32, Channels: 3}, Labels: []uint8{0, 1, 2, 0, 1, 2}, Pixels: make([]uint8, 6*32*32*3)}
	for i := range test.Pixels {
		test.Pixels[i] = uint8(i * 7)
	}
	m := &train.Metrics{
		TestAccuracy: 4.0 / 6, TestLoss: 0.777, EpochsRun: 7, BestEpoch: 4, BestValLoss: 0.8, StoppedEarly: true, Seed: 42,
		TestLabels: []int32{0, 1, 2, 0, 1, 2}, TestPredictions: []int32{0, 1, 2, 1, 1, 0}, Config: train.Exercise(),
		TestConfidence: []float32{0.9, 0.8, 0.7, 0.6, 0.5, 0.95},
	}
	return Input{Dir: t.TempDir(), History: h, Metrics: m, Classes: []string{"cat", "dog", "ship"}, Test: test}
}

func TestWriteSynthetic(t *testing.T) {
	r := syntheticRun(t)
	figs, err := Write(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss", "accuracy", "confusion_counts", "confusion_normalized", "per_class", "calibration", "samples"}
	if len(figs) != len(want) {
		t.Fatalf("%d figures, want %d", len(figs), len(want))
	}
	for i, f := range figs {
		if f.Name != want[i] {
			t.Errorf("figure %d is %s, want %s", i, f.Name, want[i])
		}
		b, err := os.ReadFile(filepath.Join(r.Dir, f.Name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 300 || img.Bounds().Dy() < 200 {
			t.Errorf("%s.png: %v, size %v", f.Name, err, img.Bounds())
		}
		svg, err := os.ReadFile(filepath.Join(r.Dir, f.Name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg: %v", f.Name, err)
		}
	}
	// samples.svg holds each test image itself, shown with crisp pixels.
	svg, _ := os.ReadFile(filepath.Join(r.Dir, "samples.svg"))
	images := regexp.MustCompile(`<image style="image-rendering:pixelated" image-rendering="optimizeSpeed" [^>]*xlink:href="data:image/[a-z]+;base64,([^"]+)"`).FindAllSubmatch(svg, -1)
	if len(images) != 6 || bytes.Count(svg, []byte("<image ")) != 6 {
		t.Errorf("samples.svg has %d pixelated images of %d, want 6", len(images), bytes.Count(svg, []byte("<image ")))
	}
	for i, m := range images {
		b, err := base64.StdEncoding.DecodeString(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != 32 || img.Bounds().Dy() != 32 {
			t.Fatalf("image %d of samples.svg: %v, %v, want the 32x32 test image", i, err, img.Bounds())
		}
		if want := r.Test.Image(i); !sameImage(img, want) {
			t.Errorf("image %d of samples.svg is not test image %d", i, i)
		}
	}
	html, err := os.ReadFile(filepath.Join(r.Dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`id="test-accuracy">0.6667<`, "epoch kept (lowest val_loss 0.8000)", "stopped early", "0.7770",
		"<td>ship</td><td>1.0000</td><td>0.5000</td><td>0.6667</td><td>2</td>", // ship: predicted once, rightly (P=1); 1 of 2 found (R=1/2)
		`class="best"><td>4</td>`, "data:image/png;base64,"} {
		if !strings.Contains(string(html), s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	if n := strings.Count(string(html), "<img "); n != len(want) {
		t.Errorf("%d <img> in report.html, want %d", n, len(want))
	}
	// Self-contained: nothing is fetched from the network.
	if regexp.MustCompile(`(src|href)="https?:`).Match(html) {
		t.Error("report.html references the network")
	}
}

// sameImage reports images of the same size and colours.
func sameImage(a, b image.Image) bool {
	if a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			p, q := color.RGBAModel.Convert(a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y)), color.RGBAModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y))
			if p != q {
				return false
			}
		}
	}
	return true
}

func TestCurveMarksBestAndStop(t *testing.T) {
	r := syntheticRun(t)
	if _, err := Write(r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"loss.svg", "accuracy.svg"} {
		svg, _ := os.ReadFile(filepath.Join(r.Dir, name))
		for _, s := range []string{"epoch 4: lowest val_loss 0.8000, weights kept", "epoch 7: early stopping ended training", "training", "validation"} {
			if !bytes.Contains(svg, []byte(s)) {
				t.Errorf("%s lacks %q", name, s)
			}
		}
	}
	// Not stopped early: no stop mark.
	r = syntheticRun(t)
	r.Metrics.StoppedEarly = false
	Write(r)
	if svg, _ := os.ReadFile(filepath.Join(r.Dir, "loss.svg")); bytes.Contains(svg, []byte("early stop")) {
		t.Error("a run that was not stopped early has a stop mark")
	}
	lo, hi := yRange(r.History, "loss")
	if lo > 0.5 || hi < 1.1 || math.IsNaN(lo) {
		t.Fatalf("y range [%v, %v] does not span the data", lo, hi)
	}
}

func TestFiguresRejectsInconsistentMetrics(t *testing.T) {
	r := syntheticRun(t)
	r.Metrics.TestPredictions = r.Metrics.TestPredictions[:3]
	if _, err := Figures(r); err == nil {
		t.Error("predictions shorter than labels accepted")
	}
	r = syntheticRun(t)
	r.Metrics.TestPredictions[0] = 7
	if _, err := Figures(r); err == nil {
		t.Error("class 7 of 3 accepted")
	}
}

// TestReportInChromium opens report.html in headless Chromium at 1280 and
// 420 pixels wide: every figure must decode (the page's own check counts
// images with a natural size), the page must not be wider than the window
// (no horizontal scrolling), and the hover values must be in the page. CI
// sets CIFARNET_REQUIRE_BROWSER=1 so that a missing browser fails rather
// than skips.
func TestReportInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CIFARNET_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium not installed (Debian package chromium)")
		}
		t.Skip("chromium not installed (Debian package chromium)")
	}
	r := syntheticRun(t)
	figs, err := Write(r)
	if err != nil {
		t.Fatal(err)
	}
	// Headless Chromium will not make a window narrower than 500 px, so
	// the page is opened in iframes of the two widths, and a harness page
	// copies out what each frame's own script reported.
	harness := `<!DOCTYPE html><html><body style="margin:0">
<iframe id="f1280" src="report.html" style="width:1280px;height:900px;border:0"></iframe>
<iframe id="f420" src="report.html" style="width:420px;height:900px;border:0"></iframe>
<pre id="out"></pre>
<script>
var left = 2;
function done(id) {
  var d = document.getElementById(id).contentDocument;
  var o = document.getElementById("out");
  o.appendChild(document.createTextNode("=== " + id + "\n" + d.documentElement.outerHTML + "\n"));
  if (--left == 0) o.appendChild(document.createTextNode("=== end\n"));
}
document.getElementById("f1280").addEventListener("load", function () { done("f1280"); });
document.getElementById("f420").addEventListener("load", function () { done("f420"); });
</script></body></html>`
	if err := os.WriteFile(filepath.Join(r.Dir, "harness.html"), []byte(harness), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000",
		"--allow-file-access-from-files", "--window-size=1800,1000", "--dump-dom", "file://"+filepath.Join(r.Dir, "harness.html")).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	frames := html.UnescapeString(string(out))
	if !strings.Contains(frames, "=== end") {
		t.Fatalf("the harness did not see both frames load: %.300s", frames)
	}
	for _, width := range []int{1280, 420} {
		_, rest, _ := strings.Cut(frames, fmt.Sprintf("=== f%d\n", width))
		dom, _, _ := strings.Cut(rest, "\n===")
		if want := fmt.Sprintf("%d of %d figures loaded", len(figs), len(figs)); len(figs) != 7 || !strings.Contains(dom, want) {
			m := regexp.MustCompile(`id="figure-status">[^<]*`).FindString(dom)
			t.Fatalf("%d px: page says %q, want %q", width, m, want)
		}
		m := regexp.MustCompile(`content (\d+) px wide in a (\d+) px window`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("%d px: the page did not report its layout", width)
		}
		content, window := atoi(t, m[1]), atoi(t, m[2])
		if window != width {
			t.Errorf("window %d px wide, want %d", window, width)
		}
		if content > window {
			t.Errorf("%d px window: content is %d px wide: the page scrolls sideways", width, content)
		}
		if !strings.Contains(dom, `id="test-accuracy">0.6667<`) {
			t.Fatal("page does not show the test accuracy")
		}
		// Hover values: one titled target per point of each curve (7
		// epochs, two series), per cell of each matrix, per bar.
		for _, v := range []string{"<title>epoch 4, validation loss: 0.8000</title>", "<title>epoch 7, training accuracy: 0.6000</title>",
			"<title>true ship, predicted cat: 1 image</title>", "<title>ship recall: 0.5000</title>", "<title>confidence 0.9 to 1.0: 1 image,", "<title>test image 4: a cat, predicted dog (wrong), with probability 0.60</title>"} {
			if !strings.Contains(dom, v) {
				t.Errorf("%d px: hover value %q missing", width, v)
			}
		}
		if n := strings.Count(dom, "<title>"); n < 2*2*7+2*9+9+1 {
			t.Errorf("%d px: %d hover values, want at least %d", width, n, 2*2*7+2*9+9+1)
		}
	}
}

func atoi(t *testing.T, s string) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLegendOutsideData checks the figures' geometry as the page draws it:
// each legend box lies outside its data area, so it cannot cover a data
// line or a mark, and every hover point lies in the data area, off the
// legend, as does every segment between consecutive points of a series.
func TestLegendOutsideData(t *testing.T) {
	r := syntheticRun(t)
	figs, err := Write(r)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range figs {
		g := f.geom
		if g.Legend.W == 0 {
			continue
		}
		checked++
		if overlaps(g.Legend, g.Data) {
			t.Errorf("%s: legend %+v overlaps the data area %+v", f.Name, g.Legend, g.Data)
		}
		last := map[string]shape{}
		for _, s := range g.Shapes {
			if s.R == 0 {
				continue
			}
			if inside(g.Legend, s.X, s.Y) || !inside(g.Data, s.X, s.Y) {
				t.Errorf("%s: point %q at (%.1f, %.1f) outside the data area or under the legend", f.Name, s.Title, s.X, s.Y)
			}
			if p, ok := last[s.Group]; ok && segmentHits(g.Legend, p.X, p.Y, s.X, s.Y) {
				t.Errorf("%s: the %s line from %q to %q crosses the legend", f.Name, s.Group, p.Title, s.Title)
			}
			last[s.Group] = s
		}
	}
	if checked < 4 { // loss, accuracy, per_class, calibration
		t.Errorf("%d figures with a legend checked, want 4", checked)
	}
	// The check itself: a legend moved into the data area is caught.
	g := figs[0].geom
	g.Legend.Y = g.Data.Y + 10
	if !overlaps(g.Legend, g.Data) {
		t.Error("overlaps misses a legend inside the data area")
	}
}

func inside(r rect, x, y float64) bool { return x >= r.X && x <= r.X+r.W && y >= r.Y && y <= r.Y+r.H }

func overlaps(a, b rect) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// segmentHits says whether the segment from (x0, y0) to (x1, y1) meets r,
// by sampling it finely.
func segmentHits(r rect, x0, y0, x1, y1 float64) bool {
	for i := 0; i <= 200; i++ {
		f := float64(i) / 200
		if inside(r, x0+f*(x1-x0), y0+f*(y1-y0)) {
			return true
		}
	}
	return false
}

// The page names the run's data set.
func TestHTMLNamesTheDataset(t *testing.T) {
	r := syntheticRun(t)
	for ds, want := range map[string]string{"": "<h1>CIFAR-10 training run</h1>", "mnist": "<h1>MNIST training run</h1>"} {
		r.Metrics.Config.Dataset = ds
		b, err := HTML(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("dataset %q: the page lacks %s", ds, want)
		}
	}
}

// TestRenderReusesRasters checks that a figure drawn into an image kept
// from an earlier figure (rasterOn, as render draws into rasters' images)
// has the pixels of the figure drawn into a new image: the canvas starts
// white, whatever the image held; and that render gives the same PNG.
func TestRenderReusesRasters(t *testing.T) {
	fig := func(dc draw.Canvas) {
		var p vg.Path
		p.Move(vg.Point{X: dc.Min.X + vg.Length(0.2)*vg.Inch, Y: dc.Min.Y + vg.Length(0.2)*vg.Inch})
		p.Line(vg.Point{X: dc.Max.X, Y: dc.Min.Y + vg.Length(0.5)*vg.Inch})
		p.Line(vg.Point{X: dc.Min.X + vg.Inch, Y: dc.Max.Y})
		p.Close()
		dc.SetColor(color.RGBA{B: 255, A: 255})
		dc.Fill(p)
	}
	size := image.Rect(0, 0, 300, 150)
	fresh, kept := image.NewRGBA(size), image.NewRGBA(size)
	for i := range kept.Pix { // as an earlier figure drawn edge to edge leaves it
		kept.Pix[i] = 0x40
	}
	fig(draw.New(rasterOn(fresh)))
	fig(draw.New(rasterOn(kept)))
	if !bytes.Equal(kept.Pix, fresh.Pix) {
		t.Fatal("the figure drawn into a kept image differs from the one drawn into a new image")
	}
	dir := t.TempDir()
	png, err := render(drawing{w: 2 * vg.Inch, h: vg.Inch, draw: fig}, filepath.Join(dir, "fig"))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := encodePNG(&want, fresh); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(png, want.Bytes()) {
		t.Error("render's PNG differs from the figure drawn into a new image")
	}
}

// TestRasterPoolBounded checks that rasters' pool keeps images for get up
// to rasterBytes and drops the rest.
func TestRasterPoolBounded(t *testing.T) {
	p := rasterPool{free: map[image.Point][]*image.RGBA{}}
	size := image.Pt(1000, 1000) // 4 MB each
	var imgs []*image.RGBA
	for range 20 {
		imgs = append(imgs, p.get(size))
	}
	for _, img := range imgs {
		p.put(img)
	}
	keep := rasterBytes / (4 * 1000 * 1000)
	if n := len(p.free[size]); n != keep || p.bytes != keep*4*1000*1000 {
		t.Fatalf("kept %d images (%d bytes), want %d (at most %d bytes)", n, p.bytes, keep, rasterBytes)
	}
	if got := p.get(size); got != imgs[keep-1] {
		t.Error("get made a new image while the pool held some")
	}
	if p.bytes != (keep-1)*4*1000*1000 {
		t.Errorf("%d bytes kept after a get, want %d", p.bytes, (keep-1)*4*1000*1000)
	}
}

// TestEmbedFiguresAsTemplate wants a page whose figures embedFigures put
// in the same as one html/template executed with the data URIs
// themselves: a figure's PNG (whose base64 holds '+' and '/'), shown
// twice, and others beside it.
func TestEmbedFiguresAsTemplate(t *testing.T) {
	var figs []Figure
	for i := range 12 {
		img := image.NewRGBA(image.Rect(0, 0, 20+i, 9))
		for j := range img.Pix {
			img.Pix[j] = uint8(j*j*(i+3) + j/7)
		}
		var b bytes.Buffer
		if err := encodePNG(&b, img); err != nil {
			t.Fatal(err)
		}
		figs = append(figs, Figure{Name: fmt.Sprint("fig", i), png: b.Bytes()})
	}
	page := template.Must(template.New("").Parse(`{{range .}}<p><img src="{{.URI}}" alt="{{.Name}}"></p>{{end}}<img src="{{(index . 1).URI}}">`))
	run := func(uri func(i int, f Figure) string) []byte {
		var views []figView
		for i, f := range figs {
			views = append(views, figView{Figure: f, URI: template.URL(uri(i, f))})
		}
		var b bytes.Buffer
		if err := page.Execute(&b, views); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// Text of the user's that looks like a placeholder (here a figure's
	// name, as a directory or a label could) stays as it is.
	figs[2].Name = fmt.Sprintf("cifarnet-figure-%d.png", 0)
	want := run(func(_ int, f Figure) string { return dataURI(f.png) })
	got := embedFigures(run(func(i int, _ Figure) string { return figureURI(i) }), figs)
	if !bytes.Equal(got, want) {
		t.Fatalf("embedFigures wrote\n%.300s\nhtml/template writes\n%.300s", got, want)
	}
	if !bytes.Contains(want, []byte("&#43;")) {
		t.Error("no '+' in the figures' base64: the test shows nothing of its escaping")
	}
}

// The Loss figure's caption names the epoch its green line marks with that
// epoch's own val_loss, and where val_loss was lowest when that is another
// epoch (a run without early stopping's restore keeps the last epoch).
func TestLossCaption(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(r Input)
		want   string
		reject string
	}{
		{"restored best", func(r Input) {},
			"The green line marks epoch 4, whose weights the model keeps (lowest val_loss 0.8000); early stopping ended training after epoch 7.", ""},
		{"no early stopping, last not lowest", func(r Input) {
			r.Metrics.StoppedEarly, r.Metrics.BestEpoch = false, 7
		}, "The green line marks epoch 7, the last, whose weights the model keeps (val_loss 0.9500); val_loss was lowest at epoch 4 (0.8000); training ran all its epochs.",
			"epoch 7, whose weights the model keeps (lowest"},
		{"no restore, stopped early", func(r Input) {
			r.Metrics.BestEpoch = 7
		}, "The green line marks epoch 7, the last, whose weights the model keeps (val_loss 0.9500); val_loss was lowest at epoch 4 (0.8000); early stopping ended training after epoch 7.", ""},
		{"no early stopping, last lowest", func(r Input) {
			r.Metrics.StoppedEarly, r.Metrics.BestEpoch = false, 7
			r.History.Epochs[6].ValLoss, r.Metrics.BestValLoss = 0.7, 0.7
		}, "The green line marks epoch 7, whose weights the model keeps (lowest val_loss 0.7000); training ran all its epochs.", ""},
		{"no validation", func(r Input) {
			r.Metrics.StoppedEarly, r.Metrics.BestEpoch, r.Metrics.BestValLoss = false, 7, math.NaN()
			for i := range r.History.Epochs {
				r.History.Epochs[i].ValLoss, r.History.Epochs[i].ValAccuracy, r.History.Epochs[i].HasVal = math.NaN(), math.NaN(), false
			}
		}, "The green line marks epoch 7, the last, whose weights the model keeps; training ran all its epochs.", "NaN"},
		// A NaN loss stopped it: not "ran all its epochs".
		{"terminated", func(r Input) {
			r.Metrics.StoppedEarly, r.Metrics.BestEpoch, r.Metrics.Terminated = false, 7, "loss became NaN at epoch 8, step 4: training stopped"
		}, "loss became NaN at epoch 8, step 4: training stopped.", "ran all its epochs"},
	} {
		r := syntheticRun(t)
		r.Test = nil
		c.edit(r)
		figs, err := Figures(r)
		if err != nil {
			t.Fatal(err)
		}
		got := figs[0].Caption
		if figs[0].Name != "loss" || !strings.HasSuffix(got, " "+c.want) || c.reject != "" && strings.Contains(got, c.reject) {
			t.Errorf("%s: loss caption %q, want it to end %q", c.name, got, c.want)
		}
	}
}

// classRun is syntheticRun with n classes named c0, c1, ... and 5 test
// images of each, the last of each class predicted as the next class.
func classRun(t *testing.T, n int) Input {
	t.Helper()
	r := syntheticRun(t)
	r.Test = nil
	m := *r.Metrics
	m.TestLabels, m.TestPredictions, m.TestConfidence = nil, nil, nil
	r.Classes = nil
	for c := range n {
		r.Classes = append(r.Classes, fmt.Sprintf("c%d", c))
		for k := range 5 {
			m.TestLabels = append(m.TestLabels, int32(c))
			p := c
			if k == 4 {
				p = (c + 1) % n
			}
			m.TestPredictions = append(m.TestPredictions, int32(p))
		}
	}
	r.Metrics = &m
	return r
}

// svgTexts returns the text elements of an SVG file: their font sizes
// (px) and texts.
func svgTexts(t *testing.T, name string) (sizes, texts []string) {
	t.Helper()
	svg, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`font-size:([0-9.]+)px[^">]*">([^<]*)</text>`).FindAllStringSubmatch(string(svg), -1) {
		sizes, texts = append(sizes, m[1]), append(texts, m[2])
	}
	return sizes, texts
}

// TestManyClassesFigures: with 100 classes (CIFAR-100) the confusion
// matrices write no number in their cells and name at most 20 classes on
// each axis, and the per-class bars are narrow enough not to run into the
// next class's, with at most 20 classes named; with 10 classes every cell
// has its number and every class its name.
func TestManyClassesFigures(t *testing.T) {
	for _, n := range []int{10, 100} {
		r := classRun(t, n)
		figs, err := Write(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"confusion_counts", "confusion_normalized"} {
			sizes, texts := svgTexts(t, filepath.Join(r.Dir, name+".svg"))
			cells, classes := 0, 0
			for i, s := range sizes {
				switch {
				case s == "9":
					cells++
				case regexp.MustCompile(`^c[0-9]+$`).MatchString(texts[i]):
					classes++
				}
			}
			wantCells, wantClasses := n*n, 2*n
			if n > manyClasses {
				wantCells, wantClasses = 0, 2*manyClasses
			}
			if cells != wantCells || classes != wantClasses {
				t.Errorf("%d classes: %s.svg has %d cell labels and %d class names, want %d and %d", n, name, cells, classes, wantCells, wantClasses)
			}
		}
		_, texts := svgTexts(t, filepath.Join(r.Dir, "per_class.svg"))
		classes := 0
		for _, s := range texts {
			if regexp.MustCompile(`^c[0-9]+$`).MatchString(s) {
				classes++
			}
		}
		if want := min(n, manyClasses); classes != want {
			t.Errorf("%d classes: per_class.svg names %d classes, want %d", n, classes, want)
		}
		for _, f := range figs {
			if strings.HasPrefix(f.Name, "confusion") || f.Name == "per_class" {
				if got, want := strings.Contains(f.Caption, "every 5th class"), n == 100; got != want {
					t.Errorf("%d classes: %s caption %q", n, f.Name, f.Caption)
				}
			}
		}
		// The hover targets are the bars: class by class, precision,
		// recall and F1 side by side, each group clear of the next.
		var geo geometry
		for _, f := range figs {
			if f.Name == "per_class" {
				geo = f.geom
			}
		}
		right := map[int]float64{} // class: right edge of its last bar
		left := map[int]float64{}  // class: left edge of its first bar
		for _, s := range geo.Shapes {
			var c int
			fmt.Sscanf(s.Title, "c%d", &c)
			if l, ok := left[c]; !ok || s.X < l {
				left[c] = s.X
			}
			right[c] = max(right[c], s.X+s.W)
		}
		if len(left) != n {
			t.Fatalf("%d classes: bars of %d classes", n, len(left))
		}
		for c := range n - 1 {
			if right[c] > left[c+1] {
				t.Errorf("%d classes: the bars of class %d reach %.2f, past the first bar of class %d at %.2f", n, c, right[c], c+1, left[c+1])
				break
			}
		}
	}
}

// TestSingularCountsInReport: a run of one epoch with patience 1 and one
// test image says "1 epoch", "1 image", "1 test image" on its page and in
// its figures, never "1 epochs" or "1 images".
func TestSingularCountsInReport(t *testing.T) {
	r := syntheticRun(t)
	r.History.Epochs = r.History.Epochs[:1]
	m := r.Metrics
	m.EpochsRun, m.BestEpoch, m.BestValLoss, m.StoppedEarly = 1, 1, r.History.Epochs[0].ValLoss, false
	m.Config.Patience = 1
	m.TestLabels, m.TestPredictions, m.TestConfidence = m.TestLabels[:1], m.TestPredictions[:1], m.TestConfidence[:1]
	if _, err := Write(r); err != nil {
		t.Fatal(err)
	}
	plural := regexp.MustCompile(`(^|[^0-9.])1 (epoch|image|test image|run|configuration)s\b`)
	files, _ := filepath.Glob(filepath.Join(r.Dir, "*.svg"))
	files = append(files, filepath.Join(r.Dir, HTMLFile))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if m := plural.Find(b); m != nil {
			t.Errorf("%s says %q", filepath.Base(name), m)
		}
	}
	page, _ := os.ReadFile(filepath.Join(r.Dir, HTMLFile))
	for _, s := range []string{"test accuracy (1 image)", "has not improved for 1 epoch in a row", "so its only epoch ran"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(r.Dir, "samples.svg"))
	if !bytes.Contains(svg, []byte("First 1 test image:")) {
		t.Error(`samples.svg lacks "First 1 test image:"`)
	}
}

// TestConfusionExplanationExamples: the confusion matrix's explanation
// names the run's own most confused classes, not CIFAR-10's on an MNIST
// run.
func TestConfusionExplanationExamples(t *testing.T) {
	r := syntheticRun(t) // cat as dog once, ship as cat once
	r.Classes = []string{"3", "5", "8"}
	r.Metrics.Config.Dataset = "mnist"
	page, err := HTML(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "often classes that look alike (in this run most often 3 and 5, then 3 and 8)."; !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks %q", want)
	}
	for _, s := range []string{"cat and dog", "automobile"} {
		if strings.Contains(string(page), s) {
			t.Errorf("an MNIST run's report.html names %q", s)
		}
	}
	// A model that confused no two classes gets no examples.
	copy(r.Metrics.TestPredictions, r.Metrics.TestLabels)
	page, _ = HTML(r, nil)
	if want := "often classes that look alike. "; !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks %q", want)
	}
}

// TestConfigurationShowsDataset: the Configuration table shows the data
// set and the label mode from metrics.json's config.
func TestConfigurationShowsDataset(t *testing.T) {
	r := syntheticRun(t)
	r.Metrics.Config.Dataset, r.Metrics.Config.LabelMode = "cifar100", "coarse"
	page, err := HTML(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<tr><td>dataset</td><td>&#34;cifar100&#34;</td></tr>", "<tr><td>label_mode</td><td>&#34;coarse&#34;</td></tr>"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
}

// TestDivergingRunDraws: a run whose loss grew huge but finite (4.6e23,
// a learning rate decayed by 1e30 a step) while its validation loss was
// NaN drew an empty y range, and gonum's ticker panicked; the report is
// written instead.
func TestDivergingRunDraws(t *testing.T) {
	r := syntheticRun(t)
	r.History.Epochs = r.History.Epochs[:1]
	r.History.Epochs[0].Logs.Loss, r.History.Epochs[0].Logs.ValLoss = 4.631821100752444e+23, math.NaN()
	r.Metrics.EpochsRun, r.Metrics.BestEpoch, r.Metrics.StoppedEarly = 1, 1, false
	if _, err := Write(r); err != nil {
		t.Fatal(err)
	}
	if lo, hi := yRange(r.History, "loss"); !(hi > lo) || lo > 4.631821100752444e+23 || hi < 4.631821100752444e+23 {
		t.Errorf("y range [%v, %v]", lo, hi)
	}
	for _, c := range [][2]float64{{4.6e23, 4.6e23}, {math.NaN(), math.NaN()}, {1, math.Inf(1)}, {1e30, 1e30 + 1e14}, {2, 1}} {
		ts := (niceTicks{6}).Ticks(c[0], c[1])
		if len(ts) > 2 {
			t.Errorf("[%v, %v]: %d ticks", c[0], c[1], len(ts))
		}
		(factorTicks{}).Ticks(c[0], c[1])
		(factorTicks{log: true}).Ticks(c[0], c[1])
	}
}

// TestExtremeHistoryDraws: losses at the ends of float64's range
// (±1e308, 1.7e308), which a history.json may hold, made the y range and
// its padding infinite, and a mark's line nil (a panic); they are left
// out of the figures as infinities are, and the report is written.
func TestExtremeHistoryDraws(t *testing.T) {
	for _, losses := range [][2]float64{{1e308, -1e308}, {1.7e308, 1.7e308}, {-1.7e308, 1}} {
		r := syntheticRun(t)
		r.History.Epochs = r.History.Epochs[:2]
		r.History.Epochs[0].Logs.Loss, r.History.Epochs[1].Logs.Loss = losses[0], losses[1]
		r.History.Epochs[0].Logs.ValLoss = losses[1]
		r.Metrics.EpochsRun, r.Metrics.BestEpoch, r.Metrics.StoppedEarly = 2, 1, false
		if _, err := Write(r); err != nil {
			t.Fatalf("losses %v: %v", losses, err)
		}
		if lo, hi := yRange(r.History, "loss"); math.IsInf(hi-lo, 0) || !(hi > lo) {
			t.Errorf("losses %v: y range [%v, %v]", losses, lo, hi)
		}
	}
}

// TestDivergedRunCalibration: a run whose NaN weights give no confidence
// says so, not that it was made "before cifarnet stored it".
func TestDivergedRunCalibration(t *testing.T) {
	r := syntheticRun(t)
	r.Metrics.TestConfidence, r.Metrics.TestLoss, r.Metrics.Terminated = nil, math.NaN(), "loss became NaN at epoch 7, step 3: training stopped"
	if _, err := Write(r); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(r.Dir, HTMLFile))
	if !strings.Contains(string(b), "outputs are not finite") || strings.Contains(string(b), "runs made before") {
		t.Error("the calibration section of a diverged run gives the wrong reason")
	}
}

// TestConfigRowsNameTheNetworkTrained: a run of a model described by
// --layers or --model showed the exercise's hidden, activation and
// initializer (defaults it did not use) and neither its layers nor the
// optimizer's arguments and schedule; it shows them now, the exercise's
// own fields where it is the exercise.
func TestConfigRowsNameTheNetworkTrained(t *testing.T) {
	rows := func(c train.Config) map[string]string {
		m := map[string]string{}
		for _, r := range configRows(c) {
			m[r.K] = r.V
		}
		return m
	}
	ex := rows(train.Exercise())
	if ex["hidden"] != "[256,256,256,256]" || ex["activation"] != `"elu"` || ex["model"] != "" {
		t.Errorf("the exercise: %v", ex)
	}
	c := train.Exercise()
	layers, err := nn.ParseLayers("dense(32, selu, lecun_normal), dropout(0.2), dense(10, softmax)", map[string]int{})
	if err != nil {
		t.Fatal(err)
	}
	c.Model = &nn.ModelConfig{InputShape: []int{3072}, Layers: layers}
	c.Optimizer, c.OptimizerArgs = "sgd", optim.Args{"momentum": 0.9, "nesterov": true}
	c.LRSchedule = &optim.ScheduleConfig{ClassName: "OneCycle", Config: optim.Args{"max_lr": 0.01}}
	got := rows(c)
	if want := "Dense(32, selu, lecun_normal), Dropout(0.2), Dense(10, softmax)"; got["model"] != want {
		t.Errorf("model: %q, want %q", got["model"], want)
	}
	if _, ok := got["hidden"]; ok {
		t.Errorf("hidden shown for a model of its own: %v", got)
	}
	if got["optimizer_args"] != `{"momentum":0.9,"nesterov":true}` || !strings.Contains(got["lr_schedule"], `"OneCycle"`) {
		t.Errorf("optimizer arguments and schedule: %q, %q", got["optimizer_args"], got["lr_schedule"])
	}
}
