package report

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/train"
)

// syntheticRun is a small made-up run: 7 epochs, best at 4, stopped early,
// 3 classes, 6 test images of which 2 are wrong.
func syntheticRun(t *testing.T) Run {
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
	}
	return Run{Dir: t.TempDir(), History: h, Metrics: m, Classes: []string{"cat", "dog", "ship"}, Test: test}
}

func TestWriteSynthetic(t *testing.T) {
	r := syntheticRun(t)
	figs, err := Write(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss", "accuracy", "confusion_counts", "confusion_normalized", "per_class", "samples"}
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
	html, err := os.ReadFile(filepath.Join(r.Dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`id="test-accuracy">0.6667<`, "best epoch (val_loss 0.8000)", "stopped early", "0.7770",
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

// TestReportInChromium opens report.html in headless Chromium: every figure
// must decode (the page's own check counts images with a natural size) and
// the page must show the test accuracy. CI sets CIFARNET_REQUIRE_BROWSER=1
// so that a missing browser fails rather than skips.
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
	out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
		"--dump-dom", "file://"+filepath.Join(r.Dir, HTMLFile)).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if want := "6 of 6 figures loaded"; len(figs) != 6 || !strings.Contains(dom, want) {
		m := regexp.MustCompile(`id="figure-status">[^<]*`).FindString(dom)
		t.Fatalf("page says %q, want %q", m, want)
	}
	if !strings.Contains(dom, `id="test-accuracy">0.6667<`) {
		t.Fatal("page does not show the test accuracy")
	}
}
