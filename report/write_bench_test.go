package report

import (
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

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

// TestUpscale wants every pixel of the enlarged image to be its source
// pixel's, as image.At and Set give it.
func TestUpscale(t *testing.T) {
	src := image.NewNRGBA(image.Rect(2, 3, 5, 5)) // an offset origin, non-premultiplied
	for i := range src.Pix {
		src.Pix[i] = uint8(37 * i)
	}
	out := upscale(src, 3)
	if out.Bounds() != image.Rect(0, 0, 9, 6) {
		t.Fatalf("bounds %v", out.Bounds())
	}
	for y := range 6 {
		for x := range 9 {
			want := color.RGBAModel.Convert(src.At(2+x/3, 3+y/3))
			if got := out.At(x, y); got != want {
				t.Fatalf("(%d, %d): %v, want %v", x, y, got, want)
			}
		}
	}
}
