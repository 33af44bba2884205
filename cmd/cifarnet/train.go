package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/experiment"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/train"
)

// trainFlags are the flags of "cifarnet train" beyond the Config.
type trainFlags struct {
	cfg         train.Config
	initWeights string
	resume      string
	data        dataFlags
	out         string
	quiet       bool
	overwrite   bool
	model       modelFlags
	backup      backupFlag
	notes       []string // said on stderr as the training starts
}

// addConfigFlags registers a flag for every knob of the exercise, with the
// exercise's values as defaults.
func addConfigFlags(fs *pflag.FlagSet, c *train.Config) {
	d := train.Exercise()
	*c = d
	fs.StringVar(&c.Dataset, "dataset", d.Dataset, "the data set: "+strings.Join(datasets.Names(), ", "))
	fs.StringVar(&c.LabelMode, "label-mode", "", "cifar100's labels: fine (100 classes, the default) or coarse (20 superclasses)")
	fs.IntSliceVar(&c.Hidden, "hidden", d.Hidden, "units of each hidden layer, comma-separated")
	fs.StringVar(&c.Activation, "activation", d.Activation, "hidden activation: "+strings.Join(nn.ActivationNames(), ", "))
	fs.StringVar(&c.Init, "init", d.Init, "hidden kernel initializer: "+strings.Join(nn.InitializerNames(), ", ")+" (output layer: glorot_uniform)")
	addOptimizerFlags(fs, c)
	fs.IntVar(&c.Epochs, "epochs", d.Epochs, "maximum number of epochs")
	fs.IntVar(&c.BatchSize, "batch-size", d.BatchSize, "training batch size (the last batch of an epoch may be smaller)")
	fs.Float64Var(&c.ValidationSplit, "validation-split", d.ValidationSplit, "fraction of the training samples, taken from the end before shuffling, used for validation")
	fs.IntVar(&c.Patience, "patience", d.Patience, "early stopping: epochs without improvement of the monitored metric (--monitor, default val_loss) before stopping (-1: no early stopping)")
	fs.Float64Var(&c.MinDelta, "min-delta", d.MinDelta, "early stopping: minimum change of the monitored metric that counts as an improvement")
	fs.BoolVar(&c.RestoreBest, "restore-best", d.RestoreBest, "early stopping: restore the weights of the best epoch at the end of training")
	addCallbackFlags(fs, c)
	fs.BoolVar(&c.Shuffle, "shuffle", d.Shuffle, "reshuffle the training samples every epoch")
	fs.IntVar(&c.TrainSamples, "train-samples", d.TrainSamples, "use the first N training images (1 to the data set's 50000 or 60000)")
	fs.IntVar(&c.TestSamples, "test-samples", d.TestSamples, "use the first N test images (1-10000)")
	fs.Uint64Var(&c.Seed, "seed", d.Seed, "random seed for initialisation and shuffling")
	fs.IntVar(&c.Threads, "threads", 0, "worker threads (0: all CPUs); results are identical for any value")
}

func newTrainCmd() *cobra.Command {
	var f trainFlags
	cmd := &cobra.Command{
		Use:   "train [flags]",
		Short: "Train the exercise's network (or a variant) and evaluate it on the test set",
		Long: `Train a multilayer perceptron on a data set (--dataset: CIFAR-10 unless
told otherwise; CIFAR-100 with --label-mode fine or coarse, MNIST,
Fashion-MNIST) and evaluate it on the test set.

With no flags this is the exercise, exactly as specified. Progress is printed
as Keras prints it, then a short reading of the run (where validation loss
was lowest, overfitting, what early stopping kept, the test accuracy against
the validation accuracy, the classes most confused; --quiet leaves it out),
and the last line is "Test accuracy: 0.xxxx". The run directory (--out)
receives history.json, history.csv, metrics.json, the model, the figures and
report.html, where the same reading stands beside the figures.`,
		Example: `  cifarnet train --data ../shared/cifar-10-batches-bin
  cifarnet train --seed 7 --hidden 512,256 --lr 0.0005 --out runs/seed7
  cifarnet train --dataset mnist --data ../shared/mnist --train-samples 60000 --test-samples 10000`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.resume == "" {
				if err := f.model.apply(cmd.Flags(), &f.cfg); err != nil {
					return err
				}
				for _, n := range []string{cycledMomentum(cmd.Flags(), f.cfg), averageRestored(f.cfg)} {
					if n != "" {
						f.notes = append(f.notes, n)
					}
				}
			} else if err := resumeFlags(cmd.Flags()); err != nil {
				return err
			}
			return executeTrain(cmd.OutOrStdout(), f)
		},
	}
	fs := cmd.Flags()
	addConfigFlags(fs, &f.cfg)
	addModelFlags(fs, &f.model)
	addDataFlags(fs, &f.data)
	fs.StringVar(&f.initWeights, "init-weights", "", "start from the weights in this .safetensors file (Keras names and shapes) instead of the initializers")
	fs.StringVar(&f.resume, "resume", "", "continue the interrupted run in this directory from its checkpoint (its configuration is used; the result is bit-identical to an uninterrupted run)")
	fs.StringVar(&f.out, "out", "", "run directory for the outputs (default: a new runs/<timestamp> directory)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the final test accuracy")
	fs.BoolVar(&f.overwrite, "overwrite", false, "allow --out to name a directory that already holds a run: the new run is written beside it and replaces it whole when it completes; interrupted or killed (with --backup-and-restore), the old run stays and the same command again continues the new one")
	addBackupFlag(fs, &f.backup, nil, "continue with --resume DIR (with --overwrite: the same command again)")
	fs.SortFlags = false
	return cmd
}

// cycledMomentum says, where --momentum or --beta-1 is given and a 1cycle
// schedule cycles that momentum (as PyTorch's OneCycleLR replaces the
// optimizer's), that the cycle replaces it; "" otherwise.
func cycledMomentum(fs *pflag.FlagSet, cfg train.Config) string {
	s, err := cfg.Schedule()
	oc, ok := s.(optim.OneCycle)
	if err != nil || !ok || !oc.CycleMomentum {
		return ""
	}
	for _, name := range []string{"momentum", "beta-1"} {
		if fs.Changed(name) {
			return fmt.Sprintf("1cycle moves the momentum between %g and %g against the rate (--base-momentum, --max-momentum), in place of --%s %s; --cycle-momentum=false keeps it",
				oc.BaseMomentum, oc.MaxMomentum, name, fs.Lookup(name).Value)
		}
	}
	return ""
}

// averageRestored says, where use_ema's moving average would replace the
// weights when training ends and early stopping then restores the best
// epoch's (Keras 3's fit: finalize_variable_values, then the callbacks'
// on_train_end), that the model will not keep the average; "" otherwise.
func averageRestored(cfg train.Config) string {
	if ema, _ := cfg.OptimizerArgs["use_ema"].(bool); !ema || cfg.Patience < 0 || !cfg.RestoreBest {
		return ""
	}
	return "--use-ema's moving average replaces the weights when training ends, then early stopping's --restore-best puts back the best epoch's own weights, as in Keras; --restore-best=false keeps the average"
}

// resumeFlags refuses, with --resume, the flags that the run's own
// configuration (in its checkpoint) replaces: they would be ignored
// silently. Where the data is, how many threads and how much is printed
// may change; a different data set is caught by the checkpoint's checksum.
func resumeFlags(fs *pflag.FlagSet) error {
	var bad []string
	fs.Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "resume", "data", "offline", "threads", "quiet", "backup-and-restore":
		default:
			bad = append(bad, "--"+fl.Name)
		}
	})
	if len(bad) > 0 {
		return usagef("--resume continues the run with the configuration it started with: %s cannot be given with it (start a new run with --out to change it)", strings.Join(bad, ", "))
	}
	return nil
}

func executeTrain(stdout io.Writer, f trainFlags) error {
	// An experiment's directory is never a run's, even with --overwrite:
	// the run would replace the experiment (a running one's too, whose
	// lock is on its spec, not on the directory).
	if f.out != "" {
		if _, err := os.Lstat(filepath.Join(f.out, experiment.SpecFile)); err == nil {
			return usagef("--out %s is an experiment's directory (it holds %s): a run there would replace the experiment; choose another directory", f.out, experiment.SpecFile)
		}
	}
	terminal := isTerminal(stdout)
	o := rundir.Options{Config: f.cfg, Dir: f.out, Overwrite: f.overwrite, InitWeights: f.initWeights,
		Find:   func(info dataset.Info) (string, error) { return f.data.find(info, os.Stderr) },
		Backup: f.backup.freq, Warn: warn}
	if f.resume != "" {
		o.Dir, o.Resume = f.resume, true
		o.DataGiven = f.data.path != ""
	}
	if !f.quiet {
		o.Progress = &train.Progress{W: stdout, Terminal: terminal}
		o.Starting = func(cfg train.Config) error {
			for _, n := range f.notes {
				fmt.Fprintln(os.Stderr, "cifarnet: note: "+n)
			}
			return printSummary(stdout, cfg)
		}
		o.Continuing = func(epoch, step, steps int) {
			fmt.Fprintf(stdout, "Continuing from epoch %d, step %d of %d\n", epoch, step, steps)
		}
		if terminal {
			o.Loading = func(info dataset.Info, src string) func() {
				fmt.Fprintf(stdout, "Loading %s from %s ...", info.Title(), src)
				return func() { fmt.Fprint(stdout, "\r\x1b[K") }
			}
		}
	}
	// SIGINT or SIGTERM: finish the step, save a checkpoint, exit 130.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Interrupt = func() bool { return ctx.Err() != nil }
	res, err := rundir.Train(o)
	var intr *rundir.Interrupted
	if errors.As(err, &intr) {
		if intr.NotStarted {
			fmt.Fprintf(os.Stderr, "\ncifarnet: %v\n", intr)
		} else {
			again := "cifarnet train --resume " + shellQuote(intr.Dir)
			if f.data.path != "" {
				again += " --data " + shellQuote(f.data.path)
			}
			if intr.Staging != "" {
				again = "the same command again, or " + again
			}
			fmt.Fprintf(os.Stderr, "\ncifarnet: %v; continue with: %s\n", intr, again)
		}
		return exitError{130, errQuiet}
	}
	var de *rundir.DirError
	if errors.As(err, &de) {
		flag := "--out"
		if f.resume != "" {
			flag = "--resume"
		}
		switch {
		case errors.Is(de.Err, rundir.ErrFinished):
			return usagef("--resume %s %v (its model and metrics are there; start a new run with --out)", de.Dir, de.Err)
		case errors.Is(de.Err, rundir.ErrExists):
			if _, err := os.Stat(filepath.Join(de.Dir, train.MetricsJSON)); err == nil {
				// Finished: nothing to continue.
				return usagef("--out %s already holds a finished run (pass --overwrite to replace it, or choose another directory)", de.Dir)
			}
			return usagef("--out %s already holds a run (pass --overwrite to replace it, or --resume %s to continue it)", de.Dir, de.Dir)
		case errors.Is(de.Err, rundir.ErrHoldsData):
			return usagef("--out %s %v: a run there would replace it; choose another directory", de.Dir, de.Err)
		case errors.Is(de.Err, rundir.ErrNotRun):
			return usagef("--out %s %v: pass --overwrite to replace them, or choose a new or empty directory", de.Dir, de.Err)
		case errors.Is(de.Err, syscall.ENOTDIR) && f.resume == "":
			return outError(err)
		}
		return fmt.Errorf("%s %s: %w", flag, de.Dir, de.Err)
	}
	if err != nil {
		return f.model.flagError(err)
	}
	out := res.Outcome
	if out.Terminated != nil {
		kept := fmt.Sprintf("the model keeps epoch %d's weights", out.BestEpoch())
		if out.EpochsRun() == 0 {
			kept = "no epoch finished, so the model holds the weights reached before it"
		} else if out.Early == nil {
			kept = fmt.Sprintf("the model keeps epoch %d's weights, the last complete epoch's (early stopping is off, --patience -1, so no best ones)", out.BestEpoch())
		} else if !out.Config.RestoreBest {
			kept = fmt.Sprintf("the model keeps epoch %d's weights, the last complete epoch's (--restore-best=false)", out.BestEpoch())
		}
		fmt.Fprintf(os.Stderr, "cifarnet: warning: %v; %s; the run's files are written\n", out.Terminated, kept)
	}
	if !f.quiet {
		fmt.Fprintf(stdout, "Run saved in %s (%s)\n", res.Dir, keptSummary(out))
		fmt.Fprintf(stdout, "\n%s\n\n", res.Reading.Wrap(100))
	}
	train.PrintTestAccuracy(stdout, out)
	return nil
}

// outError is the error of a --out that cannot be a run directory: a
// usage error when a file stands where the directory (or one above it)
// would be, as --out's other problems are; others (permissions, a full
// disk) pass through, naming --out.
func outError(err error) error {
	var de *rundir.DirError
	if errors.As(err, &de) && errors.Is(de.Err, syscall.ENOTDIR) {
		return usagef("--out %s: not a directory (a file is there, or in its path): choose a directory", de.Dir)
	}
	if errors.As(err, &de) {
		return fmt.Errorf("--out %s: %w", de.Dir, de.Err)
	}
	return fmt.Errorf("--out: %w", err)
}

// keptSummary says which epoch's weights the saved model holds, with that
// epoch's val_loss, and the lowest val_loss when another epoch had it: with
// early stopping off (or --restore-best=false) the model keeps the last
// epoch, whose val_loss is not the lowest ("best epoch 15, val_loss" of
// epoch 13 misread both).
func keptSummary(out *train.Outcome) string {
	n, kept := out.EpochsRun(), out.BestEpoch()
	if n == 0 {
		return "no epoch finished"
	}
	label := "last epoch"
	if out.Early != nil && out.Config.RestoreBest {
		label = "best epoch"
	}
	s := fmt.Sprintf("%s %d of %d", label, kept, n)
	vl := out.History.Series("val_loss")
	if _, ok := out.History.Epochs[kept-1].Get("val_loss"); !ok {
		return s
	}
	s += fmt.Sprintf(", val_loss %.4f", vl[kept-1])
	low := 0
	for i, v := range vl {
		if v < vl[low] {
			low = i
		}
	}
	if vl[low] < vl[kept-1] {
		s += fmt.Sprintf("; lowest val_loss %.4f at epoch %d", vl[low], low+1)
	}
	return s
}

// flagNames maps the Config fields whose flag is not their JSON name with
// "-" for "_".
var flagNames = map[string]string{"initializer": "init", "learning_rate": "lr", "restore_best_weights": "restore-best"}

// flagName is the flag of a train.Config field.
func flagName(field string) string {
	if f, ok := flagNames[field]; ok {
		return f
	}
	return strings.ReplaceAll(field, "_", "-")
}

// flagError turns a *train.FieldError into a usage error naming the flag
// ("--batch-size 0: want at least 1"), and any other invalid setting into
// a usage error; other errors pass through.
func flagError(err error) error {
	var fe *train.FieldError
	if errors.As(err, &fe) && fe.Field == "model" {
		return usagef("the model %v: %s", fe.Value, fe.Want) // see modelFlags.flagError
	}
	if errors.As(err, &fe) {
		return usagef("--%s %v: %s", flagName(fe.Field), fe.Value, fe.Want)
	}
	if errors.Is(err, train.ErrInvalid) {
		return usageError{err}
	}
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
