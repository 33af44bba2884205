package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/memlimit"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/rundir"
	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/train"
)

func newBenchCmd() *cobra.Command {
	var cfg train.Config
	var data dataFlags
	var synthetic int
	var cpuProfile string
	var mf modelFlags
	cmd := &cobra.Command{
		Use:   "bench [flags]",
		Short: "Time training epochs of the exercise configuration",
		Long: `Train the exercise's network for a fixed number of epochs (early stopping
off) and print the time of every epoch, validation included, with the
throughput (training images per second of the epoch, validation
included) and GFLOPS (matrix products only), and the share of the epoch's
time spent in the optimizer's update: the update's time summed over the
threads that ran it, over the epoch's time times the threads. The first
epoch is reported but left out of the medians (of the epochs' times and,
apart, of their shares), being a warm-up; with --epochs 1 it is all there
is. Early stopping is off (its flags are refused).

--synthetic N times epochs over N random images instead of the real data,
e.g. --synthetic 50000 for an epoch of the full CIFAR-10 training set.
--cpuprofile FILE writes a CPU profile of the training for go tool pprof.`,
		Example: `  cifarnet bench --data ../shared/cifar-10-batches-bin
  cifarnet bench --synthetic 50000 --epochs 3 --threads 1`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseGiven(cmd.Flags(), "bench times a fixed number of epochs, without early stopping", earlyStopping...); err != nil {
				return err
			}
			if err := mf.apply(cmd.Flags(), &cfg); err != nil {
				return err
			}
			return runBench(cmd.OutOrStdout(), cfg, data, synthetic, cpuProfile)
		},
	}
	fs := cmd.Flags()
	addConfigFlags(fs, &cfg)
	cfg.Epochs = 5
	fs.Lookup("epochs").DefValue = "5"
	fs.Lookup("epochs").Usage = "epochs to time (early stopping is off)"
	fs.Set("epochs", "5")
	addModelFlags(fs, &mf)
	addDataFlags(fs, &data)
	fs.IntVar(&synthetic, "synthetic", 0, "time on N random training images (and 1000 test images) instead of the data")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the training to `FILE` (go tool pprof)")
	hide(fs, earlyStopping...)
	return cmd
}

func hide(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		fs.MarkHidden(n)
	}
}

// maxSynthetic bounds bench --synthetic: twenty times CIFAR-10's training set.
const maxSynthetic = 1 << 20

func runBench(w io.Writer, cfg train.Config, dataFlag dataFlags, synthetic int, cpuProfile string) error {
	cfg.Patience = -1
	if synthetic > 0 {
		cfg.TrainSamples, cfg.TestSamples = synthetic, min(cfg.TestSamples, 1000)
	}
	if err := cfg.Validate(); err != nil && synthetic == 0 {
		return flagError(err)
	}
	if synthetic < 0 || synthetic > maxSynthetic {
		return usagef("--synthetic %d: want a positive number of images, at most %d", synthetic, maxSynthetic)
	}
	if n := train.SplitAt(synthetic, cfg.ValidationSplit); synthetic > 0 && (n < 1 || n == synthetic) {
		return usagef("--synthetic %d: with --validation-split %g, leaves no training or no validation image: give more", synthetic, cfg.ValidationSplit)
	}
	if synthetic > 0 {
		// Validate refused the sample count (more than the data set has)
		// but not the rest.
		c := cfg
		c.TrainSamples, c.TestSamples = 1000, 100
		if err := c.Validate(); err != nil {
			return flagError(err)
		}
	}
	if err := train.CheckMemory(cfg, memlimit.Available()); err != nil {
		var fe *train.FieldError
		if synthetic > 0 && errors.As(err, &fe) {
			return usagef("--synthetic %d: %s", synthetic, fe.Want)
		}
		return flagError(err)
	}
	// The profile's file is checked first, so a bad path fails at once.
	if cpuProfile != "" {
		if err := checkProfileTarget(cpuProfile); err != nil {
			return err
		}
	}
	info, err := cfg.Info()
	if err != nil {
		return flagError(err)
	}
	cfg.LabelMode = info.LabelMode
	var data *dataset.Data
	if synthetic > 0 {
		data = train.SyntheticData(info, synthetic, cfg.TestSamples, cfg.Seed)
	} else {
		src, err := dataFlag.find(info, os.Stderr)
		if err != nil {
			return err
		}
		if data, err = rundir.LoadData(info, src, cfg); err != nil {
			return flagError(err)
		}
	}
	threads := cfg.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	nTrain := train.SplitAt(cfg.TrainSamples, cfg.ValidationSplit)
	nVal := cfg.TrainSamples - nTrain
	model, err := cfg.NewModel()
	if err != nil {
		return usageError{err}
	}
	flops := train.EpochFLOPs(model, nTrain, nVal)
	net := fmt.Sprintf("hidden %v", cfg.Hidden)
	if cfg.Model != nil {
		net = fmt.Sprintf("%d layers", len(model.Layers))
	}
	fmt.Fprintf(w, "cifarnet bench: %d training + %d validation samples, %s, batch %d, %d threads, %s\n",
		nTrain, nVal, net, cfg.BatchSize, threads, rundir.CPUModel())
	model.Initialize(cfg.Seed)
	var clock train.UpdateClock
	out, profErr, err := profiled(cpuProfile, func() (*train.Outcome, error) {
		return train.FitAndEvaluateWith(cfg, data, model, train.Control{UpdateClock: &clock})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "kernel %s, %.2f GFLOP per epoch\n", out.Kernel, flops/1e9)
	var secs, shares []float64
	for _, e := range out.History.Epochs {
		d := time.Duration(e.Seconds * float64(time.Second))
		t, _ := clock.Time(e.Epoch)
		share := 100 * t / (float64(threads) * e.Seconds)
		fmt.Fprintf(w, "epoch %d: %8.1f ms  %8.0f samples/s  %6.1f GFLOPS  update %4.1f%%\n", e.Epoch, ms(d), float64(nTrain)/e.Seconds, flops/e.Seconds/1e9, share)
		if e.Epoch > 1 || len(out.History.Epochs) == 1 {
			secs, shares = append(secs, e.Seconds), append(shares, share)
		}
	}
	if len(secs) == 0 {
		return fmt.Errorf("no complete epoch to time: %v", out.Terminated)
	}
	if out.Terminated != nil {
		fmt.Fprintf(w, "stopped: %v\n", out.Terminated)
	}
	med := stats.Quantile(secs, 0.5) // numpy's median
	fmt.Fprintf(w, "median %.1f ms/epoch, %.1f GFLOPS, update %.1f%% of the epoch", med*1e3, flops/med/1e9, stats.Quantile(shares, 0.5))
	if len(out.History.Epochs) == 1 {
		fmt.Fprint(w, " (one epoch: the warm-up)")
	}
	fmt.Fprintln(w)
	return profErr // after the timings, which it does not affect
}

// checkProfileTarget refuses a --cpuprofile naming a file that is not a
// CPU profile (gzip, pprof's format) nor empty, which the profile would
// replace (a run's model, say), and a directory it cannot write in.
func checkProfileTarget(name string) error {
	fi, err := os.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("--cpuprofile: %s: %v", name, oserr.Bare(err))
	case !fi.Mode().IsRegular():
		return usagef("--cpuprofile %s: not a regular file (%s): give a file name", name, regular.Kind(fi.Mode()))
	default:
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %s: %v", name, oserr.Bare(err))
		}
		ok := isProfile(f)
		f.Close()
		if !ok {
			return usagef("--cpuprofile %s: the file exists and is not a CPU profile, which would replace it: give another name", name)
		}
	}
	if err := rundir.Writable(filepath.Dir(name)); err != nil {
		return fmt.Errorf("--cpuprofile: %s: %v", name, err)
	}
	return nil
}

// isProfile tells whether f is empty or starts as a profile of go tool
// pprof does: a gzip stream whose first byte is the key of one of the
// Profile message's fields (1 to 14, a varint or length-delimited: Go
// writes time_nanos, 0x48, first), so that a gzipped archive of data is not
// taken for one.
func isProfile(f io.Reader) bool {
	br := bufio.NewReader(f)
	if _, err := br.Peek(1); err == io.EOF {
		return true
	}
	z, err := gzip.NewReader(br)
	if err != nil {
		return false
	}
	var first [1]byte
	_, err = io.ReadFull(z, first[:])
	field, wire := first[0]>>3, first[0]&7
	return err == nil && field >= 1 && field <= 14 && (wire == 0 || wire == 2)
}

// profiled runs fit, with a CPU profile written to name when it is not
// empty: atomically, so that a profile is replaced only by a whole one.
// profErr is the profile's failure, fitErr fit's.
func profiled(name string, fit func() (*train.Outcome, error)) (out *train.Outcome, profErr, fitErr error) {
	if name == "" {
		out, fitErr = fit()
		return out, nil, fitErr
	}
	err := atomicfile.Write(name, 0o644, func(f *os.File) error {
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		out, fitErr = fit()
		pprof.StopCPUProfile()
		return fitErr
	})
	if fitErr != nil {
		return nil, nil, fitErr
	}
	if err != nil {
		return out, fmt.Errorf("--cpuprofile: %w", err), nil
	}
	return out, nil, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
