package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/report"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/train"
)

func newLRFindCmd() *cobra.Command {
	var (
		cfg        train.Config
		data       dataFlags
		start, end float64
		out        string
		overwrite  bool
		quiet      bool
		mf         modelFlags
	)
	cmd := &cobra.Command{
		Use:   "lr-find [flags]",
		Short: "Find a learning rate: train one epoch with an exponentially growing rate and plot the loss against it",
		Long: `Run a learning-rate range test: train the network (the same flags as train)
for one epoch while the learning rate grows exponentially from --start-lr to
--end-lr, one value per step, and record each step's loss. The loss falls,
flattens, then shoots up once the rate is too high; the sweep stops there.

The run directory (--out) receives lr_find.csv (step, learning_rate, loss,
smoothed_loss) and lr_find.png / lr_find.svg (the loss against the rate on
a logarithmic axis). smoothed_loss is fastai's bias-corrected exponential
moving average of the losses, with momentum 1 - 10/N for an epoch of N
steps (0.5 to 0.98), counted on the whole epoch even where the sweep stops
early. The suggested rate is a tenth of the rate at which the smoothed loss
was lowest; for 1cycle, that lowest point's rate is a good
--max-lr. The flags that set the rate during training (--lr, --lr-schedule
and its options, --reduce-lr-on-plateau and its options) are refused: the
sweep sets the rate itself. So are --epochs and early stopping's flags
(--patience, --monitor, ...): the sweep is one epoch.

With --quiet, the only output is the suggested rate, for a script
(lr=$(cifarnet lr-find -q ...)); a note on a sweep too coarse or started
too high goes to standard error.`,
		Example: `  cifarnet lr-find --data ../shared/cifar-10-batches-bin --optimizer sgd --momentum 0.9 --nesterov
  cifarnet lr-find --start-lr 1e-6 --end-lr 1 --train-samples 50000 --out runs/lr-find`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var given []string
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if rateFlags[f.Name] {
					given = append(given, "--"+f.Name)
				}
			})
			if len(given) > 0 {
				return usagef("%s: lr-find sets the learning rate itself, from --start-lr to --end-lr", strings.Join(given, ", "))
			}
			if err := refuseGiven(cmd.Flags(), "lr-find runs one epoch, without early stopping", earlyStoppingFlags...); err != nil {
				return err
			}
			if err := mf.apply(cmd.Flags(), &cfg); err != nil {
				return err
			}
			return runLRFind(cmd.OutOrStdout(), cmd.ErrOrStderr(), quiet, cfg, data, start, end, out, overwrite)
		},
	}
	fs := cmd.Flags()
	addConfigFlags(fs, &cfg)
	addModelFlags(fs, &mf)
	fs.Lookup("model").Usage = "train the Keras model in this JSON file (what model.to_json() writes: a Sequential of supported layers; its compile_config's optimizer is used unless --optimizer is given, and the optimizer's flags change its arguments; its learning rate is the sweep's)"
	addDataFlags(fs, &data)
	fs.Float64Var(&start, "start-lr", 1e-7, "the rate of the first step (at least 1e-12)")
	fs.Float64Var(&end, "end-lr", 10, "the rate of the last step (at most 1e6)")
	fs.StringVar(&out, "out", "", "directory for lr_find.csv and the plot (default: a new runs/<timestamp> directory)")
	fs.BoolVar(&overwrite, "overwrite", false, "allow --out to name a directory that holds an earlier sweep: the new one replaces it whole once it is written")
	fs.BoolVarP(&quiet, "quiet", "q", false, "print only the suggested learning rate (a note on the sweep goes to standard error)")
	hide(fs, earlyStoppingFlags...)
	for n := range rateFlags {
		hide(fs, n)
	}
	fs.SortFlags = false
	return cmd
}

// minSweepSteps is the fewest steps of a range test below which lr-find
// says its sweep is too coarse (each step then multiplies the rate by more
// than about 2 over the default range).
const minSweepSteps = 20

// finer says how to get more steps into the sweep.
func finer(steps int, start, end float64) string {
	return fmt.Sprintf("%d steps from %g to %g: more --train-samples or a smaller --batch-size give more", steps, start, end)
}

// earlyStoppingOptions are early stopping's flags beside --patience,
// which do nothing without it (--patience -1).
var earlyStoppingOptions = []string{"min-delta", "restore-best", "monitor", "mode", "baseline", "start-from-epoch"}

// earlyStoppingFlags are train's flags that lr-find, one epoch without
// early stopping, refuses.
var earlyStoppingFlags = append([]string{"epochs"}, earlyStopping...)

// earlyStopping are early stopping's flags, --patience and its options,
// which bench refuses.
var earlyStopping = append([]string{"patience"}, earlyStoppingOptions...)

// The sweep's bounds. The rates are float32 in training: 1e-300 became 0
// and 1e300 infinity, which the plot could not draw ("plotter: infinite
// data point", exit 1, after the sweep). Below 1e-12 a step moves no
// float32 weight of a useful size; above 1e6 every optimizer has long
// diverged.
const (
	minSweepLR = 1e-12
	maxSweepLR = 1e6
)

// lrFindFiles are what lr-find writes into --out.
var lrFindFiles = map[string]bool{"lr_find.csv": true, "lr_find.png": true, "lr_find.svg": true}

// runLRFind runs the sweep and writes what it found to w; if quiet, only
// the suggested rate, and its notes to errw as train's notes.
func runLRFind(w, errw io.Writer, quiet bool, cfg train.Config, data dataFlags, start, end float64, out string, overwrite bool) error {
	if !(start > 0) || !(end > start) || math.IsInf(end, 0) {
		return usagef("--start-lr %g and --end-lr %g: want 0 < start < end", start, end)
	}
	if start < minSweepLR || end > maxSweepLR {
		return usagef("--start-lr %g and --end-lr %g: want rates from %g to %g", start, end, minSweepLR, maxSweepLR)
	}
	cfg.LRSchedule, cfg.ReduceLR = nil, nil
	if err := cfg.Validate(); err != nil {
		return flagError(err)
	}
	if steps := cfg.StepsPerEpoch(); steps < 2 {
		return usagef("--train-samples %d with --validation-split %g and --batch-size %d give %d training step an epoch: lr-find needs at least 2 (more --train-samples or a smaller --batch-size)",
			cfg.TrainSamples, cfg.ValidationSplit, cfg.BatchSize, steps)
	}
	info, err := cfg.Info()
	if err != nil {
		return flagError(err)
	}
	cfg.LabelMode = info.LabelMode
	src, err := data.find(info, os.Stderr)
	if err != nil {
		return err
	}
	d, err := rundir.LoadData(info, src, cfg)
	if err != nil {
		return flagError(err)
	}
	if w := d.NotOfficialWarning(); w != "" {
		warn(w)
	}
	// --out is replaced as a unit: only an earlier lr-find's files may be
	// there (it used to replace any directory, the data's too).
	if out != "" && rundir.Holds(out, src) {
		return usagef("--out %s %v (%s): choose another directory", out, rundir.ErrHoldsData, src)
	}
	if es, err := os.ReadDir(out); err == nil && out != "" {
		var other, sweep []string
		for _, e := range es {
			switch {
			case lrFindFiles[e.Name()]:
				sweep = append(sweep, e.Name())
			case e.Name() != rundir.LockFile:
				other = append(other, e.Name())
			}
		}
		if len(other) > 0 {
			return usagef("--out %s holds files that are not lr-find's (%s): choose a new or empty directory", out, strings.Join(other[:min(len(other), 3)], ", "))
		}
		if len(sweep) > 0 && !overwrite {
			return usagef("--out %s already holds a sweep (%s): pass --overwrite to replace it, or choose another directory", out, strings.Join(sweep, ", "))
		}
	}
	rd, err := rundir.Open(out, true, false)
	if err != nil {
		return outError(err)
	}
	defer rd.Close()
	dir := rd.Write
	rt, err := train.LRFind(cfg, d, start, end)
	if errors.Is(err, train.ErrDivergedAtOnce) {
		return fmt.Errorf("--start-lr %g: the loss diverged at once: give a lower --start-lr", start)
	}
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "lr_find.csv"), rt.CSV(), 0o644); err != nil {
		return err
	}
	if err := report.WriteLRFind(dir, report.LRFind{Rates: rt.Rates, Losses: rt.Losses, Smoothed: rt.Smoothed, Suggested: rt.Suggested, Minimum: rt.Minimum}); err != nil {
		return err
	}
	if err := rd.Commit(); err != nil {
		return err
	}
	dir = rd.Path
	how := "the sweep reached --end-lr"
	if rt.Diverged {
		how = fmt.Sprintf("the loss diverged at %.3g, ending the sweep", rt.Rates[len(rt.Rates)-1])
	}
	if quiet {
		fmt.Fprintf(w, "%.3g\n", rt.Suggested)
	} else {
		fmt.Fprintf(w, "%s: %d steps of %s from %g; %s.\n", dir, len(rt.Rates), cfg.Optimizer, start, how)
		fmt.Fprintf(w, "The smoothed loss was lowest at learning rate %.3g (a 1cycle --max-lr).\n", rt.Minimum)
		fmt.Fprintf(w, "Suggested learning rate: %.3g (a tenth of it, for a constant --lr)\n", rt.Suggested)
	}
	// Where the sweep cannot show the loss falling, the suggestion means
	// little: say why.
	note := func(format string, args ...any) {
		if quiet {
			fmt.Fprintf(errw, "cifarnet: note: "+format, args...)
		} else {
			fmt.Fprintf(w, "Note: "+format, args...)
		}
	}
	switch steps := cfg.StepsPerEpoch(); {
	case rt.Minimum == rt.Rates[0]:
		note("the lowest point is the first rate tried, so the loss never fell before it rose: start lower (--start-lr) or sweep more finely (%s).\n", finer(steps, start, end))
	case steps < minSweepSteps:
		note("a sweep of %d steps multiplies the rate by %.3g a step, too coarse to place the lowest point well (%s).\n", steps, math.Pow(end/start, 1/float64(steps-1)), finer(steps, start, end))
	}
	return nil
}
