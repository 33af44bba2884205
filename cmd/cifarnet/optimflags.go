package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/train"
)

// The optimizer's, the schedule's and the callbacks' flags are Keras's
// argument names with dashes (--beta-1 is beta_1). Each writes straight
// into the Config when given, so that only the arguments given are passed
// and every other one keeps Keras's default.

// argValue is a flag holding one Keras argument.
type argValue struct {
	kind string // float, int, bool, floats, string
	text string
	set  func(v any)
}

func (a *argValue) String() string { return a.text }
func (a *argValue) Type() string   { return a.kind }

func (a *argValue) Set(s string) error {
	var v any
	var err error
	switch a.kind {
	case "float":
		var f float64
		f, err = strconv.ParseFloat(s, 64)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			err = fmt.Errorf("want a finite number")
		}
		v = f
	case "int":
		var i int64
		i, err = strconv.ParseInt(s, 10, 32)
		v = int(i)
	case "bool":
		v, err = strconv.ParseBool(s)
	case "floats":
		var fs []any
		for _, p := range strings.Split(s, ",") {
			var f float64
			if f, err = strconv.ParseFloat(strings.TrimSpace(p), 64); err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
				err = fmt.Errorf("want finite numbers")
			}
			if err != nil {
				break
			}
			fs = append(fs, f)
		}
		v = fs
	default:
		v = s
	}
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok {
			err = ne.Err
		}
		return err
	}
	a.text = s
	a.set(v)
	return nil
}

func addArg(fs *pflag.FlagSet, name, kind, usage string, set func(any)) {
	f := fs.VarPF(&argValue{kind: kind, set: set}, name, "", usage)
	if kind == "bool" {
		f.NoOptDefVal = "true"
	}
}

// scheduleNames maps --lr-schedule's names to the schedule classes.
var scheduleNames = map[string]string{
	"exponential":     "ExponentialDecay",
	"piecewise":       "PiecewiseConstantDecay",
	"polynomial":      "PolynomialDecay",
	"inverse-time":    "InverseTimeDecay",
	"cosine":          "CosineDecay",
	"cosine-restarts": "CosineDecayRestarts",
	"onecycle":        "OneCycle",
}

func scheduleFlagNames() string {
	var n []string
	for k, v := range scheduleNames {
		n = append(n, k+" ("+v+")")
	}
	sort.Strings(n)
	return strings.Join(n, ", ") + "; constant: none, the rate stays --lr (the default; for an experiment's --grid lr-schedule=constant,onecycle)"
}

// scheduleValue is --lr-schedule: one of scheduleNames, a Keras schedule
// class name, or constant (no schedule: Keras's float learning_rate).
type scheduleValue struct {
	c    *train.Config
	text string
}

func (s *scheduleValue) String() string { return s.text }
func (s *scheduleValue) Type() string   { return "string" }

func (s *scheduleValue) Set(name string) error {
	c := s.c
	switch {
	case name == "":
		return fmt.Errorf("want a schedule name")
	case name == "constant":
		if c.LRSchedule != nil && len(c.LRSchedule.Config) > 0 {
			c.LRSchedule.ClassName = "" // its arguments are refused: given without a schedule
		} else {
			c.LRSchedule = nil
		}
	default:
		class, ok := scheduleNames[name]
		if !ok {
			class = name // a Keras class name
			if !slices.Contains(optim.ScheduleNames(), class) {
				var names []string
				for n := range scheduleNames {
					names = append(names, n)
				}
				sort.Strings(names)
				return fmt.Errorf("unknown schedule (want constant, %s, or a Keras class name such as ExponentialDecay)", strings.Join(names, ", "))
			}
		}
		if c.LRSchedule == nil {
			c.LRSchedule = &optim.ScheduleConfig{}
		}
		c.LRSchedule.ClassName = class
	}
	s.text = name
	return nil
}

// rateFlags names the flags that set the learning rate over training (the
// schedule's and ReduceLROnPlateau's, --lr and --lr-schedule), which
// lr-find refuses: it sets the rate itself.
var rateFlags = map[string]bool{"lr": true, "lr-schedule": true}

// addOptimizerFlags registers the optimizer's, the schedule's and the
// callbacks' flags on top of --optimizer and --lr.
func addOptimizerFlags(fs *pflag.FlagSet, c *train.Config) {
	// --lr defaults to the optimizer's Keras default unless given.
	lrGiven := false
	fs.Var(&argValue{kind: "string", text: c.Optimizer, set: func(v any) {
		c.Optimizer = v.(string)
		if !lrGiven {
			c.LearningRate = optim.DefaultLearningRate(c.Optimizer)
		}
	}}, "optimizer", "optimizer (keras.optimizers): "+strings.Join(optim.Names(), ", "))
	fs.Var(&argValue{kind: "float", set: func(v any) {
		c.LearningRate, lrGiven = v.(float64), true
	}}, "lr", "learning rate (default: the optimizer's Keras default, 0.01 for sgd and 0.001 for the others); with --lr-schedule, its initial_learning_rate (1cycle: max_lr)")

	opt := func(name, key, kind, usage string) {
		addArg(fs, name, kind, usage, func(v any) {
			if c.OptimizerArgs == nil {
				c.OptimizerArgs = optim.Args{}
			}
			c.OptimizerArgs[key] = v
		})
	}
	opt("momentum", "momentum", "float", "sgd, rmsprop: momentum (Keras default 0)")
	opt("nesterov", "nesterov", "bool", "sgd: Nesterov momentum")
	opt("rho", "rho", "float", "rmsprop (0.9), adadelta (0.95): decay rate of the squared gradients' average")
	opt("centered", "centered", "bool", "rmsprop: normalise by the gradient's variance instead of its second moment")
	opt("epsilon", "epsilon", "float", "numerical-stability constant, placed as in Keras (default 1e-7)")
	opt("beta-1", "beta_1", "float", "adam, adamw, adamax, nadam (0.9), lion (0.9): first moment's decay")
	opt("beta-2", "beta_2", "float", "adam, adamw, adamax, nadam (0.999), lion (0.99): second moment's decay")
	opt("amsgrad", "amsgrad", "bool", "adam, adamw: AMSGrad (the maximum of the second moments)")
	opt("initial-accumulator-value", "initial_accumulator_value", "float", "adagrad: the accumulators' starting value (default 0.1)")
	opt("weight-decay", "weight_decay", "float", "decoupled weight decay w -= w·weight_decay·lr before each step, any optimizer (adamw's default 0.004)")
	opt("clipnorm", "clipnorm", "float", "clip each gradient tensor to this L2 norm")
	opt("clipvalue", "clipvalue", "float", "clip each gradient element to [-clipvalue, clipvalue]")
	opt("global-clipnorm", "global_clipnorm", "float", "clip all gradients together to this global L2 norm")
	opt("use-ema", "use_ema", "bool", "keep an exponential moving average of the weights, which the model takes at the end of training (before early stopping's --restore-best, which then puts back the best epoch's weights, as in Keras)")
	opt("ema-momentum", "ema_momentum", "float", "the moving average's momentum (default 0.99)")
	opt("ema-overwrite-frequency", "ema_overwrite_frequency", "int", "every N steps, overwrite the weights with their moving average")

	sched := func(name, key, kind, usage string) {
		rateFlags[name] = true
		addArg(fs, name, kind, usage, func(v any) {
			if c.LRSchedule == nil {
				c.LRSchedule = &optim.ScheduleConfig{}
			}
			if c.LRSchedule.Config == nil {
				c.LRSchedule.Config = optim.Args{}
			}
			c.LRSchedule.Config[key] = v
		})
	}
	fs.Var(&scheduleValue{c: c}, "lr-schedule", "learning-rate schedule of the optimizer's steps (keras.optimizers.schedules; onecycle is PyTorch's OneCycleLR): "+scheduleFlagNames())
	sched("decay-steps", "decay_steps", "float", "schedule: steps of one decay period (exponential, polynomial, inverse-time, cosine)")
	sched("decay-rate", "decay_rate", "float", "schedule: decay rate (exponential, inverse-time)")
	sched("staircase", "staircase", "bool", "schedule: decay in steps of decay-steps (exponential, inverse-time)")
	sched("boundaries", "boundaries", "floats", "schedule piecewise: step boundaries, comma-separated")
	sched("values", "values", "floats", "schedule piecewise: the rates, one more than boundaries, comma-separated")
	sched("end-learning-rate", "end_learning_rate", "float", "schedule polynomial: final rate (default 0.0001)")
	sched("power", "power", "float", "schedule polynomial: power (default 1)")
	sched("cycle", "cycle", "bool", "schedule polynomial: restart after each decay-steps, each period longer")
	sched("alpha", "alpha", "float", "schedule cosine, cosine-restarts: minimum rate as a fraction of the initial one")
	sched("warmup-target", "warmup_target", "float", "schedule cosine: rate reached by a linear warmup from --lr, then decayed")
	sched("warmup-steps", "warmup_steps", "float", "schedule cosine: steps of the warmup")
	sched("first-decay-steps", "first_decay_steps", "float", "schedule cosine-restarts: steps of the first period")
	sched("t-mul", "t_mul", "float", "schedule cosine-restarts: each period's length factor (default 2)")
	sched("m-mul", "m_mul", "float", "schedule cosine-restarts: each period's initial-rate factor (default 1)")
	sched("max-lr", "max_lr", "float", "schedule onecycle: peak rate (default: --lr)")
	sched("total-steps", "total_steps", "int", "schedule onecycle: steps of the cycle (default: epochs × steps per epoch)")
	sched("pct-start", "pct_start", "float", "schedule onecycle: fraction of the steps spent rising (default 0.3)")
	sched("anneal-strategy", "anneal_strategy", "string", "schedule onecycle: cos (default) or linear")
	sched("cycle-momentum", "cycle_momentum", "bool", "schedule onecycle: move sgd's momentum or beta_1 against the rate (default true; --cycle-momentum=false keeps it)")
	sched("base-momentum", "base_momentum", "float", "schedule onecycle: the momentum at the peak rate (default 0.85)")
	sched("max-momentum", "max_momentum", "float", "schedule onecycle: the momentum at the lowest rates (default 0.95)")
	sched("div-factor", "div_factor", "float", "schedule onecycle: initial rate = max-lr / div-factor (default 25)")
	sched("final-div-factor", "final_div_factor", "float", "schedule onecycle: final rate = initial rate / final-div-factor (default 1e4)")
	sched("three-phase", "three_phase", "bool", "schedule onecycle: fall back to the initial rate before annealing to the final one")

}

// addCallbackFlags registers early stopping's options beyond --patience,
// --min-delta and --restore-best, and ReduceLROnPlateau's.
func addCallbackFlags(fs *pflag.FlagSet, c *train.Config) {
	fs.StringVar(&c.Monitor, "monitor", "", "early stopping: the logged metric watched, one of "+strings.Join(train.MonitorNames, ", ")+" (default val_loss)")
	fs.StringVar(&c.Mode, "mode", "", "early stopping: min, max, or auto (losses min, accuracies max; the default)")
	addArg(fs, "baseline", "float", "early stopping: a value the monitored metric must beat for an improvement to reset the patience", func(v any) {
		b := v.(float64)
		c.Baseline = &b
	})
	fs.IntVar(&c.StartFromEpoch, "start-from-epoch", 0, "early stopping: epochs to wait before watching for improvement")
	for _, n := range reduceLRFlags {
		rateFlags[n] = true
	}
	rl := func() *train.ReduceLRConfig {
		if c.ReduceLR == nil {
			d := train.DefaultReduceLR()
			c.ReduceLR = &d
		}
		return c.ReduceLR
	}
	addArg(fs, "reduce-lr-on-plateau", "bool", "multiply the learning rate by a factor when the monitored metric stops improving (keras.callbacks.ReduceLROnPlateau; every --reduce-lr-* flag implies it)", func(v any) {
		if v.(bool) {
			rl()
		} else {
			c.ReduceLR = nil
		}
	})
	addArg(fs, "reduce-lr-monitor", "string", "reduce-lr-on-plateau: the logged metric watched (default val_loss)", func(v any) { rl().Monitor = v.(string) })
	addArg(fs, "reduce-lr-factor", "float", "reduce-lr-on-plateau: new rate = rate × factor (default 0.1)", func(v any) { rl().Factor = v.(float64) })
	addArg(fs, "reduce-lr-patience", "int", "reduce-lr-on-plateau: epochs without improvement before a reduction (default 10)", func(v any) { rl().Patience = v.(int) })
	addArg(fs, "reduce-lr-mode", "string", "reduce-lr-on-plateau: min, max or auto (default auto)", func(v any) { rl().Mode = v.(string) })
	addArg(fs, "reduce-lr-min-delta", "float", "reduce-lr-on-plateau: minimum change that counts as an improvement (default 1e-4)", func(v any) { rl().MinDelta = v.(float64) })
	addArg(fs, "reduce-lr-cooldown", "int", "reduce-lr-on-plateau: epochs to wait after a reduction before counting again (default 0)", func(v any) { rl().Cooldown = v.(int) })
	addArg(fs, "min-lr", "float", "reduce-lr-on-plateau: lower bound on the rate (default 0)", func(v any) { rl().MinLR = v.(float64) })
}

// reduceLRFlags are ReduceLROnPlateau's flags: any of them turns it on.
var reduceLRFlags = []string{"reduce-lr-on-plateau", "reduce-lr-monitor", "reduce-lr-factor", "reduce-lr-patience",
	"reduce-lr-mode", "reduce-lr-min-delta", "reduce-lr-cooldown", "min-lr"}
