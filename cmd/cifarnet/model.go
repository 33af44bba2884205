package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/saving"
	"github.com/cifarnet/cifarnet/train"
)

// modelFlags choose the network beyond the exercise's --hidden,
// --activation and --init: a Keras model file or the short form.
type modelFlags struct {
	file, layers string
}

func addModelFlags(fs *pflag.FlagSet, f *modelFlags) {
	fs.StringVar(&f.file, "model", "", "train the Keras model in this JSON file (what model.to_json() writes: a Sequential of supported layers; its compile_config's optimizer is used unless --optimizer is given; --lr and the optimizer's flags change that optimizer's arguments)")
	fs.StringVar(&f.layers, "layers", "", "the hidden layers in a short form; a Dense softmax output layer is appended unless the list ends in a softmax. "+nn.ShortFormHelp)
}

// apply sets cfg.Model from --model or --layers; fs tells which flags were
// given. It then refuses the flags that the run would
// ignore (see ignoredFlags).
func (f modelFlags) apply(fs *pflag.FlagSet, cfg *train.Config) error {
	if err := f.applyModel(fs, cfg); err != nil {
		return err
	}
	return ignoredFlags(fs, cfg, f.file)
}

// applyModel sets cfg.Model (applyNetwork), then refuses schedule
// arguments given with --lr-schedule constant, which takes none: train
// and an experiment's configurations alike (Config.Schedule would say
// they came without --lr-schedule).
func (f modelFlags) applyModel(fs *pflag.FlagSet, cfg *train.Config) error {
	if err := f.applyNetwork(fs, cfg); err != nil {
		return err
	}
	if fs.Changed("lr-schedule") && cfg.LRSchedule != nil && cfg.LRSchedule.ClassName == "" {
		var flags []string
		for k := range cfg.LRSchedule.Config {
			flags = append(flags, strings.ReplaceAll(k, "_", "-"))
		}
		slices.Sort(flags)
		return usageError{&constantScheduleError{flags}}
	}
	return nil
}

func (f modelFlags) applyNetwork(fs *pflag.FlagSet, cfg *train.Config) error {
	if f.file == "" && f.layers == "" {
		return nil
	}
	if f.file != "" && f.layers != "" {
		return usagef("--model and --layers both describe the network: give one")
	}
	flag := "--model"
	if f.layers != "" {
		flag = "--layers"
	}
	for _, name := range []string{"hidden", "activation", "init"} {
		if fs.Changed(name) {
			return usagef("--%s describes the exercise's network; with %s, describe the network there", name, flag)
		}
	}
	info, err := cfg.Info()
	if err != nil {
		return flagError(err)
	}
	if f.layers != "" {
		names := map[string]int{}
		cs, err := nn.ParseLayers(f.layers, names)
		if err != nil {
			return usagef("--layers: %v", err)
		}
		if !endsInSoftmax(cs) {
			cs = append(cs, nn.LayerConfig{ClassName: "Dense", Config: map[string]any{
				"name": nn.AutoName("Dense", names), "units": info.NumClasses(), "activation": "softmax"}})
		}
		cfg.Model = &nn.ModelConfig{Name: "sequential", InputShape: []int{info.Features()}, Layers: cs}
		if err := cfg.Model.Validate(); err != nil {
			return usagef("--layers: %v", err)
		}
		return nil
	}
	k, err := saving.ReadKeras(f.file)
	if err != nil {
		return usageError{err}
	}
	cfg.Model = &k.Model
	if k.Compile != nil && k.Compile.Optimizer != nil && !fs.Changed("optimizer") {
		lr := cfg.LearningRate
		if err := applyKerasOptimizer(cfg, k.Compile.Optimizer); err != nil {
			return usagef("--model %s: compile_config: optimizer: %v", f.file, err)
		}
		if k.LRSchedule != nil && !fs.Changed("lr-schedule") {
			if err := applySchedule(cfg, k.LRSchedule); err != nil {
				return usagef("--model %s: cifarnet: lr_schedule: %v", f.file, err)
			}
		}
		if constantGiven(fs) && cfg.LRSchedule != nil && cfg.LRSchedule.ClassName != "" {
			// --lr-schedule constant replaces the file's schedule, as
			// every flag wins over the file: the rate stays the
			// schedule's initial one (or --lr's).
			if err := startRate(cfg); err != nil {
				return usagef("--model %s: compile_config: optimizer: learning_rate: %v", f.file, err)
			}
		}
		if fs.Changed("lr") {
			setLearningRate(cfg, lr)
		}
	}
	return nil
}

// constantGiven tells whether --lr-schedule constant was given.
func constantGiven(fs *pflag.FlagSet) bool {
	fl := fs.Lookup("lr-schedule")
	return fl != nil && fl.Changed && fl.Value.String() == "constant"
}

// startRate replaces cfg's schedule with the constant rate it starts
// from (its rate at step 0: a decay's initial_learning_rate, a piecewise
// schedule's first value).
func startRate(cfg *train.Config) error {
	s, err := cfg.Schedule()
	if err != nil {
		return err
	}
	cfg.LearningRate, cfg.LRSchedule = s.At(0), nil
	return nil
}

// ignoredFlags refuses the flags the run would ignore, silently
// otherwise: --lr with a piecewise schedule (given by --lr-schedule or by
// the model file), whose rates are its values, or with 1cycle's --max-lr; the moving average's
// options without --use-ema; ReduceLROnPlateau's options with
// --reduce-lr-on-plateau=false.
func ignoredFlags(fs *pflag.FlagSet, cfg *train.Config, file string) error {
	for _, name := range []string{"ema-momentum", "ema-overwrite-frequency"} {
		if fs.Changed(name) && cfg.OptimizerArgs["use_ema"] != true {
			return usagef("--%s %s: the moving average of the weights is off: give --use-ema too, or leave --%s out", name, fs.Lookup(name).Value, name)
		}
	}
	if given := changedFlags(fs, earlyStoppingOptions...); cfg.Patience < 0 && len(given) > 0 {
		return usagef("%s: --patience %d turns early stopping off: leave them out, or give a --patience of 0 or more", given, cfg.Patience)
	}
	if given := changedFlags(fs, "base-momentum", "max-momentum"); len(given) > 0 && fs.Changed("cycle-momentum") && fs.Lookup("cycle-momentum").Value.String() == "false" {
		return usagef("%s: --cycle-momentum=false keeps the momentum the optimizer has: leave them out, or leave --cycle-momentum=false out", given)
	}
	if fl := fs.Lookup("reduce-lr-on-plateau"); fl != nil && fl.Changed && fl.Value.String() == "false" {
		var given []string
		fs.Visit(func(f *pflag.Flag) {
			if f.Name != fl.Name && (strings.HasPrefix(f.Name, "reduce-lr-") || f.Name == "min-lr") {
				given = append(given, "--"+f.Name)
			}
		})
		if len(given) > 0 {
			return usagef("%s: --reduce-lr-on-plateau=false turns ReduceLROnPlateau off: leave them out, or leave --reduce-lr-on-plateau=false out", strings.Join(given, ", "))
		}
	}
	if fs.Changed("lr") && fs.Changed("max-lr") && cfg.LRSchedule != nil && cfg.LRSchedule.ClassName == "OneCycle" {
		return usagef("--lr %s: --lr-schedule onecycle peaks at --max-lr %s (--lr is only its default): leave --lr out", fs.Lookup("lr").Value, fs.Lookup("max-lr").Value)
	}
	if fs.Changed("lr") && cfg.LRSchedule != nil && cfg.LRSchedule.ClassName == "PiecewiseConstantDecay" {
		if fs.Changed("lr-schedule") {
			return usagef("--lr %s: --lr-schedule %s takes its rates from --values, not --lr: leave --lr out", fs.Lookup("lr").Value, fs.Lookup("lr-schedule").Value)
		}
		return usagef("--lr %s: the --model %s optimizer's PiecewiseConstantDecay takes its rates from its values, not --lr: leave --lr out (or give --lr-schedule)", fs.Lookup("lr").Value, file)
	}
	return nil
}

// changedFlags lists those of names that were given, as "--a, --b" ("" if
// none).
func changedFlags(fs *pflag.FlagSet, names ...string) string {
	var given []string
	for _, name := range names {
		if fs.Changed(name) {
			given = append(given, "--"+name)
		}
	}
	return strings.Join(given, ", ")
}

// refuseGiven refuses the flags among names that were given, which the
// command would not use: "--a, --b: why: leave them out".
func refuseGiven(fs *pflag.FlagSet, why string, names ...string) error {
	given := changedFlags(fs, names...)
	if given == "" {
		return nil
	}
	pronoun := "them"
	if !strings.Contains(given, ",") {
		pronoun = "it"
	}
	return usagef("%s: %s: leave %s out", given, why, pronoun)
}

// setLearningRate gives the optimizer a model file compiled the learning
// rate of --lr, as setting a Keras optimizer's learning_rate does: its
// constant rate, or a schedule's initial_learning_rate, the rest of the
// optimizer (its class, its arguments, the schedule's shape) staying the
// file's.
func setLearningRate(cfg *train.Config, lr float64) {
	cfg.LearningRate = lr
	if sc := cfg.LRSchedule; sc != nil {
		if _, ok := sc.Config["initial_learning_rate"]; ok {
			c := *sc
			c.Config = optim.Args{}
			for k, v := range sc.Config {
				c.Config[k] = v
			}
			c.Config["initial_learning_rate"] = lr
			cfg.LRSchedule = &c
		}
	}
}

// flagError is flagError naming the flag and the file (or short form)
// that described the model, when the model itself is refused (its memory).
func (f modelFlags) flagError(err error) error {
	var fe *train.FieldError
	if errors.As(err, &fe) && fe.Field == "model" {
		switch {
		case f.file != "":
			return usagef("--model %s: %s", f.file, fe.Want)
		case f.layers != "":
			return usagef("--layers %s: %s", quote.Short(f.layers), fe.Want)
		}
	}
	return flagError(err)
}

func endsInSoftmax(cs []nn.LayerConfig) bool {
	if len(cs) == 0 {
		return false
	}
	act, _ := cs[len(cs)-1].Config["activation"].(string)
	return act == "softmax"
}

// applySchedule puts the schedule raw (serialized as Keras's are) in cfg
// as a file's schedule (fileSchedule); the arguments the run took from its
// other settings (1cycle's max_lr, the rate: compile_config's constant;
// total_steps: the epochs) are left to this run's.
func applySchedule(cfg *train.Config, raw json.RawMessage) error {
	var sc optim.ScheduleConfig
	if err := json.Unmarshal(raw, &sc); err != nil {
		return err
	}
	fileSchedule(cfg, sc)
	return nil
}

// fileSchedule puts a model file's schedule sc in cfg, with the schedule's
// arguments given as flags (without --lr-schedule) over the file's; a
// --lr-schedule given replaces it.
func fileSchedule(cfg *train.Config, sc optim.ScheduleConfig) {
	if flags := cfg.LRSchedule; flags != nil {
		if flags.ClassName != "" {
			return // --lr-schedule's own
		}
		merged := optim.Args{}
		for k, v := range sc.Config {
			merged[k] = v
		}
		for k, v := range flags.Config {
			merged[k] = v
		}
		sc.Config = merged
	}
	cfg.LRSchedule = &sc
}

// applyKerasOptimizer is the hook from a Keras file's compile_config to
// the optimizer package: optim.ParseKeras reads the serialized optimizer
// ({"class_name", "config"} or a name), whose learning rate is a number or
// a serialized schedule, checking every argument by name; it becomes the
// run's optimizer. Arguments and a schedule already set by flags win.
func applyKerasOptimizer(cfg *train.Config, raw json.RawMessage) error {
	k, err := optim.ParseKeras(raw)
	if err != nil {
		return err
	}
	cfg.Optimizer, cfg.LearningRate = k.Name, k.LearningRate
	if k.Schedule != nil {
		fileSchedule(cfg, *k.Schedule)
	}
	args := optim.Args{}
	for key, v := range k.Args {
		args[key] = v
	}
	for key, v := range cfg.OptimizerArgs { // given by flags
		args[key] = v
	}
	cfg.OptimizerArgs = nil
	if len(args) > 0 {
		cfg.OptimizerArgs = args
	}
	return nil
}

func newSummaryCmd() *cobra.Command {
	var cfg train.Config
	var mf modelFlags
	cmd := &cobra.Command{
		Use:   "summary [flags]",
		Short: "Print the network's layers as Keras's model.summary() does",
		Long: `Print the table Keras's model.summary() prints for the network that
"cifarnet train" with the same flags would train: each layer with its type,
output shape and number of weights, then the total, trainable and
non-trainable parameter counts.`,
		Example: `  cifarnet summary
  cifarnet summary --layers "dense(256, elu, he_normal), batchnorm, dropout(0.2)"
  cifarnet summary --model examples/batchnorm.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := mf.apply(cmd.Flags(), &cfg); err != nil {
				return err
			}
			return printSummary(cmd.OutOrStdout(), cfg)
		},
	}
	fs := cmd.Flags()
	d := train.Exercise()
	cfg = d
	fs.StringVar(&cfg.Dataset, "dataset", d.Dataset, "the data set the network is for (its image size and classes)")
	fs.StringVar(&cfg.LabelMode, "label-mode", "", "cifar100's labels: fine (100 classes, the default) or coarse (20 superclasses)")
	fs.IntSliceVar(&cfg.Hidden, "hidden", d.Hidden, "units of each hidden layer, comma-separated")
	fs.StringVar(&cfg.Activation, "activation", d.Activation, "hidden activation: "+strings.Join(nn.ActivationNames(), ", "))
	fs.StringVar(&cfg.Init, "init", d.Init, "hidden kernel initializer: "+strings.Join(nn.InitializerNames(), ", "))
	addModelFlags(fs, &mf)
	fs.Lookup("model").Usage = "the Keras model in this JSON file (what model.to_json() writes: a Sequential of supported layers)"
	return cmd
}

// printSummary writes Keras's summary table of the network cfg trains.
func printSummary(w io.Writer, cfg train.Config) error {
	m, err := cfg.NewModel()
	if err != nil {
		var fe *train.FieldError
		if errors.As(err, &fe) { // --dataset, --label-mode
			return flagError(err)
		}
		return usageError{err}
	}
	mc, _ := cfg.ModelConfig()
	fmt.Fprint(w, m.Summary(mc.Name))
	return nil
}
