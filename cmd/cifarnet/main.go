// Command cifarnet trains deep neural networks on CIFAR-10 (and MNIST,
// Fashion-MNIST, CIFAR-100) on the CPU.
//
// cifarnet train runs the Keras exercise of ../shared/seed/exercise_2.txt
// exactly as specified (4x256 ELU MLP, he_normal, Nadam, early stopping on
// val_loss, 5000/1000 samples, seed 42) and prints Keras-style progress and
// "Test accuracy: 0.xxxx". Run "cifarnet help" for the other commands.
package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/train"
)

// usageError marks an invalid flag or argument: exit status 2, as flag
// parsing errors have.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// warn prints a one-line warning on stderr.
func warn(msg string) { fmt.Fprintf(os.Stderr, "cifarnet: warning: %s\n", msg) }

// usageArgs makes a cobra argument check report a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := boolValueArg(c, os.Args[1:], args); err != nil {
			return err
		}
		if err := check(c, args); err != nil {
			return usagef("%v (see '%s --help')", err, c.CommandPath())
		}
		return nil
	}
}

// boolValueArg refuses "--restore-best false": a boolean flag takes a
// value only after "=", so the value became an argument (args, as raw
// splits them from the command line), refused as an unknown command, or
// taken for an image by predict.
func boolValueArg(c *cobra.Command, raw, args []string) error {
	for i := 0; i+1 < len(raw) && raw[i] != "--"; i++ {
		v := raw[i+1]
		if (!strings.EqualFold(v, "true") && !strings.EqualFold(v, "false")) || !slices.Contains(args, v) {
			continue
		}
		var f *pflag.Flag
		switch a := raw[i]; {
		case strings.HasPrefix(a, "--"):
			f = c.Flags().Lookup(a[2:])
		case len(a) == 2 && a[0] == '-':
			f = c.Flags().ShorthandLookup(a[1:])
		}
		if f != nil && f.Value.Type() == "bool" && f.NoOptDefVal != "" {
			return usagef("--%s takes its value after \"=\": --%s=%s", f.Name, f.Name, strings.ToLower(v))
		}
	}
	return nil
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "cifarnet",
		Short: "Train deep neural networks on CIFAR-10 (and MNIST, Fashion-MNIST, CIFAR-100) on the CPU",
		Long: `cifarnet trains multilayer perceptrons on CIFAR-10 (--dataset: also MNIST,
Fashion-MNIST and CIFAR-100) in pure Go, with Keras 3's semantics (layers,
initializers, optimizers, schedules, validation split, callbacks) and
bit-identical results for a given seed, whatever the number of threads.

"cifarnet train" with no flags runs the exercise: 4 hidden layers of 256 ELU
units, he_normal, Nadam(lr=0.001), EarlyStopping(val_loss, patience=5,
restore_best_weights), 50 epochs of batch 128, validation_split=0.2, the first
5000 training and 1000 test images, seed 42.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%v (see '%s --help')", flagValueError(err), c.CommandPath())}
	})
	// Every float flag of every command must be finite: NaN and Inf pass
	// many range checks, then fail far later (metrics.json cannot hold them).
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return finiteFlags(c.Flags()) }
	root.AddCommand(newTrainCmd(), newSummaryCmd(), newEvaluateCmd(), newPredictCmd(), newExportCmd(), newReportCmd(), newBenchCmd(), newDownloadCmd(), newExperimentCmd(), newLRFindCmd())
	return root
}

func main() {
	cmd, err := newRoot().ExecuteC()
	if err == nil {
		return
	}
	err = argFlag(cmd, err)
	if !errors.Is(err, errQuiet) {
		fmt.Fprintf(os.Stderr, "cifarnet: %s\n", quote.Line(oneLine(err.Error()), maxMessage))
	}
	var u usageError
	// Cobra reports an unknown command as a plain error, before any hook of
	// ours runs (flag and argument errors are usageErrors at their source).
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command ") {
		os.Exit(2)
	}
	var x exitError
	if errors.As(err, &x) {
		os.Exit(x.code)
	}
	os.Exit(1)
}

// argFlag names the flag that gave an optimizer's, a schedule's or a
// callback's argument Keras would refuse ("nadam: clipnorm = -1: ..."
// becomes "--clipnorm -1: ... (nadam's clipnorm)"), as every other flag's
// error does; an argument from a model file or a grid keeps its Keras name.
// 1cycle's max_lr without --max-lr is --lr's. What 1cycle's cycling asks
// of arguments left at their defaults (cyclingArgs) names their flags too,
// where --lr-schedule made the schedule and no --model the optimizer (not
// in an experiment's configuration, whose own settings may differ). An
// experiment's error keeps the configuration it names, and offers no base
// flag as the other fix there.
func argFlag(cmd *cobra.Command, err error) error {
	var me *optim.MissingError
	if cmd != nil && errors.As(err, &me) {
		// A schedule from --lr-schedule (not from a model file) lacks an
		// argument: name its flag.
		sf, f := cmd.Flags().Lookup("lr-schedule"), cmd.Flags().Lookup(strings.ReplaceAll(me.Key, "_", "-"))
		if sf != nil && sf.Changed && f != nil && !f.Changed {
			return usagef("--lr-schedule %s needs --%s (%s's %s has no default)", sf.Value, f.Name, me.Owner, me.Key)
		}
		return err
	}
	var ue *optim.UnknownArgError
	if cmd != nil && errors.As(err, &ue) {
		return optimizerFlag(cmd.Flags(), err, ue)
	}
	var mode *train.ModeError
	if cmd != nil && errors.As(err, &mode) {
		return modeFlag(cmd.Flags(), err, mode)
	}
	if cmd == nil {
		return err
	}
	fs := cmd.Flags()
	var ce *experiment.ConfigError
	inConfig := errors.As(err, &ce) && ce.Where != "base"
	if msg := conflictFlags(fs, err, inConfig); msg != "" {
		if ce != nil {
			msg = ce.Where + ": " + msg
		}
		return usageError{errors.New(msg)}
	}
	var ae *optim.ArgError
	if !errors.As(err, &ae) {
		return err
	}
	f := argFlagOf(fs, ae.Owner, ae.Key)
	if f != nil && !f.Changed && ae.Key == "max_lr" && fs.Changed("lr") {
		f = fs.Lookup("lr") // 1cycle peaks at --lr
	}
	asked := cyclingArgs[ae.Key] && fs.Changed("lr-schedule") && !fs.Changed("model") && !inConfig
	if f == nil || !f.Changed && !asked {
		return err
	}
	msg := fmt.Sprintf("%s: %s", flagValue(f, ae.Value), ae.Want)
	if o := ae.Else; o != nil {
		if of := argFlagOf(fs, o.Owner, o.Key); of != nil && !inConfig {
			msg += fmt.Sprintf(" (or %s)", flagValue(of, o.Value))
		} else {
			msg += fmt.Sprintf(" (or %s's %s = %s)", o.Owner, o.Key, o.Value)
		}
	}
	msg = fmt.Sprintf("%s (%s's %s)", msg, ae.Owner, ae.Key)
	if ce != nil {
		msg = ce.Where + ": " + msg
	}
	return usageError{errors.New(msg)}
}

// cyclingArgs are the arguments whose defaults 1cycle's cycling of the
// momentum can refuse: sgd's and rmsprop's momentum 0, and cycle_momentum
// itself with an optimizer without a momentum.
var cyclingArgs = map[string]bool{"momentum": true, "cycle_momentum": true}

// conflictFlags puts in the flags' terms, where the flags gave them
// (not in an experiment's configuration, whose settings may differ), the
// arguments that cannot go together: more than one clip (an
// optim.ConflictError), a schedule's arguments without a schedule, and
// ReduceLROnPlateau with a schedule; "" for any other error.
func conflictFlags(fs *pflag.FlagSet, err error, inConfig bool) string {
	var conflict *optim.ConflictError
	var args *train.ScheduleArgsError
	var reduce *train.ReduceLRScheduleError
	switch {
	case inConfig:
	case errors.As(err, &conflict):
		if flags, ok := givenArgFlags(fs, conflict.Owner, conflict.Keys); ok {
			return fmt.Sprintf("%s: give only one (%s)", flags, conflict.Why)
		}
	case errors.As(err, &args) && !fs.Changed("lr-schedule"):
		if flags, ok := givenArgFlags(fs, "", args.Keys); ok {
			return fmt.Sprintf("%s: a schedule's arguments, given without --lr-schedule: add --lr-schedule NAME (--help says which schedules take them)", flags)
		}
	case errors.As(err, &reduce):
		if given := changedFlags(fs, reduceLRFlags...); given != "" {
			from := "the model file's schedule " + reduce.Schedule
			if fs.Changed("lr-schedule") {
				from = "--lr-schedule " + fs.Lookup("lr-schedule").Value.String()
			}
			return fmt.Sprintf("%s: ReduceLROnPlateau needs a constant learning rate, not %s (it sets the rate, which a schedule computes)", given, from)
		}
	}
	return ""
}

// givenArgFlags says the flags of owner's arguments keys ("--a, --b"), ok
// if the command line gave every one of them.
func givenArgFlags(fs *pflag.FlagSet, owner string, keys []string) (flags string, ok bool) {
	var names []string
	for _, k := range keys {
		if f := argFlagOf(fs, owner, k); f != nil && f.Changed {
			names = append(names, "--"+f.Name)
		}
	}
	return strings.Join(names, ", "), len(names) == len(keys)
}

// argFlagOf returns the flag of Owner's argument key, nil if none.
func argFlagOf(fs *pflag.FlagSet, owner, key string) *pflag.Flag {
	name := strings.ReplaceAll(key, "_", "-")
	switch {
	case key == "learning_rate" || key == "initial_learning_rate":
		name = "lr"
	case owner == "reduce_lr_on_plateau" && key != "min_lr":
		name = "reduce-lr-" + name
	}
	return fs.Lookup(name)
}

// flagValue writes flag f given value v as a command line would: a
// boolean's after "=".
func flagValue(f *pflag.Flag, v string) string {
	if f.Value.Type() == "bool" {
		return "--" + f.Name + "=" + v
	}
	return "--" + f.Name + " " + v
}

// valueWants says what a value of each flag type the commands use is:
// pflag's error for a value that does not parse quotes strconv instead
// ("strconv.ParseUint: parsing "-1": invalid syntax"). float, floats, int
// and bool are also argValue's types; the other types of ours (freq, and
// string for a Value that checks its string) say what they want themselves.
var valueWants = map[string]string{
	"int":      "an integer",
	"uint64":   "a non-negative integer",
	"float64":  "a number",
	"float":    "a number",
	"intSlice": "a comma-separated list of integers",
	"floats":   "a comma-separated list of numbers",
	"bool":     "true or false",
}

// flagValueError puts a flag's value that does not parse in the flag's
// terms ("--seed -1: not a non-negative integer"), as every other flag's
// error is; other errors pass through.
func flagValueError(err error) error {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) {
		return err
	}
	f, v := iv.GetFlag(), iv.GetValue()
	given := "--" + f.Name + " " + quote.Line(v, quote.Max)
	if v == "" || strings.ContainsAny(v, " \t\n\"'") || strconv.Quote(v) != `"`+v+`"` {
		given = "--" + f.Name + " " + quote.Short(v)
	}
	if f.Value.Type() == "bool" { // its value is only ever given after "="
		given = strings.Replace(given, " ", "=", 1)
	}
	want, ok := valueWants[f.Value.Type()]
	var csvErr *csv.ParseError // a slice flag's
	switch {
	case ok && errors.Is(err, strconv.ErrRange):
		return fmt.Errorf("%s: out of range", given)
	case ok && (errors.Is(err, strconv.ErrSyntax) || errors.As(err, &csvErr)):
		return fmt.Errorf("%s: not %s", given, want)
	}
	// Our own message ("want a finite number"), which may start with the
	// value again.
	why := errors.Unwrap(iv).Error()
	why = strings.TrimPrefix(strings.TrimPrefix(why, strconv.Quote(v)+": "), v+": ")
	return fmt.Errorf("%s: %s", given, why)
}

// optimizerFlag names, for an optimizer's flag given to an optimizer
// without that argument, the optimizers that take it ("--nesterov: an
// argument of sgd, not of nadam (give --optimizer sgd)"): Keras's list of
// what the optimizer takes names no flag and not the fix.
func optimizerFlag(fs *pflag.FlagSet, err error, ue *optim.UnknownArgError) error {
	if !slices.Contains(optim.Names(), ue.Owner) {
		return err // a schedule's
	}
	for _, k := range ue.Keys {
		name := strings.ReplaceAll(k, "_", "-")
		if f := fs.Lookup(name); f == nil || !f.Changed {
			continue // from a model file
		}
		takers := optim.TakenBy(k)
		if len(takers) == 0 {
			continue
		}
		msg := fmt.Sprintf("--%s: an argument of %s, not of %s (give --optimizer %s)", name, series(takers, "and"), ue.Owner, series(takers, "or"))
		// What the error says before (an experiment's configuration) stays.
		return usageError{errors.New(strings.Replace(err.Error(), ue.Error(), msg, 1))}
	}
	return err
}

// modeFlag names the flag of a callback's mode where auto cannot tell the
// direction of the metric watched: "give mode min or max" is Keras's
// argument, not a flag.
func modeFlag(fs *pflag.FlagSet, err error, me *train.ModeError) error {
	monitor, mode := "monitor", "mode"
	if me.Owner == "reduce_lr_on_plateau" {
		monitor, mode = "reduce-lr-monitor", "reduce-lr-mode"
	}
	if fs.Lookup(mode) == nil {
		return err
	}
	msg := fmt.Sprintf("%s: cannot tell whether %s should be maximized or minimized: give --%s min or max", me.Owner, me.Monitor, mode)
	if fs.Changed(monitor) {
		msg = fmt.Sprintf("--%s %s: cannot tell whether to maximize or minimize it (%s's mode auto): give --%s min or max", monitor, me.Monitor, me.Owner, mode)
	}
	return usageError{errors.New(strings.Replace(err.Error(), me.Error(), msg, 1))}
}

// series joins words as prose does: "a", "a or b", "a, b or c".
func series(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// maxMessage bounds the error line printed: whatever a message quotes
// from an input, stderr gets one line of reasonable length.
const maxMessage = 1000

// finiteFlags refuses a NaN or infinite value given to any float flag,
// and an empty value given to a string flag.
func finiteFlags(fs *pflag.FlagSet) error {
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		var vs []float64
		switch f.Value.Type() {
		case "string":
			// "--dataset ''" read as not given (CIFAR-10), "--data ''" as a
			// search of the cache: an empty value is always a slip.
			if f.Value.String() == "" {
				err = usagef("--%s given empty: want a value (leave the flag out for its default)", f.Name)
			}
		case "float64", "float32":
			v, perr := strconv.ParseFloat(f.Value.String(), 64)
			if perr != nil {
				return
			}
			vs = []float64{v}
		case "float64Slice", "float32Slice":
			for _, s := range strings.Split(strings.Trim(f.Value.String(), "[]"), ",") {
				if v, perr := strconv.ParseFloat(strings.TrimSpace(s), 64); perr == nil {
					vs = append(vs, v)
				}
			}
		}
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				err = usagef("--%s %s: want a finite number", f.Name, quote.Line(f.Value.String(), quote.Max))
				return
			}
		}
	})
	return err
}

// errQuiet marks an error whose message was already printed.
var errQuiet = errors.New("(reported)")

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (x exitError) Error() string { return x.err.Error() }
func (x exitError) Unwrap() error { return x.err }

// version is the module version "go install ...@version" built, or the VCS
// revision of a source build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "devel " + s.Value
		}
	}
	return v + " (" + runtime.Version() + ")"
}

// oneLine folds cobra's multi-line suggestion ("...\n\nDid you mean
// this?\n\ttrain\n") into the error's one line.
func oneLine(msg string) string {
	const marker = "\n\nDid you mean this?\n"
	if i := strings.Index(msg, marker); i >= 0 {
		return msg[:i] + " (did you mean " + strings.Join(strings.Fields(msg[i+len(marker):]), " or ") + "?)"
	}
	return msg
}
