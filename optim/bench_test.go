package optim

import (
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// exerciseParams are parameters of the exercise's network's shapes
// (3072-256-256-256-256-10), with gradients.
func exerciseParams() []nn.Param {
	var ps []nn.Param
	in := 3072
	for _, out := range []int{256, 256, 256, 256, 10} {
		for _, n := range []int{in * out, out} {
			p := nn.Param{Value: make([]float32, n), Grad: make([]float32, n)}
			for i := range p.Grad {
				p.Value[i], p.Grad[i] = 0.01*float32(i%13), 0.001*float32(i%7-3)
			}
			ps = append(ps, p)
		}
		in = out
	}
	return ps
}

// BenchmarkStep times one step of each optimizer on the exercise's
// parameters (about 985,000) on 2 threads; BENCHMARKS.md relates it to an
// epoch's time.
func BenchmarkStep(b *testing.B) {
	e := tensor.NewEngine(2)
	defer e.Close()
	for _, c := range []struct {
		label, name string
		args        Args
	}{
		{"nadam", "nadam", nil},
		{"adam", "adam", nil},
		{"adamw", "adamw", nil},
		{"sgd", "sgd", nil},
		{"sgd-nesterov", "sgd", Args{"momentum": 0.9, "nesterov": true}},
		{"rmsprop-centered", "rmsprop", Args{"centered": true, "momentum": 0.9}},
		{"adagrad", "adagrad", nil},
		{"adadelta", "adadelta", nil},
		{"adamax", "adamax", nil},
		{"lion", "lion", nil},
		{"adam-amsgrad", "adam", Args{"amsgrad": true}},
		{"adam-clipnorm-ema", "adam", Args{"clipnorm": 1.0, "use_ema": true}},
		{"adamw-clipnorm-ema", "adamw", Args{"clipnorm": 1.0, "use_ema": true}},
		{"adam-global-clipnorm", "adam", Args{"global_clipnorm": 1.0}},
		{"adam-clipvalue", "adam", Args{"clipvalue": 0.5}},
		{"nadam-all-options", "nadam", Args{"clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true, "ema_overwrite_frequency": 10}},
		{"sgd-nesterov-all-options", "sgd", Args{"momentum": 0.9, "nesterov": true, "clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true}},
		{"rmsprop-all-options", "rmsprop", Args{"clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true}},
		{"adamax-all-options", "adamax", Args{"clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true}},
		{"lion-all-options", "lion", Args{"clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true}},
	} {
		b.Run(c.label, func(b *testing.B) {
			o, err := Build(c.name, Constant(1e-6), c.args)
			if err != nil {
				b.Fatal(err)
			}
			ps := exerciseParams()
			o.Step(e, ps)
			b.ResetTimer()
			for range b.N {
				o.Step(e, ps)
			}
		})
	}
}
