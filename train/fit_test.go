package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

func TestSplitAt(t *testing.T) {
	for _, tt := range []struct {
		n     int
		split float64
		want  int
	}{{5000, 0.2, 4000}, {10, 0.25, 7}, {3, 0.5, 1}, {7, 0.1, 6}, {100, 0, 100}} {
		if got := SplitAt(tt.n, tt.split); got != tt.want {
			t.Errorf("SplitAt(%d, %g) = %d, want %d", tt.n, tt.split, got, tt.want)
		}
	}
}

func TestSamplerEverySampleOncePerEpoch(t *testing.T) {
	s := newSampler(4000, true, 42)
	var prev []int
	for epoch := range 5 {
		order := slices.Clone(s.epoch())
		sorted := slices.Sorted(slices.Values(order))
		for i, v := range sorted {
			if v != i {
				t.Fatalf("epoch %d: sample %d missing or repeated", epoch, i)
			}
		}
		if prev != nil && slices.Equal(prev, order) {
			t.Fatalf("epoch %d has the same order as the one before: not reshuffled", epoch)
		}
		prev = order
	}
	again := newSampler(4000, true, 42)
	first := slices.Clone(again.epoch())
	if !slices.Equal(first, slices.Clone(newSampler(4000, true, 42).epoch())) {
		t.Fatal("same seed, different order")
	}
	if fixed := newSampler(10, false, 42).epoch(); !slices.Equal(fixed, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("shuffle off: order %v", fixed)
	}
}

// tinyProblem returns separable-ish random data for a small network.
func tinyProblem(n, features, classes int) ([]float32, []int32) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*features)
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(r.IntN(classes))
		for j := range features {
			x[i*features+j] = float32(r.NormFloat64() * 0.5)
			if j%classes == int(y[i]) {
				x[i*features+j]++
			}
		}
	}
	return x, y
}

// recorder keeps every epoch's logs.
type recorder struct {
	NopCallback
	logs []Logs
}

func (r *recorder) OnEpochEnd(_ *FitState, _ int, l Logs) { r.logs = append(r.logs, l) }

// TestFitValidatesOnTheLastSamples checks that val metrics are those of the
// last 20% of the samples, in order, with the model at the end of the epoch.
func TestFitValidatesOnTheLastSamples(t *testing.T) {
	const n, features, classes = 103, 6, 3
	x, y := tinyProblem(n, features, classes)
	m, err := nn.New(nn.Architecture{Inputs: features, Hidden: []int{8}, Activation: "elu", Init: "he_normal", Classes: classes}, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := tensor.NewEngine(1)
	defer e.Close()
	rec := &recorder{}
	h, err := Fit(e, m, optim.NewNadam(0.01), Float32Rows{x, features}, y, Options{Epochs: 2, BatchSize: 16, ValidationSplit: 0.2, Shuffle: true, Seed: 1, Callbacks: []Callback{rec}})
	if err != nil {
		t.Fatal(err)
	}
	split := SplitAt(n, 0.2) // 82
	want := Evaluate(e, m, Float32Rows{x[split*features:], features}, y[split:], 7, nil)
	got := h.Epochs[1]
	if math.Abs(got.ValLoss-want.Loss) > 1e-6 || got.ValAccuracy != want.Accuracy {
		t.Fatalf("val metrics %v / %v, want those of samples %d.. : %v / %v", got.ValLoss, got.ValAccuracy, split, want.Loss, want.Accuracy)
	}
	if len(rec.logs) != 2 || rec.logs[1] != got.Logs {
		t.Fatalf("callback saw %v, history has %v", rec.logs, got.Logs)
	}
}

// TestFitEpochMetricsAreSampleWeighted replays an epoch by hand with the
// same order and checks that the epoch loss is the size-weighted batch mean
// (the last batch is smaller).
func TestFitEpochMetricsAreSampleWeighted(t *testing.T) {
	const n, features, classes, bs = 50, 4, 3, 16
	x, y := tinyProblem(n, features, classes)
	arch := nn.Architecture{Inputs: features, Hidden: []int{5}, Activation: "elu", Init: "he_normal", Classes: classes}
	e := tensor.NewEngine(1)
	defer e.Close()
	m1, _ := nn.New(arch, 9)
	h, err := Fit(e, m1, optim.NewNadam(0.001), Float32Rows{x, features}, y, Options{Epochs: 1, BatchSize: bs, ValidationSplit: 0.2, Shuffle: true, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := nn.New(arch, 9)
	opt := optim.NewNadam(0.001)
	split := SplitAt(n, 0.2) // 40: batches of 16, 16, 8
	order := newSampler(split, true, 5).epoch()
	var sum float64
	var correct int
	grad := make([]float32, bs*classes)
	for lo := 0; lo < split; lo += bs {
		idx := order[lo:min(split, lo+bs)]
		xb := make([]float32, 0, len(idx)*features)
		yb := make([]int32, 0, len(idx))
		for _, s := range idx {
			xb = append(xb, x[s*features:(s+1)*features]...)
			yb = append(yb, y[s])
		}
		loss, ok := nn.SparseCategoricalCrossentropy(m2.Forward(e, xb, features, len(idx), true), yb, classes, grad)
		m2.Backward(e, grad, len(idx))
		opt.Step(e, m2.Params())
		sum += float64(loss) * float64(len(idx))
		correct += ok
	}
	if want := sum / float64(split); h.Epochs[0].Loss != want {
		t.Errorf("epoch loss %v, want the sample-weighted mean %v", h.Epochs[0].Loss, want)
	}
	if want := float64(correct) / float64(split); h.Epochs[0].Accuracy != want {
		t.Errorf("epoch accuracy %v, want %v", h.Epochs[0].Accuracy, want)
	}
}

// TestPixelRowsMatchFloat32: gathering from uint8 pixels gives the bits of
// Keras's x.astype('float32') / 255 (dataset.Set.Float32).
func TestPixelRowsMatchFloat32(t *testing.T) {
	const w = 7
	pix := make([]uint8, 5*w)
	for i := range pix {
		pix[i] = uint8(i * 53)
	}
	ref := make([]float32, len(pix))
	for i, p := range pix {
		ref[i] = float32(p) / 255
	}
	e := tensor.NewEngine(1)
	defer e.Close()
	idx := []int{4, 0, 2}
	a, b := make([]float32, 3*9), make([]float32, 3*9)
	PixelRows{pix, w}.Gather(e, a, 9, idx)
	Float32Rows{ref, w}.Gather(e, b, 9, idx)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("value %d: %g vs %g", i, a[i], b[i])
		}
	}
	if s := (PixelRows{pix, w}).Slice(1, 3); s.Len() != 2 || s.Width() != w {
		t.Fatalf("slice %d x %d", s.Len(), s.Width())
	}
}
