package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cifarnet/cifarnet/tensor"
)

// lossAt returns the float64 loss of m on x, y, computed independently of
// SparseCategoricalCrossentropy (plain log of the softmax in float64).
func lossAt(e *tensor.Engine, m *Sequential, x []float32, y []int32) float64 {
	logits := m.Forward(e, x, m.Inputs(), len(y), true)
	c := m.Outputs()
	var sum float64
	for i, yi := range y {
		z := logits[i*c : (i+1)*c]
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v))
		}
		sum += math.Log(s) - float64(z[yi])
	}
	return sum / float64(len(y))
}

func TestSparseCategoricalCrossentropy(t *testing.T) {
	// Row 0: logits (1, 2, 3), label 2: loss = log(e+e²+e³) - 3.
	// Row 1: logits (0, 0, 0), label 0: loss = log 3; arg-max ties pick class 0.
	logits := []float32{1, 2, 3, 0, 0, 0}
	grad := make([]float32, 6)
	loss, correct := SparseCategoricalCrossentropy(logits, []int32{2, 0}, 3, grad)
	l0 := math.Log(math.E+math.E*math.E+math.Exp(3)) - 3
	want := (l0 + math.Log(3)) / 2
	if math.Abs(float64(loss)-want) > 1e-6 {
		t.Errorf("loss %v, want %v", loss, want)
	}
	if correct != 2 {
		t.Errorf("correct %d, want 2", correct)
	}
	s := math.E + math.E*math.E + math.Exp(3)
	wantGrad := []float64{math.E / s / 2, math.E * math.E / s / 2, (math.Exp(3)/s - 1) / 2, (1.0/3 - 1) / 2, 1.0 / 6, 1.0 / 6}
	for i, g := range grad {
		if math.Abs(float64(g)-wantGrad[i]) > 1e-6 {
			t.Errorf("grad[%d] = %v, want %v", i, g, wantGrad[i])
		}
	}
	// Large logits must not overflow.
	if l, _ := SparseCategoricalCrossentropy([]float32{1000, 0}, []int32{1}, 2, nil); math.Abs(float64(l)-1000) > 1e-3 {
		t.Errorf("large logits: loss %v, want 1000", l)
	}
}

func moments(w []float32) (mean, sd, maxAbs float64) {
	for _, v := range w {
		mean += float64(v)
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	mean /= float64(len(w))
	for _, v := range w {
		d := float64(v) - mean
		sd += d * d
	}
	return mean, math.Sqrt(sd / float64(len(w))), maxAbs
}

func TestInitializers(t *testing.T) {
	const fanIn, fanOut = 3072, 256
	tests := []struct {
		name     string
		sd       float64 // of the resulting distribution
		maxAbs   float64 // no value beyond this
		minOfMax float64 // the largest value reaches at least this
	}{
		// Keras's he_normal: truncated at 2 sd of the untruncated normal whose
		// sd is sqrt(2/fan_in)/0.8796..., so the result has sd sqrt(2/fan_in).
		{"he_normal", math.Sqrt(2.0 / fanIn), 2 * math.Sqrt(2.0/fanIn) / truncatedNormalScale, 1.9 * math.Sqrt(2.0/fanIn) / truncatedNormalScale},
		// glorot_uniform: U(-limit, limit), limit = sqrt(6/(fan_in+fan_out)), sd = limit/sqrt(3).
		{"glorot_uniform", math.Sqrt(6.0/(fanIn+fanOut)) / math.Sqrt(3), math.Sqrt(6.0 / (fanIn + fanOut)), 0.99 * math.Sqrt(6.0/(fanIn+fanOut))},
		{"he_uniform", math.Sqrt(2.0 / fanIn), math.Sqrt(6.0 / fanIn), 0.99 * math.Sqrt(6.0/fanIn)},
		{"glorot_normal", math.Sqrt(2.0 / (fanIn + fanOut)), 2 * math.Sqrt(2.0/(fanIn+fanOut)) / truncatedNormalScale, 1.9 * math.Sqrt(2.0/(fanIn+fanOut)) / truncatedNormalScale},
	}
	for _, tt := range tests {
		init, err := LookupInitializer(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		w := make([]float32, fanIn*fanOut)
		init(rand.New(rand.NewPCG(42, 1)), w, fanIn, fanOut)
		mean, sd, maxAbs := moments(w)
		// With 786k draws the sample mean and sd are within ~0.5% of the truth.
		if math.Abs(mean) > 0.01*tt.sd {
			t.Errorf("%s: mean %g, want 0", tt.name, mean)
		}
		if math.Abs(sd-tt.sd) > 0.01*tt.sd {
			t.Errorf("%s: sd %g, want %g", tt.name, sd, tt.sd)
		}
		if maxAbs > tt.maxAbs*(1+1e-6) || maxAbs < tt.minOfMax {
			t.Errorf("%s: largest |w| = %g, want within [%g, %g]", tt.name, maxAbs, tt.minOfMax, tt.maxAbs)
		}
	}
}

func TestNewIsDeterministicAndLayered(t *testing.T) {
	arch := Architecture{Inputs: 3072, Hidden: []int{256, 256, 256, 256}, Activation: "elu", Init: "he_normal", Classes: 10}
	a, _ := New(arch, 42)
	b, _ := New(arch, 42)
	c, _ := New(arch, 43)
	wa, wb, wc := a.Weights(), b.Weights(), c.Weights()
	same := func(x, y [][]float32) bool {
		for i := range x {
			for j := range x[i] {
				if math.Float32bits(x[i][j]) != math.Float32bits(y[i][j]) {
					return false
				}
			}
		}
		return true
	}
	if !same(wa, wb) || same(wa, wc) {
		t.Fatal("seed 42 twice must give the same weights and seed 43 others")
	}
	names := ""
	for _, p := range a.Params() {
		names += fmt.Sprintf("%s%v ", p.Name, p.Shape)
	}
	if want := "dense/kernel[3072 256] dense/bias[256] dense_1/kernel[256 256] dense_1/bias[256] dense_2/kernel[256 256] dense_2/bias[256] dense_3/kernel[256 256] dense_3/bias[256] dense_4/kernel[256 10] dense_4/bias[10] "; names != want {
		t.Errorf("params %q, want %q", names, want)
	}
	if a.CountParams() != 3072*256+256+3*(256*256+256)+256*10+10 {
		t.Errorf("CountParams = %d", a.CountParams())
	}
	// Biases start at zero; the output kernel is glorot_uniform-bounded.
	for _, l := range a.Layers {
		for _, v := range l.(*Dense).Bias {
			if v != 0 {
				t.Fatalf("%s: non-zero initial bias", l.Name())
			}
		}
	}
	limit := math.Sqrt(6.0 / (256 + 10))
	for _, v := range a.Layers[4].(*Dense).Kernel {
		if math.Abs(float64(v)) > limit {
			t.Fatalf("output kernel value %g beyond glorot limit %g", v, limit)
		}
	}
}

func TestArchitectureValidate(t *testing.T) {
	for _, a := range []Architecture{
		{Inputs: 4, Hidden: []int{3}, Activation: "gelu?", Init: "he_normal", Classes: 2},
		{Inputs: 4, Hidden: []int{3}, Activation: "elu", Init: "zeros?", Classes: 2},
		{Inputs: 4, Hidden: []int{0}, Activation: "elu", Init: "he_normal", Classes: 2},
		{Inputs: 0, Activation: "elu", Init: "he_normal", Classes: 2},
	} {
		if err := a.Validate(); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
}
