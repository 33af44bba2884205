package train

import (
	"fmt"
	"testing"

	"github.com/cifarnet/cifarnet/internal/race"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

// stepModels are the exercise and its standard variants: Batch
// Normalization after every hidden layer, Dropout(0.2) after every hidden
// layer, and a model with every other layer and a regularized,
// constrained Dense.
var stepModels = []struct{ name, layers string }{
	{"exercise", ""},
	{"batchnorm", "dense(256,elu,he_normal),batchnorm,dense(256,elu,he_normal),batchnorm,dense(256,elu,he_normal),batchnorm,dense(256,elu,he_normal),batchnorm"},
	{"dropout", "dense(256,elu,he_normal),dropout(0.2),dense(256,elu,he_normal),dropout(0.2),dense(256,elu,he_normal),dropout(0.2),dense(256,elu,he_normal),dropout(0.2)"},
	{"others", "rescaling(2, -1), normalization, gaussian_noise(0.1), dense(64, selu, lecun_normal, kernel_regularizer=l1_l2(0.001, 0.01), kernel_constraint=max_norm(3)), alpha_dropout(0.1), dense(64, gelu), gaussian_dropout(0.1), activation(mish)"},
}

// stepModel builds one of stepModels for the exercise's data.
func stepModel(tb testing.TB, layers string) *nn.Sequential {
	tb.Helper()
	cfg := Exercise()
	if layers != "" {
		withLayers(tb, &cfg, layers)
	}
	m, err := cfg.NewModel()
	if err != nil {
		tb.Fatal(err)
	}
	m.Initialize(1)
	return m
}

// trainingStep returns one training step of m on a fixed batch of 128
// (gather, forward, loss with regularization, backward with Nadam's step,
// constraints), as Fit runs it.
func trainingStep(m *nn.Sequential, e *tensor.Engine) func() {
	return trainingStepWith(m, e, optim.NewNadam(0.001))
}

// trainingStepWith is trainingStep with the optimizer opt.
func trainingStepWith(m *nn.Sequential, e *tensor.Engine, opt optim.Optimizer) func() {
	inputs, classes := m.Inputs(), m.Outputs()
	ldx := tensor.PaddedStride(inputs)
	data := make([]float32, 300*inputs)
	for i := range data {
		data[i] = float32(i%255) / 255
	}
	x := make([]float32, 128*ldx)
	y := make([]int32, 128)
	idx := make([]int, 128)
	for i := range idx {
		idx[i] = (i * 7) % 300
		y[i] = int32(i % classes)
	}
	grad := make([]float32, 128*classes)
	params := m.Params()
	return func() {
		e.Gather(x, ldx, data, inputs, idx)
		logits := m.Forward(e, x, ldx, 128, true)
		loss, _ := nn.SparseCategoricalCrossentropy(logits, y, classes, grad)
		_ = loss + m.RegularizationLoss()
		backwardStep(e, m, opt, params, grad, 128)
		m.ApplyConstraints()
	}
}

// TestNoAllocationPerStep: a training step of the exercise's network and of
// the variants with every kind of layer allocates nothing once warm.
func TestNoAllocationPerStep(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector makes sync.Pool (Gemm's edge tiles) drop items at random")
	}
	e := tensor.NewEngine(2)
	defer e.Close()
	for _, sm := range stepModels {
		step := trainingStep(stepModel(t, sm.layers), e)
		step()
		if n := testing.AllocsPerRun(10, step); n != 0 {
			t.Errorf("%s: %v allocations per training step, want 0", sm.name, n)
		}
	}
}

// BenchmarkStep times one training step (batch 128) of the exercise and
// its variants side by side: go test -bench Step -count 5 ./train.
func BenchmarkStep(b *testing.B) {
	e := tensor.NewEngine(0)
	defer e.Close()
	for _, sm := range stepModels {
		b.Run(fmt.Sprint(sm.name), func(b *testing.B) {
			step := trainingStep(stepModel(b, sm.layers), e)
			step()
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.ReportMetric(128*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
