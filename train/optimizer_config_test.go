package train

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/optim"
)

// TestSetKerasOptimizer: a compile_config optimizer whose learning_rate is
// a serialized schedule becomes the run's optimizer and schedule.
func TestSetKerasOptimizer(t *testing.T) {
	c := Exercise()
	raw := `{"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "SGD", "momentum": 0.9, "nesterov": true,
		"learning_rate": {"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
		"config": {"initial_learning_rate": 0.0, "decay_steps": 100, "alpha": 0.0, "warmup_target": 0.1, "warmup_steps": 10, "name": "CosineDecay"},
		"registered_name": null}}, "registered_name": null}`
	if err := c.SetKerasOptimizer(json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o, err := c.NewOptimizer()
	if err != nil {
		t.Fatal(err)
	}
	sgd := o.(*optim.SGD)
	if sgd.Momentum != 0.9 || !sgd.Nesterov || !o.Scheduled() || o.LearningRate() != 0 {
		t.Fatalf("%+v", sgd)
	}
	s, _ := c.Schedule()
	if s.At(5) != 0.05 || s.At(10) != 0.1 {
		t.Fatalf("warmup: %v %v", s.At(5), s.At(10))
	}
	if err := c.SetKerasOptimizer(json.RawMessage(`{"class_name": "SGD", "config": {"rho": 0.9}}`)); err == nil {
		t.Fatal("an SGD with rho accepted")
	}
}

// TestKerasOptimizerOneCycle: a 1cycle run's optimizer is written with its
// peak as a constant rate (Keras has no OneCycle schedule, and a file
// naming one would not load in Keras), and the schedule beside it
// (ScheduleBeyondKeras) with the arguments given, which read back with
// the optimizer gives the run's schedule; a Keras schedule has nothing
// beside it.
func TestKerasOptimizerOneCycle(t *testing.T) {
	c := Exercise()
	c.Optimizer, c.OptimizerArgs = "sgd", optim.Args{"momentum": 0.9}
	c.LRSchedule = &optim.ScheduleConfig{ClassName: "OneCycle", Config: optim.Args{"max_lr": 0.05, "pct_start": 0.25}}
	raw, err := c.KerasOptimizer()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "OneCycle") || !strings.Contains(string(raw), `"learning_rate":0.001`) {
		t.Errorf("1cycle's compile_config optimizer %s: want the constant rate and no OneCycle", raw)
	}
	beyond, err := c.ScheduleBeyondKeras()
	if err != nil || !strings.Contains(string(beyond), `"class_name":"OneCycle"`) {
		t.Fatalf("ScheduleBeyondKeras = %s, %v: want the OneCycle", beyond, err)
	}
	// Read back as the command that trains from the file does: the
	// optimizer, then the schedule in place of its constant rate.
	back := Exercise()
	if err := back.SetKerasOptimizer(raw); err != nil {
		t.Fatalf("%s does not read back: %v", raw, err)
	}
	back.LRSchedule = &optim.ScheduleConfig{}
	if err := json.Unmarshal(beyond, back.LRSchedule); err != nil {
		t.Fatal(err)
	}
	s1, err1 := c.Schedule()
	s2, err2 := back.Schedule()
	if err := errors.Join(err1, err2); err != nil || !reflect.DeepEqual(s1, s2) {
		t.Errorf("1cycle reads back as %#v, want %#v (%v)", s2, s1, err)
	}
	c.LRSchedule = &optim.ScheduleConfig{ClassName: "ExponentialDecay", Config: optim.Args{"decay_steps": 100, "decay_rate": 0.9}}
	if beyond, err := c.ScheduleBeyondKeras(); beyond != nil || err != nil {
		t.Errorf("ExponentialDecay: ScheduleBeyondKeras = %s, %v, want nothing", beyond, err)
	}
}

// TestKerasOptimizerRoundTrip: the optimizer a run writes into its
// model.json (KerasOptimizer) reads back (SetKerasOptimizer) to the same
// optimizer and learning rate, schedules included, so that training from
// a run's model.json trains as the run did.
func TestKerasOptimizerRoundTrip(t *testing.T) {
	for _, c := range []Config{
		Exercise(),
		func() Config {
			c := Exercise()
			c.Optimizer, c.LearningRate, c.OptimizerArgs = "sgd", 0.01, optim.Args{"momentum": 0.9, "nesterov": true}
			return c
		}(),
		func() Config {
			c := Exercise()
			c.Optimizer, c.OptimizerArgs = "adamw", optim.Args{"clipnorm": 1.0, "use_ema": true, "ema_overwrite_frequency": 10}
			return c
		}(),
		func() Config {
			c := Exercise()
			c.LRSchedule = &optim.ScheduleConfig{ClassName: "ExponentialDecay", Config: optim.Args{"decay_steps": 100, "decay_rate": 0.9, "staircase": true}}
			return c
		}(),
	} {
		raw, err := c.KerasOptimizer()
		if err != nil {
			t.Fatalf("%s: %v", c.Optimizer, err)
		}
		back := Exercise()
		if err := back.SetKerasOptimizer(raw); err != nil {
			t.Fatalf("%s: %s does not read back: %v", c.Optimizer, raw, err)
		}
		// The same schedule (or rate), the same arguments (the file it
		// would write again is the same), the same optimizer built.
		s1, err1 := c.Schedule()
		s2, err2 := back.Schedule()
		again, err3 := back.KerasOptimizer()
		_, err4 := back.NewOptimizer()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if !reflect.DeepEqual(s1, s2) || back.Optimizer != c.Optimizer || string(again) != string(raw) || len(back.OptimizerArgs) != len(c.OptimizerArgs)+1 {
			t.Errorf("%s reads back as another optimizer: %s, schedule %#v against %#v", raw, again, s2, s1)
		}
	}
}

// TestOneCycleMomentumOfOne: 1cycle cycling a momentum of 1 into the
// beta_1 of Adam, AdamW or Adamax (which divide by 1-beta_1^t) is refused,
// naming max_momentum; Nadam, Lion, or the momentum left alone, take it.
func TestOneCycleMomentumOfOne(t *testing.T) {
	for _, c := range []struct {
		optimizer string
		args      optim.Args
		refused   bool
	}{
		{"adam", optim.Args{"max_momentum": 1.0}, true},
		{"adamax", optim.Args{"max_momentum": 0.99999999}, true},
		{"adam", optim.Args{"max_momentum": 1.0, "cycle_momentum": false}, false},
		{"nadam", optim.Args{"max_momentum": 1.0}, false},
		{"lion", optim.Args{"max_momentum": 1.0}, false},
	} {
		cfg := Exercise()
		cfg.Optimizer, cfg.Patience = c.optimizer, -1
		cfg.LRSchedule = &optim.ScheduleConfig{ClassName: "OneCycle", Config: c.args}
		err := cfg.Validate()
		var ae *optim.ArgError
		if got := errors.As(err, &ae) && ae.Key == "max_momentum"; got != c.refused || (!c.refused && err != nil) {
			t.Errorf("%s with %v: %v, want refused %v", c.optimizer, c.args, err, c.refused)
		}
	}
}
