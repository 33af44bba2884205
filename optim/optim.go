// Package optim holds the optimizers of keras.optimizers (SGD, RMSprop,
// Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam and Lion; not Adafactor,
// Ftrl, Lamb or Muon) and the learning rate schedules of
// keras.optimizers.schedules, with Keras 3's formulas.
//
// Each optimizer is a small update rule (as Keras's update_step) that owns
// its named slot variables (as add_variable_from_reference creates them),
// on top of one base (base.go) that does what Keras's BaseOptimizer does
// around it: the learning rate (a constant or a schedule of the iteration),
// gradient clipping, decoupled weight decay, the moving average of the
// weights, and the iteration count. The state of every optimizer is a
// generic list of named tensors (State), which checkpoints write and
// restore without knowing which optimizer made it.
package optim

import (
	"fmt"
	"slices"
	"sort"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/tensor"
)

// Optimizer updates parameters from their gradients, one step at a time.
type Optimizer interface {
	// Name is the Keras name of the optimizer, in lower case ("nadam").
	Name() string
	// Build creates the slot variables for params (Keras's build); Step
	// builds on first use. Building again for the same params is a no-op.
	Build(params []nn.Param)
	// Step applies one update to every parameter from its Grad (which it
	// may clip in place). e may be nil (then it runs on one thread).
	Step(e *tensor.Engine, params []nn.Param)
	// Begin, Update and End are Step a part at a time, for a caller that
	// updates each parameter as soon as its gradient is complete (train's
	// Fit, inside the backward pass, while the gradient is in the caches):
	// Begin(e, params), then Update over every element of every parameter
	// exactly once, then End give Step's bits. Begin returns false, and
	// changes nothing, when the step needs every gradient first (clipnorm,
	// global_clipnorm): then call Step.
	Begin(e *tensor.Engine, params []nn.Param) bool
	// Update applies the step begun (by a Begin that returned true) to
	// elements lo to hi-1 of parameter k, on the calling goroutine, with
	// their gradient grad (hi-lo values, which clipping overwrites), or,
	// if grad is nil, the parameter's Grad[lo:hi]. Calls on disjoint
	// elements may run at the same time, on e's threads inside one of its
	// loops: Update runs no loop of its own on e.
	Update(k, lo, hi int, grad []float32)
	// End counts the step begun (Iterations grows by one) and lets go of
	// its parameters; call it once Update has covered every element.
	End()
	// Iterations returns the number of steps applied so far.
	Iterations() int64
	// LearningRate is the rate the next step uses: the constant, or the
	// schedule's value at Iterations.
	LearningRate() float64
	// SetLearningRate replaces a constant learning rate (as assigning
	// optimizer.learning_rate does in Keras). It fails when a schedule
	// drives the rate, as Keras's setter raises a TypeError then.
	SetLearningRate(lr float64) error
	// Scheduled reports whether a schedule drives the learning rate.
	Scheduled() bool
	// Finalize is Keras's finalize_variable_values, called once when
	// training ends: with use_ema, the parameters take their moving
	// averages.
	Finalize(params []nn.Param)
	// State returns the optimizer's variables for a checkpoint (sharing
	// their memory); Restore builds the optimizer for params and sets them
	// back, checking every name and length.
	State() State
	Restore(s State, params []nn.Param) error
}

// State is everything an optimizer carries from one step to the next.
type State struct {
	Iterations int64 `json:"iterations"`
	// LearningRate is the constant rate as it stands (callbacks may have
	// changed it); absent when a schedule drives the rate.
	LearningRate *float64 `json:"learning_rate,omitempty"`
	// Slots are the optimizer's variables other than the iteration count
	// and the learning rate, in Keras's order; their values travel as the
	// checkpoint's tensors.
	Slots []Slot `json:"slots"`
}

// Slot is one named optimizer variable, e.g. "dense_kernel_momentum" (a
// parameter's path with "_", then the slot's Keras name) or "u_product".
type Slot struct {
	Name string    `json:"name"`
	Data []float32 `json:"-"`
}

// New returns the optimizer of the given Keras name with a constant
// learning rate lr and Keras's default hyper-parameters.
func New(name string, lr float64) (Optimizer, error) {
	return Build(name, Constant(lr), nil)
}

// Build returns the optimizer of the given Keras name whose learning rate
// is lr (a Constant or a schedule) and whose other arguments are args,
// keyed by their Keras names ("momentum", "nesterov", "beta_1",
// "weight_decay", "clipnorm", "use_ema", ...); a missing argument takes
// Keras's default. Unknown arguments are refused, named.
func Build(name string, lr Schedule, args Args) (Optimizer, error) {
	if lr == nil {
		return nil, fmt.Errorf("optimizer %s: no learning rate", name)
	}
	if err := lr.Validate(); err != nil {
		return nil, err
	}
	mk, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown optimizer %q (want one of %v)", name, Names())
	}
	r := newArgReader(name, args)
	o := mk(r)
	b := o.core()
	b.name, b.lr = name, lr
	if c, ok := lr.(Constant); ok {
		b.constant = float64(float32(c)) // a float32 variable in Keras
	}
	b.readOptions(r)
	if err := r.finish(); err != nil {
		return nil, err
	}
	if m, ok := lr.(MomentumSchedule); ok && m.CyclesMomentum() {
		if b.momentum == nil {
			return nil, &ArgError{Owner: "1cycle", Key: "cycle_momentum", Value: "true", Want: fmt.Sprintf("%s has no momentum to cycle: want false", name)}
		}
		if (name == "sgd" || name == "rmsprop") && *b.momentum == 0 {
			return nil, &ArgError{Owner: name, Key: "momentum", Value: "0", Want: "the schedule cycles the momentum: want above 0, e.g. 0.9", Else: noCycling}
		}
		// Cycled into the beta_1 of a rule dividing by 1-beta_1^t, a
		// momentum of 1 trains to NaN, as beta_1 = 1 would.
		if oc, ok := lr.(OneCycle); ok && b.beta1Divides && float32(oc.MaxMomentum) == 1 {
			return nil, &ArgError{Owner: "1cycle", Key: "max_momentum", Value: fmt.Sprint(oc.MaxMomentum),
				Want: fmt.Sprintf("want below 1 with %s, whose beta_1 it cycles: at 1 %s", name, divideByBeta1), Else: noCycling}
		}
	}
	return o, nil
}

// noCycling turns 1cycle's cycling of the momentum off.
var noCycling = &ArgValue{Owner: "1cycle", Key: "cycle_momentum", Value: "false"}

// rule is an optimizer: its update and, through base, everything else.
type rule interface {
	Optimizer
	core() *base
}

// registry maps each Keras name to a constructor reading its arguments.
var registry = map[string]func(r *argReader) rule{
	"sgd":      newSGD,
	"rmsprop":  newRMSprop,
	"adagrad":  newAdagrad,
	"adadelta": newAdadelta,
	"adam":     newAdam,
	"adamw":    newAdamW,
	"adamax":   newAdamax,
	"nadam":    newNadam,
	"lion":     newLion,
}

// Names lists the optimizers Build accepts.
func Names() []string {
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Arguments lists the Keras names of the arguments the optimizer name
// takes (none for an unknown name), sorted.
func Arguments(name string) []string {
	mk, ok := registry[name]
	if !ok {
		return nil
	}
	r := newArgReader(name, nil)
	mk(r).core().readOptions(r)
	return r.known()
}

// TakenBy lists, sorted, the optimizers that take the argument key (a
// Keras name): with UnknownArgError, which optimizers a refused argument
// belongs to.
func TakenBy(key string) []string {
	var takers []string
	for _, o := range Names() {
		if slices.Contains(Arguments(o), key) {
			takers = append(takers, o)
		}
	}
	return takers
}

// DefaultLearningRate is the learning_rate default of the Keras optimizer
// name: 0.01 for SGD, 0.001 for the others.
func DefaultLearningRate(name string) float64 {
	if name == "sgd" {
		return 0.01
	}
	return 0.001
}
