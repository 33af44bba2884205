package train

import (
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/tensor"
)

// noUpdate is an optimizer whose step changes nothing: a training step
// with it is the step without the update.
type noUpdate struct{ optim.Optimizer }

func (noUpdate) Update(int, int, int, []float32) {}

// shareCases are the optimizers and option sets of
// scripts/optimizer_share.sh.
var shareCases = []struct {
	name, opt string
	args      optim.Args
}{
	{"nadam", "nadam", nil},
	{"adam", "adam", nil},
	{"amsgrad", "adam", optim.Args{"amsgrad": true}},
	{"adamw", "adamw", nil},
	{"adamax", "adamax", nil},
	{"sgd", "sgd", nil},
	{"sgd-nesterov", "sgd", optim.Args{"momentum": 0.9, "nesterov": true}},
	{"rmsprop", "rmsprop", nil},
	{"rmsprop-centered-momentum", "rmsprop", optim.Args{"centered": true, "momentum": 0.9}},
	{"adagrad", "adagrad", nil},
	{"adadelta", "adadelta", nil},
	{"lion", "lion", nil},
	{"adamw-ema", "adamw", optim.Args{"use_ema": true}},
	{"adamw-clipnorm-ema", "adamw", optim.Args{"clipnorm": 1.0, "use_ema": true}},
	{"nadam-every-option", "nadam", optim.Args{"clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true, "ema_overwrite_frequency": 10}},
}

// shareRun is the number of steps of one model in a row in
// BenchmarkUpdateShare.
const shareRun = 4

// BenchmarkUpdateShare measures issue 11's target, each optimizer's
// update as a share of the exercise's training step, by difference: a
// step of the exercise's network (batch 128, two threads, as Fit runs it)
// with the optimizer and the same step with an update that changes
// nothing alternate in short runs, so that the machine's drift falls on
// both alike. It reports the medians' difference (us/update), the step
// without the update (us/step-without) and the difference's share of the
// step with it (share-%): go test ./train -run XXX -bench UpdateShare
// -benchtime 400x.
func BenchmarkUpdateShare(b *testing.B) {
	e := tensor.NewEngine(2)
	defer e.Close()
	base, err := optim.Build("sgd", optim.Constant(0.001), nil)
	if err != nil {
		b.Fatal(err)
	}
	without := trainingStepWith(stepModel(b, ""), e, noUpdate{base})
	for _, c := range shareCases {
		b.Run(c.name, func(b *testing.B) {
			opt, err := optim.Build(c.opt, optim.Constant(0.001), c.args)
			if err != nil {
				b.Fatal(err)
			}
			with := trainingStepWith(stepModel(b, ""), e, opt)
			with()
			without()
			// Runs of shareRun steps of each in turn, the first of each run
			// not timed: in training a step follows one of the same model,
			// whose data the caches hold.
			var times [2][]float64
			b.ResetTimer()
			for range (b.N + shareRun - 2) / (shareRun - 1) {
				for i, step := range []func(){with, without} {
					step()
					for range shareRun - 1 {
						start := time.Now()
						step()
						times[i] = append(times[i], float64(time.Since(start).Nanoseconds()))
					}
				}
			}
			w, wo := stats.Quantile(times[0], 0.5), stats.Quantile(times[1], 0.5)
			b.ReportMetric((w-wo)/1e3, "us/update")
			b.ReportMetric(wo/1e3, "us/step-without")
			b.ReportMetric(100*(w-wo)/w, "share-%")
		})
	}
}
