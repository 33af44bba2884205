package optim

import (
	"fmt"
	"math"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// stagedStep is one step in Keras 3's order as BaseOptimizer.apply runs
// it, each stage over every variable before the next, in plain Go loops:
// clip every gradient, decay every weight, the rule's update over every
// parameter, then every moving average and the overwrite. It shares only
// the step's scalars (the norms included) and the rule with Step.
func stagedStep(b *base, e *tensor.Engine, ps []nn.Param) {
	b.begin(e, ps)
	b.squareGradients()
	b.prepareOptions()
	for k, p := range ps {
		for i, g := range p.Grad {
			switch {
			case b.clipNorm > 0:
				if n := b.clipScale[k]; n != 0 {
					c := float32(b.clipNorm)
					p.Grad[i] = float32(g*c) / max(n, c)
				}
			case b.globalClipNorm > 0:
				p.Grad[i] = g * b.clipScale[k]
			case b.clipValue > 0:
				v := float32(b.clipValue)
				p.Grad[i] = min(max(g, -v), v) // the gradients here are finite
			}
		}
	}
	if b.weightDecay != 0 {
		for _, p := range ps {
			for i, w := range p.Value {
				p.Value[i] = w - float32(float32(w*b.decay)*b.lr32)
			}
		}
	}
	for k, p := range ps {
		b.updateChunk(k, 0, len(p.Value), p.Grad)
	}
	if b.useEMA {
		for k, p := range ps {
			for i, w := range p.Value {
				b.average[k][i] = float32(b.emaM*b.average[k][i]) + float32(b.emaOneMinusM*w)
			}
			if b.overwrite {
				copy(p.Value, b.average[k])
			}
		}
	}
	b.iterations++
	b.params, b.e = nil, nil
}

// everyRule lists every optimizer's rule, with the arguments that give
// each of its variants.
var everyRule = []struct {
	name string
	args Args
}{
	{"sgd", nil}, {"sgd", Args{"momentum": 0.9, "nesterov": true}}, {"rmsprop", nil},
	{"rmsprop", Args{"momentum": 0.5, "centered": true}}, {"adagrad", nil}, {"adadelta", nil}, {"adam", nil},
	{"adam", Args{"amsgrad": true}}, {"adamw", nil}, {"adamax", nil}, {"nadam", nil}, {"lion", nil},
}

// withArgs returns the arguments of a and b together (b's where both set one).
func withArgs(a, b Args) Args {
	args := Args{}
	for _, from := range []Args{a, b} {
		for k, v := range from {
			args[k] = v
		}
	}
	return args
}

// TestOptionsInOnePassGiveKerasOrderBits: every optimizer with every base
// option, stepped in one pass (Step: the options inside the rule's pass),
// gives the bits of the stage-by-stage order of Keras (stagedStep): the
// weights, the clipped gradients, the slots and the averages, over steps
// that include the first average, overwrites and an all-zero gradient
// (clipnorm leaves it zero), at 1 and 3 threads.
func TestOptionsInOnePassGiveKerasOrderBits(t *testing.T) {
	options := []Args{
		{"clipnorm": 0.5}, {"global_clipnorm": 0.7}, {"clipvalue": 0.05}, {"weight_decay": 0.1},
		{"use_ema": true, "ema_overwrite_frequency": 2},
		{"clipnorm": 1.0, "weight_decay": 0.004, "use_ema": true, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
		{"global_clipnorm": 2.0, "weight_decay": 0.05, "use_ema": true},
	}
	for _, threads := range []int{1, 3} {
		e := tensor.NewEngine(threads)
		for _, r := range everyRule {
			for _, opt := range options {
				args := withArgs(r.args, opt)
				fused, err := Build(r.name, Constant(0.01), args)
				if err != nil {
					t.Fatal(err)
				}
				staged, _ := Build(r.name, Constant(0.01), args)
				p1, p2 := testParams(7), testParams(7)
				for step := range 5 {
					fillGrads(p1, step)
					fillGrads(p2, step)
					if step == 2 {
						clear(p1[1].Grad)
						clear(p2[1].Grad)
					}
					fused.Step(e, p1)
					stagedStep(staged.(rule).core(), e, p2)
					what := fmt.Sprintf("%s %v, %d threads, step %d", r.name, args, threads, step)
					sameBits(t, what+": weights", p2, p1)
					for k := range p1 {
						sameFloats(t, what+": clipped gradients", p2[k].Grad, p1[k].Grad)
					}
					s1, s2 := fused.State(), staged.State()
					for i := range s1.Slots {
						sameFloats(t, what+": "+s1.Slots[i].Name, s2.Slots[i].Data, s1.Slots[i].Data)
					}
				}
			}
		}
		e.Close()
	}
}

func sameFloats(t *testing.T, what string, want, got []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s [%d]: %v, want %v", what, i, got[i], want[i])
		}
	}
}
