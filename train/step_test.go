package train

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/tensor"
)

// wholeSteps is an optimizer that always steps after the backward pass:
// its Begin refuses, so backwardStep calls Backward, then Step.
type wholeSteps struct{ optim.Optimizer }

func (wholeSteps) Begin(*tensor.Engine, []nn.Param) bool { return false }

// stepCase is an optimizer of TestStepInsideBackwardGivesTheSameBits: its
// name, learning rate and arguments.
type stepCase struct {
	name string
	lr   optim.Schedule
	args optim.Args
}

// TestStepInsideBackwardGivesTheSameBits: stepping each layer's
// parameters inside the backward pass (backwardStep, as Fit does) gives
// every variable of the model and every optimizer variable the bits of
// Backward followed by Step, at 1 and 2 threads: for the exercise's
// network and its variants (Batch Normalization, dropout, every other
// layer with a regularized and constrained Dense) with optimizers and base
// options; and for small models with every regularizer and constraint of
// Dense and Batch Normalization, Dense layers without biases, Batch
// Normalization without center or scale, ragged widths, with schedules of
// the learning rate and the momentum (1cycle).
func TestStepInsideBackwardGivesTheSameBits(t *testing.T) {
	optimizers := []stepCase{
		{"nadam", optim.Constant(0.001), nil},
		{"sgd", optim.Constant(0.001), optim.Args{"momentum": 0.9, "nesterov": true}},
		{"adam", optim.Constant(0.001), optim.Args{"amsgrad": true, "clipvalue": 0.01}},
		{"adamw", optim.Constant(0.001), optim.Args{"use_ema": true, "ema_overwrite_frequency": 2}},
		{"rmsprop", optim.Constant(0.001), optim.Args{"centered": true, "momentum": 0.5, "weight_decay": 0.01}},
		{"lion", optim.Constant(0.001), nil},
	}
	small := []string{
		"dense(33, relu, use_bias=false, kernel_regularizer=l2(0.01)), batchnorm(gamma_regularizer=l1(0.01), beta_regularizer=l2(0.02), gamma_constraint=non_neg), dense(100, elu, bias_regularizer=l1_l2(0.01, 0.02), bias_constraint=max_norm(0.5)), batchnorm(center=false), dense(7, tanh, use_bias=false), batchnorm(scale=false)",
		"dense(1, relu)",
	}
	smallOptimizers := []stepCase{
		{"nadam", optim.Constant(0.001), optim.Args{"clipvalue": 0.01, "weight_decay": 0.01, "use_ema": true, "ema_overwrite_frequency": 2}},
		{"adam", optim.Constant(0.001), optim.Args{"weight_decay": 0.01, "use_ema": true, "ema_overwrite_frequency": 2}},
		{"sgd", optim.NewOneCycle(0.01, 10), optim.Args{"momentum": 0.9}},
		{"adamax", optim.ExponentialDecay{InitialLearningRate: 0.01, DecaySteps: 1, DecayRate: 0.5}, nil},
		{"adadelta", optim.Constant(0.5), optim.Args{"clipvalue": 0.001}},
		{"adagrad", optim.Constant(0.01), nil},
	}
	for _, threads := range []int{1, 2} {
		e := tensor.NewEngine(threads)
		for _, sm := range stepModels {
			for _, o := range optimizers {
				sameStepInsideBackward(t, e, sm.name, sm.layers, o)
			}
		}
		for _, layers := range small {
			for _, o := range smallOptimizers {
				sameStepInsideBackward(t, e, layers, layers, o)
			}
		}
		e.Close()
	}
}

// sameStepInsideBackward trains two copies of the model layers for four
// steps with optimizer o, one with backwardStep and one with Backward then
// Step, and fails unless they agree bit for bit after each step.
func sameStepInsideBackward(t *testing.T, e *tensor.Engine, name, layers string, o stepCase) {
	t.Helper()
	what := fmt.Sprintf("%s, %s %v, %d threads", name, o.name, o.args, e.Threads())
	inside, whole := stepModel(t, layers), stepModel(t, layers)
	opt1, err := optim.Build(o.name, o.lr, o.args)
	if err != nil {
		t.Fatal(err)
	}
	opt2, _ := optim.Build(o.name, o.lr, o.args)
	step1, step2 := trainingStepWith(inside, e, opt1), trainingStepWith(whole, e, wholeSteps{opt2})
	for s := range 4 {
		step1()
		step2()
		sameVariables(t, fmt.Sprintf("%s, step %d", what, s), whole.Variables(), inside.Variables())
	}
	s1, s2 := opt1.State(), opt2.State()
	for i := range s2.Slots {
		for j, v := range s2.Slots[i].Data {
			if math.Float32bits(v) != math.Float32bits(s1.Slots[i].Data[j]) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, s1.Slots[i].Name, j, s1.Slots[i].Data[j], v)
			}
		}
	}
	if opt1.Iterations() != 4 || opt2.Iterations() != 4 {
		t.Fatalf("%s: %d and %d iterations, want 4", what, opt1.Iterations(), opt2.Iterations())
	}
}

// sameVariables fails unless got has want's bits.
func sameVariables(t *testing.T, what string, want, got []nn.Variable) {
	t.Helper()
	for i, w := range want {
		for j, v := range w.Value {
			if math.Float32bits(v) != math.Float32bits(got[i].Value[j]) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, w.Name, j, got[i].Value[j], v)
			}
		}
	}
}

// BenchmarkStepInsideBackward times a training step of the exercise's
// network (batch 128, one and two threads) with the optimizer's step inside the
// backward pass (backwardStep, as Fit runs it) and after it (Backward,
// then Step), per optimizer, the two alternating step by step so that the
// machine's drift falls on both alike: go test -run XXX -bench
// StepInsideBackward -benchtime 400x ./train. It reports each one's
// median step time and their ratio.
func BenchmarkStepInsideBackward(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) { benchmarkStepInsideBackward(b, threads) })
	}
}

func benchmarkStepInsideBackward(b *testing.B, threads int) {
	e := tensor.NewEngine(threads)
	defer e.Close()
	for _, o := range []struct {
		name, opt string
		args      optim.Args
	}{
		{"nadam", "nadam", nil}, {"sgd", "sgd", nil}, {"adam", "adam", nil}, {"amsgrad", "adam", optim.Args{"amsgrad": true}},
		{"rmsprop-centered-momentum", "rmsprop", optim.Args{"centered": true, "momentum": 0.9}},
		{"adamw-ema", "adamw", optim.Args{"use_ema": true}},
	} {
		b.Run(o.name, func(b *testing.B) {
			var steps [2]func()
			for i := range steps {
				opt, err := optim.Build(o.opt, optim.Constant(0.001), o.args)
				if err != nil {
					b.Fatal(err)
				}
				if i == 1 {
					opt = wholeSteps{opt}
				}
				steps[i] = trainingStepWith(stepModel(b, ""), e, opt)
				steps[i]()
			}
			times := [2][]float64{make([]float64, b.N), make([]float64, b.N)}
			b.ResetTimer()
			for n := range b.N {
				for i, step := range steps {
					start := time.Now()
					step()
					times[i][n] = float64(time.Since(start).Nanoseconds())
				}
			}
			inside, after := stats.Quantile(times[0], 0.5), stats.Quantile(times[1], 0.5)
			b.ReportMetric(inside, "ns/inside")
			b.ReportMetric(after, "ns/after")
			b.ReportMetric(inside/after, "inside/after")
		})
	}
}
