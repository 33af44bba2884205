package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/tensor"
)

// Config is everything that defines one training run of the exercise. Its
// zero value is not useful: start from Exercise.
type Config struct {
	Hidden          []int   `json:"hidden"`
	Activation      string  `json:"activation"`
	Init            string  `json:"initializer"`
	Optimizer       string  `json:"optimizer"`
	LearningRate    float64 `json:"learning_rate"`
	Epochs          int     `json:"epochs"`
	BatchSize       int     `json:"batch_size"`
	ValidationSplit float64 `json:"validation_split"`
	// Patience is EarlyStopping's patience; < 0 disables early stopping.
	Patience     int     `json:"patience"`
	MinDelta     float64 `json:"min_delta"`
	RestoreBest  bool    `json:"restore_best_weights"`
	Shuffle      bool    `json:"shuffle"`
	TrainSamples int     `json:"train_samples"`
	TestSamples  int     `json:"test_samples"`
	Seed         uint64  `json:"seed"`
	// EvalBatchSize is the batch size of the final evaluation (Keras's
	// evaluate default, 32).
	EvalBatchSize int `json:"eval_batch_size"`
	// Threads only changes speed, never a result.
	Threads int `json:"threads"`

	// Dataset names the data set (see datasets.Names; empty: cifar10) and
	// LabelMode CIFAR-100's labels (fine or coarse).
	Dataset   string `json:"dataset"`
	LabelMode string `json:"label_mode,omitempty"`

	// The optimizer's other Keras arguments, its schedule and the
	// callbacks' options beyond the exercise's (optimizer_config.go).
	OptimizerArgs  optim.Args            `json:"optimizer_args,omitempty"`
	LRSchedule     *optim.ScheduleConfig `json:"lr_schedule,omitempty"`
	Monitor        string                `json:"monitor,omitempty"`
	Mode           string                `json:"mode,omitempty"`
	Baseline       *float64              `json:"baseline,omitempty"`
	StartFromEpoch int                   `json:"start_from_epoch,omitempty"`
	ReduceLR       *ReduceLRConfig       `json:"reduce_lr_on_plateau,omitempty"`
	// Model, when set, is the network as Keras describes it (--model,
	// --layers); Hidden, Activation and Init are then unused.
	Model *nn.ModelConfig `json:"model,omitempty"`
}

// Exercise returns the configuration of ../shared/seed/exercise_2.txt.
func Exercise() Config {
	return Config{
		Hidden: []int{256, 256, 256, 256}, Activation: "elu", Init: "he_normal",
		Optimizer: "nadam", LearningRate: 0.001, Epochs: 50, BatchSize: 128,
		ValidationSplit: 0.2, Patience: 5, RestoreBest: true, Shuffle: true,
		TrainSamples: 5000, TestSamples: 1000, Seed: 42, EvalBatchSize: 32,
		Dataset: datasets.Default,
	}
}

// Info describes the data set c trains on; a data set or label mode it
// does not know is a *FieldError (dataset, label_mode).
func (c Config) Info() (dataset.Info, error) {
	info, err := datasets.Lookup(c.Dataset, c.LabelMode)
	var ae *datasets.ArgError
	if errors.As(err, &ae) {
		value := ae.Value
		if ae.Arg == "dataset" {
			value = strconv.Quote(value)
		}
		return info, fieldErr(ae.Arg, value, "%s", ae.Want)
	}
	return info, err
}

// Architecture returns the network c trains: one input per pixel value of
// the data set's images, one output per class.
func (c Config) Architecture() nn.Architecture {
	info, _ := c.Info() // an unknown data set is Validate's to report
	return nn.Architecture{Inputs: info.Features(), Hidden: c.Hidden, Activation: c.Activation, Init: c.Init, Classes: info.NumClasses()}
}

// ModelConfig returns the network c trains, as Keras describes it; the
// exercise's form needs a data set Info knows (its error, a *FieldError).
func (c Config) ModelConfig() (nn.ModelConfig, error) {
	if c.Model != nil {
		return *c.Model, nil
	}
	if _, err := c.Info(); err != nil {
		return nn.ModelConfig{}, err
	}
	return c.Architecture().Config()
}

// NewModel builds the network c trains with zero weights; its random
// layers are seeded with c.Seed.
func (c Config) NewModel() (*nn.Sequential, error) {
	mc, err := c.ModelConfig()
	if err != nil {
		return nil, err
	}
	m, err := mc.Build(c.Seed)
	if err != nil {
		return nil, err
	}
	if err := c.fits(mc, m.Outputs()); err != nil {
		return nil, err
	}
	return m, nil
}

// fits refuses a model (mc, emitting outputs values per sample) whose
// input or output does not match c's data set.
func (c Config) fits(mc nn.ModelConfig, outputs int) error {
	info, err := c.Info()
	if err != nil {
		return err
	}
	if mc.Inputs() != info.Features() {
		return fmt.Errorf("the model takes %d values per sample (input shape %v), %s has %d (%dx%dx%d images)",
			mc.Inputs(), mc.InputShape, info.Title(), info.Features(), info.Height, info.Width, info.Channels)
	}
	if outputs != info.NumClasses() {
		return fmt.Errorf("the model's last layer has %d units, %s has %d classes", outputs, info.Title(), info.NumClasses())
	}
	return nil
}

// FieldError is an invalid setting of a Config: the field (named as in
// the Config's JSON, e.g. "batch_size"), its value and what is expected.
// Callers map the field to their own names (a flag, a spec key).
type FieldError struct {
	Field string
	Value any
	Want  string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s %v: %s", e.Field, e.Value, e.Want) }

// Is makes every FieldError an ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ErrInvalid is what every error of Validate is (errors.Is): a setting
// that cannot be trained, as opposed to a failure while training.
var ErrInvalid = errors.New("invalid configuration")

// invalid marks an error of Validate that is not a FieldError.
type invalid struct{ error }

func (e invalid) Unwrap() error      { return e.error }
func (invalid) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field string, value any, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Want: fmt.Sprintf(format, args...)}
}

// Validate reports the first invalid setting: a *FieldError for the
// settings of the network and the data, an error that is ErrInvalid for
// the model file's, the optimizer's and the callbacks'. The memory the run
// would need is checked against what this process may still allocate.
func (c Config) Validate() error { return c.ValidateWithin(memlimit.Available()) }

// ValidateWithin is Validate for a process that may still allocate
// available bytes (memlimit.Available, read once by a caller that
// validates many configurations).
func (c Config) ValidateWithin(available int64) error {
	info, err := c.Info()
	if err != nil {
		return err
	}
	if c.Model == nil {
		for _, h := range c.Hidden {
			if h <= 0 {
				return fieldErr("hidden", intList(c.Hidden), "want positive layer sizes")
			}
		}
		if _, err := nn.LookupActivation(c.Activation); err != nil {
			return fieldErr("activation", c.Activation, "%v", err)
		}
		if _, err := nn.LookupInitializer(c.Init); err != nil {
			return fieldErr("initializer", c.Init, "%v", err)
		}
		if err := c.Architecture().Validate(); err != nil {
			return fieldErr("hidden", intList(c.Hidden), "%v", err)
		}
	}
	if len(c.Hidden) > MaxLayers {
		return fieldErr("hidden", fmt.Sprintf("(%d layers)", len(c.Hidden)), "want at most %d layers", MaxLayers)
	}
	for _, h := range c.Hidden {
		if h > MaxUnits {
			return fieldErr("hidden", intList(c.Hidden), "want at most %d units a layer", MaxUnits)
		}
	}
	// The memory a run needs is estimated before the model is built, so
	// that what cannot fit is refused, not tried.
	if err := CheckMemory(c, available); err != nil {
		return err
	}
	// Checked as building it would check it, nothing allocated: an
	// experiment validates thousands of configurations.
	mc, err := c.ModelConfig()
	if err != nil {
		return invalid{err}
	}
	outputs, err := mc.Check(available)
	if err == nil {
		err = c.fits(mc, outputs)
	}
	if err != nil {
		return invalid{err}
	}
	nTrain := SplitAt(c.TrainSamples, c.ValidationSplit)
	switch {
	case c.LRSchedule == nil && !optim.ValidRate(c.LearningRate),
		// A schedule's initial rate may be 0 (CosineDecay's, warming up):
		// the schedule checks it.
		c.LRSchedule != nil && c.LearningRate != 0 && !optim.ValidRate(c.LearningRate):
		return fieldErr("learning_rate", c.LearningRate, "%s", optim.RateWant)
	case math.IsNaN(c.MinDelta) || math.IsInf(c.MinDelta, 0):
		return fieldErr("min_delta", c.MinDelta, "want a finite number >= 0")
	case c.Epochs < 1 || c.Epochs > MaxEpochs:
		return fieldErr("epochs", c.Epochs, "want 1 to %d", MaxEpochs)
	case c.BatchSize < 1 || c.BatchSize > MaxBatchSize:
		return fieldErr("batch_size", c.BatchSize, "want 1 to %d", MaxBatchSize)
	case c.Patience < -1 || c.Patience > MaxEpochs:
		return fieldErr("patience", c.Patience, "want -1 (no early stopping) to %d", MaxEpochs)
	case c.EvalBatchSize < 1:
		return fieldErr("eval_batch_size", c.EvalBatchSize, "want at least 1")
	case !(c.ValidationSplit > 0 && c.ValidationSplit < 1):
		return fieldErr("validation_split", c.ValidationSplit, "want a fraction strictly between 0 and 1")
	case c.MinDelta < 0:
		return fieldErr("min_delta", c.MinDelta, "want >= 0")
	case c.TrainSamples < 1 || c.TrainSamples > info.TrainSize:
		return fieldErr("train_samples", c.TrainSamples, "want 1 to %d (%s)", info.TrainSize, info.Title())
	case c.TestSamples < 1 || c.TestSamples > info.TestSize:
		return fieldErr("test_samples", c.TestSamples, "want 1 to %d (%s)", info.TestSize, info.Title())
	case nTrain < 1 || nTrain == c.TrainSamples:
		return fieldErr("validation_split", c.ValidationSplit, "of %d samples leaves an empty training or validation set", c.TrainSamples)
	case c.Threads < 0 || c.Threads > MaxThreads:
		return fieldErr("threads", c.Threads, "want 0 (all CPUs) to %d", MaxThreads)
	}
	if !slices.Contains(optim.Names(), c.Optimizer) {
		return fieldErr("optimizer", strconv.Quote(c.Optimizer), "want one of %s", strings.Join(optim.Names(), ", "))
	}
	if err := c.validateTraining(); err != nil {
		return invalid{err}
	}
	return nil
}

// intList prints sizes as a flag takes them: 256,256.
func intList(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Outcome is everything one FitAndEvaluate produced.
type Outcome struct {
	Config  Config
	Model   *nn.Sequential
	History *History
	// Early is the early-stopping callback's final state (nil if disabled).
	Early *EarlyStopping
	// ReduceLR is ReduceLROnPlateau's final state (nil if not used).
	ReduceLR     *ReduceLROnPlateau
	Test         Result
	TrainSeconds float64
	Kernel       string // Gemm micro-kernel used
	// ThreadsAtEnd is the number of threads training ended on: more than
	// Config.Threads when Control.ThreadTarget gave it more on the way.
	ThreadsAtEnd int
	// Terminated is set when a NaN or infinite loss stopped training.
	Terminated *NonFinite
}

// EpochsRun returns the number of epochs trained.
func (o *Outcome) EpochsRun() int { return len(o.History.Epochs) }

// BestEpoch returns the 1-based epoch whose weights the model holds: the
// best monitored epoch when best weights were restored, else the last
// (also when early stopping watched no epoch: before start_from_epoch,
// Keras keeps the last weights).
func (o *Outcome) BestEpoch() int {
	if o.Early != nil && o.Config.RestoreBest && o.Early.Restores() && o.EpochsRun() > 0 {
		return o.Early.BestEpoch + 1
	}
	return o.EpochsRun()
}

// BestValLoss returns the lowest validation loss of the run (NaN before
// any epoch finished).
func (o *Outcome) BestValLoss() float64 {
	best := math.NaN()
	for i, v := range o.History.Series("val_loss") {
		if i == 0 || v < best {
			best = v
		}
	}
	return best
}

// FitAndEvaluate trains the network of cfg, initialised from its seed, on
// data and evaluates it on the test set, as the exercise does. progress
// (nil for silence) receives Keras-style output.
func FitAndEvaluate(cfg Config, data *dataset.Data, progress *Progress) (*Outcome, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.matches(data); err != nil {
		return nil, err
	}
	if data.Train.Len() < cfg.TrainSamples || data.Test.Len() < cfg.TestSamples {
		return nil, fmt.Errorf("data has %d training and %d test samples, want %d and %d",
			data.Train.Len(), data.Test.Len(), cfg.TrainSamples, cfg.TestSamples)
	}
	model, err := cfg.NewModel()
	if err != nil {
		return nil, err
	}
	model.Initialize(cfg.Seed)
	return FitAndEvaluateFrom(cfg, data, model, progress, nil)
}

// FitAndEvaluateFrom is FitAndEvaluate starting from the given model's
// weights. If interrupt is non-nil it is polled after every step; once it
// returns true training stops with an *Interrupted whose checkpoint Resume
// continues.
func FitAndEvaluateFrom(cfg Config, data *dataset.Data, model *nn.Sequential, progress *Progress, interrupt func() bool) (*Outcome, error) {
	return fitAndEvaluate(cfg, data, model, nil, Control{Progress: progress, Interrupt: interrupt})
}

// Control is what steers a training from outside: its progress output,
// stopping it, and backing it up.
type Control struct {
	// Progress (nil for silence) receives Keras-style output.
	Progress *Progress
	// Interrupt, if non-nil, is polled after every step; once it returns
	// true training stops with an *Interrupted whose checkpoint Resume
	// continues.
	Interrupt func() bool
	// Backup, if non-nil, saves complete checkpoints as training goes
	// (Save receives them with the configuration and the callbacks'
	// states filled in).
	Backup *Backup
	// ThreadTarget, if non-nil, changes the number of threads the training
	// runs on once set (Config.Threads is the number it starts with):
	// an experiment gives a run the CPUs of runs that have finished.
	// Speed only, never a result.
	ThreadTarget *tensor.ThreadTarget
	// UpdateClock, if non-nil, measures the time spent in the optimizer's
	// update, epoch by epoch. Speed only, never a result.
	UpdateClock *UpdateClock
}

// FitAndEvaluateWith is FitAndEvaluateFrom steered by c.
func FitAndEvaluateWith(cfg Config, data *dataset.Data, model *nn.Sequential, c Control) (*Outcome, error) {
	return fitAndEvaluate(cfg, data, model, nil, c)
}

// Resume continues the training a checkpoint describes on the same data.
func Resume(ck *Checkpoint, data *dataset.Data, progress *Progress, interrupt func() bool) (*Outcome, error) {
	return ResumeWith(ck, data, Control{Progress: progress, Interrupt: interrupt})
}

// ResumeWith is Resume steered by c.
func ResumeWith(ck *Checkpoint, data *dataset.Data, c Control) (*Outcome, error) {
	model, err := ck.Config.NewModel()
	if err != nil {
		return nil, err
	}
	if err := model.SetWeights(ck.Weights); err != nil {
		return nil, fmt.Errorf("resume: %v", err)
	}
	if ck.LayersRNG != nil {
		if err := model.SetRandomState(ck.LayersRNG); err != nil {
			return nil, fmt.Errorf("resume: %v", err)
		}
	}
	return fitAndEvaluate(ck.Config, data, model, ck, c)
}

// matches reports data that is not the data set cfg names.
func (cfg Config) matches(data *dataset.Data) error {
	info, err := cfg.Info()
	if err != nil {
		return err
	}
	if data.Name != info.Name || data.LabelMode != info.LabelMode || data.Shape != info.Shape || data.NumClasses() != info.NumClasses() {
		return fmt.Errorf("the data is %s (%dx%dx%d, %d classes), the run is configured for %s", data.Title(), data.Height, data.Width, data.Channels, data.NumClasses(), info.Title())
	}
	return nil
}

func fitAndEvaluate(cfg Config, data *dataset.Data, model *nn.Sequential, resume *Checkpoint, c Control) (*Outcome, error) {
	progress := c.Progress
	if err := cfg.matches(data); err != nil {
		return nil, err
	}
	opt, err := cfg.NewOptimizer()
	if err != nil {
		return nil, err
	}
	e := tensor.NewEngine(cfg.Threads)
	defer e.Close()
	if c.ThreadTarget != nil {
		e.Follow(c.ThreadTarget)
	}

	train := data.Train.Slice(0, cfg.TrainSamples)
	test := data.Test.Slice(0, cfg.TestSamples)
	out := &Outcome{Config: cfg, Model: model, Kernel: e.Kernel()}
	opts := Options{Epochs: cfg.Epochs, BatchSize: cfg.BatchSize, ValidationSplit: cfg.ValidationSplit, Shuffle: cfg.Shuffle, Seed: cfg.Seed,
		Interrupt: c.Interrupt, Resume: resume}
	if cfg.Patience >= 0 {
		out.Early = cfg.earlyStopping()
		if resume != nil && resume.Early != nil {
			out.Early.Restore(resume.Early)
		}
		opts.Callbacks = append(opts.Callbacks, out.Early)
	}
	// A stop by a non-finite loss keeps the last complete epoch: early
	// stopping's best weights where it restores them (Fit then keeps no
	// copy), else the epoch's.
	opts.KeepEpochStart = true
	if cfg.ReduceLR != nil {
		out.ReduceLR = cfg.ReduceLR.callback()
		if resume != nil && resume.ReduceLR != nil {
			if err := out.ReduceLR.Restore(resume.ReduceLR); err != nil {
				return nil, fmt.Errorf("resume: %v", err)
			}
		}
		opts.Callbacks = append(opts.Callbacks, out.ReduceLR)
	}
	if resume != nil {
		if err := opt.Restore(resume.Optimizer, model.Params()); err != nil {
			return nil, fmt.Errorf("resume: %v", err)
		}
	}
	if progress != nil {
		opts.Callbacks = append(opts.Callbacks, progress)
	}
	if uc := c.UpdateClock; uc != nil {
		opt = timedOptimizer{opt, uc}
		opts.Callbacks = append(opts.Callbacks, uc)
	}
	var before float64
	if resume != nil {
		before = resume.TrainSeconds
	}
	if resume == nil && model.NeedsAdapt() {
		adapt(e, model, PixelRows{train.Pixels, train.Features()}, SplitAt(cfg.TrainSamples, cfg.ValidationSplit), cfg.BatchSize)
	}
	var start time.Time
	// complete adds to Fit's checkpoint what only this level knows.
	complete := func(ck *Checkpoint) {
		ck.Config, ck.TrainSeconds = cfg, before+time.Since(start).Seconds()
		if out.Early != nil {
			ck.Early = out.Early.State()
		}
		if out.ReduceLR != nil {
			ck.ReduceLR = out.ReduceLR.State()
		}
	}
	if b := c.Backup; b != nil {
		opts.Backup = &Backup{Freq: b.Freq, Save: func(ck *Checkpoint) error {
			complete(ck)
			return b.Save(ck)
		}}
	}
	start = time.Now()
	out.History, err = Fit(e, model, opt, PixelRows{train.Pixels, train.Features()}, train.Int32Labels(), opts)
	out.TrainSeconds = before + time.Since(start).Seconds()
	var intr *Interrupted
	var nonFinite *NonFinite
	switch {
	case errors.As(err, &intr):
		complete(intr.Checkpoint)
		return out, err
	case errors.As(err, &nonFinite):
		out.Terminated = nonFinite
	case err != nil:
		return nil, err
	}
	var step StepFunc
	if progress != nil {
		step = progress.EvalProgress()
	}
	out.Test = Evaluate(e, model, PixelRows{test.Pixels, test.Features()}, test.Int32Labels(), cfg.EvalBatchSize, step)
	out.ThreadsAtEnd = e.Threads()
	return out, nil
}

// PrintTestAccuracy writes the exercise's last line.
func PrintTestAccuracy(w io.Writer, o *Outcome) {
	fmt.Fprintf(w, "Test accuracy: %.4f\n", o.Test.Accuracy)
}
