package train

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/optim"
)

// ReduceLRConfig are ReduceLROnPlateau's options, by Keras's names.
type ReduceLRConfig struct {
	Monitor  string  `json:"monitor"`
	Factor   float64 `json:"factor"`
	Patience int     `json:"patience"`
	Mode     string  `json:"mode"`
	MinDelta float64 `json:"min_delta"`
	Cooldown int     `json:"cooldown"`
	MinLR    float64 `json:"min_lr"`
}

// DefaultReduceLR returns Keras's defaults for ReduceLROnPlateau.
func DefaultReduceLR() ReduceLRConfig {
	d := NewReduceLROnPlateau()
	return ReduceLRConfig{Monitor: d.Monitor, Factor: d.Factor, Patience: d.Patience, Mode: d.Mode, MinDelta: d.MinDelta, Cooldown: d.Cooldown, MinLR: d.MinLR}
}

func (r ReduceLRConfig) callback() *ReduceLROnPlateau {
	return &ReduceLROnPlateau{Monitor: r.Monitor, Factor: r.Factor, Patience: r.Patience, Mode: r.Mode, MinDelta: r.MinDelta, Cooldown: r.Cooldown, MinLR: r.MinLR}
}

// StepsPerEpoch returns the number of training steps of one epoch.
func (c Config) StepsPerEpoch() int {
	if c.BatchSize < 1 {
		return 0
	}
	return (SplitAt(c.TrainSamples, c.ValidationSplit) + c.BatchSize - 1) / c.BatchSize
}

// Schedule returns the learning rate: LRSchedule's when set, else the
// constant LearningRate. A schedule without initial_learning_rate starts
// from LearningRate; a OneCycle without max_lr peaks at LearningRate, and
// without total_steps spans epochs × steps per epoch (PyTorch's OneCycleLR
// with epochs and steps_per_epoch).
func (c Config) Schedule() (optim.Schedule, error) {
	if c.LRSchedule == nil {
		return optim.Constant(c.LearningRate), nil
	}
	if c.LRSchedule.ClassName == "" {
		return nil, &ScheduleArgsError{Keys: sortedKeys(c.LRSchedule.Config)}
	}
	sc := c.runSchedule()
	return sc.Schedule()
}

// ScheduleArgsError is a schedule's arguments (Keys, Keras's names,
// sorted) given without a schedule to take them.
type ScheduleArgsError struct{ Keys []string }

func (e *ScheduleArgsError) Error() string {
	return fmt.Sprintf("schedule arguments %v given without a schedule to take them", e.Keys)
}

// ReduceLRScheduleError is ReduceLROnPlateau asked for with a learning
// rate that the schedule Schedule (its class name) computes: the callback
// needs a constant rate, which it sets.
type ReduceLRScheduleError struct{ Schedule string }

func (e *ReduceLRScheduleError) Error() string {
	return fmt.Sprintf("ReduceLROnPlateau needs a constant learning rate, not the schedule %s (it sets the rate, which a schedule computes)", e.Schedule)
}

// runSchedule is LRSchedule (set, with a class) with the arguments it
// takes from the run where it leaves them out (see Schedule).
func (c Config) runSchedule() optim.ScheduleConfig {
	sc := *c.LRSchedule
	// Defaults from the run: the schedule starts from LearningRate, and
	// 1cycle peaks at it and spans the whole run.
	args := optim.Args{}
	switch sc.ClassName {
	case "OneCycle":
		args["max_lr"], args["total_steps"] = c.LearningRate, c.Epochs*c.StepsPerEpoch()
	case "ExponentialDecay", "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts":
		args["initial_learning_rate"] = c.LearningRate
	}
	for k, v := range sc.Config {
		args[k] = v
	}
	sc.Config = args
	return sc
}

// KerasOptimizer is c's optimizer as Keras 3 serializes it in a model
// file's compile_config (keras.optimizers.serialize: its class, its
// arguments, the learning rate or the schedule with every argument the
// run gave it), which SetKerasOptimizer reads back to the same training.
// With a schedule Keras does not have (1cycle), whose class would keep
// Keras from loading the file, the learning rate is the constant
// LearningRate (1cycle's peak) and ScheduleBeyondKeras holds the schedule.
func (c Config) KerasOptimizer() (json.RawMessage, error) {
	class := optim.KerasClassName(c.Optimizer)
	if class == "" {
		return nil, fmt.Errorf("optimizer %q has no Keras class", c.Optimizer)
	}
	cfg := map[string]any{"name": c.Optimizer}
	for k, v := range c.OptimizerArgs {
		cfg[k] = v
	}
	cfg["learning_rate"] = c.LearningRate
	if c.LRSchedule != nil && c.LRSchedule.ClassName != "" {
		if sc := c.runSchedule(); optim.KerasSchedule(sc.ClassName) {
			cfg["learning_rate"] = serializedSchedule(sc)
		}
	}
	return finitejson.Marshal(map[string]any{"module": "keras.optimizers", "class_name": class, "config": cfg, "registered_name": nil})
}

// ScheduleBeyondKeras is c's schedule serialized as a Keras schedule, for
// one Keras does not have (1cycle), which a run's model.json keeps beside
// Keras's members, in its cifarnet member: cifarnet reads it back as the
// optimizer's learning_rate (saving.ParseKeras). Nil for the others.
func (c Config) ScheduleBeyondKeras() (json.RawMessage, error) {
	if c.LRSchedule == nil || c.LRSchedule.ClassName == "" {
		return nil, nil
	}
	// Its arguments as given: those it takes from the run (1cycle's peak,
	// LearningRate, and total_steps, the epochs') follow the run that
	// trains from the file.
	sc := *c.LRSchedule
	if optim.KerasSchedule(sc.ClassName) {
		return nil, nil
	}
	return finitejson.Marshal(serializedSchedule(sc))
}

// serializedSchedule is sc as keras.optimizers.schedules.serialize writes it.
func serializedSchedule(sc optim.ScheduleConfig) map[string]any {
	return map[string]any{"module": "keras.optimizers.schedules", "class_name": sc.ClassName, "config": sc.Config, "registered_name": nil}
}

// NewOptimizer returns the optimizer c trains with.
func (c Config) NewOptimizer() (optim.Optimizer, error) {
	s, err := c.Schedule()
	if err != nil {
		return nil, err
	}
	return optim.Build(c.Optimizer, s, c.OptimizerArgs)
}

// earlyStopping returns the EarlyStopping c asks for (Patience >= 0).
func (c Config) earlyStopping() *EarlyStopping {
	return &EarlyStopping{Monitor: c.Monitor, Mode: c.Mode, MinDelta: c.MinDelta, Patience: c.Patience, Baseline: c.Baseline,
		RestoreBestWeights: c.RestoreBest, StartFromEpoch: c.StartFromEpoch}
}

// validateTraining checks the optimizer, its schedule and the callbacks
// (the schedule built once, for the optimizer and for 1cycle's length).
func (c Config) validateTraining() error {
	s, err := c.Schedule()
	if err != nil {
		return err
	}
	opt, err := optim.Build(c.Optimizer, s, c.OptimizerArgs)
	if err != nil {
		return err
	}
	// PyTorch's OneCycleLR raises when stepped past total_steps; refuse
	// before training rather than run the rest at the final rate.
	if oc, ok := s.(optim.OneCycle); ok && oc.TotalSteps < int64(c.Epochs)*int64(c.StepsPerEpoch()) {
		steps := c.Epochs * c.StepsPerEpoch()
		return &optim.ArgError{Owner: "1cycle", Key: "total_steps", Value: fmt.Sprint(oc.TotalSteps),
			Want: fmt.Sprintf("fewer than the run's %d steps (epochs × steps an epoch: %d × %d), which 1cycle (PyTorch's OneCycleLR) cannot step past: want %d or more, or fewer epochs", steps, c.Epochs, c.StepsPerEpoch(), steps)}
	}
	if c.Patience >= 0 {
		es := c.earlyStopping()
		if err := es.Validate(); err != nil {
			return err
		}
		if es.Monitor == "learning_rate" && !opt.Scheduled() && c.ReduceLR == nil {
			// Keras warns "metric not available" every epoch and never
			// stops or restores.
			return fieldErr("monitor", es.Monitor, "a constant learning rate is never logged (only a schedule or ReduceLROnPlateau logs it), so early stopping would watch no epoch")
		}
	}
	if c.ReduceLR != nil {
		if err := c.ReduceLR.callback().Validate(); err != nil {
			return err
		}
		if opt.Scheduled() {
			return &ReduceLRScheduleError{Schedule: c.LRSchedule.ClassName}
		}
	}
	return nil
}

func sortedKeys(a optim.Args) []string {
	var k []string
	for n := range a {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// SetKerasOptimizer sets c's optimizer, learning rate or schedule and
// optimizer arguments from an optimizer as Keras serializes it in a model
// file's compile_config (saving.Compile.Optimizer; see optim.ParseKeras).
// It replaces those of c entirely: arguments Keras's config leaves out
// take Keras's defaults.
func (c *Config) SetKerasOptimizer(raw json.RawMessage) error {
	k, err := optim.ParseKeras(raw)
	if err != nil {
		return fmt.Errorf("compile_config: %v", err)
	}
	c.Optimizer, c.LearningRate, c.LRSchedule, c.OptimizerArgs = k.Name, k.LearningRate, k.Schedule, k.Args
	if len(c.OptimizerArgs) == 0 {
		c.OptimizerArgs = nil
	}
	return nil
}
