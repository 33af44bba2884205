package optim

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// testParams returns two parameters (one longer than a chunk, so that the
// passes split it) with gradients filled by fill.
func testParams(seed uint64) []nn.Param {
	r := rand.New(rand.NewPCG(seed, 1))
	ps := []nn.Param{
		{Name: "dense/kernel", Value: make([]float32, tensor.ChunkSize+37), Grad: make([]float32, tensor.ChunkSize+37)},
		{Name: "dense/bias", Value: make([]float32, 5), Grad: make([]float32, 5)},
	}
	for _, p := range ps {
		for i := range p.Value {
			p.Value[i] = float32(r.NormFloat64())
		}
	}
	return ps
}

func fillGrads(ps []nn.Param, step int) {
	r := rand.New(rand.NewPCG(uint64(step), 2))
	for _, p := range ps {
		for i := range p.Grad {
			p.Grad[i] = float32(r.NormFloat64() * 0.1)
		}
	}
}

func copyState(s State) State {
	c := s
	c.Slots = nil
	for _, sl := range s.Slots {
		c.Slots = append(c.Slots, Slot{Name: sl.Name, Data: append([]float32(nil), sl.Data...)})
	}
	return c
}

func sameBits(t *testing.T, what string, a, b []nn.Param) {
	t.Helper()
	for k := range a {
		for i := range a[k].Value {
			if math.Float32bits(a[k].Value[i]) != math.Float32bits(b[k].Value[i]) {
				t.Fatalf("%s: %s[%d] = %v, want %v", what, a[k].Name, i, b[k].Value[i], a[k].Value[i])
			}
		}
	}
}

// everyOptimizer lists optimizers with options that give each one all its
// slots, with and without the base options.
var everyOptimizer = []struct {
	name string
	args Args
}{
	{"sgd", nil},
	{"sgd", Args{"momentum": 0.9, "nesterov": true}},
	{"rmsprop", Args{"momentum": 0.5, "centered": true}},
	{"adagrad", nil},
	{"adadelta", nil},
	{"adam", Args{"amsgrad": true}},
	{"adamw", Args{"clipnorm": 1.0, "use_ema": true, "ema_overwrite_frequency": 3}},
	{"adamax", Args{"global_clipnorm": 0.5}},
	{"nadam", Args{"clipvalue": 0.05, "weight_decay": 0.1}},
	{"lion", Args{"use_ema": true}},
}

// TestStateRestoreContinuesBitIdentically: stopping after some steps,
// restoring the state into a new optimizer and going on gives exactly the
// bits of never having stopped, for every optimizer, at any thread count.
func TestStateRestoreContinuesBitIdentically(t *testing.T) {
	e1, e2 := tensor.NewEngine(1), tensor.NewEngine(3)
	defer e1.Close()
	defer e2.Close()
	for _, c := range everyOptimizer {
		whole, err := Build(c.name, Constant(0.01), c.args)
		if err != nil {
			t.Fatal(err)
		}
		pw := testParams(1)
		for s := range 6 {
			fillGrads(pw, s)
			whole.Step(e1, pw)
		}

		first, _ := Build(c.name, Constant(0.01), c.args)
		pr := testParams(1)
		for s := range 3 {
			fillGrads(pr, s)
			first.Step(e2, pr)
		}
		saved := copyState(first.State())
		second, _ := Build(c.name, Constant(0.01), c.args)
		if err := second.Restore(saved, pr); err != nil {
			t.Fatalf("%s %v: %v", c.name, c.args, err)
		}
		for s := 3; s < 6; s++ {
			fillGrads(pr, s)
			second.Step(e2, pr)
		}
		if second.Iterations() != 6 {
			t.Fatalf("%s: %d iterations after restore and 3 steps, want 6", c.name, second.Iterations())
		}
		sameBits(t, c.name+" restored, 3 threads", pw, pr)
	}
}

func TestRestoreRejectsForeignState(t *testing.T) {
	ps := testParams(1)
	adam, _ := Build("adam", Constant(0.01), nil)
	adam.Build(ps)
	s := copyState(adam.State())
	for _, c := range []struct {
		name string
		edit func(*State)
		want string
	}{
		{"missing", func(s *State) { s.Slots = s.Slots[1:] }, "no variable"},
		{"short", func(s *State) { s.Slots[0].Data = s.Slots[0].Data[:3] }, "has 3 values"},
		{"extra", func(s *State) { s.Slots = append(s.Slots, Slot{Name: "u_product", Data: []float32{1}}) }, "does not have"},
		{"negative", func(s *State) { s.Iterations = -1 }, "iterations -1"},
	} {
		bad := copyState(s)
		c.edit(&bad)
		o, _ := Build("adam", Constant(0.01), nil)
		if err := o.Restore(bad, ps); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	sched, _ := Build("adam", ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}, nil)
	if err := sched.Restore(s, ps); err == nil {
		t.Error("a constant learning rate restored into a scheduled optimizer")
	}
}

func TestSetLearningRate(t *testing.T) {
	o, _ := Build("sgd", Constant(0.1), nil)
	if err := o.SetLearningRate(0.05); err != nil || o.LearningRate() != float64(float32(0.05)) {
		t.Fatalf("set: %v, rate %v", err, o.LearningRate())
	}
	w := []float32{1}
	o.Step(nil, []nn.Param{{Value: w, Grad: []float32{2}}})
	if w[0] != 1-float32(0.05)*2 {
		t.Fatalf("step with the set rate: w = %v", w[0])
	}
	if err := o.SetLearningRate(math.NaN()); err == nil {
		t.Error("NaN rate accepted")
	}
	s, _ := Build("sgd", ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5}, nil)
	if err := s.SetLearningRate(0.05); err == nil {
		t.Error("a scheduled rate was set")
	}
}

func TestBuildRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		args Args
		want string
	}{
		{"sgd", Args{"beta_1": 0.9}, "sgd has no argument beta_1"},
		{"sgd", Args{"momentum": 1.5}, "momentum = 1.5"},
		{"sgd", Args{"nesterov": 1.0}, "want true or false"},
		{"adam", Args{"clipnorm": 1.0, "clipvalue": 1.0}, "only one of"},
		{"adam", Args{"ema_overwrite_frequency": 0.5}, "whole number"},
		{"adam", Args{"ema_momentum": 2.0}, "ema_momentum = 2"},
		{"lion", Args{"beta_1": 0.0}, "SignSGD"},
		{"adam", Args{"gradient_accumulation_steps": 4}, "not supported"},
	} {
		if _, err := Build(c.name, Constant(0.1), c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want %q", c.name, c.args, err, c.want)
		}
	}
}

// TestArguments: Arguments lists exactly what Build accepts: each
// optimizer takes every argument of its list, and refuses another's with
// an UnknownArgError naming it.
func TestArguments(t *testing.T) {
	all := map[string]bool{}
	for _, name := range Names() {
		for _, k := range Arguments(name) {
			all[k] = true
		}
	}
	for _, name := range Names() {
		takes := map[string]bool{}
		for _, k := range Arguments(name) {
			takes[k] = true
			if _, err := Build(name, Constant(0.1), Args{k: nil}); err != nil {
				t.Errorf("%s: its argument %s refused: %v", name, k, err)
			}
		}
		for k := range all {
			var ue *UnknownArgError
			if _, err := Build(name, Constant(0.1), Args{k: nil}); !takes[k] && (!errors.As(err, &ue) || ue.Owner != name || len(ue.Keys) != 1 || ue.Keys[0] != k) {
				t.Errorf("%s %s: error %v, want an UnknownArgError", name, k, err)
			}
		}
	}
	if a := Arguments("sgd"); !slices.Contains(a, "nesterov") || !slices.Contains(a, "momentum") || slices.Contains(Arguments("nadam"), "nesterov") || Arguments("nope") != nil {
		t.Errorf("sgd's arguments %v, nadam's %v", a, Arguments("nadam"))
	}
}

// TestNoAllocationPerStep: once built, no optimizer allocates in a step,
// whatever its options, its schedule or the engine.
func TestNoAllocationPerStep(t *testing.T) {
	e := tensor.NewEngine(2)
	defer e.Close()
	for _, c := range everyOptimizer {
		for _, lr := range []Schedule{Constant(0.01), NewOneCycle(0.01, 100), CosineDecay{InitialLearningRate: 0.01, DecaySteps: 50, WarmupTarget: 0.1, WarmupSteps: 5}} {
			args := Args{}
			for k, v := range c.args {
				args[k] = v
			}
			if oc, ok := lr.(OneCycle); ok {
				switch c.name {
				case "sgd", "rmsprop":
					if args["momentum"] == nil {
						args["momentum"] = 0.5 // 1cycle cycles it
					}
				case "adagrad", "adadelta": // no momentum to cycle
					oc.CycleMomentum = false
					lr = oc
				}
			}
			o, err := Build(c.name, lr, args)
			if err != nil {
				t.Fatal(err)
			}
			ps := testParams(3)
			fillGrads(ps, 1)
			o.Step(e, ps)
			if n := testing.AllocsPerRun(5, func() { o.Step(e, ps) }); n != 0 {
				t.Errorf("%s %v with %T: %v allocations per step", c.name, c.args, lr, n)
			}
		}
	}
}
