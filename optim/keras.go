package optim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// KerasOptimizer is an optimizer read from Keras's serialized form (a
// model file's compile_config "optimizer", keras.optimizers.serialize):
// its name for Build, its learning rate (a constant, or a schedule when
// Schedule is set) and its other arguments.
type KerasOptimizer struct {
	Name         string
	LearningRate float64
	Schedule     *ScheduleConfig
	Args         Args
}

// kerasClasses maps Keras's optimizer class names to Build's names.
var kerasClasses = map[string]string{
	"SGD": "sgd", "RMSprop": "rmsprop", "Adagrad": "adagrad", "Adadelta": "adadelta", "Adam": "adam",
	"AdamW": "adamw", "Adamax": "adamax", "Nadam": "nadam", "Lion": "lion",
}

// KerasClassName is Keras's class name of the optimizer Build calls name
// ("SGD" for "sgd"); "" for none.
func KerasClassName(name string) string {
	for class, n := range kerasClasses {
		if n == name {
			return class
		}
	}
	return ""
}

// KerasSchedule tells whether class is one of keras.optimizers.schedules
// (OneCycle, PyTorch's, is not).
func KerasSchedule(class string) bool {
	_, ok := scheduleReaders[class]
	return ok && class != "OneCycle"
}

// ParseKeras reads an optimizer as Keras 3 serializes it: a name ("adam",
// Keras's defaults) or {"module": "keras.optimizers", "class_name": "Adam",
// "config": {"learning_rate": ..., "beta_1": ..., ...}}, where
// learning_rate may itself be a serialized schedule
// ({"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
// "config": {...}}). Every argument is checked as Build checks it (the
// result builds), and anything else is refused, named.
func ParseKeras(raw json.RawMessage) (*KerasOptimizer, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		n := strings.ToLower(name)
		if _, ok := registry[n]; !ok {
			return nil, fmt.Errorf("optimizer %q: unknown (want one of %v)", name, Names())
		}
		k := &KerasOptimizer{Name: n, LearningRate: DefaultLearningRate(n)}
		return k, k.check()
	}
	var o struct {
		Module         string          `json:"module"`
		ClassName      string          `json:"class_name"`
		Config         json.RawMessage `json:"config"`
		RegisteredName *string         `json:"registered_name"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.ClassName == "" {
		return nil, fmt.Errorf("optimizer: want a name or a Keras optimizer object with class_name and config")
	}
	if o.Module != "" && o.Module != "keras.optimizers" {
		return nil, fmt.Errorf("optimizer %s: module %q is not keras.optimizers", o.ClassName, o.Module)
	}
	if o.RegisteredName != nil && *o.RegisteredName != "" && *o.RegisteredName != o.ClassName {
		return nil, fmt.Errorf("optimizer: registered (custom) optimizer %q is not supported", *o.RegisteredName)
	}
	n, ok := kerasClasses[o.ClassName]
	if !ok {
		return nil, fmt.Errorf("optimizer %q: unknown (want one of SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam, Lion)", o.ClassName)
	}
	var cfg map[string]json.RawMessage
	if len(o.Config) > 0 && string(o.Config) != "null" {
		if err := json.Unmarshal(o.Config, &cfg); err != nil {
			return nil, fmt.Errorf("optimizer %s: config is not a JSON object", o.ClassName)
		}
	}
	k := &KerasOptimizer{Name: n, LearningRate: DefaultLearningRate(n), Args: Args{}}
	for key, v := range cfg {
		if key != "learning_rate" {
			var a any
			if err := json.Unmarshal(v, &a); err != nil {
				return nil, fmt.Errorf("optimizer %s: %s: %v", o.ClassName, key, err)
			}
			k.Args[key] = a
			continue
		}
		var lr float64
		err := json.Unmarshal(v, &lr)
		if err == nil {
			k.LearningRate = lr
			continue
		}
		if n := outOfRange(err); n != "" {
			return nil, fmt.Errorf("optimizer %s: learning_rate: %s", o.ClassName, n)
		}
		var s ScheduleConfig
		err = json.Unmarshal(v, &s)
		if n := outOfRange(err); n != "" {
			return nil, fmt.Errorf("optimizer %s: learning_rate: %s config: %s", o.ClassName, s.ClassName, n)
		}
		if err != nil || s.ClassName == "" {
			return nil, fmt.Errorf("optimizer %s: learning_rate: want a number or a serialized schedule", o.ClassName)
		}
		k.Schedule = &s
	}
	return k, k.check()
}

// outOfRange says which number of a JSON decoding error float64 cannot
// hold (1e400); "" for other errors.
func outOfRange(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && strings.HasPrefix(te.Value, "number ") {
		return te.Value + " is out of range (want a finite number of at most 1.8e308)"
	}
	return ""
}

// check builds the optimizer once, so that a bad argument fails here.
func (k *KerasOptimizer) check() error {
	var s Schedule = Constant(k.LearningRate)
	if k.Schedule != nil {
		var err error
		if s, err = k.Schedule.Schedule(); err != nil {
			return fmt.Errorf("optimizer %s: learning_rate: %v", k.Name, err)
		}
	}
	_, err := Build(k.Name, s, k.Args)
	return err
}
