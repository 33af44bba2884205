package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// ScheduleConfig is a learning rate schedule serialized as Keras writes it
// in an optimizer's config (keras.optimizers.schedules.serialize):
//
//	{"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
//	 "config": {"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.9}}
//
// Besides Keras's classes, class_name "OneCycle" is PyTorch's OneCycleLR
// with its argument names (max_lr, total_steps, pct_start, ...).
type ScheduleConfig struct {
	Module    string `json:"module,omitempty"`
	ClassName string `json:"class_name"`
	Config    Args   `json:"config"`
}

// scheduleReaders builds each schedule class from its Keras arguments.
var scheduleReaders = map[string]func(r *argReader) Schedule{
	"ExponentialDecay": func(r *argReader) Schedule {
		return ExponentialDecay{InitialLearningRate: r.value("initial_learning_rate", 0),
			DecaySteps: r.positive("decay_steps", 0), DecayRate: r.float("decay_rate", 0, 0, math.MaxFloat32),
			Staircase: r.boolean("staircase", false)}
	},
	"PiecewiseConstantDecay": func(r *argReader) Schedule {
		return PiecewiseConstantDecay{Boundaries: r.numbers("boundaries"), Values: r.numbers("values")}
	},
	"PolynomialDecay": func(r *argReader) Schedule {
		return PolynomialDecay{InitialLearningRate: r.value("initial_learning_rate", 0),
			DecaySteps: r.positive("decay_steps", 0), EndLearningRate: r.value("end_learning_rate", 0.0001),
			Power: r.float("power", 1, 0, 1e6), Cycle: r.boolean("cycle", false)}
	},
	"InverseTimeDecay": func(r *argReader) Schedule {
		return InverseTimeDecay{InitialLearningRate: r.value("initial_learning_rate", 0),
			DecaySteps: r.positive("decay_steps", 0), DecayRate: r.float("decay_rate", 0, 0, math.MaxFloat32),
			Staircase: r.boolean("staircase", false)}
	},
	"CosineDecay": func(r *argReader) Schedule {
		return CosineDecay{InitialLearningRate: r.value("initial_learning_rate", 0),
			DecaySteps: r.positive("decay_steps", 0), Alpha: r.float("alpha", 0, 0, 1),
			WarmupTarget: r.value("warmup_target", 0), WarmupSteps: r.float("warmup_steps", 0, 0, math.MaxFloat64)}
	},
	"CosineDecayRestarts": func(r *argReader) Schedule {
		return CosineDecayRestarts{InitialLearningRate: r.value("initial_learning_rate", 0),
			FirstDecaySteps: r.positive("first_decay_steps", 0), TMul: r.float("t_mul", 2, 0, 1e6),
			MMul: r.float("m_mul", 1, 0, 1e6), Alpha: r.float("alpha", 0, 0, 1)}
	},
	"OneCycle": func(r *argReader) Schedule {
		d := NewOneCycle(0, 0)
		return OneCycle{MaxLR: r.value("max_lr", 0), TotalSteps: r.integer("total_steps", 0, 1, math.MaxInt32),
			PctStart: r.float("pct_start", d.PctStart, 0, 1), AnnealStrategy: r.str("anneal_strategy", d.AnnealStrategy),
			CycleMomentum: r.boolean("cycle_momentum", d.CycleMomentum), BaseMomentum: r.float("base_momentum", d.BaseMomentum, 0, 1),
			MaxMomentum: r.float("max_momentum", d.MaxMomentum, 0, 1), DivFactor: r.float("div_factor", d.DivFactor, 0, math.MaxFloat32),
			FinalDivFactor: r.float("final_div_factor", d.FinalDivFactor, 0, math.MaxFloat32), ThreePhase: r.boolean("three_phase", false)}
	},
}

// scheduleRequired names each class's arguments without a default (the
// run gives a schedule from flags its initial_learning_rate, and 1cycle's
// max_lr and total_steps, when they are left out).
var scheduleRequired = map[string][]string{
	"ExponentialDecay":       {"initial_learning_rate", "decay_steps", "decay_rate"},
	"PiecewiseConstantDecay": {"boundaries", "values"},
	"PolynomialDecay":        {"initial_learning_rate", "decay_steps"},
	"InverseTimeDecay":       {"initial_learning_rate", "decay_steps", "decay_rate"},
	"CosineDecay":            {"initial_learning_rate", "decay_steps"},
	"CosineDecayRestarts":    {"initial_learning_rate", "first_decay_steps"},
	"OneCycle":               {"max_lr", "total_steps"},
}

// ScheduleNames lists the class names a ScheduleConfig may have.
func ScheduleNames() []string {
	var n []string
	for k := range scheduleReaders {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Schedule builds the schedule c describes, refusing unknown classes and
// arguments, missing required ones and values out of range.
func (c ScheduleConfig) Schedule() (Schedule, error) {
	if c.Module != "" && c.Module != "keras.optimizers.schedules" && c.Module != "cifarnet" {
		return nil, fmt.Errorf("learning rate schedule module %q: want keras.optimizers.schedules", c.Module)
	}
	read, ok := scheduleReaders[c.ClassName]
	if !ok {
		return nil, fmt.Errorf("unknown learning rate schedule %q (want one of %s)", c.ClassName, strings.Join(ScheduleNames(), ", "))
	}
	r := newArgReader(c.ClassName, c.Config)
	r.str("name", "")
	s := read(r)
	r.needed(scheduleRequired[c.ClassName]...) // after the values given are checked
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// numbers reads a list of numbers (JSON array).
func (r *argReader) numbers(key string) []float64 {
	var out []float64
	switch v := r.get(key).(type) {
	case nil:
	case []float64:
		out = v
	case []any:
		for _, x := range v {
			f, ok := x.(float64)
			if !ok {
				if i, isInt := x.(int); isInt {
					f, ok = float64(i), true
				}
			}
			if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
				r.fail("%s: %v is not a number", key, x)
				return nil
			}
			out = append(out, f)
		}
	default:
		r.bad(key, v, "want a list of numbers")
	}
	return out
}
