package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/train"
)

// BenchmarkWrite draws a run's report as an exercise run's is drawn (20
// epochs, 1000 CIFAR-10 test images, about 37% right): the share of a run
// spent beyond training that an experiment repeats for every run.
func BenchmarkWrite(b *testing.B) {
	src := filepath.Join("..", "..", "shared", cifar10.DirName)
	if _, err := os.Stat(src); err != nil {
		b.Skipf("real data not found at %s", src)
	}
	data, err := cifar10.Load(src, 1, 1000)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	h := &train.History{}
	for i := range 20 {
		f := float64(i)
		h.Epochs = append(h.Epochs, train.Epoch{Epoch: i + 1, Seconds: 0.3, Logs: train.Logs{
			Loss: 2 - 0.05*f, Accuracy: 0.25 + 0.01*f, ValLoss: 1.9 - 0.02*f + 0.002*f*f, ValAccuracy: 0.28 + 0.005*f, HasVal: true}})
	}
	m := &train.Metrics{TestAccuracy: 0.37, TestLoss: 1.8, EpochsRun: 20, BestEpoch: 15, BestValLoss: 1.65, StoppedEarly: true, Config: train.Exercise()}
	for i := range 1000 {
		y := int32(data.Test.Labels[i])
		p := y
		if rng.Float64() > 0.37 {
			p = int32(rng.IntN(10))
		}
		m.TestLabels, m.TestPredictions = append(m.TestLabels, y), append(m.TestPredictions, p)
		m.TestConfidence = append(m.TestConfidence, float32(0.1+0.9*rng.Float64()))
	}
	r := Input{Dir: b.TempDir(), History: h, Metrics: m, Classes: data.Classes, Test: data.Test}
	b.ResetTimer()
	for range b.N {
		if _, err := Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDrawPixels wants drawPixels's blocks where vgimg's own DrawImage
// puts the image, in its colours: at the centre of each source pixel's
// block, vgimg's bilinear drawing of the image enlarged 8 times is that
// pixel's colour. The canvas is drawn at the report's 150 dpi, a frame
// around the image, an offset origin in the source.
func TestDrawPixels(t *testing.T) {
	src := image.NewRGBA(image.Rect(3, 5, 35, 37))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			src.Pix[i] = 255
		}
	}
	big := image.NewRGBA(image.Rect(0, 0, 32*8, 32*8))
	for y := range 32 * 8 {
		for x := range 32 * 8 {
			big.Set(x, y, src.At(3+x/8, 5+y/8))
		}
	}
	r := vg.Rectangle{Min: vg.Point{X: 13, Y: 21}, Max: vg.Point{X: 13 + 74, Y: 21 + 74}}
	paint := func(f func(draw.Canvas)) *image.RGBA {
		c := vgimg.NewWith(vgimg.UseWH(120, 130), vgimg.UseDPI(150))
		f(draw.New(c))
		return c.Image().(*image.RGBA)
	}
	want := paint(func(c draw.Canvas) { c.DrawImage(r, big) })
	got := paint(func(c draw.Canvas) { drawPixels(c, r, src) })
	dpi, h := 150.0, float64(want.Rect.Dy())
	x0, y0 := r.Min.X.Dots(dpi), h-r.Max.Y.Dots(dpi)
	side := r.Max.X.Dots(dpi) - x0
	for sy := range 32 {
		for sx := range 32 {
			x, y := int(x0+(float64(sx)+0.5)*side/32), int(y0+(float64(sy)+0.5)*side/32)
			w, g := want.RGBAAt(x, y), got.RGBAAt(x, y)
			if d := max(diff(w.R, g.R), diff(w.G, g.G), diff(w.B, g.B)); d > 2 {
				t.Fatalf("source pixel (%d, %d) at (%d, %d): drawn %v, vgimg draws %v", sx, sy, x, y, g, w)
			}
		}
	}
	// Outside the image, both left the canvas white.
	for _, p := range []image.Point{{int(x0) - 2, int(y0) + 5}, {int(x0 + side + 2), int(y0) + 5}, {int(x0) + 5, int(y0) - 2}, {int(x0) + 5, int(y0 + side + 2)}} {
		if got.RGBAAt(p.X, p.Y) != (color.RGBA{255, 255, 255, 255}) || want.RGBAAt(p.X, p.Y) != (color.RGBA{255, 255, 255, 255}) {
			t.Errorf("outside the image at %v: drawn %v, vgimg draws %v", p, got.RGBAAt(p.X, p.Y), want.RGBAAt(p.X, p.Y))
		}
	}
}

func diff(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }

// TestBackgroundSkippedChangesNoPixel draws every chart of a report on a
// raster canvas as render does (the plot's white background not painted:
// the canvas starts white) and through a wrapper that hides the canvas's
// type (background painted), and wants the same pixels.
func TestBackgroundSkippedChangesNoPixel(t *testing.T) {
	r := syntheticRun(t)
	conf := train.NewConfusion(r.Metrics.TestLabels, r.Metrics.TestPredictions, len(r.Classes))
	vals, vmax := counts(conf)
	charts := map[string]func() (*chart, error){
		"loss": func() (*chart, error) { return curve(r.History, r.Metrics, "loss", "Loss") },
		"confusion": func() (*chart, error) {
			return confusionPlot(vals, r.Classes, "counts", func(float64) string { return "" }, vmax, nil)
		},
		"per_class": func() (*chart, error) { return perClassPlot(conf.PerClass(), r.Classes) },
	}
	for name, mk := range charts {
		paint := func(wrap bool) []byte {
			ch, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			img := vgimg.NewWith(vgimg.UseWH(ch.w, ch.h), vgimg.UseDPI(150))
			var c vg.CanvasSizer = img
			if wrap {
				c = hidden{img}
			}
			ch.draw(draw.New(c))
			return img.Image().(*image.RGBA).Pix
		}
		skipped, painted := paint(false), paint(true)
		if !bytes.Equal(skipped, painted) {
			t.Errorf("%s: the pixels differ without the background", name)
		}
	}
}

// hidden is a canvas whose type is not *vgimg.Canvas.
type hidden struct{ *vgimg.Canvas }

// TestEachLimit checks that each keeps to its limit of goroutines: every
// call waits (yielding) until limit calls are inside at once, which shows
// that limit goroutines run, and none may see more inside, which a
// GOMAXPROCS of 8 and the yields make likely were the limit ignored. Fewer
// goroutines than limit would leave the first calls waiting: they give up
// after a deadline, and the test fails.
func TestEachLimit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	for _, limit := range []int{1, 2, 3} {
		var inside, most, arrived atomic.Int32
		err := each(40, limit, func(i int) error {
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			// The first limit calls wait for each other.
			if arrived.Add(1) <= int32(limit) {
				for deadline := time.Now().Add(10 * time.Second); arrived.Load() < int32(limit); {
					if time.Now().After(deadline) {
						inside.Add(-1)
						return fmt.Errorf("call %d: %d of the first %d calls arrived in 10 s: fewer goroutines than the limit", i, arrived.Load(), limit)
					}
					runtime.Gosched()
				}
			}
			for range 20 {
				runtime.Gosched()
			}
			inside.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if m := most.Load(); m != int32(limit) {
			t.Errorf("limit %d: %d calls at once", limit, m)
		}
	}
}

// TestEach wants every index run once and the error of the lowest index
// that failed, whatever order the goroutines finish in.
func TestEach(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100} {
		var ran [100]atomic.Int32
		err := each(n, 0, func(i int) error {
			ran[i].Add(1)
			if i%5 == 3 {
				return fmt.Errorf("figure %d", i)
			}
			return nil
		})
		for i := range n {
			if c := ran[i].Load(); c != 1 {
				t.Fatalf("n %d: index %d ran %d times", n, i, c)
			}
		}
		want := ""
		if n > 3 {
			want = "figure 3"
		}
		if got := fmt.Sprint(err); (err == nil) != (want == "") || err != nil && got != want {
			t.Errorf("n %d: error %v, want %q", n, err, want)
		}
	}
}
