package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/saving"
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
as Keras prints it, and the last line is "Test accuracy: 0.xxxx". The run
directory (--out) receives history.json, history.csv and metrics.json.`,
		Example: `  cifarnet train --data ../shared/cifar-10-batches-bin
  cifarnet train --seed 7 --hidden 512,256 --lr 0.0005 --out runs/seed7
  cifarnet train --dataset mnist --data ../shared/mnist --train-samples 60000 --test-samples 10000`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.resume == "" {
				if err := f.model.apply(cmd.Flags(), &f.cfg); err != nil {
					return err
				}
			}
			return runTrain(cmd.OutOrStdout(), f)
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
	fs.BoolVar(&f.overwrite, "overwrite", false, "allow --out to name a directory that already holds a run")
	fs.SortFlags = false
	return cmd
}

func runTrain(stdout io.Writer, f trainFlags) error {
	var ck *train.Checkpoint
	if f.resume != "" {
		var err error
		if ck, err = train.LoadCheckpoint(f.resume); err != nil {
			return err
		}
		threads := f.cfg.Threads
		f.cfg = ck.Config
		f.cfg.Threads = threads // speed only, never a result
		f.out, f.overwrite = f.resume, true
	}
	if err := f.cfg.Validate(); err != nil {
		return usageError{err}
	}
	if f.cfg.Threads < 0 {
		return usagef("--threads %d: want 0 (all CPUs) or more", f.cfg.Threads)
	}
	info, err := f.cfg.Info()
	if err != nil {
		return usageError{err}
	}
	f.cfg.LabelMode = info.LabelMode
	src, err := f.data.find(info, os.Stderr)
	if err != nil {
		return err
	}
	if !f.quiet {
		if err := printSummary(stdout, f.cfg); err != nil {
			return err
		}
	}
	terminal := isTerminal(stdout)
	if terminal && !f.quiet {
		fmt.Fprintf(stdout, "Loading %s from %s ...", info.Title(), src)
	}
	data, err := datasets.Load(info, src, f.cfg.TrainSamples, f.cfg.TestSamples)
	if terminal && !f.quiet {
		fmt.Fprint(stdout, "\r\x1b[K")
	}
	if err != nil {
		return sampleFlagError(err, src, f.cfg.TrainSamples, f.cfg.TestSamples)
	}
	// The run directory is made once the data is known good, before any
	// training: an unwritable one fails now, not after the run.
	dir, err := prepareRunDir(f.out, f.overwrite)
	if err != nil {
		return err
	}
	var progress *train.Progress
	if !f.quiet {
		progress = &train.Progress{W: stdout, Terminal: terminal}
	}
	dataSum := data.Checksum()
	if ck != nil && ck.DataSHA256 != dataSum {
		return fmt.Errorf("--resume %s: the data at %s is not the data the run trained on (checksum differs)", f.resume, src)
	}
	// SIGINT or SIGTERM: finish the step, save a checkpoint, exit 130.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	interrupt := func() bool { return ctx.Err() != nil }
	start := time.Now()
	var out *train.Outcome
	if ck != nil {
		out, err = train.Resume(ck, data, progress, interrupt)
	} else {
		model, merr := initialModel(f.cfg, f.initWeights)
		if merr != nil {
			return merr
		}
		out, err = train.ExperimentFrom(f.cfg, data, model, progress, interrupt)
	}
	var intr *train.Interrupted
	if errors.As(err, &intr) {
		intr.Checkpoint.DataSHA256 = dataSum
		if err := intr.Checkpoint.Save(dir); err != nil {
			return err
		}
		if err := train.WriteHistory(dir, out.History); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "\ncifarnet: interrupted before epoch %d, step %d: checkpoint and history saved in %s; continue with: cifarnet train --resume %s\n",
			intr.Checkpoint.Epoch+1, intr.Checkpoint.Step+1, dir, dir)
		return exitError{130, errQuiet}
	}
	if err != nil {
		return err
	}
	if out.Terminated != nil {
		kept := fmt.Sprintf("the model keeps epoch %d's weights", out.BestEpoch())
		if out.EpochsRun() == 0 {
			kept = "no epoch finished, so the model holds the weights reached before it"
		} else if out.Early == nil || !f.cfg.RestoreBest {
			kept = "the model holds the weights reached before it (no best weights kept: --restore-best=false)"
		}
		fmt.Fprintf(os.Stderr, "cifarnet: warning: %v; %s; the run's files are written\n", out.Terminated, kept)
	}
	env := environment(out, src, dataSum, start)
	if err := train.WriteRun(dir, out.History, train.MetricsOf(out, data.Test.Int32Labels(), env)); err != nil {
		return err
	}
	if err := saving.Save(dir, out.Model, describe(out, data)); err != nil {
		return err
	}
	reading, err := writeReport(dir, data.Classes, data.Test.Slice(0, f.cfg.TestSamples))
	if err != nil {
		return err
	}
	if !f.quiet {
		fmt.Fprintf(stdout, "Run saved in %s (best epoch %d of %d, val_loss %.4f)\n", dir, out.BestEpoch(), out.EpochsRun(), out.BestValLoss())
		fmt.Fprintf(stdout, "\n%s\n\n", reading.Wrap(100))
	}
	train.RemoveCheckpoint(dir)
	train.PrintTestAccuracy(stdout, out)
	return nil
}

// writeReport draws the figures and report.html of a run from the files
// just written, so that "cifarnet report" regenerates exactly the same, and
// returns the run's reading, as the report states it.
func writeReport(dir string, classes []string, test *dataset.Set) (report.Reading, error) {
	h, m, err := train.ReadRun(dir)
	if err != nil {
		return nil, err
	}
	r := report.Run{Dir: dir, History: h, Metrics: m, Classes: classes, Test: test}
	if _, err := report.Write(r); err != nil {
		return nil, err
	}
	return report.ReadingOf(r), nil
}

// initialModel builds the model to train: from the initializers and the
// seed, or from a weights file.
func initialModel(cfg train.Config, weights string) (*nn.Sequential, error) {
	m, err := cfg.NewModel()
	if err != nil {
		return nil, err
	}
	if weights == "" {
		m.Initialize(cfg.Seed)
		return m, nil
	}
	if err := saving.LoadWeights(weights, m); err != nil {
		return nil, fmt.Errorf("--init-weights: %w", err)
	}
	return m, nil
}

// describe is the model.json of a finished run on data.
func describe(out *train.Outcome, data *dataset.Data) saving.Config {
	mc, _ := out.Config.ModelConfig() // valid: the run was built from it
	c := saving.DescribeModel(mc, data.Dims(), data.Classes, map[string]string{
		"seed":          fmt.Sprint(out.Config.Seed),
		"test_accuracy": fmt.Sprintf("%.4f", out.Test.Accuracy),
		"best_epoch":    fmt.Sprint(out.BestEpoch()),
	})
	c.Dataset, c.LabelMode = data.Name, data.LabelMode
	return c
}

// prepareRunDir creates the run directory. An explicit directory that
// already holds a run is refused unless overwrite is set; the default is a
// new runs/<timestamp> directory that never collides with an existing one.
func prepareRunDir(out string, overwrite bool) (string, error) {
	if out == "" {
		base := filepath.Join("runs", time.Now().Format("20060102-150405"))
		out = base
		for i := 2; ; i++ {
			if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
				break
			}
			out = fmt.Sprintf("%s-%d", base, i)
		}
	} else if !overwrite {
		for _, f := range []string{train.MetricsJSON, train.CheckpointJSON} {
			if _, err := os.Stat(filepath.Join(out, f)); err == nil {
				return "", usagef("--out %s already holds a run (pass --overwrite to replace it, or --resume %s to continue it)", out, out)
			}
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("--out %s: cannot create the run directory: %w", out, oserr.Bare(err))
	}
	// Fail now, not after training, if the directory is not writable.
	probe, err := os.CreateTemp(out, ".probe*")
	if err != nil {
		return "", fmt.Errorf("--out %s: run directory is not writable: %w", out, oserr.Bare(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return out, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func environment(out *train.Outcome, src, dataSum string, start time.Time) train.Env {
	threads := out.Config.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		abs = src
	}
	return train.Env{
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: cpuModel(),
		Threads: threads, Kernel: out.Kernel, Data: abs, DataSHA256: dataSum,
		Start: start.UTC().Format(time.RFC3339),
	}
}

// cpuModel returns the processor's name where the OS tells it.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// sampleFlagError turns "the data has fewer samples than asked for" into a
// usage error naming the flag; other load errors, and data that has none
// of the samples asked for, pass through (exit 1, naming the file).
func sampleFlagError(err error, src string, trainSamples, testSamples int) error {
	var short *dataset.ShortError
	if !errors.As(err, &short) || short.Available == 0 {
		// No samples of the kind at all: the data is broken (a batch
		// file missing or empty), not the flag.
		return err
	}
	flag, asked, kind := "--train-samples", trainSamples, "training"
	if short.Test {
		flag, asked, kind = "--test-samples", testSamples, "test"
	}
	return usagef("%s %d: the data at %s has only %d %s images (%s)", flag, asked, src, short.Available, kind, short.File)
}
